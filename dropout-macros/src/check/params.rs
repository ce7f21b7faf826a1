//! Weights, biases and numbers: literal lists and `file(…)` sources.

use super::{Checker, count};
use crate::ast::{self, Body, Value};
use crate::model::{Num, Params};

impl Checker<'_> {
    /// `{ weights: [[…], …], bias: […] }`; returns `None` if anything is wrong or missing.
    pub(super) fn check_params(
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
        let weights = self.check_weights(&weights.value, layer, size, fan_in);
        let bias = self.check_vector(&bias.value, size, |found| {
            format!(
                "expected {} in layer `{layer}` (one per neuron), found {found}",
                count(size, "bias", "biases")
            )
        });
        Some(Params {
            weights: weights?,
            bias: bias?,
        })
    }

    fn check_weights(
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
                    if let Some(span) = other.span() {
                        self.errors.at(
                            span,
                            format!(
                                "expected a row `[…]` of weights in layer `{layer}`, found {}",
                                other.describe()
                            ),
                        );
                    }
                    None
                }
            })
            .collect();
        ok &= rows.len() == matrix.items.len();
        let lengths: Vec<usize> = rows.iter().map(|row| row.items.len()).collect();
        match fan_in {
            // Every row has the same wrong length: one error for the matrix, not one per row.
            Some(fan_in)
                if lengths.len() > 1 && lengths.iter().all(|&n| n == lengths[0] && n != fan_in) =>
            {
                self.errors.at(
                    matrix.span,
                    format!("expected {} per row in layer `{layer}` (its fan-in), found {} in every row", count(fan_in, "weight", "weights"), lengths[0]),
                );
                ok = false;
            }
            Some(fan_in) => {
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
            }
            // The fan-in is unknown after an earlier error; rows can still disagree with each other.
            None => {
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
                ok = false;
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let numbers: Vec<Option<Num>> = row.items.iter().map(|v| self.number(v)).collect();
            out.push(numbers.into_iter().collect::<Option<Vec<Num>>>());
        }
        let out: Option<Vec<Vec<Num>>> = out.into_iter().collect();
        if ok { out } else { None }
    }

    /// A list of `len` numbers; `message` receives the length found.
    pub(super) fn check_vector(
        &mut self,
        value: &Value,
        len: usize,
        message: impl FnOnce(usize) -> String,
    ) -> Option<Vec<Num>> {
        let Value::List(list) = value else {
            if let Some(span) = value.span() {
                self.errors.at(
                    span,
                    format!(
                        "expected a list `[…]` of numbers, found {}",
                        value.describe()
                    ),
                );
            }
            return None;
        };
        let numbers: Option<Vec<Num>> = list
            .items
            .iter()
            .map(|v| self.number(v))
            .collect::<Vec<_>>()
            .into_iter()
            .collect();
        if list.items.len() != len {
            self.errors.at(list.span, message(list.items.len()));
            return None;
        }
        numbers
    }

    /// A finite number of the scalar type.
    pub(super) fn number(&mut self, value: &Value) -> Option<Num> {
        let number = match value {
            Value::Number(number) => number,
            Value::Invalid => return None,
            other => {
                if let Some(span) = other.span() {
                    let extra = if matches!(other, Value::Ident(i) if ["inf", "NaN", "nan", "infinity"].contains(&i.to_string().as_str()))
                    {
                        "; values must be finite"
                    } else {
                        ""
                    };
                    self.errors.at(
                        span,
                        format!("expected a number, found {}{extra}", other.describe()),
                    );
                }
                return None;
            }
        };
        let scalar = self.scalar.name();
        let suffix = number.suffix();
        if !suffix.is_empty() && suffix != scalar {
            self.errors.spanned(
                number,
                format!(
                    "literal suffix `{suffix}` does not match the network's scalar type `{scalar}`"
                ),
            );
            return None;
        }
        let span = ast::join_spans(
            number.minus.as_ref().map(|m| m.span),
            match &number.lit {
                ast::NumberLit::Int(lit) => lit.span(),
                ast::NumberLit::Float(lit) => lit.span(),
            },
        );
        match self.scalar.parse(&number.text()) {
            Some(value) => Some(Num { value, span }),
            None => {
                self.errors.spanned(
                    number,
                    format!(
                        "`{}` overflows {scalar}: values must be finite {scalar}s",
                        number.text()
                    ),
                );
                None
            }
        }
    }
}
