//! Syntax tree → checked model. Every rule about sizes, shapes, numbers and probabilities lives
//! here, each in a function named for it; a violation is recorded against the tokens it concerns
//! and checking continues, so one build reports every problem.
//!
//! The rules read the declaration's items in order — the syntax tree is the data — and an item
//! whose syntax error the parser has already reported ([`Item::Invalid`]) silences the rules
//! that would only repeat it (a layer after a broken one has no known fan-in).

use std::collections::HashSet;

use proc_macro2::Span;
use syn::Ident;

use crate::ast::{self, Body, Declaration, Item, ItemKind, Value};
use crate::errors::Errors;
use crate::model::{Model, Scalar, Scaling};
use crate::suggest::did_you_mean;

mod dropout;
mod files;
mod int8;
mod layers;
mod numbers;
mod onnx;
mod params;
mod test_blocks;
mod twin;

use files::Files;
use layers::Stack;

pub(crate) fn check(decl: &Declaration, errors: &mut Errors) -> Model {
    let (scalar, is_int8) = scalar_type(decl, errors);
    let mut checker = Checker {
        errors,
        scalar,
        is_int8,
        imported: is_int8 || has_kind(&decl.items, ItemKind::From),
        files: Files::default(),
    };
    let items = &decl.items;
    let scaling = checker.scaling(items);
    let auto_tests = checker.auto_tests(items);
    let input = checker.input(decl);
    let mut stack = checker.layers(items, &input);
    checker.at_least_one_layer(decl, &stack);
    checker.no_dropout_after_output(items, &stack);
    if !is_int8 && let Some(source) = checker.onnx_source(items) {
        checker.onnx_import(decl, &source, &mut stack);
    }
    let int8 = checker.int8(decl, is_int8, &stack, scaling);
    let mut model = Model {
        attrs: decl.attrs.clone(),
        vis: decl.vis.clone(),
        ident: decl.ident.clone(),
        scalar,
        scaling,
        n_inputs: input.size.unwrap_or(0),
        input_dropout: stack.input_dropout,
        layers: stack.layers,
        tests: Vec::new(),
        auto_tests,
        files: Vec::new(),
        int8,
        twin: None,
    };
    model.twin = checker.twin(decl, &model);
    model.files = checker.files.paths();
    // An int8 network's `test` blocks are reported by its own checks.
    if !is_int8 {
        model.tests = checker.tests(&model, items);
    }
    model
}

/// `struct Net<f32>`: the scalar is `f32` (the default), `f64`, or `i8` for an imported int8
/// network, whose float view is `f32` (the second value says whether it is int8).
fn scalar_type(decl: &Declaration, errors: &mut Errors) -> (Scalar, bool) {
    let Some(ty) = &decl.scalar else {
        return (Scalar::F32, false);
    };
    let name = ty.to_string();
    match name.as_str() {
        "f32" => (Scalar::F32, false),
        "f64" => (Scalar::F64, false),
        "i8" => (Scalar::F32, true),
        _ => {
            errors.spanned(
                ty,
                format!("unsupported scalar type `{name}`; the supported scalar types are `f32`, `f64` and `i8` (imported int8 networks)"),
            );
            (Scalar::F32, false)
        }
    }
}

/// Whether any item is of `kind`, parsed or not.
fn has_kind(items: &[Item], kind: ItemKind) -> bool {
    items.iter().any(|item| item.kind() == kind)
}

struct Checker<'e> {
    errors: &'e mut Errors,
    scalar: Scalar,
    /// Declared over `i8`.
    is_int8: bool,
    /// Imported with `from:` (every int8 network is): the layers' parameters come from a file,
    /// and a `{ … }` body is reported as such, not read.
    imported: bool,
    /// The tensor files the declaration reads, loaded once each.
    files: Files,
}

/// What `input: N` declares.
struct Input {
    /// The number of inputs; `None` if missing or unreadable.
    size: Option<usize>,
}

impl Checker<'_> {
    /// `scaling: inverted | classic`, given at most once; `inverted` by default.
    fn scaling(&mut self, items: &[Item]) -> Scaling {
        self.setting(items, ItemKind::Scaling, Self::scaling_value)
            .unwrap_or(Scaling::Inverted)
    }

    fn scaling_value(&mut self, value: &Ident) -> Scaling {
        let name = value.to_string();
        match Scaling::from_name(&name) {
            Some(scaling) => scaling,
            None => {
                let other = name.as_str();
                let names = Scaling::ALL.map(Scaling::name);
                let hint = did_you_mean(other, &names).map_or_else(
                    || format!("expected `{}` or `{}`", names[0], names[1]),
                    |s| format!("did you mean `{s}`?"),
                );
                self.errors
                    .at(value.span(), format!("unknown scaling `{other}`; {hint}"));
                Scaling::Inverted
            }
        }
    }

    /// `tests: auto`, given at most once.
    fn auto_tests(&mut self, items: &[Item]) -> bool {
        let auto = self.setting(items, ItemKind::Tests, |checker, value| {
            if value != "auto" {
                checker.errors.at(
                    value.span(),
                    format!("unknown value `{value}` for `tests`; expected `auto`"),
                );
            }
            value == "auto"
        });
        auto == Some(true)
    }

    /// A `key: word` setting (`scaling`, `tests`), given at most once: every repetition is
    /// reported, every value checked by `value_of`, and the last one counts.
    fn setting<T>(
        &mut self,
        items: &[Item],
        kind: ItemKind,
        mut value_of: impl FnMut(&mut Self, &Ident) -> T,
    ) -> Option<T> {
        let mut last = None;
        for item in items.iter().filter(|item| item.kind() == kind) {
            let (Item::Scaling { key, value }
            | Item::Tests { key, value }
            | Item::Rounding { key, value }) = item
            else {
                continue;
            };
            if last.is_some() {
                self.errors
                    .at(key.span(), format!("`{key}` is given twice"));
            }
            last = Some(value_of(self, value));
        }
        last
    }

    /// `input: N`: exactly once, before the first layer, N ≥ 1. An `input` after a layer is one
    /// mistake, reported once, here; the layers still take their fan-ins in order.
    fn input(&mut self, decl: &Declaration) -> Input {
        let mut input = Input { size: None };
        let mut seen = false;
        let mut layers_before = false;
        for item in &decl.items {
            let Item::Input { key, size } = item else {
                layers_before |= item.kind() == ItemKind::Dense;
                continue;
            };
            if seen {
                self.errors.at(key.span(), "`input` is given twice");
            } else if layers_before {
                self.errors.at(
                    key.span(),
                    "`input` must come before the first layer: declare `input: N` first, then the layers",
                );
            }
            seen = true;
            let n = self.size(size, "the input size must be at least 1".to_owned());
            input.size = input.size.or(n);
        }
        // An `input` item that did not parse, or whose size is wrong, is already reported.
        if !seen && !has_kind(&decl.items, ItemKind::Input) {
            self.errors.at(
                decl.body_span,
                format!(
                    "missing `input: N`: declare how many inputs `{}` takes before its first layer",
                    decl.ident
                ),
            );
        }
        input
    }

    /// A network has at least one layer.
    fn at_least_one_layer(&mut self, decl: &Declaration, stack: &Stack) {
        let broken = decl
            .items
            .iter()
            .any(|item| matches!(item, Item::Invalid(ItemKind::Dense | ItemKind::Unknown)));
        if stack.layers.is_empty() && !broken {
            self.errors.at(
                decl.body_span,
                "a network needs at least one layer, e.g. `dense 1 identity { weights: [[…]], bias: [0.0] }`",
            );
        }
    }

    /// The output layer has no dropout site (outputs are what the network predicts).
    fn no_dropout_after_output(&mut self, items: &[Item], stack: &Stack) {
        // Whether the last layer item parsed: if not, the last checked layer is not the output.
        let last_parsed = items
            .iter()
            .rev()
            .find(|item| item.kind() == ItemKind::Dense)
            .is_some_and(|item| matches!(item, Item::Dense(_)));
        let (Some(last), Some(Some(span))) = (stack.layers.last(), stack.dropout_spans.last())
        else {
            return;
        };
        if last_parsed {
            self.errors.at(
                *span,
                format!(
                    "dropout after the output layer `{}`: outputs have no dropout site",
                    last.name
                ),
            );
        }
    }

    /// `expected {what}, found {value}` at `value`, unless its syntax error is already reported.
    fn expected(&mut self, value: &Value, what: impl std::fmt::Display) {
        if let Some(span) = value.span() {
            self.errors
                .at(span, format!("expected {what}, found {}", value.describe()));
        }
    }

    /// A size literal: a positive integer.
    fn size(&mut self, size: &ast::Size, zero_message: String) -> Option<usize> {
        let lit = &size.lit;
        if size.minus.is_some() {
            self.errors.at(
                size.span_range(),
                format!("a size is a positive integer, found `-{lit}`"),
            );
            return None;
        }
        if !matches!(lit.suffix(), "" | "usize") {
            self.errors.at(
                lit.span(),
                format!(
                    "a size is a plain integer; remove the suffix `{}`",
                    lit.suffix()
                ),
            );
            return None;
        }
        match lit.base10_parse::<usize>() {
            Ok(0) => {
                self.errors.at(lit.span(), zero_message);
                None
            }
            Ok(n) => Some(n),
            Err(_) => {
                self.errors
                    .at(lit.span(), format!("size `{lit}` is too large"));
                None
            }
        }
    }

    /// The fields of a body by the given keys (in that order); unknown and repeated keys are
    /// reported against `owner`. A misspelt key with an obvious correction fills that key's
    /// slot, so that its value is still checked and no "missing key" error follows.
    fn fields<'b>(
        &mut self,
        body: &'b Body,
        keys: &[&str],
        owner: &str,
    ) -> Vec<Option<&'b ast::Field>> {
        let mut found: Vec<Option<&ast::Field>> = vec![None; keys.len()];
        for field in &body.fields {
            let key = field.key.to_string();
            match keys.iter().position(|k| *k == key) {
                Some(idx) if found[idx].is_some() => {
                    self.errors.at(
                        field.key.span(),
                        format!("`{key}` is given twice in {owner}"),
                    );
                }
                Some(idx) => found[idx] = Some(field),
                None => self.unknown_key(field, keys, owner, &mut found),
            }
        }
        found
    }

    fn unknown_key<'b>(
        &mut self,
        field: &'b ast::Field,
        keys: &[&str],
        owner: &str,
        found: &mut [Option<&'b ast::Field>],
    ) {
        let key = field.key.to_string();
        match did_you_mean(&key, keys) {
            Some(suggestion) => {
                self.errors.at(
                    field.key.span(),
                    format!("unknown key `{key}` in {owner}; did you mean `{suggestion}`?"),
                );
                if let Some(idx) = keys.iter().position(|k| *k == suggestion) {
                    found[idx].get_or_insert(field);
                }
            }
            None => {
                self.errors.at(
                    field.key.span(),
                    format!("unknown key `{key}` in {owner}; expected {}", one_of(keys)),
                );
            }
        }
    }
}

/// `` `a`, `b` or `c` ``.
fn one_of(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// `1 weight`, `2 weights`.
fn count(n: usize, singular: &str, plural: &str) -> String {
    if n == 1 {
        format!("1 {singular}")
    } else {
        format!("{n} {plural}")
    }
}

/// The span of a layer's default name: the `dense` keyword it was declared with.
fn default_name(idx: usize, is_output: bool, span: Span) -> Ident {
    if is_output {
        Ident::new("output", span)
    } else {
        Ident::new(&format!("h{}", idx + 1), span)
    }
}

/// The layer names already taken, to report duplicates.
type Names = HashSet<String>;
