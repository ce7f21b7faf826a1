//! Activation functions g applied to a layer's pre-activation z: each one's name in a
//! declaration, its parameter, its forward function and its derivative, side by side.

use core::fmt;

use crate::Float;

/// The activation function of a dense layer.
///
/// Every activation except [`Softmax`](Activation::Softmax) acts on each unit alone; softmax
/// normalises the whole layer and is therefore only allowed on the output layer. Each one is
/// computed as PyTorch computes it, NaN kept.
///
/// The enum is exhaustive, so that every `match` in this project names every activation; an
/// activation added later comes with a new minor version.
///
/// # Example
/// ```
/// use dropout_shared::Activation;
///
/// assert_eq!(Activation::Relu.apply([-1.0_f32, 2.0]), [0.0, 2.0]);
/// assert_eq!(Activation::LeakyRelu(0.1).apply([-1.0_f64, 2.0]), [-0.1, 2.0]);
/// assert_eq!(Activation::Relu6.apply([-1.0_f32, 7.0]), [0.0, 6.0]);
/// let p = Activation::Softmax.apply([0.0_f64, 0.0]);
/// assert_eq!(p, [0.5, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// g(z) = z.
    Identity,
    /// g(z) = max(z, 0); NaN stays NaN.
    Relu,
    /// g(z) = z for z > 0, α·z otherwise; the field is α.
    LeakyRelu(f64),
    /// ReLU6, PyTorch's `ReLU6`: g(z) = min(max(z, 0), 6); NaN stays NaN. The activation of
    /// quantized networks, whose range it bounds.
    Relu6,
    /// g(z) = 1 / (1 + e^(−z)).
    Sigmoid,
    /// Hard sigmoid, PyTorch's `Hardsigmoid`: g(z) = min(max(z + 3, 0), 6) / 6, a piecewise
    /// linear sigmoid that needs no exponential.
    HardSigmoid,
    /// g(z) = tanh(z).
    Tanh,
    /// g(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ), computed as e^(zᵢ − max z) for stability.
    Softmax,
    /// SELU (Klambauer et al. 2017), PyTorch's `SELU`: g(z) = λ·z for z > 0, λ·α·(e^z − 1)
    /// otherwise, with λ = 1.0507009873554805 and α = 1.6732632423543772 (the fixed point
    /// of mean 0 and variance 1 that alpha dropout preserves).
    Selu,
    /// ELU, PyTorch's `ELU(α)`: g(z) = z for z > 0, α·(e^z − 1) otherwise; the field is α.
    Elu(f64),
    /// GELU in its exact form, PyTorch's default `GELU()`: g(z) = z·Φ(z) = z·½·(1 + erf(z/√2)).
    Gelu,
    /// Softplus, PyTorch's `Softplus()` (β = 1, threshold 20): g(z) = ln(1 + e^z), and z
    /// itself above 20.
    Softplus,
    /// SiLU (swish), PyTorch's `SiLU`: g(z) = z / (1 + e^(−z)).
    Silu,
}

/// SELU's scale λ (PyTorch's constant).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
/// SELU's α (PyTorch's constant).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
/// Above this, softplus returns its input (PyTorch's default threshold, with β = 1).
pub const SOFTPLUS_THRESHOLD: f64 = 20.0;

/// The number an activation takes in a declaration, as in `leaky_relu(0.01)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parameter {
    /// What the number is: `"negative slope"`.
    pub meaning: &'static str,
    /// How messages name it: `"slope α"`.
    pub symbol: &'static str,
    /// The value a message suggests, which is also PyTorch's default.
    pub example: f64,
}

/// How weights feeding a layer are drawn: the uniform distribution's half-width for the
/// layer's activation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// He (Kaiming) initialisation for ReLU: bound √(6/fan_in).
    He,
    /// He initialisation for a leaky ReLU of this negative slope α: bound
    /// √(2/(1 + α²))·√(3/fan_in).
    LeakyHe(f64),
    /// LeCun initialisation: bound √(3/fan_in), SELU's fixed point.
    LeCun,
    /// Xavier (Glorot) initialisation: bound √(6/(fan_in + fan_out)).
    Xavier,
}

impl Activation {
    /// Every activation, with its parameter at its example value, in the order error messages
    /// list them.
    pub const ALL: [Activation; 13] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu(0.01),
        Activation::Relu6,
        Activation::Elu(1.0),
        Activation::Selu,
        Activation::Gelu,
        Activation::Silu,
        Activation::Softplus,
        Activation::Sigmoid,
        Activation::HardSigmoid,
        Activation::Tanh,
        Activation::Softmax,
    ];

    /// The name used in `network!` declarations, e.g. `leaky_relu`.
    pub const fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Relu6 => "relu6",
            Activation::Sigmoid => "sigmoid",
            Activation::HardSigmoid => "hard_sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
            Activation::Selu => "selu",
            Activation::Elu(_) => "elu",
            Activation::Gelu => "gelu",
            Activation::Softplus => "softplus",
            Activation::Silu => "silu",
        }
    }

    /// The name of the enum variant, for code that names it: `LeakyRelu`.
    pub const fn variant(self) -> &'static str {
        match self {
            Activation::Identity => "Identity",
            Activation::Relu => "Relu",
            Activation::LeakyRelu(_) => "LeakyRelu",
            Activation::Relu6 => "Relu6",
            Activation::Sigmoid => "Sigmoid",
            Activation::HardSigmoid => "HardSigmoid",
            Activation::Tanh => "Tanh",
            Activation::Softmax => "Softmax",
            Activation::Selu => "Selu",
            Activation::Elu(_) => "Elu",
            Activation::Gelu => "Gelu",
            Activation::Softplus => "Softplus",
            Activation::Silu => "Silu",
        }
    }

    /// The activation a declaration names, with its parameter (if it takes one) at the
    /// example value.
    ///
    /// ```
    /// use dropout_shared::Activation;
    ///
    /// assert_eq!(Activation::from_name("hard_sigmoid"), Some(Activation::HardSigmoid));
    /// assert_eq!(Activation::from_name("elu").map(|a| a.with_parameter(0.5)), Some(Activation::Elu(0.5)));
    /// assert_eq!(Activation::from_name("swish"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|activation| activation.name() == name)
    }

    /// What the activation's number means, if it takes one.
    pub const fn parameter(self) -> Option<Parameter> {
        match self {
            Activation::LeakyRelu(_) => Some(Parameter {
                meaning: "negative slope",
                symbol: "slope α",
                example: 0.01,
            }),
            Activation::Elu(_) => Some(Parameter {
                meaning: "scale of the negative part",
                symbol: "α",
                example: 1.0,
            }),
            _ => None,
        }
    }

    /// The activation's number, if it takes one.
    pub const fn parameter_value(self) -> Option<f64> {
        match self {
            Activation::LeakyRelu(alpha) | Activation::Elu(alpha) => Some(alpha),
            _ => None,
        }
    }

    /// The same activation with its number replaced (unchanged if it takes none).
    #[must_use]
    pub const fn with_parameter(self, value: f64) -> Self {
        match self {
            Activation::LeakyRelu(_) => Activation::LeakyRelu(value),
            Activation::Elu(_) => Activation::Elu(value),
            other => other,
        }
    }

    /// Whether the activation acts on each unit independently (everything but softmax).
    pub const fn is_elementwise(self) -> bool {
        !matches!(self, Activation::Softmax)
    }

    /// How weights feeding a layer with this activation are initialised: He for the ReLU
    /// family (ReLU, ReLU6, leaky ReLU with gain √(2/(1+α²)), ELU, GELU, SiLU and softplus),
    /// LeCun for SELU, Xavier for the rest.
    pub const fn init(self) -> Init {
        match self {
            Activation::Relu
            | Activation::Relu6
            | Activation::Elu(_)
            | Activation::Gelu
            | Activation::Silu
            | Activation::Softplus => Init::He,
            Activation::LeakyRelu(alpha) => Init::LeakyHe(alpha),
            Activation::Selu => Init::LeCun,
            Activation::Identity
            | Activation::Sigmoid
            | Activation::HardSigmoid
            | Activation::Tanh
            | Activation::Softmax => Init::Xavier,
        }
    }

    /// The names of every activation as messages list them: `` `identity`, `relu`,
    /// `leaky_relu(α)`, … or `softmax` ``.
    pub fn list() -> impl fmt::Display {
        struct List;
        impl fmt::Display for List {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let last = Activation::ALL.len() - 1;
                for (idx, activation) in Activation::ALL.into_iter().enumerate() {
                    let separator = match idx {
                        0 => "",
                        _ if idx == last => " or ",
                        _ => ", ",
                    };
                    let argument = if activation.parameter().is_some() {
                        "(α)"
                    } else {
                        ""
                    };
                    write!(f, "{separator}`{}{argument}`", activation.name())?;
                }
                Ok(())
            }
        }
        List
    }

    /// Applies the activation to a fixed-size vector of pre-activations.
    #[inline]
    #[must_use]
    pub fn apply<T: Float, const N: usize>(self, mut z: [T; N]) -> [T; N] {
        self.apply_in_place(&mut z);
        z
    }

    /// Applies the activation in place to a slice of pre-activations (one layer).
    #[inline]
    pub fn apply_in_place<T: Float>(self, z: &mut [T]) {
        self.apply_with::<T, Native>(z);
    }

    /// [`apply_in_place`](Self::apply_in_place) with [`libm`]'s exponentials and hyperbolic
    /// tangent whatever the features, so that the bits are the same in every build: the int8
    /// calibration computes with it, once in the macro (built without `std`) and once in the
    /// program (usually with it), and both must see the same ranges.
    ///
    /// ```
    /// use dropout_shared::Activation;
    ///
    /// let mut z = [-1.0_f32, 0.5];
    /// Activation::Elu(1.0).apply_in_place_libm(&mut z);
    /// assert_eq!(z, [libm::expm1f(-1.0), 0.5]);
    /// ```
    #[inline]
    pub fn apply_in_place_libm<T: Float>(self, z: &mut [T]) {
        self.apply_with::<T, Libm>(z);
    }

    /// The activation, its transcendental functions from `F`.
    #[inline]
    fn apply_with<T: Float, F: Functions>(self, z: &mut [T]) {
        // One loop per activation, with the activation's constants converted once, so that each
        // loop runs on vectors without a branch on the activation.
        match self {
            Activation::Identity => {}
            // As PyTorch: NaN stays NaN and −0 stays −0 (`v > 0 ? v : 0` would turn NaN into
            // 0). Every value is stored, so that the loop runs on vectors without a branch on
            // the (random) signs: a conditional store measured 0.65 ms, a quarter of B1 in
            // `benches/`, against 0.03 ms for this form.
            Activation::Relu => each(z, |v| if v < T::ZERO { T::ZERO } else { v }),
            Activation::LeakyRelu(alpha) => {
                let alpha = T::from_f64(alpha);
                each(z, |v| if v > T::ZERO { v } else { alpha * v });
            }
            Activation::Relu6 => {
                let six = T::from_f64(6.0);
                each(z, |v| clamp(v, T::ZERO, six));
            }
            Activation::Sigmoid => each(z, |v| T::ONE / (T::ONE + F::exp(-v))),
            Activation::HardSigmoid => {
                let (three, six) = (T::from_f64(3.0), T::from_f64(6.0));
                each(z, |v| clamp(v + three, T::ZERO, six) / six);
            }
            Activation::Tanh => each(z, F::tanh),
            Activation::Softmax => softmax_in_place::<T, F>(z),
            Activation::Selu => {
                let (lambda, scale) = (
                    T::from_f64(SELU_LAMBDA),
                    T::from_f64(SELU_LAMBDA * SELU_ALPHA),
                );
                each(z, |v| {
                    if v > T::ZERO {
                        lambda * v
                    } else {
                        scale * F::exp_m1(v)
                    }
                });
            }
            Activation::Elu(alpha) => {
                let alpha = T::from_f64(alpha);
                each(z, |v| if v > T::ZERO { v } else { alpha * F::exp_m1(v) });
            }
            Activation::Gelu => {
                let (half, root_half) = (
                    T::from_f64(0.5),
                    T::from_f64(core::f64::consts::FRAC_1_SQRT_2),
                );
                each(z, |v| v * half * (T::ONE + (v * root_half).erf()));
            }
            Activation::Softplus => {
                let threshold = T::from_f64(SOFTPLUS_THRESHOLD);
                each(z, |v| {
                    if v > threshold {
                        v
                    } else {
                        F::ln_1p(F::exp(v))
                    }
                });
            }
            Activation::Silu => each(z, |v| v / (T::ONE + F::exp(-v))),
        }
    }

    /// Applies the activation to `B` samples stored lane-wise (`z[j][s]` is unit `j` of sample
    /// `s`), with the same results as [`Activation::apply`] on each sample. Always inlined, so
    /// that it is compiled inside the lane pass's instruction-set dispatch rather than called
    /// as a function built for baseline vectors.
    #[expect(
        clippy::inline_always,
        reason = "inlined into the lane pass's function per instruction set"
    )]
    #[inline(always)]
    #[must_use]
    pub fn apply_lanes<T: Float, const B: usize, const N: usize>(
        self,
        mut z: [[T; B]; N],
    ) -> [[T; B]; N] {
        if self.is_elementwise() {
            // Into another array: in place, x86 code generation turns a store of
            // `v < 0 ? 0 : v` over `v` into a masked store of the zeros (`vmaskmovps`), which
            // on AMD's cores took a third of a small network's batch.
            let mut out = [[T::ZERO; B]; N];
            for (out, unit) in out.iter_mut().zip(&z) {
                let mut lanes = *unit;
                self.apply_in_place(&mut lanes);
                *out = lanes;
            }
            out
        } else {
            softmax_lanes(&mut z);
            z
        }
    }

    /// Backpropagates through the activation: multiplies the gradient `dg` with respect to the
    /// outputs g = g(z) by the derivative, giving the gradient with respect to z. The three
    /// slices hold rows of `width` units (one row per sample); softmax, which couples the
    /// units of a row, computes dz = g ⊙ (dg − ⟨dg, g⟩) per row. At the kinks (ReLU's 0,
    /// ReLU6's 0 and 6, hard sigmoid's ±3) the slope is PyTorch's: 0.
    ///
    /// ```
    /// use dropout_shared::Activation;
    ///
    /// let z = [-1.0_f64, 2.0, 7.0];
    /// let g = Activation::Relu6.apply(z);
    /// let mut dg = [1.0, 1.0, 1.0];
    /// Activation::Relu6.backward_in_place(&mut dg, &z, &g, 3);
    /// assert_eq!(dg, [0.0, 1.0, 0.0]);
    /// ```
    pub fn backward_in_place<T: Float>(self, dg: &mut [T], z: &[T], g: &[T], width: usize) {
        match self {
            Activation::Identity => {}
            Activation::Softmax => {
                if width == 0 {
                    return;
                }
                for (d_row, s_row) in dg.chunks_exact_mut(width).zip(g.chunks_exact(width)) {
                    let dot = d_row
                        .iter()
                        .zip(s_row)
                        .fold(T::ZERO, |acc, (&d, &s)| acc + d * s);
                    for (d, &s) in d_row.iter_mut().zip(s_row) {
                        *d = s * (*d - dot);
                    }
                }
            }
            Activation::Relu => times_slope(dg, z, g, |z, _| step(z > T::ZERO)),
            Activation::LeakyRelu(alpha) => {
                let alpha = T::from_f64(alpha);
                times_slope(dg, z, g, |z, _| if z > T::ZERO { T::ONE } else { alpha });
            }
            Activation::Relu6 => {
                let six = T::from_f64(6.0);
                times_slope(dg, z, g, |z, _| step(z > T::ZERO && z < six));
            }
            Activation::Sigmoid => times_slope(dg, z, g, |_, g| g * (T::ONE - g)),
            Activation::HardSigmoid => {
                let (three, sixth) = (T::from_f64(3.0), T::from_f64(1.0 / 6.0));
                times_slope(dg, z, g, |z, _| {
                    if z > -three && z < three {
                        sixth
                    } else {
                        T::ZERO
                    }
                });
            }
            Activation::Tanh => times_slope(dg, z, g, |_, g| T::ONE - g * g),
            Activation::Selu => {
                // g = λα(e^z − 1) below 0, so g' = λα·e^z = g + λα.
                let lambda = T::from_f64(SELU_LAMBDA);
                let scale = T::from_f64(SELU_LAMBDA * SELU_ALPHA);
                times_slope(
                    dg,
                    z,
                    g,
                    |z, g| if z > T::ZERO { lambda } else { g + scale },
                );
            }
            Activation::Elu(alpha) => {
                let alpha = T::from_f64(alpha);
                times_slope(
                    dg,
                    z,
                    g,
                    |z, g| if z > T::ZERO { T::ONE } else { g + alpha },
                );
            }
            Activation::Gelu => {
                // Φ(z) + z·φ(z).
                let (half, root_half) = (
                    T::from_f64(0.5),
                    T::from_f64(core::f64::consts::FRAC_1_SQRT_2),
                );
                let density = T::from_f64(
                    0.5 * core::f64::consts::FRAC_2_SQRT_PI * core::f64::consts::FRAC_1_SQRT_2,
                );
                times_slope(dg, z, g, |z, _| {
                    half * (T::ONE + (z * root_half).erf()) + z * density * (-(z * z) * half).exp()
                });
            }
            Activation::Softplus => {
                let threshold = T::from_f64(SOFTPLUS_THRESHOLD);
                times_slope(dg, z, g, |z, _| {
                    if z > threshold {
                        T::ONE
                    } else {
                        T::ONE / (T::ONE + (-z).exp())
                    }
                });
            }
            Activation::Silu => times_slope(dg, z, g, |z, _| {
                let s = T::ONE / (T::ONE + (-z).exp());
                s * (T::ONE + z * (T::ONE - s))
            }),
        }
    }
}

impl fmt::Display for Activation {
    /// Formats the activation as it is written in a declaration: `relu`, `leaky_relu(0.01)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.parameter_value() {
            Some(value) => write!(f, "{}({value:?})", self.name()),
            None => f.write_str(self.name()),
        }
    }
}

/// `v ↦ f(v)` over a slice; generic over `f`, so that each activation's loop is compiled on
/// its own.
#[inline]
fn each<T: Float>(z: &mut [T], f: impl Fn(T) -> T) {
    for v in z {
        *v = f(*v);
    }
}

/// Where an activation's transcendental functions come from.
trait Functions {
    fn exp<T: Float>(v: T) -> T;
    fn exp_m1<T: Float>(v: T) -> T;
    fn tanh<T: Float>(v: T) -> T;
    fn ln_1p<T: Float>(v: T) -> T;
}

/// The scalar's own ([`Float::exp`], …): the standard library's with `std`.
struct Native;

impl Functions for Native {
    #[inline]
    fn exp<T: Float>(v: T) -> T {
        v.exp()
    }
    #[inline]
    fn exp_m1<T: Float>(v: T) -> T {
        v.exp_m1()
    }
    #[inline]
    fn tanh<T: Float>(v: T) -> T {
        v.tanh()
    }
    #[inline]
    fn ln_1p<T: Float>(v: T) -> T {
        v.ln_1p()
    }
}

/// [`libm`]'s, in every build.
struct Libm;

impl Functions for Libm {
    #[inline]
    fn exp<T: Float>(v: T) -> T {
        v.libm_exp()
    }
    #[inline]
    fn exp_m1<T: Float>(v: T) -> T {
        v.libm_exp_m1()
    }
    #[inline]
    fn tanh<T: Float>(v: T) -> T {
        v.libm_tanh()
    }
    #[inline]
    fn ln_1p<T: Float>(v: T) -> T {
        v.libm_ln_1p()
    }
}

/// `dg ⊙= slope(z, g)`, element by element.
#[inline]
fn times_slope<T: Float>(dg: &mut [T], z: &[T], g: &[T], slope: impl Fn(T, T) -> T) {
    for ((d, &z), &g) in dg.iter_mut().zip(z).zip(g) {
        *d *= slope(z, g);
    }
}

/// 1 where `on`, else 0.
#[inline]
fn step<T: Float>(on: bool) -> T {
    if on { T::ONE } else { T::ZERO }
}

/// `v` clamped to `[low, high]`, NaN kept (as PyTorch's `clamp` and `hardtanh`).
#[inline]
fn clamp<T: Float>(v: T, low: T, high: T) -> T {
    if v < low {
        low
    } else if v > high {
        high
    } else {
        v
    }
}

/// [`softmax_in_place`] of each lane of `z` (`z[j][s]`: unit `j` of sample `s`), step by step
/// as it computes each sample (the maximum from the first unit on, the exponentials summed in
/// the units' order, then the quotients), with the lanes side by side instead of gathered one
/// sample at a time.
#[expect(
    clippy::inline_always,
    reason = "inlined into the lane pass's function per instruction set"
)]
#[inline(always)]
fn softmax_lanes<T: Float, const B: usize, const N: usize>(z: &mut [[T; B]; N]) {
    let Some(&first) = z.first() else { return };
    let mut max = first;
    for unit in z.iter().skip(1) {
        for (m, &v) in max.iter_mut().zip(unit) {
            if v > *m {
                *m = v;
            }
        }
    }
    let mut sum = [T::ZERO; B];
    for unit in z.iter_mut() {
        for ((v, &m), s) in unit.iter_mut().zip(&max).zip(&mut sum) {
            *v = (*v - m).exp();
            *s += *v;
        }
    }
    for unit in z.iter_mut() {
        for (v, &s) in unit.iter_mut().zip(&sum) {
            *v = *v / s;
        }
    }
}

fn softmax_in_place<T: Float, F: Functions>(z: &mut [T]) {
    let Some(&first) = z.first() else { return };
    let max = z.iter().fold(first, |m, &v| if v > m { v } else { m });
    let mut sum = T::ZERO;
    for v in z.iter_mut() {
        *v = F::exp(*v - max);
        sum += *v;
    }
    for v in z.iter_mut() {
        *v = *v / sum;
    }
}

#[cfg(test)]
mod tests {
    use super::{Activation, Init};

    #[test]
    fn elementwise_values() {
        let z = [-2.0_f64, 0.0, 3.0];
        assert_eq!(Activation::Identity.apply(z), z);
        assert_eq!(Activation::Relu.apply(z), [0.0, 0.0, 3.0]);
        assert_eq!(Activation::LeakyRelu(0.5).apply(z), [-1.0, 0.0, 3.0]);
        let s = Activation::Sigmoid.apply(z);
        assert!((s[0] - 1.0 / (1.0 + 2.0_f64.exp())).abs() < 1e-15);
        assert_eq!(s[1], 0.5);
        let t = Activation::Tanh.apply(z);
        assert_eq!(t[2], 3.0_f64.tanh());
    }

    /// PyTorch 2.15's `F.relu6` and `F.hardsigmoid` (float64) at these points.
    #[test]
    fn the_piecewise_linear_activations_match_pytorch() {
        let z = [-4.0_f64, -3.0, -1.5, -0.0, 0.25, 3.0, 5.5, 6.0, 9.0];
        assert_eq!(
            Activation::Relu6.apply(z),
            [0.0, 0.0, 0.0, -0.0, 0.25, 3.0, 5.5, 6.0, 6.0]
        );
        assert_eq!(
            Activation::HardSigmoid.apply(z),
            [
                0.0,
                0.0,
                0.25,
                0.5,
                0.541_666_666_666_666_6,
                1.0,
                1.0,
                1.0,
                1.0
            ]
        );
        for activation in [Activation::Relu6, Activation::HardSigmoid] {
            assert!(activation.apply([f64::NAN])[0].is_nan(), "{activation}");
            assert!(activation.apply([f32::NAN])[0].is_nan(), "{activation}");
            assert_eq!(activation.apply([f32::INFINITY, f32::NEG_INFINITY])[1], 0.0);
        }
        assert_eq!(Activation::Relu6.apply([f64::INFINITY]), [6.0]);
        assert_eq!(Activation::HardSigmoid.apply([f64::INFINITY]), [1.0]);
    }

    /// Values PyTorch 2.15 gives (`torch.nn.functional`, float64), and NaN kept.
    #[test]
    fn the_smooth_activations_match_pytorch() {
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-15 * want.abs().max(1.0);
        let cases: [(Activation, [f64; 4]); 5] = [
            // z = −2, −0.5, 0.5, 25
            (
                Activation::Selu,
                [
                    -1.520_166_468_595_694_8,
                    -0.691_758_187_802_871_3,
                    0.525_350_493_677_740_2,
                    26.267_524_683_887_01,
                ],
            ),
            (
                Activation::Elu(0.7),
                [
                    -0.605_265_301_734_371_1,
                    -0.275_428_538_201_156_6,
                    0.5,
                    25.0,
                ],
            ),
            (
                Activation::Gelu,
                [
                    -0.045_500_263_896_358_42,
                    -0.154_268_769_362_993_44,
                    0.345_731_230_637_006_56,
                    25.0,
                ],
            ),
            (
                Activation::Softplus,
                [
                    0.126_928_011_042_972_5,
                    0.474_076_984_180_106_7,
                    0.974_076_984_180_106_7,
                    25.0,
                ],
            ),
            (
                Activation::Silu,
                [
                    -0.238_405_844_044_235_1,
                    -0.188_770_334_399_072_7,
                    0.311_229_665_600_927_3,
                    24.999_999_999_652_8,
                ],
            ),
        ];
        for (activation, want) in cases {
            let got = activation.apply([-2.0, -0.5, 0.5, 25.0]);
            for (g, w) in got.iter().zip(want) {
                assert!(close(*g, w), "{activation}: {g} vs PyTorch's {w}");
            }
            assert!(activation.apply([f64::NAN])[0].is_nan(), "{activation}");
            assert!(activation.apply([f32::NAN])[0].is_nan(), "{activation}");
        }
        assert_eq!(Activation::Elu(0.7).to_string(), "elu(0.7)");
        assert_eq!(Activation::Gelu.name(), "gelu");
    }

    /// Every derivative against a central difference of its forward function, away from kinks.
    #[test]
    fn derivatives_match_differences() {
        let points = [-3.7_f64, -2.2, -0.6, 0.3, 1.9, 4.4, 5.1, 6.8, 21.5];
        for activation in Activation::ALL {
            if !activation.is_elementwise() {
                continue;
            }
            let z = points;
            let g = activation.apply(z);
            let mut dg = [1.0; 9];
            activation.backward_in_place(&mut dg, &z, &g, 9);
            for (idx, &at) in points.iter().enumerate() {
                let h = 1e-6;
                let numeric =
                    (activation.apply([at + h])[0] - activation.apply([at - h])[0]) / (2.0 * h);
                assert!(
                    (dg[idx] - numeric).abs() < 1e-6,
                    "{activation} at {at}: {} vs {numeric}",
                    dg[idx]
                );
            }
        }
    }

    #[test]
    fn softmax_backward_is_the_jacobian_product() {
        let z = [0.5_f64, -1.0, 2.0];
        let s = Activation::Softmax.apply(z);
        let mut dg = [1.0, 0.0, 0.0];
        Activation::Softmax.backward_in_place(&mut dg, &z, &s, 3);
        // ∂s₀/∂zⱼ = s₀(δ₀ⱼ − sⱼ).
        let want = [s[0] * (1.0 - s[0]), -s[0] * s[1], -s[0] * s[2]];
        for (got, want) in dg.iter().zip(want) {
            assert!((got - want).abs() < 1e-15);
        }
    }

    #[test]
    fn lanes_equal_samples() {
        // Bits, NaN and infinities included: a NaN first unit, a NaN later one, +∞ (softmax
        // gives NaN for it), ties for the maximum.
        let bits = |v: [f64; 3]| v.map(f64::to_bits);
        let z = [
            [1.0_f64, -2.0, f64::NAN, 0.0, f64::INFINITY, 2.0],
            [3.0, 0.5, 1.0, f64::NAN, 1.0, 2.0],
            [-1.0, 4.0, 2.0, 5.0, -3.0, 2.0],
        ];
        for activation in Activation::ALL {
            let lanes = activation.apply_lanes(z);
            for s in 0..6 {
                let sample = activation.apply([z[0][s], z[1][s], z[2][s]]);
                assert_eq!(
                    bits([lanes[0][s], lanes[1][s], lanes[2][s]]),
                    bits(sample),
                    "{activation}, sample {s}"
                );
            }
        }
    }

    #[test]
    fn sigmoid_saturates_without_nan() {
        let s = Activation::Sigmoid.apply([-1000.0_f32, 1000.0]);
        assert_eq!(s, [0.0, 1.0]);
    }

    #[test]
    fn softmax_is_a_distribution_and_shift_invariant() {
        let p = Activation::Softmax.apply([1.0_f64, 2.0, 3.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        let q = Activation::Softmax.apply([1001.0_f64, 1002.0, 1003.0]);
        for (a, b) in p.iter().zip(&q) {
            assert!((a - b).abs() < 1e-15);
        }
        assert!(p[2] > p[1] && p[1] > p[0]);
        assert!(!Activation::Softmax.is_elementwise());
    }

    #[test]
    fn names_parameters_and_display_read_back() {
        for activation in Activation::ALL {
            let named = Activation::from_name(activation.name()).unwrap();
            assert_eq!(named, activation);
            assert_eq!(
                activation.parameter().map(|p| p.example),
                activation.parameter_value()
            );
        }
        assert_eq!(Activation::LeakyRelu(0.01).to_string(), "leaky_relu(0.01)");
        assert_eq!(Activation::HardSigmoid.to_string(), "hard_sigmoid");
        assert_eq!(Activation::Relu6.with_parameter(2.0), Activation::Relu6);
        assert_eq!(
            Activation::list().to_string(),
            "`identity`, `relu`, `leaky_relu(α)`, `relu6`, `elu(α)`, `selu`, `gelu`, `silu`, \
             `softplus`, `sigmoid`, `hard_sigmoid`, `tanh` or `softmax`"
        );
        assert_eq!(Activation::Relu6.init(), Init::He);
        assert_eq!(Activation::HardSigmoid.init(), Init::Xavier);
    }
}
