//! The integer arithmetic of int8 layers, bit for bit as TFLite's `FULLY_CONNECTED` computes it
//! (int8 activations with a zero point, int8 weights symmetric per output channel, int32 bias):
//!
//! ```text
//! acc[c] = bias[c] + Σᵢ w[c, i] · (x[i] − z_in)                      (i32)
//! M[c]   = s_in · s_w[c] / s_out                                     (f64 from the f32 scales)
//! y[c]   = clamp(requantize(acc[c], M[c]) + z_out, lo, hi)           (i8)
//! ```
//!
//! `requantize` is [`QuantizedMultiplier::apply`] under either [`Rounding`]: double rounding is
//! what TFLite Micro and CMSIS-NN compute, single rounding what TensorFlow's interpreter computes
//! when built with `TFLITE_SINGLE_ROUNDING`. The clamp is the fused activation's range
//! ([`FusedActivation::range`]).
//!
//! The tests hold this module to both interpreters: `tools/tflite_int8.py` quantizes Keras
//! MLPs with TensorFlow's converter and records TFLite Micro's and TensorFlow's outputs
//! (`int8/fixtures.rs`), and every output is recomputed here from the recorded integers.
//!
//! Two forms of the layer:
//!
//! - [`Dense`]: fixed-shape, `const`-constructible, what `network!` generates for networks
//!   declared over `i8` (`from: tflite("…")`) and for int8 twins (`quantize: int8 as …`); with
//!   its scales, both passes' requantizations (dropout sites folded in) and the vector kernels
//!   of the host. [`QuantizedNetwork`] is what every such network gives generic code.
//! - [`FullyConnected`]: over slices (feature `alloc`), from the scales a file records.
//!
//! ```
//! use dropout::int8::{FullyConnected, FusedActivation};
//! use dropout::quant::Rounding;
//!
//! // One input (scale 0.5, zero point −1), two channels, ReLU on an output of scale 0.25.
//! let layer = FullyConnected::new(0.5, -1, &[0.01, 0.02], 0.25, 3, FusedActivation::Relu)?;
//! let mut y = [0i8; 2];
//! layer.apply(&[9], &[50, -50], &[100, 0], Rounding::Double, &mut y)?;
//! // acc = (50·10 + 100, −50·10) = (600, −500): reals 3.0 and −5.0. 3.0 is 12 quarter steps
//! // past the zero point 3; −5.0 clamps to the zero point (ReLU).
//! assert_eq!(y, [15, 3]);
//! # Ok::<(), dropout::Error>(())
//! ```

#[cfg(feature = "alloc")]
use alloc::vec::Vec;

pub use dropout_shared::quant::FusedActivation;
#[cfg(feature = "alloc")]
use dropout_shared::quant::{QuantizedMultiplier, Rounding};

#[cfg(feature = "alloc")]
use crate::Error;

mod dense;
mod network;

#[cfg(feature = "alloc")]
pub use dense::{BATCH_ROWS, batch_layers, rows};
pub use dense::{
    Dense, Frame, Fused, Quantization, Requantization, Stage, Table, batch, through_integers,
    weights_from_bytes,
};
pub use network::{LayerParts, QuantizedNetwork};

/// The requantization of one int8 layer: its input's zero point, one multiplier per output
/// channel under each rounding, its output's zero point and range.
#[cfg(feature = "alloc")]
#[derive(Clone, Debug, PartialEq)]
pub struct FullyConnected {
    input_zero_point: i32,
    double: Vec<QuantizedMultiplier>,
    single: Vec<QuantizedMultiplier>,
    output_zero_point: i32,
    range: (i32, i32),
}

#[cfg(feature = "alloc")]
impl FullyConnected {
    /// The layer's requantization from the scales and zero points a `.tflite` file records.
    ///
    /// # Errors
    /// [`Error::Quantization`] if a scale is not a positive finite number or a zero point lies
    /// outside int8.
    pub fn new(
        input_scale: f32,
        input_zero_point: i32,
        weight_scales: &[f32],
        output_scale: f32,
        output_zero_point: i32,
        activation: FusedActivation,
    ) -> Result<Self, Error> {
        let positive = |s: f32| s.is_finite() && s > 0.0;
        if !positive(input_scale)
            || !positive(output_scale)
            || !weight_scales.iter().all(|&s| positive(s))
        {
            return Err(Error::Quantization(
                "every scale must be a positive finite number",
            ));
        }
        let int8 = i32::from(i8::MIN)..=i32::from(i8::MAX);
        if !int8.contains(&input_zero_point) || !int8.contains(&output_zero_point) {
            return Err(Error::Quantization("zero points must lie in int8's range"));
        }
        let multiplier = |s_w: f32, rounding| {
            let m = f64::from(input_scale) * f64::from(s_w) / f64::from(output_scale);
            QuantizedMultiplier::new(m, rounding).ok_or(Error::Quantization(
                "a multiplier is not a positive finite number",
            ))
        };
        Ok(FullyConnected {
            input_zero_point,
            double: weight_scales
                .iter()
                .map(|&s| multiplier(s, Rounding::Double))
                .collect::<Result<_, _>>()?,
            single: weight_scales
                .iter()
                .map(|&s| multiplier(s, Rounding::Single))
                .collect::<Result<_, _>>()?,
            output_zero_point,
            range: activation.range(output_scale, output_zero_point),
        })
    }

    /// `y = clamp(requantize(bias + W·(x − z_in)) + z_out)`: `weights` row-major, one row of
    /// `x.len()` per output channel; one weight scale for every channel (per tensor) or one per
    /// channel, as given to [`new`](Self::new). The accumulator wraps on overflow as TFLite's does.
    ///
    /// # Errors
    /// [`Error::Quantization`] naming the mismatch if `weights` is not `y.len()` rows of
    /// `x.len()`, `bias` is not `y.len()` long, or the layer has per-channel scales for another
    /// number of channels; `y` is then left as it was.
    pub fn apply(
        &self,
        x: &[i8],
        weights: &[i8],
        bias: &[i32],
        rounding: Rounding,
        y: &mut [i8],
    ) -> Result<(), Error> {
        if Some(weights.len()) != x.len().checked_mul(y.len()) {
            return Err(Error::Quantization(
                "the weights are not one row of the input's length per output",
            ));
        }
        if bias.len() != y.len() {
            return Err(Error::Quantization("the bias is not one value per output"));
        }
        let multipliers = match rounding {
            Rounding::Double => &self.double,
            Rounding::Single => &self.single,
        };
        if multipliers.len() != 1 && multipliers.len() != y.len() {
            return Err(Error::Quantization(
                "the layer's per-channel scales are for another number of outputs",
            ));
        }
        let (lo, hi) = self.range;
        for (c, out) in y.iter_mut().enumerate() {
            let row = &weights[c * x.len()..(c + 1) * x.len()];
            let mut acc = 0i32;
            for (&w, &v) in row.iter().zip(x) {
                acc = acc
                    .wrapping_add(i32::from(w).wrapping_mul(i32::from(v) - self.input_zero_point));
            }
            acc = acc.wrapping_add(bias[c]);
            let m = multipliers[if multipliers.len() == 1 { 0 } else { c }];
            let scaled = m
                .apply(acc, rounding)
                .saturating_add(self.output_zero_point);
            #[expect(
                clippy::cast_possible_truncation,
                reason = "clamped to the activation's range, inside int8"
            )]
            let narrowed = scaled.clamp(lo, hi) as i8;
            *out = narrowed;
        }
        Ok(())
    }
}

#[cfg(test)]
mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;

    /// One FULLY_CONNECTED operator of a converted model, as `tools/tflite_int8.py` read it.
    pub(super) struct Op {
        pub weights: &'static [&'static [i8]],
        pub bias: &'static [i32],
        pub weight_scales: &'static [f32],
        pub input_scale: f32,
        pub input_zero_point: i32,
        pub output_scale: f32,
        pub output_zero_point: i32,
        pub activation: FusedActivation,
    }

    /// A converted model: its operators, test inputs and both interpreters' outputs.
    pub(super) struct Fixture {
        pub name: &'static str,
        pub ops: &'static [Op],
        pub inputs: &'static [&'static [i8]],
        pub micro: &'static [&'static [i8]],
        pub reference: &'static [&'static [i8]],
    }

    use super::fixtures;

    fn run(fixture: &Fixture, x: &[i8], rounding: Rounding) -> Vec<i8> {
        let mut x = x.to_vec();
        for op in fixture.ops {
            let layer = FullyConnected::new(
                op.input_scale,
                op.input_zero_point,
                op.weight_scales,
                op.output_scale,
                op.output_zero_point,
                op.activation,
            )
            .unwrap();
            let weights: Vec<i8> = op
                .weights
                .iter()
                .flat_map(|row| row.iter().copied())
                .collect();
            let mut y = vec![0; op.bias.len()];
            layer
                .apply(&x, &weights, op.bias, rounding, &mut y)
                .unwrap();
            x = y;
        }
        x
    }

    #[test]
    fn double_rounding_is_tflite_micro_and_single_rounding_tensorflow() {
        let (mut cases, mut apart) = (0, 0);
        for fixture in fixtures::FIXTURES {
            for ((x, micro), reference) in fixture
                .inputs
                .iter()
                .zip(fixture.micro)
                .zip(fixture.reference)
            {
                assert_eq!(
                    run(fixture, x, Rounding::Double),
                    *micro,
                    "{}: {x:?}",
                    fixture.name
                );
                assert_eq!(
                    run(fixture, x, Rounding::Single),
                    *reference,
                    "{}: {x:?}",
                    fixture.name
                );
                cases += 1;
                apart += usize::from(micro != reference);
            }
        }
        assert!(cases > 800, "every fixture ran: {cases}");
        // The two roundings are told apart by the fixtures, or the test would not show which
        // is which.
        assert!(apart > 0, "no input where the interpreters differ");
    }

    #[test]
    fn ranges_follow_the_fused_activation() {
        assert_eq!(FusedActivation::Linear.range(0.1, 5), (-128, 127));
        assert_eq!(FusedActivation::Relu.range(0.1, 5), (5, 127));
        assert_eq!(FusedActivation::Relu.range(0.1, -128), (-128, 127));
        // quantize(6) = −128 + 6 / 0.03 = −128 + 200 = 72.
        assert_eq!(FusedActivation::Relu6.range(0.03, -128), (-128, 72));
        assert_eq!(FusedActivation::Relu6.range(0.01, -128), (-128, 127));
    }

    #[test]
    fn bad_scales_are_refused() {
        for bad in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            assert!(FullyConnected::new(bad, 0, &[0.1], 0.1, 0, FusedActivation::Linear).is_err());
            assert!(FullyConnected::new(0.1, 0, &[bad], 0.1, 0, FusedActivation::Linear).is_err());
            assert!(FullyConnected::new(0.1, 0, &[0.1], bad, 0, FusedActivation::Linear).is_err());
        }
        assert!(FullyConnected::new(0.1, 128, &[0.1], 0.1, 0, FusedActivation::Linear).is_err());
        assert!(FullyConnected::new(0.1, 0, &[0.1], 0.1, -129, FusedActivation::Linear).is_err());
    }

    #[test]
    fn shapes_that_do_not_fit_are_errors_and_leave_the_output() {
        let layer =
            FullyConnected::new(0.1, 0, &[0.1, 0.2], 0.1, 0, FusedActivation::Linear).unwrap();
        let mut y = [7i8; 2];
        for (x, w, b) in [
            (&[1i8, 2][..], &[1i8, 2, 3][..], &[0i32, 0][..]),
            (&[1, 2], &[1, 2, 3, 4], &[0]),
        ] {
            let err = layer.apply(x, w, b, Rounding::Double, &mut y).unwrap_err();
            assert!(matches!(err, Error::Quantization(_)), "{err}");
        }
        let mut three = [7i8; 3];
        let err = layer
            .apply(&[1], &[1, 2, 3], &[0, 0, 0], Rounding::Single, &mut three)
            .unwrap_err();
        assert!(err.to_string().contains("per-channel scales"), "{err}");
        assert_eq!((y, three), ([7; 2], [7; 3]));
    }
}
