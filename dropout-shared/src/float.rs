//! The arithmetic of the scalar types a network can be declared over.

use core::fmt;
use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::Scalar;

/// A floating-point scalar that networks compute in: `f32` or `f64`.
///
/// The trait is sealed; the `network!` macro accepts exactly these two types. With the `std` feature
/// the transcendental functions use the standard library, otherwise [`libm`].
///
/// # Example
/// ```
/// use dropout_shared::Float;
///
/// fn logistic<T: Float>(z: T) -> T {
///     T::ONE / (T::ONE + (-z).exp())
/// }
/// assert_eq!(logistic(0.0_f32), 0.5);
/// assert_eq!(f64::from_f64(0.25), 0.25);
/// ```
pub trait Float:
    Copy
    + Default
    + PartialEq
    + PartialOrd
    + fmt::Debug
    + fmt::Display
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Send
    + Sync
    + 'static
    + sealed::Sealed
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Not a number.
    const NAN: Self;
    /// Which of the two types this is.
    const SCALAR: Scalar;
    /// The type's name as written in source: `"f32"` or `"f64"`.
    const NAME: &'static str = Self::SCALAR.name();

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(value: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// `e` raised to `self`.
    #[must_use]
    fn exp(self) -> Self;
    /// Natural logarithm.
    #[must_use]
    fn ln(self) -> Self;
    /// Hyperbolic tangent.
    #[must_use]
    fn tanh(self) -> Self;
    /// `e^self − 1`, accurate near 0.
    #[must_use]
    fn exp_m1(self) -> Self;
    /// `ln(1 + self)`, accurate near 0.
    #[must_use]
    fn ln_1p(self) -> Self;
    /// The error function, always from [`libm`] (the standard library has none), so that it
    /// gives the same bits on every target.
    #[must_use]
    fn erf(self) -> Self;
    /// Square root.
    #[must_use]
    fn sqrt(self) -> Self;
    /// Absolute value.
    #[must_use]
    fn abs(self) -> Self;
    /// [`exp`](Float::exp) from [`libm`] whatever the features, as the three below: the same
    /// bits on every build, which the int8 calibration needs (the macro computes it without
    /// `std`, a program with it).
    #[must_use]
    fn libm_exp(self) -> Self;
    /// [`exp_m1`](Float::exp_m1) from [`libm`] whatever the features.
    #[must_use]
    fn libm_exp_m1(self) -> Self;
    /// [`tanh`](Float::tanh) from [`libm`] whatever the features.
    #[must_use]
    fn libm_tanh(self) -> Self;
    /// [`ln_1p`](Float::ln_1p) from [`libm`] whatever the features.
    #[must_use]
    fn libm_ln_1p(self) -> Self;
    /// Whether the value is neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// Whether the value is NaN.
    fn is_nan(self) -> bool;

    /// Calls [`ByType::f32`] or [`ByType::f64`], whichever names `Self`, with `value`: code
    /// written once per concrete type (a vector kernel) is reached from generic code without a
    /// cast.
    fn by_type<F: ByType>(value: F::Of<Self>) -> F::Output;
}

/// An operation with one implementation per scalar type, reached from generic code through
/// [`Float::by_type`].
///
/// ```
/// use dropout_shared::{ByType, Float};
///
/// /// The number of mantissa bits of a slice's element type.
/// struct MantissaBits;
/// impl ByType for MantissaBits {
///     type Of<T: Float> = T;
///     type Output = u32;
///     fn f32(_: f32) -> u32 {
///         f32::MANTISSA_DIGITS
///     }
///     fn f64(_: f64) -> u32 {
///         f64::MANTISSA_DIGITS
///     }
/// }
/// fn bits<T: Float>(value: T) -> u32 {
///     T::by_type::<MantissaBits>(value)
/// }
/// assert_eq!(bits(1.0_f32), 24);
/// assert_eq!(bits(1.0_f64), 53);
/// ```
pub trait ByType {
    /// What the operation takes, for scalar type `T`.
    type Of<T: Float>;
    /// What it returns, the same for both types.
    type Output;
    /// The operation on `f32`.
    fn f32(value: Self::Of<f32>) -> Self::Output;
    /// The operation on `f64`.
    fn f64(value: Self::Of<f64>) -> Self::Output;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// Transcendental functions from the standard library with `std`, from [`libm`] without.
macro_rules! std_or_libm {
    ($t:ident: $($name:ident => $libm:ident),* $(,)?) => {
        $(
            #[inline]
            fn $name(self) -> Self {
                #[cfg(feature = "std")]
                {
                    <$t>::$name(self)
                }
                #[cfg(not(feature = "std"))]
                {
                    libm::$libm(self)
                }
            }
        )*
    };
}

macro_rules! impl_float {
    ($t:ident, $scalar:expr, $from_f64:expr, $exp:ident, $ln:ident, $tanh:ident, $sqrt:ident, $abs:ident, $expm1:ident, $log1p:ident, $erf:ident) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAN: Self = <$t>::NAN;
            const SCALAR: Scalar = $scalar;

            #[inline]
            fn from_f64(value: f64) -> Self {
                $from_f64(value)
            }
            #[inline]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            std_or_libm!($t: exp => $exp, ln => $ln, tanh => $tanh, sqrt => $sqrt, exp_m1 => $expm1, ln_1p => $log1p);
            #[inline]
            fn erf(self) -> Self {
                libm::$erf(self)
            }
            #[inline]
            fn libm_exp(self) -> Self {
                libm::$exp(self)
            }
            #[inline]
            fn libm_exp_m1(self) -> Self {
                libm::$expm1(self)
            }
            #[inline]
            fn libm_tanh(self) -> Self {
                libm::$tanh(self)
            }
            #[inline]
            fn libm_ln_1p(self) -> Self {
                libm::$log1p(self)
            }
            #[inline]
            fn abs(self) -> Self {
                libm::$abs(self)
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            // Always inlined: a kernel reached through it must be compiled inside its caller,
            // which may be a function with more instruction sets enabled.
            #[inline(always)]
            fn by_type<F: ByType>(value: F::Of<Self>) -> F::Output {
                F::$t(value)
            }
        }
    };
}

/// The one conversion rule for the whole crate: round to nearest.
fn f32_from_f64(value: f64) -> f32 {
    value as f32
}

impl_float!(
    f32,
    Scalar::F32,
    f32_from_f64,
    expf,
    logf,
    tanhf,
    sqrtf,
    fabsf,
    expm1f,
    log1pf,
    erff
);
impl_float!(
    f64,
    Scalar::F64,
    core::convert::identity,
    exp,
    log,
    tanh,
    sqrt,
    fabs,
    expm1,
    log1p,
    erf
);

#[cfg(test)]
mod tests {
    use super::Float;

    fn roundtrip<T: Float>() {
        assert_eq!(T::from_f64(0.5).to_f64(), 0.5);
        assert_eq!(T::ZERO.exp(), T::ONE);
        assert_eq!(T::ONE.ln(), T::ZERO);
        assert_eq!(T::ZERO.tanh(), T::ZERO);
        assert_eq!(T::from_f64(-4.0).abs().sqrt(), T::from_f64(2.0));
        assert!(!(T::ONE / T::ZERO).is_finite());
    }

    #[test]
    fn both_scalars_behave_alike() {
        roundtrip::<f32>();
        roundtrip::<f64>();
        assert_eq!(f32::NAME, "f32");
        assert_eq!(f64::NAME, "f64");
    }

    #[test]
    fn from_f64_rounds_to_nearest() {
        // 0.1 is not representable; f32 must pick the nearest f32, not truncate.
        assert_eq!(f32::from_f64(0.1), 0.1_f32);
    }
}
