//! Int8 twins of float networks, quantized at run time: the calibration pass over sample
//! inputs, and each layer's integers from its float weights, as TensorFlow's converter chooses
//! them (`dropout_shared::quant`). The generated `quantize` of a twin (`quantize: int8 as …`)
//! calls these; the macro computes the same at compile time from a calibration file, with the
//! same functions, so both give the same twin.

use alloc::vec;
use alloc::vec::Vec;

use dropout_shared::quant::{self, QuantizedMultiplier, Range, Rounding};

use crate::int8::{Dense, Frame, Quantization, Requantization, Stage, Table};
use crate::{Activation, Error, Network};

/// What a calibration pass saw: the range of the network's input and, for every layer, of its
/// pre-activation and of its output (after its activation), each layer fed as the evaluation
/// pass feeds it (under classic scaling, scaled by its site's keep probability).
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The input's range.
    pub input: Range,
    /// Each layer's activation and the ranges of its pre-activation and output.
    pub layers: Vec<(Activation, Range, Range)>,
}

impl Calibration {
    /// How layer `k` is quantized ([`quant::layer_output`]).
    ///
    /// # Errors
    /// [`Error::Quantization`] for a layer that does not exist, softmax, or a range that is not
    /// finite.
    pub fn layer(&self, k: usize) -> Result<LayerQuantization, Error> {
        const NOT_FINITE: &str = "a calibrated range is not finite: the rows give NaN or infinity";
        let missing = Error::Quantization("no calibrated range for a layer");
        let input = match k.checked_sub(1) {
            None => Quantization::of_range(self.input).ok_or(Error::Quantization(NOT_FINITE))?,
            Some(before) => {
                let &(activation, pre, out) = self.layers.get(before).ok_or(missing.clone())?;
                quant::layer_output(activation, pre, out)
                    .map_err(Error::Quantization)?
                    .0
            }
        };
        let &(activation, pre, out) = self.layers.get(k).ok_or(missing)?;
        let (output, table) =
            quant::layer_output(activation, pre, out).map_err(Error::Quantization)?;
        Ok(LayerQuantization {
            activation,
            input,
            output,
            table,
        })
    }
}

/// How one layer of an int8 twin is quantized, from a [`Calibration`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerQuantization {
    /// The float layer's activation.
    pub activation: Activation,
    /// The quantization of the layer's input: the network's, or the layer before's output.
    pub input: Quantization,
    /// The quantization of its output.
    pub output: Quantization,
    /// Its activation as a table, if the layer does not fuse it.
    pub table: Option<Table>,
}

/// The calibration pass of `net` over `rows`.
///
/// # Errors
/// [`Error::NoSamples`] without rows; [`Error::Quantization`] for softmax, which has no int8
/// form.
pub fn calibrate<N: Network<Scalar = f32>>(
    net: &N,
    rows: &[N::Input],
) -> Result<Calibration, Error> {
    if rows.is_empty() {
        return Err(Error::NoSamples);
    }
    let spec = &N::SPEC;
    if spec
        .layers
        .iter()
        .any(|layer| !layer.activation.is_elementwise())
    {
        return Err(Error::Quantization(
            "softmax has no int8 form: it couples a layer's units",
        ));
    }
    let factor = |site: Option<dropout_shared::Dropout>| {
        quant::site_factors(site.map(dropout_shared::Dropout::keep), spec.scaling).0
    };
    let mut factors = Vec::with_capacity(spec.layers.len());
    factors.push(factor(spec.input_dropout));
    factors.extend(spec.layers.iter().map(|layer| factor(layer.dropout)));
    let mut calibration = Calibration {
        input: Range::EMPTY,
        layers: spec
            .layers
            .iter()
            .map(|layer| (layer.activation, Range::EMPTY, Range::EMPTY))
            .collect(),
    };
    for row in rows {
        let mut a: Vec<f32> = row.as_ref().to_vec();
        calibration.input.widen(&a);
        for (k, (activation, pre_range, out_range)) in calibration.layers.iter_mut().enumerate() {
            let layer = net.layer(k).ok_or(Error::Quantization(
                "the network has fewer layers than its specification",
            ))?;
            let (mut pre, mut out) = (vec![0.0; layer.size()], vec![0.0; layer.size()]);
            let weight = |c, i| layer.weight(c, i).unwrap_or(f32::NAN);
            quant::calibration_layer(
                weight,
                layer.biases(),
                *activation,
                factors[k],
                &a,
                &mut pre,
                &mut out,
            );
            pre_range.widen(&pre);
            out_range.widen(&out);
            a = out;
        }
    }
    Ok(calibration)
}

/// Layer `k` of an int8 twin from its float layer and the calibration: weights and bias per
/// channel as the converter quantizes them, the requantization of both passes (the site
/// factors of its input, `(evaluation, masked)` from [`quant::site_factors`], folded in), and
/// the activation fused ([`Fused`](crate::int8::Fused)) or as a [`Table`].
///
/// # Errors
/// [`Error::Quantization`] for a non-finite weight or bias, a range that is not finite, scales
/// without a multiplier, or a stage `A` that does not fit the layer's activation.
pub fn quantized_layer<const IN: usize, const OUT: usize, A: Stage>(
    layer: &crate::Dense<f32, IN, OUT>,
    calibration: &Calibration,
    k: usize,
    factors: (f64, f64),
    rounding: Rounding,
) -> Result<Dense<IN, OUT, A>, Error> {
    let LayerQuantization {
        activation,
        input,
        output,
        table,
    } = calibration.layer(k)?;
    let mut weights = [[0i8; IN]; OUT];
    let mut bias = [0i32; OUT];
    let mut scales = [0.0f32; OUT];
    if !quant::quantize_layer(
        |c, i| layer.weight(c, i).unwrap_or(f32::NAN),
        layer.bias(),
        IN,
        input.scale,
        weights.as_flattened_mut(),
        &mut bias,
        &mut scales,
    ) {
        return Err(Error::Quantization("a weight or bias is not finite"));
    }
    let fused = quant::FusedActivation::of(activation).unwrap_or(quant::FusedActivation::Linear);
    // The sums requantize to the table's input, or to the output.
    let target = table.map_or(output, |table| table.input);
    let frame = Frame {
        input,
        output: target,
        activation: fused,
        range: fused.int8_range(target.scale, target.zero_point),
        rounding,
    };
    let stage = A::from_table(table).ok_or(Error::Quantization(
        "the layer's activation does not fit its int8 form",
    ))?;
    let zero = QuantizedMultiplier {
        multiplier: 0,
        shift: 0,
    };
    let requantization = |factor: f64| {
        let mut r = Requantization {
            bias: [0; OUT],
            multipliers: [zero; OUT],
        };
        quant::fold(
            input.scale,
            &scales,
            target.scale,
            &bias,
            factor,
            rounding,
            &mut r.bias,
            &mut r.multipliers,
        )
        .then_some(r)
        .ok_or(Error::Quantization(
            "the scales give no requantization multiplier",
        ))
    };
    Ok(Dense::with_stage(
        weights,
        scales,
        frame,
        requantization(factors.0)?,
        requantization(factors.1)?,
        stage,
    ))
}
