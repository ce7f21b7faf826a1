//! The scalar types a network can be declared over.

use core::fmt;

/// `f32` or `f64`: the type every weight, activation and output of a network has.
///
/// ```
/// use dropout_shared::Scalar;
///
/// assert_eq!(Scalar::F32.name(), "f32");
/// assert_eq!(Scalar::F64.width(), 8);
/// assert_eq!(Scalar::F32.test_tolerance(), 1e-5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

impl Scalar {
    /// The type's name as written in source.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
        }
    }

    /// Bytes per value.
    #[must_use]
    pub const fn width(self) -> usize {
        match self {
            Scalar::F32 => 4,
            Scalar::F64 => 8,
        }
    }

    /// The default tolerance of a declaration's `test` block: a result passes if
    /// |got − expect| ≤ tolerance · max(1, |expect|). PyTorch's outputs for the same networks
    /// agree within these bounds (`tests/torch_oracle.rs`).
    #[must_use]
    pub const fn test_tolerance(self) -> f64 {
        match self {
            Scalar::F32 => 1e-5,
            Scalar::F64 => 1e-12,
        }
    }

    /// The tolerance of the generated property tests, which compare a network of this type with
    /// a reference pass that computes in `f64` from the same parameters. It is looser than
    /// [`Scalar::test_tolerance`] because the tests draw random networks of any depth, whose
    /// rounding errors in `f32` add up over more layers than a hand-written case has.
    #[must_use]
    pub const fn reference_tolerance(self) -> f64 {
        match self {
            Scalar::F32 => 1e-4,
            Scalar::F64 => 1e-10,
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
