//! Float networks imported from ONNX: `struct Name<f32> { …, from: onnx("model.onnx") }`. The
//! file is read with `dropout-onnx`; every declared layer is matched with the file's layer in
//! the same position (its size, and its activation with the activation's parameter), and the
//! file's weights and biases become the layer's, embedded as bytes of the scalar type.

use std::path::Path;

use dropout_onnx::Precision;

use super::Checker;
use super::layers::{Stack, imported_layers, input_span};
use super::numbers::le_bytes;
use crate::ast::{Declaration, DenseSpec, Item, Value};
use crate::errors::SpanRange;
use crate::model::{Activation, ParamValues, Params, Scalar};

/// `from: onnx("…")`: the path written and the span of the call.
pub(super) struct OnnxSource {
    written: String,
    span: SpanRange,
}

impl Checker<'_> {
    /// The `onnx("…")` source of a float network, if its `from:` is one. Any other `from:` of a
    /// float network is reported here.
    pub(super) fn onnx_source(&mut self, items: &[Item]) -> Option<OnnxSource> {
        let mut found: Option<OnnxSource> = None;
        for item in items {
            let Item::From { key, value } = item else {
                continue;
            };
            if found.is_some() {
                self.errors.at(key.span(), "`from` is given twice");
                continue;
            }
            match value {
                Value::Call(call) if call.func == "onnx" => {
                    if let [Value::Str(path)] = &call.args[..] {
                        found = Some(OnnxSource {
                            written: path.value(),
                            span: call.span_range(),
                        });
                    } else {
                        self.errors.at(
                            call.span_range(),
                            "expected one path, e.g. `onnx(\"models/classifier.onnx\")` (relative to the crate's Cargo.toml)",
                        );
                    }
                }
                Value::Call(call) if call.func == "tflite" => self.errors.at(
                    call.span_range(),
                    "`from: tflite(…)` imports an int8 network: declare it over `i8`, e.g. `struct Sine<i8> { … }`",
                ),
                value => self.expected(value, "`onnx(\"….onnx\")` (or `tflite(…)` on an `i8` network)"),
            }
        }
        found
    }

    /// Reads the file and gives each layer of `stack` the file's weights and biases; a layer
    /// that does not match is reported at the tokens declaring it.
    pub(super) fn onnx_import(
        &mut self,
        decl: &Declaration,
        source: &OnnxSource,
        stack: &mut Stack,
    ) {
        let items = &decl.items;
        for item in items {
            if let Item::Dense(spec) = item
                && let Some(body) = &spec.body
            {
                self.errors.at(
                    body.span,
                    "an imported layer's weights and biases come from the file given by `from:`; remove this `{ … }`",
                );
            }
        }
        let Some(model) = self.onnx_model(source) else {
            return;
        };
        let (written, span) = (source.written.as_str(), source.span);
        let Some(specs) = imported_layers(items, stack) else {
            return;
        };
        if model.precision == Precision::F64 && self.scalar == Scalar::F32 {
            return self.errors.at(
                span,
                format!("`{written}` holds `double` weights; declare the network `<f64>` to import them without rounding"),
            );
        }
        if model.layers.len() != stack.layers.len() {
            let nodes: Vec<&str> = model.layers.iter().map(|l| l.node.as_str()).collect();
            return self.errors.at(
                span,
                format!(
                    "`{written}` has {} layers ({}); the declaration has {}",
                    model.layers.len(),
                    nodes.join(", "),
                    stack.layers.len()
                ),
            );
        }
        let first = &model.layers[0];
        if stack.layers[0].fan_in != first.fan_in {
            if let Some(input) = input_span(items)
                && stack.layers[0].fan_in > 0
            {
                self.errors.at(
                    input,
                    format!(
                        "`input: {}` does not match `{written}`: {} takes {} inputs",
                        stack.layers[0].fan_in, first.node, first.fan_in
                    ),
                );
            }
            return;
        }
        let mut matched = true;
        for ((layer, spec), dense) in stack.layers.iter().zip(&specs).zip(&model.layers) {
            matched &= self.onnx_layer_matches(layer.size, layer.activation, spec, dense, written);
        }
        if !matched {
            return;
        }
        self.onnx_params(&model, stack, written, span);
    }

    /// The model in the file, or `None` after reporting why it cannot be read.
    fn onnx_model(&mut self, source: &OnnxSource) -> Option<dropout_onnx::Model> {
        let (written, span) = (source.written.as_str(), source.span);
        let bytes = match self.files.bytes(written) {
            Ok(bytes) => bytes,
            Err(message) => {
                self.errors.at(span, message);
                return None;
            }
        };
        // External data is read through `files` too, so that the build depends on it.
        let dir = Path::new(written).parent().unwrap_or(Path::new(""));
        let files = &mut self.files;
        let read = dropout_onnx::read_with(&bytes, |location| {
            files.bytes(&dir.join(location).to_string_lossy())
        });
        read.map_err(|err| self.errors.at(span, format!("`{written}`: {err}")))
            .ok()
    }

    /// The file's weights and biases as each layer's parameters, in the scalar type; a value
    /// that is not finite is reported instead.
    fn onnx_params(
        &mut self,
        model: &dropout_onnx::Model,
        stack: &mut Stack,
        written: &str,
        span: SpanRange,
    ) {
        for (layer, dense) in stack.layers.iter_mut().zip(&model.layers) {
            if let Some(position) = dense
                .weights
                .iter()
                .chain(&dense.bias)
                .position(|v| !v.is_finite())
            {
                let (tensor, index) = if position < dense.weights.len() {
                    (dense.weights_name.as_str(), position)
                } else {
                    (
                        dense.bias_name.as_deref().unwrap_or("bias"),
                        position - dense.weights.len(),
                    )
                };
                self.errors.at(
                    span,
                    format!(
                        "`{written}`: value {index} of `{tensor}` ({}) is not finite",
                        dense.node
                    ),
                );
                continue;
            }
            let scalar = self.scalar;
            let encode = |values: &[f64]| -> Vec<u8> {
                values.iter().flat_map(|&v| le_bytes(scalar, v)).collect()
            };
            layer.params = Some(Params {
                values: ParamValues::Bytes {
                    weights: encode(&dense.weights),
                    bias: encode(&dense.bias),
                },
                weights_tensor: Some(dense.weights_name.clone()),
                bias_tensor: dense.bias_name.clone(),
            });
            layer.declared = true;
        }
    }

    /// The declared size and activation against the file's layer.
    fn onnx_layer_matches(
        &mut self,
        size: usize,
        activation: Activation,
        spec: &DenseSpec,
        dense: &dropout_onnx::Dense,
        written: &str,
    ) -> bool {
        let mut matched = true;
        if size != dense.size && size > 0 {
            self.errors.at(
                spec.size.span_range(),
                format!(
                    "`{} {size}` does not match `{written}`: {} has {} neurons",
                    spec.kind, dense.node, dense.size
                ),
            );
            matched = false;
        }
        // Parameters are compared as the file stores them: ONNX's attributes are 32-bit floats.
        let same = activation.name() == dense.activation.name()
            && activation.parameter_value().map(|v| v as f32)
                == dense.activation.parameter_value().map(|v| v as f32);
        if !same {
            let node = dense.activation_node.as_deref().map_or_else(
                || format!("after {} the file has no activation node", dense.node),
                |node| format!("{node} is `{}`", show(dense.activation)),
            );
            self.errors.at(
                spec.activation.ident.span(),
                format!("`{}` does not match `{written}`: {node}", show(activation)),
            );
            matched = false;
        }
        matched
    }
}

/// An activation as a declaration writes it: `relu`, `leaky_relu(0.2)`.
fn show(activation: Activation) -> String {
    match activation.parameter_value() {
        Some(value) => format!("{}({})", activation.name(), value as f32),
        None => activation.name().to_owned(),
    }
}
