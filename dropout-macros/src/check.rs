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
use crate::model::{Activation, Layer, Model, Num, Params, Prob, Scalar, Scaling, TestCase};
use crate::suggest::did_you_mean;

const ACTIVATIONS: &[&str] = &[
    "identity",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softmax",
];

pub(crate) fn check(decl: &Declaration, errors: &mut Errors) -> Model {
    let scalar = check_scalar(decl, errors);
    let mut checker = Checker { errors, scalar };
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
        let mut p: Option<(f64, Span)> = None;
        let mut keep: Option<(f64, Span)> = None;
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
            *slot = Some((value, arg.value.span().unwrap_or(key.span())));
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

    /// `{ weights: [[…], …], bias: […] }`; returns `None` if anything is wrong or missing.
    fn check_params(
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
    fn check_vector(
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
    fn number(&mut self, value: &Value) -> Option<Num> {
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

    fn check_tests(&mut self, model: &Model, blocks: &[&TestBlock]) -> Vec<TestCase> {
        let mut names = HashSet::new();
        let mut cases = Vec::new();
        for block in blocks {
            if !names.insert(block.name.to_string()) {
                self.errors.at(
                    block.name.span(),
                    format!("duplicate test name `{}`", block.name),
                );
            }
            if let Some(case) = self.check_test(model, block) {
                cases.push(case);
            }
        }
        cases
    }

    fn check_test(&mut self, model: &Model, block: &TestBlock) -> Option<TestCase> {
        let name = &block.name;
        let owner = format!("test `{name}`");
        let fields = self.fields(
            &block.body,
            &["input", "masks", "expect", "tolerance"],
            &owner,
        );
        if let Some(layer) = model.layers.iter().find(|layer| layer.params.is_none()) {
            self.errors.at(
                ast::join_spans(Some(block.keyword.span()), name.span()),
                format!(
                    "{owner} needs declared weights, but layer `{}` has none",
                    layer.name
                ),
            );
            return None;
        }
        let n_inputs = model.n_inputs;
        let n_outputs = model.n_outputs();
        let input = match fields[0] {
            Some(field) => self.check_vector(&field.value, n_inputs, |found| {
                format!(
                    "expected {} in `input` (the network's input size), found {found}",
                    count(n_inputs, "value", "values")
                )
            }),
            None => {
                self.errors
                    .at(block.body.span, format!("{owner} is missing `input: […]`"));
                None
            }
        };
        let masks = match fields[1] {
            Some(field) => Some(self.check_masks(model, &field.value)?),
            None => None,
        };
        let expect = match fields[2] {
            Some(field) => self.check_vector(&field.value, n_outputs, |found| {
                format!(
                    "expected {} in `expect` (the network's output size), found {found}",
                    count(n_outputs, "value", "values")
                )
            }),
            None => {
                self.errors
                    .at(block.body.span, format!("{owner} is missing `expect: […]`"));
                None
            }
        };
        let tolerance = match fields[3] {
            Some(field) => self.tolerance(&field.value)?,
            None => model.scalar.default_tolerance(),
        };
        Some(TestCase {
            name: name.clone(),
            input: input?,
            masks,
            expect: expect?,
            tolerance,
        })
    }

    fn tolerance(&mut self, value: &Value) -> Option<f64> {
        let Value::Number(number) = value else {
            if let Some(span) = value.span() {
                self.errors.at(
                    span,
                    format!(
                        "expected a tolerance (a non-negative number), found {}",
                        value.describe()
                    ),
                );
            }
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

    fn check_masks(&mut self, model: &Model, value: &Value) -> Option<Vec<Vec<bool>>> {
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
                        superscript(site.depth),
                        bits.items.len()
                    ),
                );
                ok = false;
            }
            let bits: Vec<Option<bool>> = bits.items.iter().map(|bit| self.bit(bit)).collect();
            match bits.into_iter().collect::<Option<Vec<bool>>>() {
                Some(bits) => masks.push(bits),
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
