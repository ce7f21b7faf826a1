//! `quantize: int8 as Twin` on a float network: the rules for a network that has an int8 twin,
//! and, with `calibrate: file("rows.safetensors", "x")`, the twin's integers at compile time:
//! the calibration pass and the quantization of every layer, with the functions of
//! `dropout_shared::quant` that the twin's `quantize` calls at run time, so that both give the
//! same twin.

use super::Checker;
use super::files::Tensor;
use crate::ast::{Declaration, Item, ItemKind, Value};
use crate::errors::SpanRange;
use crate::model::{
    Int8, Int8Layer, Model, ParamValues, Quantization, Requantization, Scalar, Twin,
};
use dropout_shared::quant::{self, FusedActivation, Rounding};

impl Checker<'_> {
    /// The twin that `quantize:` declares, with its integers when `calibrate:` gives rows.
    pub(super) fn twin(&mut self, decl: &Declaration, model: &Model) -> Option<Twin> {
        let items = &decl.items;
        let mut twin_item = None;
        for item in items {
            let Item::Quantize { key, format, name } = item else {
                continue;
            };
            if twin_item.is_some() {
                self.errors.at(key.span(), "`quantize` is given twice");
                continue;
            }
            if format != "int8" {
                self.errors.at(
                    format.span(),
                    format!("unknown format `{format}`; a network is quantized to `int8`"),
                );
            }
            twin_item = Some((key, name));
        }
        let calibrate = items.iter().find_map(|item| match item {
            Item::Calibrate { key, value } => Some((key, value)),
            _ => None,
        });
        let Some((key, name)) = twin_item else {
            if let Some((key, _)) = calibrate {
                self.errors.at(
                    key.span(),
                    "`calibrate` gives the rows of an int8 twin: declare one with `quantize: int8 as NetI8`",
                );
            }
            return None;
        };
        if self.is_int8 {
            self.errors.at(
                key.span(),
                "this network is int8 already; `quantize` makes the int8 twin of a float network",
            );
            return None;
        }
        if model.scalar != Scalar::F32 {
            self.errors.at(
                key.span(),
                "`quantize: int8` quantizes an `f32` network; declare this one `<f32>`",
            );
        }
        if *name == model.ident {
            self.errors.at(
                name.span(),
                format!("the twin needs a name of its own, not `{name}`"),
            );
            return None;
        }
        self.twin_layers(decl, model);
        let rounding = self
            .setting(items, ItemKind::Rounding, Self::rounding_value)
            .unwrap_or_default();
        let layers = match calibrate {
            Some((_, value)) => self.calibrated(value, model, rounding),
            None => None,
        };
        let constant = layers.is_some();
        let (input, output) = layers
            .as_ref()
            .and_then(|layers| Some((layers.first()?.input, layers.last()?.layer_output())))
            .unwrap_or((
                Quantization {
                    scale: 1.0,
                    zero_point: 0,
                },
                Quantization {
                    scale: 1.0,
                    zero_point: 0,
                },
            ));
        Some(Twin {
            ident: name.clone(),
            int8: Int8 {
                source: if constant {
                    format!(
                        "the int8 twin of [`{}`], calibrated at compile time",
                        model.ident
                    )
                } else {
                    format!("the int8 twin of [`{}`] (see `quantize`)", model.ident)
                },
                constant,
                twin_of: Some(model.ident.clone()),
                rounding,
                input,
                output,
                float_io: (false, false),
                layers: layers.unwrap_or_default(),
            },
        })
    }

    /// What an int8 twin cannot have: softmax, DropConnect, dropout other than `dropout(…)`.
    fn twin_layers(&mut self, decl: &Declaration, model: &Model) {
        let specs = decl.items.iter().filter_map(|item| match item {
            Item::Dense(spec) => Some(spec),
            _ => None,
        });
        for (spec, layer) in specs.zip(&model.layers) {
            if !layer.activation.is_elementwise() {
                self.errors.at(
                    spec.activation.ident.span(),
                    format!(
                        "`{}` has no int8 form: it couples a layer's units; end the network with `identity` and take `{}` of the twin's dequantized output",
                        layer.activation, layer.activation
                    ),
                );
            }
            if let Some(dropconnect) = &spec.dropconnect {
                self.errors.at(
                    dropconnect.keyword.span(),
                    "DropConnect has no int8 form: a network with an int8 twin cannot have it",
                );
            }
        }
        for item in &decl.items {
            if let Item::Dropout(spec) = item
                && spec.keyword != "dropout"
            {
                self.errors.at(
                    spec.keyword.span(),
                    format!(
                        "`{}` has no int8 form; the int8 twin's sites are `dropout(p = …)`",
                        spec.keyword
                    ),
                );
            }
        }
    }

    /// The twin's layers from the calibration rows `calibrate:` names; `None` after an error.
    fn calibrated(
        &mut self,
        value: &Value,
        model: &Model,
        rounding: Rounding,
    ) -> Option<Vec<Int8Layer>> {
        let (path, tensor, span) = self.calibration_file(value)?;
        if !model.all_weights_declared() {
            self.errors.at(
                span,
                "calibrating at compile time needs every layer's weights in the declaration; without them, quantize at run time with `quantize(&net, rows)`",
            );
            return None;
        }
        let rows = match self.files.tensor(&path, &tensor, Scalar::F32) {
            Ok(rows) => rows,
            Err(message) => {
                self.errors.at(span, message);
                return None;
            }
        };
        let n = model.n_inputs;
        let values: Vec<f32> = match &rows {
            Tensor::Bytes { bytes, .. } => bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            Tensor::Values { values, .. } => values.iter().map(|&v| v as f32).collect(),
        };
        if rows.shape().len() != 2 || rows.shape()[1] != n || rows.shape()[0] == 0 {
            self.errors.at(
                span,
                format!(
                    "tensor `{tensor}` in `{path}` has shape {}; calibration rows are [rows, {n}], at least one row",
                    super::files::shape_text(rows.shape())
                ),
            );
            return None;
        }
        match calibrate(model, &values, rounding) {
            Ok(layers) => Some(layers),
            Err(message) => {
                self.errors
                    .at(span, format!("tensor `{tensor}` in `{path}`: {message}"));
                None
            }
        }
    }

    fn calibration_file(&mut self, value: &Value) -> Option<(String, String, SpanRange)> {
        if let Value::Call(call) = value
            && call.func == "file"
        {
            if let [Value::Str(path), Value::Str(tensor)] = &call.args[..] {
                return Some((path.value(), tensor.value(), call.span_range()));
            }
            self.errors.at(
                call.span_range(),
                "expected a path and a tensor name, e.g. `file(\"rows.safetensors\", \"x\")`",
            );
            return None;
        }
        self.expected(value, "`file(\"….safetensors\", \"tensor\")`");
        None
    }
}

/// A float layer's weights as `f32`s, row-major, and its biases.
fn float_params(layer: &crate::model::Layer) -> Option<(Vec<f32>, Vec<f32>)> {
    let read = |bytes: &[u8]| -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    match &layer.params.as_ref()?.values {
        ParamValues::Literal { weights, bias } => Some((
            weights
                .iter()
                .flatten()
                .map(|num| num.value as f32)
                .collect(),
            bias.iter().map(|num| num.value as f32).collect(),
        )),
        ParamValues::Bytes { weights, bias } => Some((read(weights), read(bias))),
    }
}

/// The calibration pass over `rows` (row-major, `model.n_inputs` each) and every layer's
/// integers: what `dropout::calibrate::calibrate` and `quantized_layer` compute at run time.
fn calibrate(
    model: &Model,
    rows: &[f32],
    rounding: Rounding,
) -> Result<Vec<Int8Layer>, &'static str> {
    let n = model.n_inputs.max(1);
    let params: Vec<(Vec<f32>, Vec<f32>)> = model
        .layers
        .iter()
        .map(float_params)
        .collect::<Option<_>>()
        .ok_or("a layer has no declared weights")?;
    let mut sites = vec![model.input_dropout.map(|p| p.keep)];
    sites.extend(
        model
            .layers
            .iter()
            .map(|layer| layer.dropout.map(|p| p.keep)),
    );
    let factors: Vec<(f64, f64)> = sites
        .iter()
        .map(|&keep| quant::site_factors(keep, model.scaling))
        .collect();
    let mut input_range = quant::Range::EMPTY;
    // Each layer's pre-activation and output.
    let mut ranges = vec![(quant::Range::EMPTY, quant::Range::EMPTY); model.layers.len()];
    for row in rows.chunks_exact(n) {
        let mut a = row.to_vec();
        input_range.widen(&a);
        for (k, layer) in model.layers.iter().enumerate() {
            let ((weights, bias), fan_in) = (&params[k], layer.fan_in);
            let (mut pre, mut out) = (vec![0.0; layer.size], vec![0.0; layer.size]);
            let weight = |c: usize, i: usize| weights[c * fan_in + i];
            quant::calibration_layer(
                weight,
                bias,
                layer.activation,
                factors[k].0,
                &a,
                &mut pre,
                &mut out,
            );
            ranges[k].0.widen(&pre);
            ranges[k].1.widen(&out);
            a = out;
        }
    }
    let mut input = Quantization::of_range(input_range)
        .ok_or("a calibrated range is not finite: the rows give NaN or infinity")?;
    let mut layers = Vec::with_capacity(model.layers.len());
    for (k, layer) in model.layers.iter().enumerate() {
        let (weights, bias) = &params[k];
        let (pre, out) = ranges[k];
        let (output, table) = quant::layer_output(layer.activation, pre, out)?;
        layers.push(quantized_layer(
            layer,
            (weights, bias),
            (input, output, table),
            factors[k],
            rounding,
        )?);
        input = output;
    }
    Ok(layers)
}

/// One layer of the twin, as `dropout::calibrate::quantized_layer` builds it at run time.
fn quantized_layer(
    layer: &crate::model::Layer,
    (weights, bias): (&[f32], &[f32]),
    (input, output, table): (Quantization, Quantization, Option<quant::Table>),
    factors: (f64, f64),
    rounding: Rounding,
) -> Result<Int8Layer, &'static str> {
    let (fan_in, size) = (layer.fan_in, layer.size);
    let mut q_weights = vec![0i8; fan_in * size];
    let mut q_bias = vec![0i32; size];
    let mut scales = vec![0.0f32; size];
    if !quant::quantize_layer(
        |c, i| weights[c * fan_in + i],
        bias,
        fan_in,
        input.scale,
        &mut q_weights,
        &mut q_bias,
        &mut scales,
    ) {
        return Err("a weight or bias is not finite");
    }
    let activation = FusedActivation::of(layer.activation).unwrap_or(FusedActivation::Linear);
    let target = table.map_or(output, |table| table.input);
    let requantization = |factor: f64| {
        Requantization::folded(
            (input.scale, &scales, target.scale),
            &q_bias,
            factor,
            rounding,
        )
        .ok_or("the scales give no requantization multiplier")
    };
    let (eval, train) = (requantization(factors.0)?, requantization(factors.1)?);
    Ok(Int8Layer {
        weights: q_weights,
        range: activation.int8_range(target.scale, target.zero_point),
        weight_scales: scales,
        input,
        output: target,
        activation,
        table,
        eval,
        train,
    })
}
