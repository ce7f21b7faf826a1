//! Int8 networks as TensorFlow Lite models.

use alloc::vec::Vec;

use crate::int8::{Quantization, QuantizedNetwork};
use crate::{Error, Scaling};

/// The evaluation pass of an int8 network as a `.tflite` model: its `FULLY_CONNECTED` operators
/// with the same integers and scales (and `QUANTIZE`/`DEQUANTIZE` at the ends if the imported
/// file had them), which TFLite Micro runs with the network's outputs bit for bit and which
/// `from: tflite("…")` imports back to the same network. Dropout sites are not written: like
/// TensorFlow's converter, the file holds the evaluation pass.
///
/// # Errors
/// [`Error::Quantization`] for a network with `scaling: classic` and a dropout site, whose
/// evaluation pass scales a layer's input by the keep probability: no operator of the file
/// would do it; and for a twin with an activation it computes by a [`Table`](crate::int8::Table)
/// (sigmoid, tanh, …): TFLite computes `LOGISTIC` and `TANH` in fixed point of its own, whose
/// bits the table does not reproduce, and has no operator for the rest.
///
/// # Example
/// ```
/// use dropout::network;
///
/// network! {
///     struct Sine<i8> {
///         input: 1, dense 16 relu, dense 16 relu, dense 1 identity,
///         from: tflite("../models/sine.tflite"),
///     }
/// }
/// let bytes = dropout::io::to_tflite(&Sine::new())?;
/// assert_eq!(&bytes[4..8], b"TFL3");
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn to_tflite<N: QuantizedNetwork>(net: &N) -> Result<Vec<u8>, Error> {
    if N::SPEC.scaling == Scaling::Classic && N::SPEC.sites().next().is_some() {
        return Err(Error::Quantization(
            "under classic scaling the evaluation pass multiplies a layer's input by its keep probability, which no operator of a .tflite file does",
        ));
    }
    let q = |q: Quantization| dropout_tflite::Quantization {
        scale: q.scale,
        zero_point: q.zero_point,
    };
    let mut layers = Vec::with_capacity(N::SPEC.layers.len());
    for (idx, spec) in N::SPEC.layers.iter().enumerate() {
        let parts = net.layer(idx).ok_or(Error::Quantization(
            "the network has fewer layers than its specification",
        ))?;
        if parts.table.is_some() {
            return Err(Error::Quantization(
                "a layer computes its activation by a table, which no operator of a .tflite file reproduces: only identity, relu and relu6 layers are written",
            ));
        }
        // A per-tensor scale is one scale for every channel.
        let scales = match parts.weight_scales {
            [first, rest @ ..] if rest.iter().all(|s| s.to_bits() == first.to_bits()) => {
                alloc::vec![*first]
            }
            scales => scales.to_vec(),
        };
        layers.push(dropout_tflite::FullyConnected {
            operator: idx + usize::from(N::FLOAT_IO.0),
            inputs: spec.fan_in,
            outputs: spec.size,
            weights: parts.weights.to_vec(),
            bias: parts.bias.to_vec(),
            weight_scales: scales,
            input: q(parts.input),
            output: q(parts.output),
            activation: parts.activation,
        });
    }
    let (Some(first), Some(last)) = (layers.first(), layers.last()) else {
        return Err(Error::Quantization(
            "a network without layers has no .tflite form",
        ));
    };
    let model = dropout_tflite::Model {
        input: dropout_tflite::Io {
            size: first.inputs,
            quantization: first.input,
            float: N::FLOAT_IO.0,
        },
        output: dropout_tflite::Io {
            size: last.outputs,
            quantization: last.output,
            float: N::FLOAT_IO.1,
        },
        layers,
    };
    Ok(dropout_tflite::write(&model))
}
