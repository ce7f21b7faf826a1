//! `dropout(p = …)` and `dropout(keep = …)`: where a site may stand and what its probability is.

use syn::Ident;

use super::Checker;
use super::layers::Target;
use crate::ast::{self, DropoutSpec, Value};
use crate::errors::SpanRange;
use crate::model::{DropoutKind, Layer, Prob};
use crate::suggest::did_you_mean;

/// A probability as written, with the tokens of its value.
type Written = Option<(f64, SpanRange)>;

impl Checker<'_> {
    /// The probability of a dropout site after `target`; `None` if anything is wrong.
    pub(super) fn dropout(
        &mut self,
        spec: &DropoutSpec,
        target: &Target,
        layers: &[Layer],
    ) -> Option<Prob> {
        let site = self.dropout_site(spec, target, layers)?;
        let (p, keep) = self.dropout_args(spec)?;
        // The parser accepts only the keywords of unit sites here.
        let kind = DropoutKind::from_keyword(&spec.keyword.to_string())
            .filter(|kind| !kind.on_weights())
            .unwrap_or(DropoutKind::Standard);
        if let (Some(needed), Target::Layer(idx)) = (kind.needs_activation(), target) {
            let layer = &layers[*idx];
            if layer.activation != needed {
                self.errors.at(
                    ast::join_spans(Some(spec.keyword.span()), spec.paren),
                    format!(
                        "`{}` keeps the mean 0 and variance 1 of SELU units; layer `{}` is not `{}`: declare it `{}`, or use `dropout(…)`",
                        kind.keyword(),
                        layer.name,
                        needed.name(),
                        needed.name(),
                    ),
                );
                return None;
            }
        }
        let everything = if kind == DropoutKind::Gaussian {
            format!("gives the noise of {site} an infinite variance (σ² = p/(1 − p))")
        } else {
            format!("drops every unit of {site}; the next layer would see only its biases")
        };
        self.dropout_prob(spec, &everything, p, keep)
            .map(|prob| Prob { kind, ..prob })
    }

    /// The probability of `dropconnect(…)` on layer `layer`; `None` if anything is wrong.
    pub(super) fn dropconnect(&mut self, spec: &DropoutSpec, layer: &str) -> Option<Prob> {
        let (p, keep) = self.dropout_args(spec)?;
        let everything =
            format!("drops every weight of layer `{layer}`; the layer would see only its biases");
        self.dropout_prob(spec, &everything, p, keep)
            .map(|prob| Prob {
                kind: DropoutKind::Connect,
                ..prob
            })
    }

    /// A site stands after the input or a layer; returns how messages name it.
    fn dropout_site(
        &mut self,
        spec: &DropoutSpec,
        target: &Target,
        layers: &[Layer],
    ) -> Option<String> {
        match target {
            Target::Nothing(message) => {
                self.errors.at(
                    ast::join_spans(Some(spec.keyword.span()), spec.paren),
                    message,
                );
                None
            }
            Target::Layer(idx) => Some(format!("layer `{}`", layers[*idx].name)),
            Target::Input | Target::Unknown => Some("the input".to_owned()),
        }
    }

    /// The `p = …` and `keep = …` arguments, each given at most once and each a probability;
    /// `None` if there are no arguments at all.
    fn dropout_args(&mut self, spec: &DropoutSpec) -> Option<(Written, Written)> {
        if spec.args.is_empty() {
            self.errors.at(
                spec.paren,
                "expected `p = …` (drop probability) or `keep = …` (keep probability)",
            );
            return None;
        }
        let (mut p, mut keep): (Written, Written) = (None, None);
        for arg in &spec.args {
            let Some(key) = &arg.key else {
                self.unnamed_probability(&spec.keyword, &arg.value);
                continue;
            };
            let slot = match key.to_string().as_str() {
                "p" => &mut p,
                "keep" => &mut keep,
                other => {
                    let hint = did_you_mean(other, &["p", "keep"])
                        .map_or(String::new(), |s| format!("did you mean `{s}`? "));
                    self.errors.at(
                        key.span(),
                        format!("unknown dropout parameter `{other}`; {hint}expected `p` (drop probability) or `keep` (keep probability)"),
                    );
                    continue;
                }
            };
            if slot.is_some() {
                self.errors
                    .at(key.span(), format!("`{key}` is given twice"));
                continue;
            }
            if let Some(value) = self.probability(&arg.value, key) {
                *slot = Some((value, arg.value.span().unwrap_or_else(|| key.span().into())));
            }
        }
        Some((p, keep))
    }

    /// `dropout(0.5)`: the reader cannot tell whether 0.5 drops or keeps.
    fn unnamed_probability(&mut self, keyword: &Ident, value: &Value) {
        let Some(span) = value.span() else {
            return;
        };
        let shown = match value {
            Value::Number(n) => n.text(),
            _ => "…".to_owned(),
        };
        let unit = if keyword == "dropconnect" {
            "weight"
        } else {
            "unit"
        };
        self.errors.at(
            span,
            format!(
                "say which probability this is: `{keyword}(p = {shown})` drops each {unit} with that \
                 probability, `{keyword}(keep = {shown})` keeps it"
            ),
        );
    }

    /// Exactly one of `p` and `keep`, and a site that keeps something; `everything` says what
    /// a probability of dropping 1 would do.
    fn dropout_prob(
        &mut self,
        spec: &DropoutSpec,
        everything: &str,
        p: Written,
        keep: Written,
    ) -> Option<Prob> {
        match (p, keep) {
            (Some(_), Some(_)) => {
                self.errors.at(
                    spec.paren,
                    "give either `p` (drop probability) or `keep` (keep probability), not both",
                );
                None
            }
            (Some((1.0, span)), None) => {
                self.errors.at(span, format!("p = 1 {everything}"));
                None
            }
            (None, Some((0.0, span))) => {
                self.errors.at(span, format!("keep = 0 {everything}"));
                None
            }
            (Some((p, _)), None) => Some(Prob {
                p,
                keep: 1.0 - p,
                kind: DropoutKind::Standard,
            }),
            (None, Some((keep, _))) => Some(Prob {
                p: 1.0 - keep,
                keep,
                kind: DropoutKind::Standard,
            }),
            (None, None) => None,
        }
    }

    /// A probability value in [0, 1].
    fn probability(&mut self, value: &Value, key: &Ident) -> Option<f64> {
        let Value::Number(number) = value else {
            self.expected(value, format_args!("a probability for `{key}`"));
            return None;
        };
        let parsed = number.text().parse::<f64>().ok().filter(|v| v.is_finite());
        match parsed {
            Some(v) if key == "keep" && v > 0.0 && v < dropout_shared::MIN_KEEP => {
                let error = dropout_shared::ProbabilityError {
                    name: "keep",
                    value: v,
                };
                self.errors.spanned(number, error.to_string());
                None
            }
            Some(v) if (0.0..=1.0).contains(&v) => Some(v),
            _ => {
                self.errors.spanned(
                    number,
                    format!("{key} must lie in [0, 1], found {}", number.text()),
                );
                None
            }
        }
    }
}
