//! `test NAME { … }` blocks: inputs, masks, expected outputs and tolerances.

use std::collections::HashSet;

use proc_macro2::Span;

use dropout_shared::Superscript;

use super::{Checker, count};
use crate::ast::{self, Item, TestBlock, Value};
use crate::model::{DropoutKind, Model, Num, SiteMask, TestCase};

impl Checker<'_> {
    /// The `test NAME { … }` blocks, checked against the model's sizes and sites.
    pub(super) fn tests(&mut self, model: &Model, items: &[Item]) -> Vec<TestCase> {
        let mut names = HashSet::new();
        let mut cases = Vec::new();
        let blocks = items.iter().filter_map(|item| match item {
            Item::Test(block) => Some(block),
            _ => None,
        });
        for block in blocks {
            if !names.insert(block.name.to_string()) {
                self.errors.at(
                    block.name.span(),
                    format!("duplicate test name `{}`", block.name),
                );
            }
            if let Some(case) = self.test(model, block) {
                cases.push(case);
            }
        }
        cases
    }

    fn test(&mut self, model: &Model, block: &TestBlock) -> Option<TestCase> {
        let name = &block.name;
        let owner = format!("test `{name}`");
        let fields = self.fields(
            &block.body,
            &["input", "masks", "expect", "tolerance", "twin_tolerance"],
            &owner,
        );
        if let Some(layer) = model.layers.iter().find(|layer| !layer.declared) {
            self.errors.at(
                ast::join_spans(Some(block.keyword.span()), name.span()),
                format!(
                    "{owner} needs declared weights, but layer `{}` has none",
                    layer.name
                ),
            );
            return None;
        }
        // Every field is checked against the declared shapes, even when a layer's weights have
        // an error of their own (reported where they are written).
        let input = self.test_vector(block, fields[0], "input", model.n_inputs);
        let masks = fields[1].map(|field| self.masks(model, &field.value));
        let expect = self.test_vector(block, fields[2], "expect", model.n_outputs());
        let tolerance = match fields[3] {
            Some(field) => self.tolerance(&field.value),
            None => Some(model.scalar.test_tolerance()),
        };
        let twin_tolerance = fields[4].and_then(|field| self.twin_tolerance(model, field));
        let weights_ok = model.layers.iter().all(|layer| layer.params.is_some());
        let masks = match masks {
            Some(checked) => Some(checked?),
            None => None,
        };
        weights_ok.then_some(())?;
        Some(TestCase {
            keyword: block.keyword.clone(),
            name: name.clone(),
            input: input?,
            masks,
            expect: expect?,
            tolerance: tolerance?,
            twin_tolerance,
        })
    }

    /// `twin_tolerance: N`: how far the int8 twin's output may be from the float network's, in
    /// units of the twin's output scale; only on a network whose twin is calibrated at compile
    /// time (the test builds it with `new()`).
    fn twin_tolerance(&mut self, model: &Model, field: &ast::Field) -> Option<f64> {
        let calibrated = model.twin.as_ref().is_some_and(|twin| twin.int8.constant);
        if !calibrated {
            let why = if model.twin.is_some() {
                "the twin is built by the test with `new()`: give its calibration rows with `calibrate: file(…)`"
            } else {
                "declare one with `quantize: int8 as NetI8` and `calibrate: file(…)`"
            };
            self.errors.at(
                field.key.span(),
                format!("`twin_tolerance` checks the int8 twin against this network; {why}"),
            );
            return None;
        }
        self.tolerance(&field.value)
    }

    /// The `input` or `expect` field of a test: required, and as long as the network's input or
    /// output.
    fn test_vector(
        &mut self,
        block: &TestBlock,
        field: Option<&ast::Field>,
        key: &str,
        len: usize,
    ) -> Option<Vec<Num>> {
        let Some(field) = field else {
            self.errors.at(
                block.body.span,
                format!("test `{}` is missing `{key}: […]`", block.name),
            );
            return None;
        };
        let size = if key == "input" { "input" } else { "output" };
        self.vector(&field.value, len, |found| {
            format!(
                "expected {} in `{key}` (the network's {size} size), found {found}",
                count(len, "value", "values")
            )
        })
    }

    fn tolerance(&mut self, value: &Value) -> Option<f64> {
        let Value::Number(number) = value else {
            self.expected(value, "a tolerance (a non-negative number)");
            return None;
        };
        match number.text().parse::<f64>().ok().filter(|v| v.is_finite()) {
            Some(t) if t >= 0.0 => Some(t),
            _ => {
                self.errors.spanned(
                    number,
                    format!(
                        "the tolerance must be a non-negative number, found {}",
                        number.text()
                    ),
                );
                None
            }
        }
    }

    fn masks(&mut self, model: &Model, value: &Value) -> Option<Vec<SiteMask>> {
        let sites = model.sites();
        let site_names: Vec<String> = sites
            .iter()
            .map(|s| s.field(Span::call_site()).to_string())
            .collect();
        let Value::List(list) = value else {
            if let Some(span) = value.span() {
                self.errors.at(
                    span,
                    "expected `masks: [[…], …]`, one mask per dropout site",
                );
            }
            return None;
        };
        if list.items.len() != sites.len() {
            let listing = if site_names.is_empty() {
                "it has none".to_owned()
            } else {
                site_names.join(", ")
            };
            self.errors.at(
                list.span,
                format!(
                    "expected {}, one per dropout site ({listing}), found {}",
                    count(sites.len(), "mask", "masks"),
                    list.items.len()
                ),
            );
            return None;
        }
        let mut masks = Vec::new();
        let mut ok = true;
        for (idx, (mask, site)) in list.items.iter().zip(&sites).enumerate() {
            if site.prob.kind == DropoutKind::Gaussian {
                let noise = self.vector(mask, site.size, |found| {
                    format!(
                        "expected {} in the noise of site `{}` (μ{}), found {found}",
                        count(site.size, "multiplier", "multipliers"),
                        site_names[idx],
                        Superscript(site.depth),
                    )
                });
                match noise {
                    Some(noise) => masks.push(SiteMask::Noise(noise)),
                    None => ok = false,
                }
                continue;
            }
            let Value::List(bits) = mask else {
                if let Some(span) = mask.span() {
                    self.errors.at(
                        span,
                        format!(
                            "expected the mask of site `{}` as a list of bits",
                            site_names[idx]
                        ),
                    );
                }
                ok = false;
                continue;
            };
            if bits.items.len() != site.size {
                self.errors.at(
                    bits.span,
                    format!(
                        "expected {} in the mask of site `{}` (μ{}), found {}",
                        count(site.size, "bit", "bits"),
                        site_names[idx],
                        Superscript(site.depth),
                        bits.items.len()
                    ),
                );
                ok = false;
            }
            let bits: Vec<Option<bool>> = bits.items.iter().map(|bit| self.bit(bit)).collect();
            match bits.into_iter().collect::<Option<Vec<bool>>>() {
                Some(bits) => masks.push(SiteMask::Bits(bits)),
                None => ok = false,
            }
        }
        ok.then_some(masks)
    }

    fn bit(&mut self, value: &Value) -> Option<bool> {
        let bit = match value {
            Value::Number(n) if n.minus.is_none() && matches!(n.lit, ast::NumberLit::Int(_)) => {
                match n.text().as_str() {
                    "0" => Some(false),
                    "1" => Some(true),
                    _ => None,
                }
            }
            Value::Ident(ident) if ident == "true" => Some(true),
            Value::Ident(ident) if ident == "false" => Some(false),
            Value::Invalid => return None,
            _ => None,
        };
        if let (None, Some(span)) = (bit, value.span()) {
            self.errors.at(
                span,
                format!(
                    "a mask bit is 0, 1, true or false; found {}",
                    value.describe()
                ),
            );
        }
        bit
    }
}
