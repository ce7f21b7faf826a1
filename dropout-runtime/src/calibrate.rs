//! Int8 twins of float networks, quantized at run time: the calibration pass over sample
//! inputs, and each layer's integers from its float weights, as TensorFlow's converter chooses
//! them (`dropout_shared::quant`). The generated `quantize` of a twin (`quantize: int8 as …`)
//! calls these; the macro computes the same at compile time from a calibration file, with the
//! same functions, so both give the same twin.

use alloc::vec;
use alloc::vec::Vec;

use dropout_shared::quant::{self, FusedActivation, QuantizedMultiplier, Range, Rounding};

use crate::int8::{Dense, Frame, Quantization, Requantization};
use crate::{Error, Network};

/// The calibrated range of the network's input and of every layer's output (after
/// its activation) over `rows`, each layer fed as the evaluation pass feeds it (under classic
/// scaling, scaled by its site's keep probability).
///
/// # Errors
/// [`Error::NoSamples`] without rows; [`Error::Quantization`] for an activation an int8 layer
/// cannot fuse, or rows whose ranges are not finite.
pub fn calibrate<N: Network<Scalar = f32>>(
    net: &N,
    rows: &[N::Input],
) -> Result<Vec<Range>, Error> {
    if rows.is_empty() {
        return Err(Error::NoSamples);
    }
    let spec = &N::SPEC;
    let mut ranges = vec![Range::EMPTY; spec.layers.len() + 1];
    let fused = spec
        .layers
        .iter()
        .map(|layer| {
            FusedActivation::of(layer.activation).ok_or(Error::Quantization(
                "an int8 layer fuses identity, relu or relu6; this network has another activation",
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut factors = Vec::with_capacity(spec.layers.len());
    factors.push(
        quant::site_factors(
            spec.input_dropout.map(dropout_shared::Dropout::keep),
            spec.scaling,
        )
        .0,
    );
    factors.extend(spec.layers.iter().map(|layer| {
        quant::site_factors(
            layer.dropout.map(dropout_shared::Dropout::keep),
            spec.scaling,
        )
        .0
    }));
    for row in rows {
        let mut a: Vec<f32> = row.as_ref().to_vec();
        ranges[0].widen(&a);
        for (k, &activation) in fused.iter().enumerate() {
            let layer = net.layer(k).ok_or(Error::Quantization(
                "the network has fewer layers than its specification",
            ))?;
            let mut out = vec![0.0; layer.size()];
            let weight = |c, i| layer.weight(c, i).unwrap_or(f32::NAN);
            quant::calibration_layer(weight, layer.biases(), activation, factors[k], &a, &mut out);
            ranges[k + 1].widen(&out);
            a = out;
        }
    }
    Ok(ranges)
}

/// The quantization the converter chooses for a calibrated range.
///
/// # Errors
/// [`Error::Quantization`] if the range is not finite (a NaN or infinity in the rows or in a
/// layer's output).
pub fn quantization(range: Range) -> Result<Quantization, Error> {
    let (scale, zero_point) = range.quantization().ok_or(Error::Quantization(
        "a calibrated range is not finite: the rows give NaN or infinity",
    ))?;
    Ok(Quantization { scale, zero_point })
}

/// The calibrated range of tensor `k` (0: the input).
///
/// # Errors
/// [`Error::Quantization`] if there is none.
pub fn range(ranges: &[Range], k: usize) -> Result<Range, Error> {
    ranges
        .get(k)
        .copied()
        .ok_or(Error::Quantization("no calibrated range for a layer"))
}

/// An int8 layer from a float one: weights and bias per channel as the converter quantizes
/// them, with its input and output quantization, fused activation, the site factors of its
/// input (`(evaluation, masked)`, from [`quant::site_factors`]) and rounding.
///
/// # Errors
/// [`Error::Quantization`] for a non-finite weight or bias, or scales without a multiplier.
pub fn quantized_layer<const IN: usize, const OUT: usize>(
    layer: &crate::Dense<f32, IN, OUT>,
    input: Quantization,
    output: Quantization,
    activation: FusedActivation,
    factors: (f64, f64),
    rounding: Rounding,
) -> Result<Dense<IN, OUT>, Error> {
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
            output.scale,
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
    let (lo, hi) = activation.range(output.scale, output.zero_point);
    let narrow = |v: i32| i8::try_from(v).unwrap_or(if v < 0 { i8::MIN } else { i8::MAX });
    let frame = Frame {
        input,
        output,
        activation,
        range: (narrow(lo), narrow(hi)),
        rounding,
    };
    Ok(Dense::new(
        weights,
        scales,
        frame,
        requantization(factors.0)?,
        requantization(factors.1)?,
    ))
}
