//! Weights and biases: literal lists and `file(…)` sources.

use super::files::{Tensor, shape_text};
use super::numbers::{decode_le, le_bytes, round};
use super::{Checker, count};
use crate::ast::{self, Body, Value};
use crate::errors::SpanRange;
use crate::model::{Num, ParamValues, Params};

/// One of `weights` and `bias`, checked: written values, or a tensor of a file.
enum Source<T> {
    Literal(T),
    File {
        name: String,
        tensor: Tensor,
        span: SpanRange,
    },
}

impl<T> Source<T> {
    /// The name of the tensor it was read from, if any.
    fn tensor_name(&self) -> Option<String> {
        match self {
            Source::File { name, .. } => Some(name.clone()),
            Source::Literal(_) => None,
        }
    }

    /// Read from a safetensors file.
    fn is_bytes(&self) -> bool {
        matches!(
            self,
            Source::File {
                tensor: Tensor::Bytes { .. },
                ..
            }
        )
    }
}

impl Checker<'_> {
    /// `{ weights: [[…], …], bias: […] }`; returns `None` if anything is wrong or missing.
    pub(super) fn params(
        &mut self,
        body: &Body,
        layer: &str,
        size: usize,
        fan_in: Option<usize>,
    ) -> Option<Params> {
        let fields = self.fields(body, &["weights", "bias"], &format!("layer `{layer}`"));
        let (weights, bias) = match (fields[0], fields[1]) {
            (Some(weights), Some(bias)) => (weights, bias),
            (Some(weights), None) => {
                self.errors.at(
                    weights.key.span(),
                    format!("layer `{layer}` has `weights` but no `bias`"),
                );
                return None;
            }
            (None, Some(bias)) => {
                self.errors.at(
                    bias.key.span(),
                    format!("layer `{layer}` has `bias` but no `weights`"),
                );
                return None;
            }
            (None, None) => {
                self.errors.at(body.span, format!("layer `{layer}` has a body but no `weights` and `bias`; give both or omit the braces"));
                return None;
            }
        };
        let (weights_value, bias_value) = (&weights.value, &bias.value);
        let weights = match weights_value {
            Value::Call(call) if call.func == "file" => {
                self.file_tensor(call, layer, "weights", &[Some(size), fan_in])
            }
            value => self
                .weights(value, layer, size, fan_in)
                .map(Source::Literal),
        };
        let bias = match bias_value {
            Value::Call(call) if call.func == "file" => {
                self.file_tensor(call, layer, "bias", &[Some(size)])
            }
            value => self
                .vector(value, size, |found| {
                    format!(
                        "expected {} in layer `{layer}` (one per neuron), found {found}",
                        count(size, "bias", "biases")
                    )
                })
                .map(Source::Literal),
        };
        self.combine_sources(weights?, bias?, fan_in.unwrap_or(0))
    }

    /// Puts checked weights and biases together: as bytes if a safetensors file gives either
    /// (large tensors stay out of the token stream), as literals otherwise.
    fn combine_sources(
        &mut self,
        weights: Source<Vec<Vec<Num>>>,
        bias: Source<Vec<Num>>,
        fan_in: usize,
    ) -> Option<Params> {
        let (weights_tensor, bias_tensor) = (weights.tensor_name(), bias.tensor_name());
        if weights.is_bytes() || bias.is_bytes() {
            let scalar = self.scalar;
            let encode = |values: &mut dyn Iterator<Item = &Num>| -> Vec<u8> {
                values.flat_map(|num| le_bytes(scalar, num.value)).collect()
            };
            let weights = match weights {
                Source::Literal(rows) => encode(&mut rows.iter().flatten()),
                Source::File { tensor, span, .. } => self.tensor_bytes(tensor, span)?,
            };
            let bias = match bias {
                Source::Literal(values) => encode(&mut values.iter()),
                Source::File { tensor, span, .. } => self.tensor_bytes(tensor, span)?,
            };
            return Some(Params {
                values: ParamValues::Bytes { weights, bias },
                weights_tensor,
                bias_tensor,
            });
        }
        let weights = match weights {
            Source::Literal(rows) => rows,
            Source::File { tensor, span, .. } => self
                .literal_values(&tensor, span)?
                .chunks(fan_in.max(1))
                .map(<[Num]>::to_vec)
                .collect(),
        };
        let bias = match bias {
            Source::Literal(values) => values,
            Source::File { tensor, span, .. } => self.literal_values(&tensor, span)?,
        };
        Some(Params {
            values: ParamValues::Literal { weights, bias },
            weights_tensor,
            bias_tensor,
        })
    }

    /// The little-endian bytes of a tensor of either kind of file.
    fn tensor_bytes(&mut self, tensor: Tensor, span: SpanRange) -> Option<Vec<u8>> {
        match tensor {
            Tensor::Bytes { bytes, .. } => Some(bytes),
            values @ Tensor::Values { .. } => {
                let values = self.literal_values(&values, span)?;
                Some(
                    values
                        .iter()
                        .flat_map(|num| le_bytes(self.scalar, num.value))
                        .collect(),
                )
            }
        }
    }

    /// The values of a JSON tensor as numbers of the scalar type.
    fn literal_values(&mut self, tensor: &Tensor, span: SpanRange) -> Option<Vec<Num>> {
        let Tensor::Values { values, .. } = tensor else {
            return None;
        };
        let mut out = Vec::with_capacity(values.len());
        for &value in values {
            let Some(rounded) = round(self.scalar, value) else {
                self.errors.at(
                    span,
                    format!(
                        "`{value}` overflows {}: values must be finite",
                        self.scalar.name()
                    ),
                );
                return None;
            };
            if rounded == 0.0 && value != 0.0 {
                self.errors.at(
                    span,
                    format!(
                        "`{value:e}` is too small for {}: it would become 0",
                        self.scalar.name()
                    ),
                );
                return None;
            }
            let value = rounded;
            out.push(Num {
                value,
                span: span.first,
            });
        }
        Some(out)
    }

    /// `file("path", "tensor")` for the `what` of a layer, whose shape must be `expected`
    /// (`None` where a size is unknown after an earlier error).
    fn file_tensor<T>(
        &mut self,
        call: &ast::Call,
        layer: &str,
        what: &str,
        expected: &[Option<usize>],
    ) -> Option<Source<T>> {
        let span = call.span_range();
        let (Some(Value::Str(path)), Some(Value::Str(name)), 2) =
            (call.args.first(), call.args.get(1), call.args.len())
        else {
            self.errors.at(span, "`file` takes a path and a tensor name: `file(\"model.safetensors\", \"0.weight\")`");
            return None;
        };
        let (written, name) = (path.value(), name.value());
        let tensor = match self.files.tensor(&written, &name, self.scalar) {
            Ok(tensor) => tensor,
            Err(message) => {
                self.errors.at(span, message);
                return None;
            }
        };
        let shape = tensor.shape();
        let fits = shape.len() == expected.len()
            && shape
                .iter()
                .zip(expected)
                .all(|(n, e)| e.is_none_or(|e| e == *n));
        if !fits {
            let wanted: Vec<String> = expected
                .iter()
                .map(|e| e.map_or_else(|| "_".to_owned(), |n| n.to_string()))
                .collect();
            let (verb, meaning) = if what == "bias" {
                ("needs", "one per neuron")
            } else {
                ("need", "neurons × inputs")
            };
            self.errors.at(
                span,
                format!(
                    "tensor `{name}` in `{written}` has shape {}, but the {what} of layer `{layer}` {verb} [{}] ({meaning})",
                    shape_text(shape),
                    wanted.join(", ")
                ),
            );
            return None;
        }
        if let Tensor::Bytes { bytes, shape } = &tensor {
            let width = self.scalar.width();
            let bad = bytes
                .chunks(width)
                .map(|b| decode_le(self.scalar, b))
                .enumerate()
                .find(|(_, v)| !v.is_finite());
            if let Some((at, value)) = bad {
                let index = match shape.as_slice() {
                    [_, columns] => format!("[{}, {}]", at / columns.max(&1), at % columns.max(&1)),
                    _ => format!("[{at}]"),
                };
                self.errors.at(span, format!("tensor `{name}` in `{written}` holds {value} at {index}: values must be finite"));
                return None;
            }
        }
        Some(Source::File { name, tensor, span })
    }

    /// `weights: [[…], …]`: one row per neuron, each with the layer's fan-in of numbers.
    fn weights(
        &mut self,
        value: &Value,
        layer: &str,
        size: usize,
        fan_in: Option<usize>,
    ) -> Option<Vec<Vec<Num>>> {
        let Value::List(matrix) = value else {
            if let Some(span) = value.span() {
                self.errors.at(
                    span,
                    format!("expected `weights: [[…], …]` for layer `{layer}`, one row per neuron"),
                );
            }
            return None;
        };
        let (rows, rows_ok) = self.weight_rows(matrix, layer, size);
        let lengths_ok = self.row_lengths(matrix, &rows, layer, fan_in);
        let numbers: Vec<Option<Vec<Num>>> = rows
            .iter()
            .map(|row| {
                let numbers: Vec<Option<Num>> = row.items.iter().map(|v| self.number(v)).collect();
                numbers.into_iter().collect()
            })
            .collect();
        let numbers: Option<Vec<Vec<Num>>> = numbers.into_iter().collect();
        if rows_ok && lengths_ok { numbers } else { None }
    }

    /// The rows of a weight matrix: one per neuron, each a list. Returns the rows that are lists
    /// and whether the matrix has the right rows.
    fn weight_rows<'v>(
        &mut self,
        matrix: &'v ast::List,
        layer: &str,
        size: usize,
    ) -> (Vec<&'v ast::List>, bool) {
        let mut ok = true;
        if matrix.items.len() != size && size > 0 {
            self.errors.at(
                matrix.span,
                format!(
                    "expected {} in layer `{layer}` (one per neuron), found {}",
                    count(size, "weight row", "weight rows"),
                    matrix.items.len()
                ),
            );
            ok = false;
        }
        let rows: Vec<&ast::List> = matrix
            .items
            .iter()
            .filter_map(|row| match row {
                Value::List(list) => Some(list),
                other => {
                    self.expected(
                        other,
                        format_args!("a row `[…]` of weights in layer `{layer}`"),
                    );
                    None
                }
            })
            .collect();
        ok &= rows.len() == matrix.items.len();
        (rows, ok)
    }

    /// Every row has the layer's fan-in of weights. When the fan-in is unknown after an earlier
    /// error, rows can still disagree with each other; the matrix is then not usable either way.
    fn row_lengths(
        &mut self,
        matrix: &ast::List,
        rows: &[&ast::List],
        layer: &str,
        fan_in: Option<usize>,
    ) -> bool {
        let lengths: Vec<usize> = rows.iter().map(|row| row.items.len()).collect();
        let Some(fan_in) = fan_in else {
            for (idx, row) in rows.iter().enumerate().skip(1) {
                if row.items.len() != lengths[0] {
                    self.errors.at(
                        row.span,
                        format!(
                            "row {} of layer `{layer}` has {} weights but row 1 has {}",
                            idx + 1,
                            row.items.len(),
                            lengths[0]
                        ),
                    );
                }
            }
            return false;
        };
        // Every row has the same wrong length: one error for the matrix, not one per row.
        if lengths.len() > 1 && lengths.iter().all(|&n| n == lengths[0] && n != fan_in) {
            self.errors.at(
                matrix.span,
                format!(
                    "expected {} per row in layer `{layer}` (its fan-in), found {} in every row",
                    count(fan_in, "weight", "weights"),
                    lengths[0]
                ),
            );
            return false;
        }
        let mut ok = true;
        for (idx, row) in rows.iter().enumerate() {
            if row.items.len() != fan_in {
                self.errors.at(
                    row.span,
                    format!(
                        "expected {} in row {} of layer `{layer}` (its fan-in), found {}",
                        count(fan_in, "weight", "weights"),
                        idx + 1,
                        row.items.len()
                    ),
                );
                ok = false;
            }
        }
        ok
    }
}
