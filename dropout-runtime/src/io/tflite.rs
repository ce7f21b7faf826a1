//! Int8 networks as TensorFlow Lite models.

use alloc::vec::Vec;

use crate::int8::QuantizedNetwork;
use crate::{Error, Scaling};

/// The evaluation pass of an int8 network as a `.tflite` model: its `FULLY_CONNECTED` operators
/// with the same integers and scales (and `QUANTIZE`/`DEQUANTIZE` at the ends if the imported
/// file had them), which TFLite Micro runs with the network's outputs bit for bit and which
/// `from: tflite("…")` imports back to the same network. Dropout sites are not written: like
/// TensorFlow's converter, the file holds the evaluation pass.
///
/// A layer whose activation is a [`Table`](crate::int8::Table) of sigmoid or tanh (imported from
/// a `LOGISTIC` or `TANH` operator, or a twin's at TFLite's output quantization) is written as
/// the `FULLY_CONNECTED` and that operator.
///
/// # Errors
/// [`Error::Quantization`] for a network with `scaling: classic` and a dropout site, whose
/// evaluation pass scales a layer's input by the keep probability: no operator of the file
/// would do it; and for a table of another activation (a twin's ELU, GELU, …), which no
/// operator of the file computes.
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
    let mut layers = Vec::with_capacity(N::SPEC.layers.len());
    // The operators' indices, as a reader numbers them: a `QUANTIZE` first if the input is
    // float, each layer's `FULLY_CONNECTED`, then its activation operator if it has one.
    let mut operator = usize::from(N::FLOAT_IO.0);
    for (idx, spec) in N::SPEC.layers.iter().enumerate() {
        let parts = net.layer(idx).ok_or(Error::Quantization(
            "the network has fewer layers than its specification",
        ))?;
        // A table of sigmoid or tanh at TFLite's output quantization is its `LOGISTIC` or
        // `TANH`; another table has no operator.
        let followed_by = match parts.table {
            None => None,
            Some(table)
                if dropout_shared::quant::Table::fixed_output(table.activation)
                    == Some(table.output) =>
            {
                Some(dropout_tflite::ActivationOp {
                    operator: operator + 1,
                    activation: table.activation,
                    output: table.output,
                })
            }
            Some(_) => {
                return Err(Error::Quantization(
                    "a layer computes an activation by a table that no operator of a .tflite file computes: identity, relu and relu6 are fused, sigmoid and tanh written as LOGISTIC and TANH",
                ));
            }
        };
        // The sums requantize to the table's input: that is the `FULLY_CONNECTED`'s output.
        let output = parts.table.map_or(parts.output, |table| table.input);
        // A per-tensor scale is one scale for every channel.
        let scales = match parts.weight_scales {
            [first, rest @ ..] if rest.iter().all(|s| s.to_bits() == first.to_bits()) => {
                alloc::vec![*first]
            }
            scales => scales.to_vec(),
        };
        layers.push(dropout_tflite::FullyConnected {
            operator,
            inputs: spec.fan_in,
            outputs: spec.size,
            weights: parts.weights.to_vec(),
            bias: parts.bias.to_vec(),
            weight_scales: scales,
            input: parts.input,
            output,
            activation: parts.activation,
            followed_by,
        });
        operator += 1 + usize::from(followed_by.is_some());
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
            quantization: last.layer_output(),
            float: N::FLOAT_IO.1,
        },
        layers,
    };
    Ok(dropout_tflite::write(&model))
}
