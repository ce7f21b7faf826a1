//! Syntax tree → checked model. Every rule about sizes, shapes, numbers and probabilities lives
//! here; each violation is recorded against the tokens it concerns and checking continues, so one
//! build reports every problem.

use std::collections::HashSet;

use proc_macro2::Span;
use syn::{Ident, LitInt};

use crate::ast::{
    self, Body, Declaration, DenseSpec, DropoutSpec, Item, ItemKind, TestBlock, Value,
};
use crate::errors::Errors;
use crate::errors::SpanRange;
use crate::files::Files;
use crate::model::{Activation, Layer, Model, Prob, Scalar, Scaling};
use crate::suggest::did_you_mean;

mod params;
mod test_blocks;

/// The activations a layer can name, in the order error messages list them.
pub(crate) const ACTIVATIONS: &[&str] = &[
    "identity",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
];

pub(crate) fn check(decl: &Declaration, errors: &mut Errors) -> Model {
    let scalar = check_scalar(decl, errors);
    let mut checker = Checker {
        errors,
        scalar,
        files: Files::default(),
    };
    let walk = checker.walk_items(decl);
    let mut model = Model {
        attrs: decl.attrs.clone(),
        vis: decl.vis.clone(),
        ident: decl.ident.clone(),
        scalar,
        scaling: walk.scaling,
        n_inputs: walk.n_inputs.unwrap_or(0),
        input_dropout: walk.input_dropout,
        layers: walk.layers,
        tests: Vec::new(),
        auto_tests: walk.auto_tests == Some(true),
        files: checker.files.paths(),
    };
    if walk.n_inputs.is_none() && !walk.input_broken {
        checker.errors.at(
            decl.body_span,
            format!(
                "missing `input: N`: declare how many inputs `{}` takes before its first layer",
                decl.ident
            ),
        );
    }
    if model.layers.is_empty() && !walk.layer_broken {
        checker.errors.at(
            decl.body_span,
            "a network needs at least one layer, e.g. `dense 1 identity { weights: [[…]], bias: [0.0] }`",
        );
    }
    if walk.last_layer_valid {
        checker.check_last_layer(&model, &walk.layer_dropout_spans);
    }
    model.tests = checker.check_tests(&model, &walk.tests);
    model
}

fn check_scalar(decl: &Declaration, errors: &mut Errors) -> Scalar {
    let Some(ty) = &decl.scalar else {
        return Scalar::F32;
    };
    let name = ty.to_string();
    match name.as_str() {
        "f32" => Scalar::F32,
        "f64" => Scalar::F64,
        _ => {
            errors.spanned(
                ty,
                format!("unsupported scalar type `{name}`; the supported scalar types are `f32` and `f64`"),
            );
            Scalar::F32
        }
    }
}

/// The state of walking the items in order, and what the walk produced.
// The flags are independent facts gathered in one pass; an enum would not make them clearer.
#[allow(clippy::struct_excessive_bools)]
struct Walk<'a> {
    scaling: Scaling,
    n_inputs: Option<usize>,
    input_broken: bool,
    layer_broken: bool,
    input_dropout: Option<Prob>,
    layers: Vec<Layer>,
    /// The span of the dropout item on each layer, to report "dropout after the output layer".
    layer_dropout_spans: Vec<Option<Span>>,
    /// Whether the last layer item parsed; if not, the last checked layer is not the output.
    last_layer_valid: bool,
    tests: Vec<&'a TestBlock>,
    /// `tests: auto` given (`Some(true)`), or given with a wrong value (`Some(false)`).
    auto_tests: Option<bool>,

    scaling_seen: bool,
    input_seen: bool,
    /// What the next `dropout(…)` attaches to.
    target: Target,
    /// The size of whatever feeds the next layer; `None` when it is unknown after an error.
    fan_in: Option<usize>,
    reported_layer_before_input: bool,
    names: HashSet<String>,
    /// The number of layer items, broken ones included: a layer that failed to parse is still
    /// a layer of the network.
    n_dense: usize,
    declares_input: bool,
    dense_position: usize,
}

impl Walk<'_> {
    fn new(decl: &Declaration) -> Self {
        let is_kind = |item: &Item, kind: ItemKind| match item {
            Item::Invalid(invalid) => *invalid == kind,
            Item::Input { .. } => kind == ItemKind::Input,
            Item::Dense(_) => kind == ItemKind::Dense,
            _ => false,
        };
        Walk {
            scaling: Scaling::Inverted,
            n_inputs: None,
            input_broken: false,
            layer_broken: false,
            input_dropout: None,
            layers: Vec::new(),
            layer_dropout_spans: Vec::new(),
            last_layer_valid: false,
            tests: Vec::new(),
            auto_tests: None,
            scaling_seen: false,
            input_seen: false,
            target: Target::Nothing("`dropout(…)` must follow `input: N` or a layer"),
            fan_in: None,
            reported_layer_before_input: false,
            names: HashSet::new(),
            n_dense: decl
                .items
                .iter()
                .filter(|item| is_kind(item, ItemKind::Dense))
                .count(),
            declares_input: decl.items.iter().any(|item| is_kind(item, ItemKind::Input)),
            dense_position: 0,
        }
    }

    /// After an item whose syntax error is already reported: stay silent about what follows
    /// from it, such as the fan-in of the next layer.
    fn skip_invalid(&mut self, kind: ItemKind) {
        match kind {
            ItemKind::Input => self.input_broken = true,
            ItemKind::Dense => {
                self.dense_position += 1;
                self.last_layer_valid = false;
                self.layer_broken = true;
            }
            ItemKind::Unknown => self.layer_broken = true,
            ItemKind::Scaling | ItemKind::Dropout | ItemKind::Test | ItemKind::Tests => {}
        }
        if matches!(kind, ItemKind::Input | ItemKind::Dense | ItemKind::Unknown) {
            self.fan_in = None;
        }
        self.target = Target::Unknown;
    }
}

/// What a `dropout(…)` item attaches to.
enum Target {
    Input,
    Layer(usize),
    /// Nothing: a dropout here is an error, described by the message.
    Nothing(&'static str),
    /// The previous item was broken; stay silent.
    Unknown,
}

struct Checker<'e> {
    errors: &'e mut Errors,
    scalar: Scalar,
    /// The tensor files the declaration reads, loaded once each.
    files: Files,
}

impl Checker<'_> {
    fn walk_items<'a>(&mut self, decl: &'a Declaration) -> Walk<'a> {
        let mut walk = Walk::new(decl);
        for item in &decl.items {
            match item {
                Item::Scaling { key, value } => {
                    if walk.scaling_seen {
                        self.errors.at(key.span(), "`scaling` is given twice");
                    }
                    walk.scaling_seen = true;
                    walk.scaling = self.check_scaling(value);
                    walk.target = Target::Nothing(
                        "`dropout(…)` must follow `input: N` or a layer, not `scaling`",
                    );
                }
                Item::Input { key, size } => self.walk_input(&mut walk, key, size),
                Item::Dropout(spec) => self.walk_dropout(&mut walk, spec),
                Item::Dense(spec) => self.walk_dense(&mut walk, spec),
                Item::Tests { key, value } => {
                    if walk.auto_tests.is_some() {
                        self.errors.at(key.span(), "`tests` is given twice");
                    }
                    if value == "auto" {
                        walk.auto_tests = Some(true);
                    } else {
                        self.errors.at(
                            value.span(),
                            format!("unknown value `{value}` for `tests`; expected `auto`"),
                        );
                        walk.auto_tests = Some(false);
                    }
                    walk.target = Target::Nothing(
                        "`dropout(…)` must follow `input: N` or a layer, not `tests`",
                    );
                }
                Item::Test(block) => {
                    walk.tests.push(block);
                    walk.target = Target::Nothing(
                        "`dropout(…)` must follow `input: N` or a layer, not a test",
                    );
                }
                Item::Invalid(kind) => walk.skip_invalid(*kind),
            }
        }
        walk
    }

    fn walk_input(&mut self, walk: &mut Walk<'_>, key: &Ident, size: &LitInt) {
        if walk.input_seen {
            self.errors.at(key.span(), "`input` is given twice");
        } else if walk.dense_position > 0 {
            self.errors
                .at(key.span(), "`input` must come before the first layer");
        }
        walk.input_seen = true;
        let n = self.check_size(size, "the input size must be at least 1".to_owned());
        if walk.n_inputs.is_none() {
            walk.n_inputs = n;
            walk.input_broken |= n.is_none();
        }
        walk.fan_in = n;
        walk.target = Target::Input;
    }

    fn walk_dropout(&mut self, walk: &mut Walk<'_>, spec: &DropoutSpec) {
        let prob = self.check_dropout(spec, &walk.target, &walk.layers);
        match walk.target {
            Target::Input => walk.input_dropout = prob,
            Target::Layer(idx) => {
                walk.layers[idx].dropout = prob;
                walk.layer_dropout_spans[idx] = Some(spec.keyword.span());
            }
            Target::Nothing(_) | Target::Unknown => {}
        }
        walk.target = Target::Nothing(
            "a layer has at most one dropout site; this `dropout(…)` follows another one",
        );
    }

    fn walk_dense(&mut self, walk: &mut Walk<'_>, spec: &DenseSpec) {
        let before_input = !walk.input_seen && !walk.input_broken;
        if before_input && walk.declares_input && !walk.reported_layer_before_input {
            walk.reported_layer_before_input = true;
            self.errors.at(
                spec.kind.span(),
                "a layer before `input`: declare `input: N` first, then the layers",
            );
        }
        let is_output = walk.dense_position + 1 == walk.n_dense;
        let layer = self.check_dense(
            spec,
            walk.dense_position,
            is_output,
            walk.fan_in,
            &mut walk.names,
        );
        walk.dense_position += 1;
        walk.last_layer_valid = true;
        walk.fan_in = (layer.size > 0).then_some(layer.size);
        walk.layer_broken |= walk.fan_in.is_none();
        walk.layers.push(layer);
        walk.layer_dropout_spans.push(None);
        walk.target = Target::Layer(walk.layers.len() - 1);
    }

    fn check_scaling(&mut self, value: &Ident) -> Scaling {
        match value.to_string().as_str() {
            "inverted" => Scaling::Inverted,
            "classic" => Scaling::Classic,
            other => {
                let hint = did_you_mean(other, &["inverted", "classic"]).map_or_else(
                    || "expected `inverted` or `classic`".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                );
                self.errors
                    .at(value.span(), format!("unknown scaling `{other}`; {hint}"));
                Scaling::Inverted
            }
        }
    }

    /// A size literal: a positive integer.
    fn check_size(&mut self, lit: &LitInt, zero_message: String) -> Option<usize> {
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

    fn check_dropout(
        &mut self,
        spec: &DropoutSpec,
        target: &Target,
        layers: &[Layer],
    ) -> Option<Prob> {
        match target {
            Target::Nothing(message) => {
                self.errors.at(
                    ast::join_spans(Some(spec.keyword.span()), spec.paren),
                    message,
                );
                return None;
            }
            Target::Unknown | Target::Input | Target::Layer(_) => {}
        }
        let site = match target {
            Target::Layer(idx) => format!("layer `{}`", layers[*idx].name),
            _ => "the input".to_owned(),
        };
        if spec.args.is_empty() {
            self.errors.at(
                spec.paren,
                "expected `p = …` (drop probability) or `keep = …` (keep probability)",
            );
            return None;
        }
        let mut p: Option<(f64, SpanRange)> = None;
        let mut keep: Option<(f64, SpanRange)> = None;
        for arg in &spec.args {
            let Some(key) = &arg.key else {
                if let Some(span) = arg.value.span() {
                    let shown = match &arg.value {
                        Value::Number(n) => n.text(),
                        _ => "…".to_owned(),
                    };
                    self.errors.at(
                        span,
                        format!(
                            "say which probability this is: `dropout(p = {shown})` drops each unit with that \
                             probability, `dropout(keep = {shown})` keeps it"
                        ),
                    );
                }
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
            let Some(value) = self.probability(&arg.value, key) else {
                continue;
            };
            *slot = Some((value, arg.value.span().unwrap_or_else(|| key.span().into())));
        }
        match (p, keep) {
            (Some(_), Some(_)) => {
                self.errors.at(
                    spec.paren,
                    "give either `p` (drop probability) or `keep` (keep probability), not both",
                );
                None
            }
            (Some((1.0, span)), None) => {
                self.errors.at(
                    span,
                    format!(
                        "p = 1 drops every unit of {site}; the next layer would see only its biases"
                    ),
                );
                None
            }
            (None, Some((0.0, span))) => {
                self.errors.at(
                    span,
                    format!("keep = 0 drops every unit of {site}; the next layer would see only its biases"),
                );
                None
            }
            (Some((p, _)), None) => Some(Prob { p, keep: 1.0 - p }),
            (None, Some((keep, _))) => Some(Prob {
                p: 1.0 - keep,
                keep,
            }),
            (None, None) => None,
        }
    }

    /// A probability value in [0, 1].
    fn probability(&mut self, value: &Value, key: &Ident) -> Option<f64> {
        let Value::Number(number) = value else {
            if let Some(span) = value.span() {
                self.errors.at(
                    span,
                    format!(
                        "expected a probability for `{key}`, found {}",
                        value.describe()
                    ),
                );
            }
            return None;
        };
        let parsed = number.text().parse::<f64>().ok().filter(|v| v.is_finite());
        match parsed {
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

    fn check_dense(
        &mut self,
        spec: &DenseSpec,
        idx: usize,
        is_output: bool,
        fan_in: Option<usize>,
        names: &mut HashSet<String>,
    ) -> Layer {
        let default_name = if is_output {
            "output".to_owned()
        } else {
            format!("h{}", idx + 1)
        };
        let mut name = spec
            .name
            .clone()
            .unwrap_or_else(|| Ident::new(&default_name, spec.kind.span()));
        let label = name.to_string();
        let label = label.strip_prefix("r#").unwrap_or(&label).to_owned();
        let clash = if label == "input" {
            Some("`input` names the network's input; choose another layer name".to_owned())
        } else if !names.insert(label.clone()) {
            let note = if spec.name.is_none() {
                format!(" (the default name of layer {})", idx + 1)
            } else {
                String::new()
            };
            Some(format!("duplicate layer name `{label}`{note}"))
        } else {
            None
        };
        if let Some(message) = clash {
            self.errors.at(name.span(), message);
            // A unique name keeps the stub's struct free of follow-on "duplicate field" errors.
            name = Ident::new(&format!("__layer{}", idx + 1), name.span());
        }
        if spec.kind != "dense" {
            let hint = did_you_mean(&spec.kind.to_string(), &["dense"]).map_or_else(
                || "the supported kind is `dense`".to_owned(),
                |s| format!("did you mean `{s}`?"),
            );
            self.errors.at(
                spec.kind.span(),
                format!("unknown layer kind `{}`; {hint}", spec.kind),
            );
        }
        let size = self
            .check_size(
                &spec.size,
                format!("layer `{label}` must have at least 1 neuron"),
            )
            .unwrap_or(0);
        let activation = self.check_activation(spec, &label, is_output);
        let params = spec
            .body
            .as_ref()
            .and_then(|body| self.check_params(body, &label, size, fan_in));
        Layer {
            name,
            fan_in: fan_in.unwrap_or(0),
            size,
            activation,
            params,
            dropout: None,
        }
    }

    fn check_activation(&mut self, spec: &DenseSpec, layer: &str, is_output: bool) -> Activation {
        let ident = &spec.activation.ident;
        let name = ident.to_string();
        let args = spec.activation.args.as_ref();
        let activation = match name.as_str() {
            "identity" => Activation::Identity,
            "relu" => Activation::Relu,
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            "leaky_relu" => {
                return Activation::LeakyRelu(self.leaky_slope(ident, args).unwrap_or(0.01));
            }
            other => {
                let hint = did_you_mean(other, ACTIVATIONS).map_or_else(
                    || "expected `identity`, `relu`, `leaky_relu(α)`, `sigmoid`, `tanh` or `softmax`".to_owned(),
                    |s| format!("did you mean `{s}`?"),
                );
                self.errors.at(
                    ident.span(),
                    format!("unknown activation `{other}`; {hint}"),
                );
                return Activation::Identity;
            }
        };
        if let Some((span, _)) = args {
            self.errors
                .at(*span, format!("`{name}` takes no arguments"));
        }
        if matches!(activation, Activation::Softmax) && !is_output {
            self.errors.at(
                ident.span(),
                format!("softmax normalises a whole layer and is only allowed on the output layer; `{layer}` is hidden"),
            );
        }
        activation
    }

    fn leaky_slope(&mut self, ident: &Ident, args: Option<&(Span, Vec<Value>)>) -> Option<f64> {
        const NEEDS_SLOPE: &str =
            "`leaky_relu` needs its negative slope α, e.g. `leaky_relu(0.01)`";
        let Some((span, values)) = args else {
            self.errors.at(ident.span(), NEEDS_SLOPE);
            return None;
        };
        match values.as_slice() {
            [Value::Number(number)] => {
                match number.text().parse::<f64>().ok().filter(|v| v.is_finite()) {
                    Some(alpha) => Some(alpha),
                    None => {
                        self.errors.spanned(
                            number,
                            format!("the slope α = {} is not a finite number", number.text()),
                        );
                        None
                    }
                }
            }
            [Value::Invalid] => None,
            [other] => {
                if let Some(span) = other.span() {
                    self.errors.at(
                        span,
                        format!(
                            "expected a number for the slope α, found {}",
                            other.describe()
                        ),
                    );
                }
                None
            }
            [] => {
                self.errors.at(*span, NEEDS_SLOPE);
                None
            }
            _ => {
                self.errors
                    .at(*span, "`leaky_relu` takes one number, its negative slope α");
                None
            }
        }
    }

    /// The fields of a body by the given keys (in that order); unknown and repeated keys are
    /// reported against `owner`.
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
                None => match did_you_mean(&key, keys) {
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
                },
            }
        }
        found
    }

    fn check_last_layer(&mut self, model: &Model, dropout_spans: &[Option<Span>]) {
        let Some(last) = model.layers.len().checked_sub(1) else {
            return;
        };
        if let Some(span) = dropout_spans[last] {
            self.errors.at(
                span,
                format!(
                    "dropout after the output layer `{}`: outputs have no dropout site",
                    model.layers[last].name
                ),
            );
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

/// `0` → `⁰`, `12` → `¹²`.
pub(crate) fn superscript(n: usize) -> String {
    const DIGITS: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    n.to_string()
        .chars()
        .filter_map(|c| c.to_digit(10).map(|d| DIGITS[d as usize]))
        .collect()
}
