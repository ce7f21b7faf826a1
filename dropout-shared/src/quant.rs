//! The integer arithmetic of int8 networks, as TFLite defines it: a real multiplier as a 32-bit
//! fixed-point number and a shift ([`QuantizedMultiplier::new`], TFLite's `QuantizeMultiplier`),
//! an accumulator scaled by it in one of the two ways TFLite's kernels do
//! ([`Rounding`]), and real values quantized to the integer grid ([`quantize`]).
//!
//! Every function here is the integer contract of TFLite's reference kernels
//! (`tensorflow/lite/kernels/internal/common.cc`, `quantization_util.cc`, and gemmlowp's
//! `fixedpoint.h`), written so that results agree bit for bit, including where the C++ wraps.
//!
//! ```
//! use dropout_shared::quant::{QuantizedMultiplier, Rounding};
//!
//! // 0.25 = 0.5 · 2⁻¹: multiplier 2³⁰ (0.5 in Q31), shift −1.
//! let m = QuantizedMultiplier::new(0.25, Rounding::Double).unwrap();
//! assert_eq!((m.multiplier, m.shift), (1 << 30, -1));
//! assert_eq!(m.apply(1000, Rounding::Double), 250);
//! assert_eq!(m.apply(-1002, Rounding::Double), -251); // −250.5: the shift rounds away from zero
//! assert_eq!(m.apply(-1002, Rounding::Single), -250); // −250.5 + ½, floored
//! assert_eq!(m.apply(1002, Rounding::Single), 251);
//! ```

/// How an accumulator is scaled by a [`QuantizedMultiplier`]; the two differ in the last unit
/// on a few percent of values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Rounding {
    /// Rounding twice: a rounding doubling high multiply, then a rounding right shift (gemmlowp).
    /// What TFLite Micro and CMSIS-NN compute.
    #[default]
    Double,
    /// Rounding once: `(x · multiplier + 2^(s − 1)) >> s` with `s = 31 − shift`. What TFLite
    /// computes when built with `TFLITE_SINGLE_ROUNDING`.
    Single,
}

impl Rounding {
    /// The keyword of the declaration's `rounding:` item: `double` or `single`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Rounding::Double => "double",
            Rounding::Single => "single",
        }
    }

    /// The rounding with this keyword.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Rounding::Double, Rounding::Single]
            .into_iter()
            .find(|r| r.name() == name)
    }
}

/// A real multiplier `M ≥ 0` as `multiplier · 2^(shift − 31)`, `multiplier` in `[2³⁰, 2³¹)`
/// (or 0 for `M` = 0 and multipliers too small to represent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct QuantizedMultiplier {
    /// The significand in Q31.
    pub multiplier: i32,
    /// The power of two: positive shifts left, negative right.
    pub shift: i32,
}

impl QuantizedMultiplier {
    /// TFLite's `QuantizeMultiplier`: the significand of `m` (by `frexp`) rounded to Q31, half
    /// away from zero; multipliers below about 2⁻³¹ flush to zero. Single rounding cannot
    /// shift left by more than 30, so there larger multipliers saturate to `(2³¹ − 1, 30)` as
    /// TFLite saturates them.
    ///
    /// `None` for a negative or non-finite `m`: a multiplier of a product of scales is
    /// positive, and anything else is a broken file, not a number to round.
    #[must_use]
    pub fn new(m: f64, rounding: Rounding) -> Option<Self> {
        if !m.is_finite() || m < 0.0 {
            return None;
        }
        if m == 0.0 {
            return Some(QuantizedMultiplier {
                multiplier: 0,
                shift: 0,
            });
        }
        let (q, mut shift) = libm::frexp(m);
        // q in [0.5, 1): q · 2³¹ in [2³⁰, 2³¹], exactly representable after rounding.
        #[expect(
            clippy::cast_possible_truncation,
            reason = "q · 2³¹ ≤ 2³¹ after rounding, well inside i64"
        )]
        let mut fixed = libm::round(q * f64::from(1u32 << 31)) as i64;
        if fixed == 1 << 31 {
            fixed /= 2;
            shift += 1;
        }
        if shift < -31 {
            shift = 0;
            fixed = 0;
        }
        if rounding == Rounding::Single && shift > 30 {
            shift = 30;
            fixed = (1 << 31) - 1;
        }
        Some(QuantizedMultiplier {
            multiplier: i32::try_from(fixed).ok()?,
            shift,
        })
    }

    /// `x · M`, rounded as `rounding` says (TFLite's `MultiplyByQuantizedMultiplier`).
    #[must_use]
    #[inline]
    pub fn apply(self, x: i32, rounding: Rounding) -> i32 {
        match rounding {
            Rounding::Double => {
                // Shifts beyond ±31 (which `new` never gives for double rounding below 2³¹)
                // act as ±31: the C++ is undefined there, and this must not panic.
                let left = self.shift.clamp(0, 31).unsigned_abs();
                let right = (-self.shift).clamp(0, 31).unsigned_abs();
                // The C++ multiplies in int32 and wraps (it is compiled without the overflow
                // sanitizer); an accumulator that overflows here is out of contract anyway.
                let x = x.wrapping_mul(1i32.wrapping_shl(left));
                rounding_divide_by_pot(
                    saturating_rounding_doubling_high_mul(x, self.multiplier),
                    right,
                )
            }
            Rounding::Single => {
                let total = 31 - self.shift.clamp(-31, 30);
                let round = 1i64 << (total - 1);
                let result = (i64::from(x) * i64::from(self.multiplier) + round) >> total;
                #[expect(
                    clippy::cast_possible_truncation,
                    reason = "TFLite narrows the same way; in contract the result fits"
                )]
                let narrowed = result as i32;
                narrowed
            }
        }
    }
}

/// gemmlowp's `SaturatingRoundingDoublingHighMul`: the high 32 bits of `2·a·b`, rounded to
/// nearest with ties toward +∞ (its negative nudge `1 − 2³⁰` and C++'s truncating division make
/// −2.5 round to −2, where 2.5 rounds to 3); `i32::MAX` for the one overflowing case,
/// `a = b = i32::MIN`.
#[must_use]
#[inline]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == b && a == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // Division truncating toward zero, as C++'s.
    #[expect(
        clippy::cast_possible_truncation,
        reason = "|a·b| ≤ 2⁶², so the quotient fits in 32 bits"
    )]
    let high = ((ab + nudge) / (1i64 << 31)) as i32;
    high
}

/// gemmlowp's `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero;
/// exponents above 31 (where gemmlowp asserts) act as 31.
#[must_use]
#[inline]
pub fn rounding_divide_by_pot(x: i32, exponent: u32) -> i32 {
    let exponent = exponent.min(31);
    #[expect(
        clippy::cast_possible_truncation,
        reason = "2^31 − 1 is i32::MAX: the mask fits"
    )]
    let mask = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// The activation fused into an int8 layer: a clamp of the output's integer range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FusedActivation {
    /// No clamp beyond int8's range.
    Linear,
    /// Real values below 0 clamp to 0 (the zero point).
    Relu,
    /// Real values clamp to [0, 6].
    Relu6,
}

impl FusedActivation {
    /// The activation of a declared layer that an int8 layer fuses: `identity`, `relu` and
    /// `relu6`; `None` for the others (which need a table of their values).
    #[must_use]
    pub const fn of(activation: crate::Activation) -> Option<Self> {
        match activation {
            crate::Activation::Identity => Some(FusedActivation::Linear),
            crate::Activation::Relu => Some(FusedActivation::Relu),
            crate::Activation::Relu6 => Some(FusedActivation::Relu6),
            _ => None,
        }
    }

    /// The declared activation it stands for.
    #[must_use]
    pub const fn activation(self) -> crate::Activation {
        match self {
            FusedActivation::Linear => crate::Activation::Identity,
            FusedActivation::Relu => crate::Activation::Relu,
            FusedActivation::Relu6 => crate::Activation::Relu6,
        }
    }

    /// [`range`](Self::range) as int8 bounds, each clamped to int8.
    #[must_use]
    pub fn int8_range(self, scale: f32, zero_point: i32) -> (i8, i8) {
        let (lo, hi) = self.range(scale, zero_point);
        (saturate(lo), saturate(hi))
    }

    /// The integer range of an output of this scale and zero point, as TFLite's
    /// `CalculateActivationRangeQuantized` computes it.
    #[must_use]
    pub fn range(self, scale: f32, zero_point: i32) -> (i32, i32) {
        let (min, max) = (i32::from(i8::MIN), i32::from(i8::MAX));
        match self {
            FusedActivation::Linear => (min, max),
            FusedActivation::Relu => (min.max(quantize(0.0, scale, zero_point)), max),
            FusedActivation::Relu6 => (
                min.max(quantize(0.0, scale, zero_point)),
                max.min(quantize(6.0, scale, zero_point)),
            ),
        }
    }
}

/// A real value on the integer grid of `scale` and `zero_point`, as TFLite's
/// `CalculateActivationRangeQuantized` computes the bounds of fused activations:
/// `zero_point + round(value / scale)` in `f32`, half away from zero, saturated to `i32`.
#[must_use]
pub fn quantize(value: f32, scale: f32, zero_point: i32) -> i32 {
    #[expect(
        clippy::cast_possible_truncation,
        reason = "a saturating conversion, what a bound needs"
    )]
    let steps = libm::roundf(value / scale) as i32;
    zero_point.saturating_add(steps)
}

/// A tensor's int8 quantization, `real = scale · (q − zero_point)`, with TFLite's `QUANTIZE` and
/// `DEQUANTIZE` as [`quantize`](Self::quantize) and [`dequantize`](Self::dequantize).
///
/// ```
/// use dropout_shared::quant::Quantization;
///
/// let q = Quantization { scale: 0.5, zero_point: -3 };
/// assert_eq!(q.quantize(1.0), -1);
/// assert_eq!(q.quantize(1.25), 0); // round(2.5) = 3, half away from zero: −3 + 3 = 0
/// assert_eq!(q.quantize(1e9), 127); // saturates
/// assert_eq!(q.dequantize(-1), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantization {
    /// A positive finite scale.
    pub scale: f32,
    /// The zero point, inside int8's range.
    pub zero_point: i32,
}

impl Quantization {
    /// TFLite's `AffineQuantize`: `zero_point + round(value / scale)` in `f32`, half away from
    /// zero, clamped to int8. A NaN quantizes to the zero point; the float passes of int8
    /// networks give NaN for it before it gets here.
    #[must_use]
    pub fn quantize(self, value: f32) -> i8 {
        saturate(quantize(value, self.scale, self.zero_point))
    }

    /// TFLite's `Dequantize`: `scale · (q − zero_point)` computed in `f64` (its parameters hold
    /// the scale as a double), then rounded to `f32`.
    #[must_use]
    pub fn dequantize(self, q: i8) -> f32 {
        #[expect(clippy::cast_possible_truncation, reason = "rounded to f32, as TFLite")]
        let real = (f64::from(self.scale) * f64::from(i32::from(q) - self.zero_point)) as f32;
        real
    }

    /// The quantization of a calibrated range (see [`activation_quantization`]); `None` if the
    /// range is not finite.
    #[must_use]
    pub fn of_range(range: Range) -> Option<Self> {
        range
            .quantization()
            .map(|(scale, zero_point)| Quantization { scale, zero_point })
    }
}

/// `v` clamped to int8.
#[must_use]
pub const fn saturate(v: i32) -> i8 {
    #[expect(clippy::cast_possible_truncation, reason = "clamped to int8 first")]
    let narrowed = if v < i8::MIN as i32 {
        i8::MIN
    } else if v > i8::MAX as i32 {
        i8::MAX
    } else {
        v as i8
    };
    narrowed
}

/// An activation that an int8 layer cannot fuse into its requantization (sigmoid, tanh, ELU, …),
/// as a table of its 256 values: the layer requantizes its sums to the pre-activation's
/// quantization [`input`](Self::input), and each int8 pre-activation `q` becomes
/// `values[q + 128]`, quantized as [`output`](Self::output).
///
/// Each value is the real function of the dequantized pre-activation, computed in `f64` and
/// quantized to the output, rounded half away from zero ([`Table::new`]). The macro builds the
/// table while a crate compiles, and a twin quantized at run time builds the same one.
///
/// ```
/// use dropout_shared::Activation;
/// use dropout_shared::quant::{Quantization, Table};
///
/// let input = Quantization { scale: 0.05, zero_point: 0 };
/// let output = Table::fixed_output(Activation::Tanh).unwrap(); // 1/128, zero point 0
/// let table = Table::new(Activation::Tanh, input, output).unwrap();
/// // q = 20 is 1.0; tanh(1) = 0.7616, which is 97.48 steps of 1/128.
/// assert_eq!(table.lookup(20), 97);
/// assert_eq!(table.lookup(0), 0);
/// assert_eq!(table.lookup(-128), -128); // tanh(−6.4) · 128 = −127.9993, rounded
/// assert_eq!(table.lookup(127), 127); // 127.9992 rounds to 128, clamped
/// assert!(Table::new(Activation::Softmax, input, output).is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Table {
    /// The activation tabulated.
    pub activation: crate::Activation,
    /// The quantization of the pre-activation, which the layer's requantization targets.
    pub input: Quantization,
    /// The quantization of the activation's values: the layer's output.
    pub output: Quantization,
    /// The activation's value of pre-activation `q` at index `q + 128`.
    pub values: [i8; 256],
}

impl Table {
    /// The table of `activation` from pre-activations quantized as `input` to outputs
    /// quantized as `output`: for each `q`, `g(s_in · (q − z_in))` in `f64` with [`libm`]'s
    /// functions, then `z_out + round(g / s_out)`, half away from zero, clamped to int8.
    ///
    /// `None` for softmax, which couples a layer's units and has no table, and for scales that
    /// are not positive and finite.
    #[must_use]
    pub fn new(
        activation: crate::Activation,
        input: Quantization,
        output: Quantization,
    ) -> Option<Self> {
        let positive = |s: f32| s.is_finite() && s > 0.0;
        if !activation.is_elementwise() || !positive(input.scale) || !positive(output.scale) {
            return None;
        }
        let mut values = [0i8; 256];
        for (idx, value) in values.iter_mut().enumerate() {
            #[expect(clippy::cast_possible_wrap, reason = "idx < 256")]
            let q = idx as i32 + i32::from(i8::MIN);
            let mut real = [f64::from(input.scale) * f64::from(q - input.zero_point)];
            activation.apply_in_place_libm(&mut real);
            #[expect(
                clippy::cast_possible_truncation,
                reason = "a saturating conversion, clamped to int8 after"
            )]
            let steps = libm::round(real[0] / f64::from(output.scale)) as i32;
            *value = saturate(output.zero_point.saturating_add(steps));
        }
        Some(Table {
            activation,
            input,
            output,
            values,
        })
    }

    /// The value of pre-activation `q`.
    #[inline]
    #[must_use]
    pub const fn lookup(&self, q: i8) -> i8 {
        #[expect(clippy::cast_sign_loss, reason = "q + 128 lies in 0..256")]
        let idx = (q as i16 + 128) as usize;
        self.values[idx]
    }

    /// The output quantization TensorFlow's converter gives this activation whatever the
    /// calibration says, because its range is known: `1/256` and zero point −128 for sigmoid
    /// (`LOGISTIC`, values in [0, 1)), `1/128` and 0 for tanh (`TANH`, values in (−1, 1)).
    /// `None` for the others, whose output is calibrated.
    #[must_use]
    pub const fn fixed_output(activation: crate::Activation) -> Option<Quantization> {
        match activation {
            crate::Activation::Sigmoid => Some(Quantization {
                scale: 1.0 / 256.0,
                zero_point: -128,
            }),
            crate::Activation::Tanh => Some(Quantization {
                scale: 1.0 / 128.0,
                zero_point: 0,
            }),
            _ => None,
        }
    }
}

/// How an int8 layer with `activation` is quantized, from the calibrated ranges of its
/// pre-activation (`pre`) and its output (`out`): an activation it fuses
/// ([`FusedActivation::of`]) requantizes straight to the output's quantization, with no table;
/// any other elementwise one requantizes to the pre-activation's and goes through a [`Table`] to
/// the output's, which is [`Table::fixed_output`] where the converter fixes it and the
/// calibrated range's otherwise.
///
/// Returns the layer's output quantization and its table.
///
/// # Errors
/// A message for softmax (no int8 form) or a range that is not finite.
pub fn layer_output(
    activation: crate::Activation,
    pre: Range,
    out: Range,
) -> Result<(Quantization, Option<Table>), &'static str> {
    const NOT_FINITE: &str = "a calibrated range is not finite: the rows give NaN or infinity";
    if FusedActivation::of(activation).is_some() {
        return Ok((Quantization::of_range(out).ok_or(NOT_FINITE)?, None));
    }
    if !activation.is_elementwise() {
        return Err("softmax has no int8 form: it couples a layer's units");
    }
    let input = Quantization::of_range(pre).ok_or(NOT_FINITE)?;
    let output = match Table::fixed_output(activation) {
        Some(fixed) => fixed,
        None => Quantization::of_range(out).ok_or(NOT_FINITE)?,
    };
    let table = Table::new(activation, input, output).ok_or(NOT_FINITE)?;
    Ok((output, Some(table)))
}

/// The quantization TensorFlow's converter chooses for an activation tensor whose calibrated
/// values lie in `[min, max]` (TFLite's `GetAsymmetricQuantizationParams`, in `f32`): the range
/// widened to include 0, `scale = (max − min) / 255`, `zero_point = round(−128 − min / scale)`
/// clamped to int8.
///
/// A range of only 0 (a layer that is never positive after ReLU, say) has no width to divide:
/// it gets scale 1 and zero point −128, which represent 0 exactly. `None` for a non-finite
/// bound.
///
/// ```
/// use dropout_shared::quant::activation_quantization;
///
/// assert_eq!(activation_quantization(0.5, 255.0), Some((1.0, -128))); // 0 joins the range
/// // −128 + 127.5, rounded half away from zero:
/// assert_eq!(activation_quantization(-1.0, 1.0), Some((2.0 / 255.0, -1)));
/// assert_eq!(activation_quantization(0.0, 0.0), Some((1.0, -128)));
/// assert_eq!(activation_quantization(f32::NAN, 1.0), None);
/// ```
#[must_use]
pub fn activation_quantization(min: f32, max: f32) -> Option<(f32, i32)> {
    if !min.is_finite() || !max.is_finite() {
        return None;
    }
    let (qmin, qmax) = (f32::from(i8::MIN), f32::from(i8::MAX));
    let (min, max) = (min.min(0.0), max.max(0.0));
    let scale = (max - min) / (qmax - qmin);
    if scale == 0.0 || !scale.is_finite() {
        return (scale == 0.0).then_some((1.0, i32::from(i8::MIN)));
    }
    let from_min = qmin - min / scale;
    #[expect(
        clippy::cast_possible_truncation,
        reason = "rounded and inside int8 once clamped"
    )]
    let zero_point = libm::roundf(from_min.clamp(qmin, qmax)) as i32;
    Some((scale, zero_point))
}

/// The symmetric scale of int8 weights whose largest magnitude is `max_abs` (per output
/// channel, or per tensor): `max_abs / 127`, as TensorFlow's converter; an all-zero channel
/// gets scale 1 (its weights quantize to 0 at any scale). `None` for a non-finite magnitude.
#[must_use]
pub fn weight_scale(max_abs: f32) -> Option<f32> {
    if !max_abs.is_finite() {
        return None;
    }
    Some(if max_abs == 0.0 {
        1.0
    } else {
        max_abs / f32::from(i8::MAX)
    })
}

/// A weight at a symmetric `scale`: `round(w / scale)`, half away from zero, clamped to
/// ±127 (TFLite's weights never take −128).
#[must_use]
pub fn quantize_weight(w: f32, scale: f32) -> i8 {
    let q = libm::roundf(w / scale).clamp(-f32::from(i8::MAX), f32::from(i8::MAX));
    #[expect(clippy::cast_possible_truncation, reason = "clamped to ±127 first")]
    let narrowed = q as i8;
    narrowed
}

/// A bias at the scale `input_scale · weight_scale` (computed in `f32`, as the converter
/// records it): `round(b / scale)`, half away from zero, saturated to `i32`.
#[must_use]
pub fn quantize_bias(b: f32, input_scale: f32, weight_scale: f32) -> i32 {
    #[expect(clippy::cast_possible_truncation, reason = "a saturating conversion")]
    let q = libm::roundf(b / (input_scale * weight_scale)) as i32;
    q
}

/// A float layer's weights and biases in int8, per output channel, as TensorFlow's converter
/// quantizes them: channel `c`'s scale is its largest magnitude over 127 ([`weight_scale`]), its
/// weights [`quantize_weight`], its bias [`quantize_bias`] at `input_scale · scale`.
/// `out_weights` is row-major (`bias.len()` rows of `inputs`); `out_bias` and `out_scales` have a
/// value per output. Returns `false` for a non-finite weight or mismatched lengths.
#[must_use]
pub fn quantize_layer(
    weight: impl Fn(usize, usize) -> f32,
    bias: &[f32],
    inputs: usize,
    input_scale: f32,
    out_weights: &mut [i8],
    out_bias: &mut [i32],
    out_scales: &mut [f32],
) -> bool {
    let n = bias.len();
    if Some(out_weights.len()) != n.checked_mul(inputs)
        || out_bias.len() != n
        || out_scales.len() != n
    {
        return false;
    }
    for c in 0..n {
        let mut max_abs = 0.0_f32;
        for i in 0..inputs {
            let w = weight(c, i);
            if !w.is_finite() {
                return false;
            }
            max_abs = max_abs.max(w.abs());
        }
        let Some(scale) = weight_scale(max_abs).filter(|_| bias[c].is_finite()) else {
            return false;
        };
        for i in 0..inputs {
            out_weights[c * inputs + i] = quantize_weight(weight(c, i), scale);
        }
        out_scales[c] = scale;
        out_bias[c] = quantize_bias(bias[c], input_scale, scale);
    }
    true
}

/// The factors by which a dropout site scales the units it keeps, in the evaluation pass and
/// in the masked pass: `(1, 1/keep)` under inverted scaling, `(keep, 1)` under classic, `(1, 1)`
/// without a site. An int8 layer folds its input site's factor into its requantization
/// ([`fold`]).
#[must_use]
pub fn site_factors(keep: Option<f64>, scaling: crate::Scaling) -> (f64, f64) {
    match (keep, scaling) {
        (None, _) => (1.0, 1.0),
        (Some(keep), crate::Scaling::Inverted) => (1.0, 1.0 / keep),
        (Some(keep), crate::Scaling::Classic) => (keep, 1.0),
    }
}

/// A layer's bias and multipliers when its input units are scaled by `factor`: the input scale
/// becomes `s_in · factor`, so `M[c] = s_in · factor · s_w[c] / s_out` (in `f64` from the `f32`
/// scales, as TFLite computes it) and the bias, quantized at `s_in · factor · s_w[c]`, is
/// `bias[c] / factor`, rounded half away from zero. With `factor` 1 both are TFLite's own, bit
/// for bit. `weight_scales` holds one scale (per tensor) or one per output; `bias`, `out_bias`
/// and `out_multipliers` one value per output.
///
/// Returns `false`, leaving the outputs unspecified, if a multiplier does not exist (a scale
/// that is not positive and finite) or the lengths do not fit.
#[must_use]
#[expect(
    clippy::too_many_arguments,
    reason = "the scales of one layer, as TFLite names them"
)]
pub fn fold(
    input_scale: f32,
    weight_scales: &[f32],
    output_scale: f32,
    bias: &[i32],
    factor: f64,
    rounding: Rounding,
    out_bias: &mut [i32],
    out_multipliers: &mut [QuantizedMultiplier],
) -> bool {
    let n = bias.len();
    if out_bias.len() != n
        || out_multipliers.len() != n
        || !(weight_scales.len() == 1 || weight_scales.len() == n)
    {
        return false;
    }
    for c in 0..n {
        let s_w = weight_scales[if weight_scales.len() == 1 { 0 } else { c }];
        let m = f64::from(input_scale) * factor * f64::from(s_w) / f64::from(output_scale);
        let Some(multiplier) = QuantizedMultiplier::new(m, rounding) else {
            return false;
        };
        out_multipliers[c] = multiplier;
        out_bias[c] = if factor == 1.0 {
            bias[c]
        } else {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "a saturating conversion of a rounded value"
            )]
            let scaled = libm::round(f64::from(bias[c]) / factor) as i32;
            scaled
        };
    }
    true
}

/// The calibrated range of one tensor: the least and greatest value seen. A NaN makes it NaN
/// for good, so that [`Range::quantization`] refuses it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// The least value seen (+∞ before any).
    pub min: f32,
    /// The greatest value seen (−∞ before any).
    pub max: f32,
}

impl Range {
    /// No value seen.
    pub const EMPTY: Range = Range {
        min: f32::INFINITY,
        max: f32::NEG_INFINITY,
    };

    /// Takes `values` into the range.
    pub fn widen(&mut self, values: &[f32]) {
        for &v in values {
            if v.is_nan() {
                *self = Range {
                    min: f32::NAN,
                    max: f32::NAN,
                };
            } else if !self.min.is_nan() {
                self.min = self.min.min(v);
                self.max = self.max.max(v);
            }
        }
    }

    /// [`activation_quantization`] of the range: `(scale, zero_point)`, or `None` if it is not
    /// finite (or empty).
    #[must_use]
    pub fn quantization(self) -> Option<(f32, i32)> {
        activation_quantization(self.min, self.max)
    }
}

/// One float layer's evaluation for calibration: `pre = b + Σᵢ w(c, i) · f·x[i]` in `f32`,
/// summed in input order, with `f` the factor of the site before the layer in the evaluation
/// pass (exactly `x[i]` for `f` = 1), and `out = g(pre)` with [`libm`]'s functions
/// ([`Activation::apply_in_place_libm`](crate::Activation::apply_in_place_libm)). The macro (at
/// compile time) and `quantize` (at run time) both calibrate with it, so both see the same
/// ranges and build the same twin.
pub fn calibration_layer(
    weight: impl Fn(usize, usize) -> f32,
    bias: &[f32],
    activation: crate::Activation,
    factor: f64,
    x: &[f32],
    pre: &mut [f32],
    out: &mut [f32],
) {
    let input = |v: f32| {
        if factor == 1.0 {
            v
        } else {
            #[expect(clippy::cast_possible_truncation, reason = "the pass is in f32")]
            let scaled = (f64::from(v) * factor) as f32;
            scaled
        }
    };
    for (c, (z, &b)) in pre.iter_mut().zip(bias).enumerate() {
        *z = b;
        for (i, &v) in x.iter().enumerate() {
            *z += weight(c, i) * input(v);
        }
    }
    for (o, &z) in out.iter_mut().zip(pre.iter()) {
        *o = z;
    }
    activation.apply_in_place_libm(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition, in exact 128-bit arithmetic: `⌊2·a·b / 2³² + ½⌋`, the nearest integer
    /// with ties toward +∞, saturated.
    fn high_mul_by_definition(a: i32, b: i32) -> i64 {
        let p = 2 * i128::from(a) * i128::from(b);
        let q = 1i128 << 32;
        let r = (p + q / 2).div_euclid(q);
        i64::try_from(r.min(i128::from(i32::MAX))).unwrap()
    }

    fn divide_by_definition(x: i32, exponent: u32) -> i64 {
        let d = 1i128 << exponent;
        let x = i128::from(x);
        let r = (x.abs() + d / 2) / d;
        i64::try_from(if x < 0 { -r } else { r }).unwrap()
    }

    #[test]
    fn the_primitives_round_to_nearest_as_gemmlowp_does() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            #[expect(clippy::cast_possible_truncation, reason = "low 32 bits")]
            let v = state as u32;
            i32::from_ne_bytes(v.to_ne_bytes())
        };
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -1,
            0,
            1,
            i32::MAX,
            1 << 30,
            -(1 << 30),
        ];
        for &a in &edges {
            for &b in &edges {
                assert_eq!(
                    i64::from(saturating_rounding_doubling_high_mul(a, b)),
                    high_mul_by_definition(a, b),
                    "{a} · {b}"
                );
            }
        }
        for _ in 0..100_000 {
            let (a, b) = (next(), next());
            assert_eq!(
                i64::from(saturating_rounding_doubling_high_mul(a, b)),
                high_mul_by_definition(a, b),
                "{a} · {b}"
            );
            let e = next().unsigned_abs() % 32;
            assert_eq!(
                i64::from(rounding_divide_by_pot(a, e)),
                divide_by_definition(a, e),
                "{a} / 2^{e}"
            );
        }
    }

    #[test]
    fn multipliers_are_q31_significands() {
        for (m, multiplier, shift) in [
            (0.5, 1 << 30, 0),
            (0.25, 1 << 30, -1),
            (1.0, 1 << 30, 1),
            (0.75, 3 << 29, 0),
            (0.0, 0, 0),
            // 1 − 2⁻⁴⁰ rounds up to 2³¹ in Q31 and is renormalised.
            (1.0 - 2f64.powi(-40), 1 << 30, 1),
            // Below 2⁻³², flushed to zero.
            (2f64.powi(-33), 0, 0),
        ] {
            let q = QuantizedMultiplier::new(m, Rounding::Double).unwrap();
            assert_eq!((q.multiplier, q.shift), (multiplier, shift), "{m}");
        }
        let big = QuantizedMultiplier::new(2f64.powi(40), Rounding::Single).unwrap();
        assert_eq!((big.multiplier, big.shift), (i32::MAX, 30));
        let big = QuantizedMultiplier::new(2f64.powi(40), Rounding::Double).unwrap();
        assert_eq!((big.multiplier, big.shift), (1 << 30, 41));
        for bad in [-0.5, f64::NAN, f64::INFINITY] {
            assert_eq!(
                QuantizedMultiplier::new(bad, Rounding::Double),
                None,
                "{bad}"
            );
        }
    }

    #[test]
    fn both_roundings_scale_by_the_multiplier() {
        // Against exact rational arithmetic: both stay within one unit of x·M, and single
        // rounding is the correctly rounded value (ties up).
        let mut state = 12345u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let m =
                f64::from(u32::try_from(state >> 40).unwrap()) / f64::from(1u32 << 24) * 0.9 + 1e-4;
            #[expect(clippy::cast_possible_truncation, reason = "a test value")]
            let x = ((state >> 8) as i32) >> 12;
            let q = QuantizedMultiplier::new(m, Rounding::Single).unwrap();
            let exact = i128::from(x) * i128::from(q.multiplier);
            let total = 31 - q.shift;
            let single = (exact + (1i128 << (total - 1))) >> total;
            assert_eq!(
                i128::from(q.apply(x, Rounding::Single)),
                single,
                "{x} · {m}"
            );
            let double = i128::from(q.apply(x, Rounding::Double));
            assert!(
                (double - single).abs() <= 1,
                "{x} · {m}: {double} vs {single}"
            );
        }
    }

    #[test]
    fn any_multiplier_applies_without_panicking() {
        let edges = [i32::MIN, -1, 0, 1, i32::MAX];
        for shift in [-1000, -32, -31, 0, 30, 31, 32, 41, 1000] {
            for multiplier in edges {
                let m = QuantizedMultiplier { multiplier, shift };
                for x in edges {
                    let _ = (m.apply(x, Rounding::Double), m.apply(x, Rounding::Single));
                }
            }
        }
        // From `new`: a large multiplier under double rounding shifts left by 41.
        let big = QuantizedMultiplier::new(2f64.powi(40), Rounding::Double).unwrap();
        assert_eq!(big.apply(0, Rounding::Double), 0);
        assert_eq!(
            rounding_divide_by_pot(-7, 40),
            rounding_divide_by_pot(-7, 31)
        );
    }

    #[test]
    fn layers_fuse_or_tabulate_their_activation() {
        use crate::Activation;
        let (pre, out) = (
            Range {
                min: -4.0,
                max: 2.0,
            },
            Range {
                min: -0.5,
                max: 2.0,
            },
        );
        let calibrated = Quantization::of_range(out).unwrap();
        assert_eq!(
            layer_output(Activation::Relu, pre, out),
            Ok((calibrated, None))
        );
        let (output, table) = layer_output(Activation::Tanh, pre, out).unwrap();
        let table = table.unwrap();
        assert_eq!(output, Table::fixed_output(Activation::Tanh).unwrap());
        assert_eq!(
            (table.input, table.output),
            (Quantization::of_range(pre).unwrap(), output)
        );
        // ELU's output is calibrated; its table is monotone, as the function.
        let (output, table) = layer_output(Activation::Elu(1.0), pre, out).unwrap();
        assert_eq!(output, calibrated);
        assert!(table.unwrap().values.windows(2).all(|w| w[0] <= w[1]));
        assert!(layer_output(Activation::Softmax, pre, out).is_err());
        let nan = Range {
            min: f32::NAN,
            max: f32::NAN,
        };
        assert!(layer_output(Activation::Sigmoid, nan, out).is_err());
        assert!(layer_output(Activation::Identity, pre, nan).is_err());
    }

    #[test]
    fn tables_hold_the_rounded_function() {
        // Sigmoid on [−8, 8): each value is round(256 · σ(x)) − 128, computed here with the
        // standard library.
        let input = Quantization {
            scale: 1.0 / 16.0,
            zero_point: 0,
        };
        let output = Table::fixed_output(crate::Activation::Sigmoid).unwrap();
        let table = Table::new(crate::Activation::Sigmoid, input, output).unwrap();
        for q in i8::MIN..=i8::MAX {
            let x = f64::from(q) / 16.0;
            let expected = ((256.0 / (1.0 + (-x).exp())).round() - 128.0).clamp(-128.0, 127.0);
            assert_eq!(f64::from(table.lookup(q)), expected, "{q}");
        }
        let bad = Quantization {
            scale: 0.0,
            zero_point: 0,
        };
        assert!(Table::new(crate::Activation::Tanh, bad, output).is_none());
    }

    #[test]
    fn the_roundings_have_names() {
        for r in [Rounding::Double, Rounding::Single] {
            assert_eq!(Rounding::from_name(r.name()), Some(r));
        }
        assert_eq!(Rounding::from_name("triple"), None);
        assert_eq!(quantize(6.0, 0.05, -128), -8);
        assert_eq!(quantize(0.025, 0.05, 3), 4); // a tie, away from zero
        assert_eq!(quantize(-0.025, 0.05, 3), 2);
        assert_eq!(quantize(1e30, 1e-30, 0), i32::MAX);
    }
}
