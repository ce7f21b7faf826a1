//! Int8 networks: `struct Name<i8> { …, from: tflite("model.tflite") }`. The file is read with
//! `dropout-tflite`, every declared layer is checked against its operator (size, fused
//! activation) and the requantization of each pass is computed here, at compile time: the
//! evaluation pass's from the file's scales, the masked pass's with the scale factor of the
//! dropout site feeding the layer folded into its input scale.

use dropout_shared::quant::{self, FusedActivation, QuantizedMultiplier, Rounding};
use dropout_tflite::FullyConnected;
use syn::Ident;

use super::Checker;
use super::layers::{Stack, imported_layers, input_span};
use crate::ast::{Declaration, DenseSpec, Item, ItemKind, Value};
use crate::errors::SpanRange;
use crate::model::{
    Activation, Int8, Int8Layer, Layer, Prob, Quantization, Requantization, Scaling,
};
use crate::suggest::did_you_mean;

impl Checker<'_> {
    /// The int8 side of the network (with no layers after an error in the import), or `None`
    /// for a float network, on which `from:` and `rounding:` are errors.
    pub(super) fn int8(
        &mut self,
        decl: &Declaration,
        is_int8: bool,
        stack: &Stack,
        scaling: Scaling,
    ) -> Option<Int8> {
        let items = &decl.items;
        if !is_int8 {
            self.float_network_items(items);
            return None;
        }
        let rounding = self
            .setting(items, ItemKind::Rounding, Self::rounding_value)
            .unwrap_or_default();
        self.int8_items(items);
        let unit = Quantization {
            scale: 1.0,
            zero_point: 0,
        };
        Some(self.import(decl, stack, scaling, rounding).unwrap_or(Int8 {
            source: String::new(),
            constant: true,
            twin_of: None,
            rounding,
            input: unit,
            output: unit,
            float_io: (false, false),
            layers: Vec::new(),
        }))
    }

    /// Reads `from: tflite("…")` and matches the declaration's layers with the file's.
    fn import(
        &mut self,
        decl: &Declaration,
        stack: &Stack,
        scaling: Scaling,
        rounding: Rounding,
    ) -> Option<Int8> {
        let items = &decl.items;
        let (written, span) = self.source_file(decl)?;
        let bytes = match self.files.bytes(&written) {
            Ok(bytes) => bytes,
            Err(message) => {
                self.errors.at(span, message);
                return None;
            }
        };
        let file = match dropout_tflite::read(&bytes) {
            Ok(file) => file,
            Err(err) => {
                self.errors.at(span, format!("`{written}`: {err}"));
                return None;
            }
        };
        let specs = imported_layers(items, stack)?;
        if file.layers.len() != stack.layers.len() {
            self.errors.at(
                span,
                format!(
                    "`{written}` has {} `FULLY_CONNECTED` operators; the declaration has {} layers",
                    file.layers.len(),
                    stack.layers.len()
                ),
            );
            return None;
        }
        let mut matched = true;
        if let Some(input_span) = input_span(items)
            && stack
                .layers
                .first()
                .is_some_and(|first| first.fan_in != file.input.size)
        {
            self.errors.at(
                input_span,
                format!(
                    "`input: {}` does not match `{written}`: operator {} (`FULLY_CONNECTED`) takes {}",
                    stack.layers[0].fan_in,
                    file.layers[0].operator,
                    count(file.input.size, "input", "inputs"),
                ),
            );
            matched = false;
        }
        for ((layer, spec), fc) in stack.layers.iter().zip(&specs).zip(&file.layers) {
            matched &= self.layer_matches(layer, spec, fc, &written);
        }
        if !matched {
            return None;
        }
        let mut site_before = stack.input_dropout;
        let layers = stack
            .layers
            .iter()
            .zip(&file.layers)
            .map(|(layer, fc)| {
                let int8 = int8_layer(fc, site_before, scaling, rounding);
                site_before = layer.dropout;
                int8
            })
            .collect::<Option<Vec<_>>>();
        let Some(layers) = layers else {
            self.errors.at(
                span,
                format!("`{written}` has a scale that gives no requantization multiplier"),
            );
            return None;
        };
        Some(Int8 {
            source: format!("imported from `{written}`"),
            constant: true,
            twin_of: None,
            rounding,
            input: file.input.quantization,
            output: file.output.quantization,
            float_io: (file.input.float, file.output.float),
            layers,
        })
    }

    pub(super) fn rounding_value(&mut self, value: &Ident) -> Rounding {
        let name = value.to_string();
        Rounding::from_name(&name).unwrap_or_else(|| {
            let names = [Rounding::Double.name(), Rounding::Single.name()];
            let hint = did_you_mean(&name, &names).map_or_else(
                || {
                    "expected `double` (TFLite Micro's, the default) or `single` (TensorFlow's)"
                        .to_owned()
                },
                |s| format!("did you mean `{s}`?"),
            );
            self.errors
                .at(value.span(), format!("unknown rounding `{name}`; {hint}"));
            Rounding::Double
        })
    }

    /// `rounding:` belongs to int8 networks and int8 twins (a float network's `from:` is
    /// checked by [`Checker::onnx_source`]).
    fn float_network_items(&mut self, items: &[Item]) {
        let twin = items.iter().any(|item| item.kind() == ItemKind::Quantize);
        for item in items {
            if let Item::Rounding { key, .. } = item
                && !twin
            {
                self.errors.at(
                    key.span(),
                    "`rounding` is how an int8 network requantizes: it applies to networks declared over `i8`",
                );
            }
        }
    }

    /// What an int8 network's items may not have: weights in the declaration, DropConnect,
    /// dropout other than `dropout(…)`, activations that are not fused, `test` blocks.
    fn int8_items(&mut self, items: &[Item]) {
        for item in items {
            match item {
                Item::Dense(spec) => {
                    if let Some(body) = &spec.body {
                        self.errors.at(
                            body.span,
                            "an imported layer's weights and biases come from the file given by `from:`; remove this `{ … }`",
                        );
                    }
                    if let Some(dropconnect) = &spec.dropconnect {
                        self.errors.at(
                            dropconnect.keyword.span(),
                            "DropConnect is not available on int8 networks: their weights are the file's",
                        );
                    }
                }
                Item::Dropout(spec) if spec.keyword != "dropout" => self.errors.at(
                    spec.keyword.span(),
                    format!(
                        "`{}` is not available on int8 networks; `dropout(p = …)` is (a dropped unit takes the zero point)",
                        spec.keyword
                    ),
                ),
                Item::Test(test) => self.errors.at(
                    test.keyword.span(),
                    "`test` blocks are for float networks; an int8 network is checked against its interpreter's outputs",
                ),
                Item::Tests { key, .. } => self.errors.at(
                    key.span(),
                    "`tests: auto` is for float networks; an int8 network is checked against its interpreter's outputs",
                ),
                _ => {}
            }
        }
    }

    /// The path of `from: tflite("…")` and the span of the call, given exactly once.
    fn source_file(&mut self, decl: &Declaration) -> Option<(String, SpanRange)> {
        let mut found = None;
        for item in &decl.items {
            let Item::From { key, value } = item else {
                continue;
            };
            if found.is_some() {
                self.errors.at(key.span(), "`from` is given twice");
                continue;
            }
            found = Some(self.tflite_call(value));
        }
        match found {
            Some(call) => call,
            None => {
                if !decl
                    .items
                    .iter()
                    .any(|item| matches!(item, Item::Invalid(ItemKind::From)))
                {
                    self.errors.at(
                        decl.body_span,
                        format!(
                            "an int8 network imports its weights: add `from: tflite(\"model.tflite\")` to `{}`",
                            decl.ident
                        ),
                    );
                }
                None
            }
        }
    }

    fn tflite_call(&mut self, value: &Value) -> Option<(String, SpanRange)> {
        if let Value::Call(call) = value
            && call.func == "tflite"
        {
            if let [Value::Str(path)] = &call.args[..] {
                return Some((path.value(), call.span_range()));
            }
            self.errors.at(
                call.span_range(),
                "expected one path, e.g. `tflite(\"models/sine.tflite\")` (relative to the crate's Cargo.toml)",
            );
            return None;
        }
        if let Value::Call(call) = value
            && call.func == "onnx"
        {
            self.errors.at(
                call.span_range(),
                "`from: onnx(…)` imports a float network: declare it over `f32` or `f64`; an int8 network imports a `.tflite` file",
            );
            return None;
        }
        self.expected(value, "`tflite(\"….tflite\")`");
        None
    }

    /// The layer's size and activation against the operator's.
    fn layer_matches(
        &mut self,
        layer: &Layer,
        spec: &DenseSpec,
        fc: &FullyConnected,
        written: &str,
    ) -> bool {
        let operator = format!("operator {} (`FULLY_CONNECTED`)", fc.operator);
        let mut matched = true;
        if layer.size != fc.outputs {
            if layer.size > 0 {
                self.errors.at(
                    spec.size.span_range(),
                    format!(
                        "`{} {}` does not match `{written}`: {operator} has {}",
                        spec.kind,
                        layer.size,
                        count(fc.outputs, "output", "outputs")
                    ),
                );
            }
            matched = false;
        }
        // What the file computes: the activation operator after the layer, or the one it fuses.
        let (in_file, written_as) = match fc.followed_by {
            Some(op) => (
                op.activation,
                activation_op_name(op.activation, op.operator),
            ),
            None => (
                fc.activation.activation(),
                format!(
                    "{operator} fuses {}",
                    dropout_tflite::fused_activation_name(fc.activation)
                ),
            ),
        };
        if layer.activation != in_file {
            let message = if FusedActivation::of(layer.activation).is_none()
                && !matches!(layer.activation, Activation::Sigmoid | Activation::Tanh)
            {
                format!(
                    "`{}` is not available on an int8 layer, which fuses `identity`, `relu` or `relu6` into its requantization or is followed by `LOGISTIC` (`sigmoid`) or `TANH` (`tanh`); in `{written}`, {written_as}",
                    layer.activation
                )
            } else {
                format!(
                    "`{}` does not match `{written}`: {written_as}, declared as `{in_file}`",
                    layer.activation
                )
            };
            self.errors.at(spec.activation.ident.span(), message);
            matched = false;
        }
        matched
    }
}

/// `operator 2 (`LOGISTIC`) follows it`.
fn activation_op_name(activation: Activation, operator: usize) -> String {
    let name = if activation == Activation::Tanh {
        "TANH"
    } else {
        "LOGISTIC"
    };
    format!("operator {operator} (`{name}`) follows it")
}

fn count(n: usize, singular: &str, plural: &str) -> String {
    super::count(n, singular, plural)
}

/// A layer's integer parameters, with both passes' requantizations (the site before it folded
/// into the masked pass's, or under classic scaling into the evaluation pass's); `None` if a
/// multiplier does not exist (the reader has checked that every scale is positive and finite,
/// so only an overflowing quotient gets here).
pub(super) fn int8_layer(
    fc: &FullyConnected,
    site: Option<Prob>,
    scaling: Scaling,
    rounding: Rounding,
) -> Option<Int8Layer> {
    let (eval, train) = quant::site_factors(site.map(|prob| prob.keep), scaling);
    let range = fc
        .activation
        .int8_range(fc.output.scale, fc.output.zero_point);
    // After `LOGISTIC` or `TANH`: the table of the real function, which is what TFLite's
    // integer kernels give on every input measured (`tools/tflite_tables.py`).
    let table = match fc.followed_by {
        Some(op) => Some(quant::Table::new(op.activation, fc.output, op.output)?),
        None => None,
    };
    let requantization = |factor: f64| {
        Requantization::folded(
            (fc.input.scale, &fc.weight_scales, fc.output.scale),
            &fc.bias,
            factor,
            rounding,
        )
    };
    Some(Int8Layer {
        weights: fc.weights.clone(),
        range,
        weight_scales: fc.weight_scales.clone(),
        input: fc.input,
        output: fc.output,
        activation: fc.activation,
        table,
        eval: requantization(eval)?,
        train: requantization(train)?,
    })
}

impl Requantization {
    /// A layer's bias and multipliers with its input units scaled by `factor`
    /// ([`quant::fold`]), from its `(input, weights, requantized output)` scales; `None` if a
    /// multiplier does not exist.
    pub(super) fn folded(
        (input_scale, weight_scales, output_scale): (f32, &[f32], f32),
        bias: &[i32],
        factor: f64,
        rounding: Rounding,
    ) -> Option<Self> {
        let zero = QuantizedMultiplier {
            multiplier: 0,
            shift: 0,
        };
        let mut r = Requantization {
            bias: vec![0; bias.len()],
            multipliers: vec![zero; bias.len()],
        };
        quant::fold(
            input_scale,
            weight_scales,
            output_scale,
            bias,
            factor,
            rounding,
            &mut r.bias,
            &mut r.multipliers,
        )
        .then_some(r)
    }
}
