//! The error type of run-time operations whose input the compiler cannot check.

use core::fmt;

/// What went wrong in an operation whose input sizes or values are only known at run time.
///
/// Everything the `network!` macro can check happens at compile time; this type covers the rest:
/// batch shapes, probabilities chosen at run time, and the like.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A probability outside its range; `name` is `"p"` or `"keep"`.
    Probability {
        /// Which probability: `"p"` (drop) or `"keep"`.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A batch whose rows do not have the network's input width.
    BatchWidth {
        /// The network's number of inputs.
        expected: usize,
        /// The number of columns given.
        found: usize,
    },
    /// A batched masked pass given a different number of mask sets than rows.
    MaskCount {
        /// The number of rows in the batch.
        expected: usize,
        /// The number of mask sets given.
        found: usize,
    },
    /// Exact moments asked of a network with too many droppable units to enumerate.
    TooManyUnits {
        /// The network's number of droppable units.
        found: usize,
        /// The largest number enumerated.
        max: usize,
    },
    /// A Monte Carlo estimate asked for zero samples.
    NoSamples,
    /// Targets whose shape is not one row of outputs per sample.
    TargetShape {
        /// (rows of the batch, the network's number of outputs).
        expected: (usize, usize),
        /// The targets' shape.
        found: (usize, usize),
    },
    /// A trainer configured with batches of zero samples.
    BatchSize,
    /// A dropout override on a network with `classic` scaling, whose evaluation pass depends on
    /// the declared probabilities.
    OverrideNeedsInverted,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Probability {
                name: "keep",
                value,
            } => {
                write!(f, "keep must lie in (0, 1], found {value}")
            }
            Error::Probability { name, value } => {
                write!(f, "{name} must lie in [0, 1), found {value}")
            }
            Error::BatchWidth { expected, found } => write!(
                f,
                "expected batch rows of {expected} inputs (the network's input size), found {found} columns"
            ),
            Error::MaskCount { expected, found } => write!(
                f,
                "expected one set of masks per batch row ({expected}), found {found}"
            ),
            Error::TooManyUnits { found, max } => write!(
                f,
                "exact moments enumerate 2^n masks; this network has n = {found} droppable units, more than the limit of {max}"
            ),
            Error::NoSamples => f.write_str("a Monte Carlo estimate needs at least one sample"),
            Error::TargetShape { expected, found } => write!(
                f,
                "expected targets of shape {expected:?} (one row of outputs per sample), found {found:?}"
            ),
            Error::BatchSize => f.write_str("the batch size must be at least 1"),
            Error::OverrideNeedsInverted => f.write_str(
                "a dropout override needs `inverted` scaling: under `classic` scaling the evaluation pass depends on the declared probabilities",
            ),
        }
    }
}

impl core::error::Error for Error {}
