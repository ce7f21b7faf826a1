//! Networks as ONNX models: float networks' passes, and int8 networks in the QDQ format.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use dropout_onnx::{Graph, Precision, Value};

use crate::int8::{Quantization, QuantizedNetwork};
use crate::{Dropout, DropoutKind, Error, Float, Masks, Network, NetworkSpec};

/// The evaluation pass ([`Network::forward`]) as an ONNX model (opset
/// [`dropout_onnx::OPSET`]) that onnxruntime, tract, Triton and TensorRT run.
///
/// The model has one input `x` of shape `[batch, inputs]` and one output `y` of shape
/// `[batch, outputs]`; the batch dimension is dynamic. Each dense layer is a `Gemm` whose
/// initializers are `{layer}.weight` (one row per neuron, as PyTorch's `Linear.weight`) and
/// `{layer}.bias`; each activation is its ONNX operator or the nodes PyTorch's exporter writes
/// for it (softmax as `Softmax`). Under `scaling: classic` a dropout site's evaluation factor
/// (the keep probability) is a `Mul` by a constant; under inverted scaling, and for alpha and
/// Gaussian dropout, the sites leave nothing in the evaluation pass. An `f64` network writes a
/// `double` model, so that its numbers are not rounded on the way.
///
/// `dropout_onnx::read` (and `from: onnx("…")`) reads back a model of an inverted-scaling
/// network as the same layers, except where a `double` model writes `leaky_relu`, `elu`,
/// `selu` or `hard_sigmoid` as several nodes (their operators take `f32` parameters, which
/// would round the network's).
///
/// # Errors
/// [`Error::NotFinite`] if a weight or bias is NaN or infinite, [`Error::Export`] if the graph
/// cannot be written (a network without layers).
///
/// # Example
/// ```
/// use dropout::network;
///
/// network! {
///     struct Tiny<f32> {
///         input: 2,
///         dense 3 relu { weights: [[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]], bias: [0.0, 0.1, 0.2] },
///         dropout(p = 0.5),
///         dense 1 sigmoid { weights: [[1.0, -2.0, 0.5]], bias: [0.3] },
///     }
/// }
/// let bytes = dropout::io::to_onnx(&Tiny::new())?;
/// // `dropout_onnx` reads it back (its errors convert into `dropout::Error`).
/// let model = dropout_onnx::read(&bytes)?;
/// assert_eq!(model.input, 2);
/// assert_eq!(model.layers.len(), 2);
/// assert_eq!(model.layers[1].weights, [1.0, -2.0, 0.5]);
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn to_onnx<N: Network>(net: &N) -> Result<Vec<u8>, Error> {
    let spec = &N::SPEC;
    let mut writer = Writer::new(net, spec)?;
    let mut a = writer.graph.input("x", spec.n_inputs)?;
    if let Some(dropout) = spec.input_dropout {
        a = writer.graph.scale(&a, spec.scaling.eval_factor(dropout))?;
    }
    for (idx, layer) in spec.layers.iter().enumerate() {
        if let Some(dropout) = layer.dropconnect {
            a = writer.graph.scale(&a, spec.scaling.eval_factor(dropout))?;
        }
        let (weights, bias) = writer.parameters(idx)?;
        a = writer
            .graph
            .dense(&a, layer.name, layer.fan_in, layer.size, &weights, &bias)?;
        a = writer.graph.activation(&a, layer.activation)?;
        if let Some(dropout) = layer.dropout {
            a = writer.graph.scale(&a, spec.scaling.eval_factor(dropout))?;
        }
    }
    writer.finish(&a)
}

/// The training-mode pass ([`Network::forward_masked`]) as an ONNX model with its masks as inputs,
/// so that a pass under masks drawn in Rust can be run outside Rust.
///
/// Beside `x`, the model has one input per dropout site and per layer with DropConnect, named
/// and shaped as [`onnx_mask_inputs`] fills them: `mask.{site}` (`[batch, units]`, 1 keeps a
/// unit, 0 drops it; `site` is `input` or the layer's name), `noise.{site}` for a Gaussian
/// site (`[batch, units]`, the multipliers) and `connections.{layer}` for DropConnect
/// (`[batch, neurons, inputs]`, one weight mask per row). A site multiplies its units by the
/// mask and by the scaling's training factor, as PyTorch's `Dropout` does; an alpha-dropout
/// site computes A·(a·μ) + (B·μ + D·(1 − μ)) with D = A·α′ + B, which is A·a + B for a kept
/// unit and D for a dropped one.
///
/// # Errors
/// As [`to_onnx`].
///
/// # Example
/// ```
/// use dropout::{Masks, Network, network};
///
/// network! {
///     struct Tiny<f32> {
///         input: 2,
///         dense 3 relu, dropout(p = 0.5),
///         dense 1 sigmoid dropconnect(p = 0.25),
///     }
/// }
/// let bytes = dropout::io::to_onnx_masked(&Tiny::zeros())?;
/// let masks = [<Tiny as Network>::Masks::ALL_KEPT; 2];
/// let inputs = dropout::io::onnx_mask_inputs::<Tiny>(&masks);
/// let names: Vec<_> = inputs.iter().map(|input| (input.name.as_str(), input.shape.as_slice())).collect();
/// assert_eq!(names, [("mask.h1", &[2, 3][..]), ("connections.output", &[2, 1, 3][..])]);
/// assert_eq!(inputs[0].values, [1.0; 6]);
/// # let _ = bytes;
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn to_onnx_masked<N: Network>(net: &N) -> Result<Vec<u8>, Error> {
    let spec = &N::SPEC;
    let mut writer = Writer::new(net, spec)?;
    let mut a = writer.graph.input("x", spec.n_inputs)?;
    // The mask inputs first, in the order of `onnx_mask_inputs`: sites, then DropConnect.
    let (mut sites, mut connections) = (Vec::new(), Vec::new());
    for (name, dims) in mask_inputs(spec) {
        if dims.len() == 1 {
            sites.push(writer.graph.batched_input(&name, &dims)?);
        } else {
            connections.push(writer.graph.batched_input(&name, &dims)?);
        }
    }
    let (mut sites, mut connections) = (sites.iter(), connections.iter());
    let next = |inputs: &mut core::slice::Iter<'_, Value>| {
        inputs
            .next()
            .cloned()
            .ok_or_else(|| Error::Export("the network has more sites than masks".into()))
    };
    if let Some(dropout) = spec.input_dropout {
        a = writer.site(&a, &next(&mut sites)?, dropout)?;
    }
    for (idx, layer) in spec.layers.iter().enumerate() {
        let (weights, bias) = writer.parameters(idx)?;
        let graph = &mut writer.graph;
        a = match layer.dropconnect {
            None => graph.dense(&a, layer.name, layer.fan_in, layer.size, &weights, &bias)?,
            Some(dropout) => {
                let mask = next(&mut connections)?;
                let stored = graph.weights(layer.name, layer.fan_in, layer.size, &weights)?;
                let kept = graph.mul(&stored, &mask);
                let kept = graph.scale(&kept, spec.scaling.train_factor(dropout))?;
                graph.dense_per_row(&a, layer.name, &kept, layer.size, &bias)?
            }
        };
        a = graph.activation(&a, layer.activation)?;
        if let Some(dropout) = layer.dropout {
            a = writer.site(&a, &next(&mut sites)?, dropout)?;
        }
    }
    writer.finish(&a)
}

/// The evaluation pass of an int8 network (`forward_quantized`) as an ONNX model in the QDQ
/// format: each layer's `int8` weights and `int32` biases through `DequantizeLinear` into a
/// `Gemm`, its fused activation (`Relu`, or `Clip(0, 6)` for relu6) and a `QuantizeLinear` to
/// the layer's output quantization, which onnxruntime fuses into its integer `QGemm` kernel. A
/// twin's layer with an activation it computes by a [`Table`](crate::int8::Table) (sigmoid,
/// tanh, …) writes its pre-activation on the table's grid (`QuantizeLinear`, `DequantizeLinear`)
/// and the activation in floats before its `QuantizeLinear`. Input and output are `int8` (`[batch, inputs]` and `[batch, outputs]`), or `float` where
/// the imported file's were (a `QuantizeLinear` at the start, a `DequantizeLinear` at the end).
///
/// onnxruntime requantizes in floating point, rounding half to even, where the network (as
/// TFLite) uses integer multipliers: its outputs are within one int8 step of
/// `forward_quantized`'s for fused activations (`tests/onnx.rs` counts how many are equal); a
/// step off in a table's input moves its output by up to the activation's slope times one
/// step, so tables widen that.
///
/// # Errors
/// [`Error::Quantization`] for a network with `scaling: classic` and a dropout site (whose
/// evaluation pass scales a layer's input by its keep probability), or a zero point outside
/// int8; [`Error::Export`] if the graph cannot be written.
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
/// let bytes = dropout::io::to_onnx_quantized(&Sine::new())?;
/// // The file `tools/onnx_fixtures.py` runs in onnxruntime.
/// let committed = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/onnx/exported/sine_qdq.onnx");
/// assert_eq!(bytes, std::fs::read(committed)?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_onnx_quantized<N: QuantizedNetwork>(net: &N) -> Result<Vec<u8>, Error> {
    let spec = &N::SPEC;
    if spec.scaling == crate::Scaling::Classic && spec.sites().next().is_some() {
        return Err(Error::Quantization(
            "under classic scaling the evaluation pass multiplies a layer's input by its keep probability, which a QDQ model's layers do not",
        ));
    }
    let zero_point = |q: Quantization| {
        i8::try_from(q.zero_point).map_err(|_| Error::Quantization("a zero point outside int8"))
    };
    let layer = |idx: usize| {
        net.layer(idx).ok_or(Error::Quantization(
            "the network has fewer layers than its specification",
        ))
    };
    let (first, last) = (layer(0)?, layer(spec.layers.len().saturating_sub(1))?);
    let mut graph = Graph::new(Precision::F32);
    let mut q = if N::FLOAT_IO.0 {
        let x = graph.input("x", spec.n_inputs)?;
        graph.quantize(&x, first.input.scale, zero_point(first.input)?)?
    } else {
        graph.int8_input("x", spec.n_inputs)?
    };
    for (idx, layer_spec) in spec.layers.iter().enumerate() {
        let parts = layer(idx)?;
        let a = graph.dequantize(&q, parts.input.scale, zero_point(parts.input)?)?;
        let z = graph.dense_quantized(
            &a,
            layer_spec.name,
            layer_spec.fan_in,
            layer_spec.size,
            parts.weights,
            parts.weight_scales,
            parts.bias,
            parts.input.scale,
        )?;
        let y = match parts.table {
            // The pre-activation on its own grid, then the activation in floats, as a QDQ
            // model writes an activation that has no integer kernel.
            Some(table) => {
                let pre = graph.quantize(&z, table.input.scale, zero_point(table.input)?)?;
                let pre = graph.dequantize(&pre, table.input.scale, zero_point(table.input)?)?;
                graph.activation(&pre, table.activation)?
            }
            None => graph.activation(&z, parts.activation.activation())?,
        };
        q = graph.quantize(&y, parts.output.scale, zero_point(parts.output)?)?;
    }
    let y = if N::FLOAT_IO.1 {
        graph.dequantize(&q, last.output.scale, zero_point(last.output)?)?
    } else {
        q
    };
    Ok(graph.finish(&y, spec.n_outputs())?)
}

/// One input of a model written by [`to_onnx_masked`]: its name, its shape and its values in
/// row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct OnnxInput<T> {
    /// The input's name in the model: `mask.{site}`, `noise.{site}` or `connections.{layer}`.
    pub name: String,
    /// Its shape, the batch first.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<T>,
}

/// The mask inputs of [`to_onnx_masked`]'s model for a batch whose row `r` is run under
/// `masks[r]`, in the model's order: sites μ⁰, μ¹, … (1 for a kept unit, 0 for a dropped one,
/// or a Gaussian site's noise), then the layers with DropConnect.
pub fn onnx_mask_inputs<N: Network>(masks: &[N::Masks]) -> Vec<OnnxInput<N::Scalar>> {
    let spec = &N::SPEC;
    let bit = |kept: &bool| {
        if *kept {
            N::Scalar::ONE
        } else {
            N::Scalar::ZERO
        }
    };
    let n_sites = spec.sites().count();
    let values = |idx: usize| -> Vec<N::Scalar> {
        masks
            .iter()
            .flat_map(|m| {
                if idx >= n_sites {
                    let bits = m.connections(idx - n_sites).unwrap_or_default();
                    bits.iter().map(bit).collect::<Vec<_>>()
                } else if let Some(bits) = m.site(idx) {
                    bits.iter().map(bit).collect()
                } else {
                    m.noise(idx).unwrap_or_default().to_vec()
                }
            })
            .collect()
    };
    mask_inputs(spec)
        .into_iter()
        .enumerate()
        .map(|(idx, (name, dims))| OnnxInput {
            name,
            shape: core::iter::once(masks.len()).chain(dims).collect(),
            values: values(idx),
        })
        .collect()
}

/// The mask inputs of [`to_onnx_masked`]'s model for `spec`, in order: each one's name and its
/// shape without the batch dimension.
fn mask_inputs(spec: &NetworkSpec) -> Vec<(String, Vec<usize>)> {
    let sites = spec
        .sites()
        .map(|(site, units, dropout)| (site_input(site, dropout), alloc::vec![units]));
    let connections = spec.connections().map(|(layer, idx, _, _)| {
        let shape = &spec.layers[idx];
        (
            format!("connections.{layer}"),
            alloc::vec![shape.size, shape.fan_in],
        )
    });
    sites.chain(connections).collect()
}

/// The model configuration (`config.pbtxt`) with which NVIDIA's Triton Inference Server serves
/// the model [`to_onnx`] writes for `N` (or, with `masked`, [`to_onnx_masked`]'s) under the
/// name `name` with its onnxruntime backend, batching requests of up to `max_batch_size` rows
/// (Triton's dims leave the batch dimension out). The model file goes in the repository as
/// `{name}/1/model.onnx`, beside `{name}/config.pbtxt`.
///
/// # Errors
/// [`Error::Export`] if `name` is empty or holds a character other than ASCII letters, digits,
/// `_`, `-` and `.` (it names a directory and a quoted string), or `max_batch_size` is 0.
///
/// # Example
/// ```
/// let config = dropout::io::triton_config::<dropout::toy::Toy>("toy", 64, false)?;
/// assert!(config.starts_with("name: \"toy\"\nbackend: \"onnxruntime\"\nmax_batch_size: 64\n"));
/// assert!(config.contains("name: \"x\"\n    data_type: TYPE_FP32\n    dims: [ 2 ]"));
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn triton_config<N: Network>(
    name: &str,
    max_batch_size: usize,
    masked: bool,
) -> Result<String, Error> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() || !name.chars().all(allowed) || name.chars().all(|c| c == '.') {
        return Err(Error::Export(format!(
            "`{name}` cannot name a Triton model: use ASCII letters, digits, `_`, `-` and `.`"
        )));
    }
    if max_batch_size == 0 {
        return Err(Error::Export(
            "a Triton model of a batched ONNX model needs a max_batch_size of at least 1".into(),
        ));
    }
    let spec = &N::SPEC;
    let data_type = if spec.scalar == "f64" {
        "TYPE_FP64"
    } else {
        "TYPE_FP32"
    };
    let tensor = |name: &str, dims: &[usize]| {
        let dims: Vec<String> = dims.iter().map(ToString::to_string).collect();
        format!(
            "  {{\n    name: \"{name}\"\n    data_type: {data_type}\n    dims: [ {} ]\n  }}",
            dims.join(", ")
        )
    };
    let mut inputs = alloc::vec![tensor("x", &[spec.n_inputs])];
    if masked {
        inputs.extend(
            mask_inputs(spec)
                .iter()
                .map(|(name, dims)| tensor(name, dims)),
        );
    }
    Ok(format!(
        "name: \"{name}\"\nbackend: \"onnxruntime\"\nmax_batch_size: {max_batch_size}\ninput [\n{}\n]\noutput [\n{}\n]\ndynamic_batching {{ }}\n",
        inputs.join(",\n"),
        tensor("y", &[spec.n_outputs()])
    ))
}

/// The name of a site's input: `mask.{site}`, or `noise.{site}` for Gaussian dropout.
fn site_input(site: &str, dropout: Dropout) -> String {
    let kind = if dropout.kind().is_noise() {
        "noise"
    } else {
        "mask"
    };
    format!("{kind}.{site}")
}

/// A network's graph being written.
struct Writer<'a, N: Network> {
    net: &'a N,
    spec: &'a NetworkSpec,
    graph: Graph,
}

impl<'a, N: Network> Writer<'a, N> {
    fn new(net: &'a N, spec: &'a NetworkSpec) -> Result<Self, Error> {
        crate::network::refuse_non_finite(net)?;
        let precision = if spec.scalar == "f64" {
            Precision::F64
        } else {
            Precision::F32
        };
        Ok(Writer {
            net,
            spec,
            graph: Graph::new(precision),
        })
    }

    /// Layer `idx`'s weights (one row per neuron) and biases.
    fn parameters(&self, idx: usize) -> Result<(Vec<f64>, Vec<f64>), Error> {
        let layer = self.net.layer(idx).ok_or_else(|| {
            Error::Export(format!(
                "the network has no layer {idx}, which its specification declares"
            ))
        })?;
        let weights = (0..layer.size())
            .flat_map(|neuron| (0..layer.fan_in()).map(move |input| (neuron, input)))
            .map(|(neuron, input)| layer.weight(neuron, input).map_or(f64::NAN, Float::to_f64))
            .collect();
        let bias = layer.biases().iter().map(|b| b.to_f64()).collect();
        Ok((weights, bias))
    }

    /// The training pass of a site on `a` under the graph's input `mask`.
    fn site(&mut self, a: &Value, mask: &Value, dropout: Dropout) -> Result<Value, Error> {
        let graph = &mut self.graph;
        let masked = graph.mul(a, mask);
        match dropout.kind() {
            DropoutKind::Standard | DropoutKind::Connect | DropoutKind::Gaussian => {
                Ok(graph.scale(&masked, self.spec.scaling.train_factor(dropout))?)
            }
            DropoutKind::Alpha => {
                let (scale, shift) = dropout.alpha_affine();
                let dropped = <N::Scalar as Float>::from_f64(scale * crate::ALPHA_PRIME + shift);
                let dropped = dropped.to_f64();
                // B·μ + D·(1 − μ), with D·(1 − μ) as D − D·μ: exactly B or D.
                let kept_shift = graph.scale(mask, shift)?;
                let minus = graph.scale(mask, -dropped)?;
                let dropped_shift = graph.offset(&minus, dropped)?;
                let scaled = graph.scale(&masked, scale)?;
                let shifts = graph.add(&kept_shift, &dropped_shift);
                Ok(graph.add(&scaled, &shifts))
            }
        }
    }

    fn finish(self, output: &Value) -> Result<Vec<u8>, Error> {
        Ok(self.graph.finish(output, self.spec.n_outputs())?)
    }
}
