//! Layers in declaration order: each one's fan-in is the size of what precedes it, and each
//! `dropout(…)` sits on the input or layer written just before it.

use proc_macro2::Span;
use syn::Ident;
use syn::ext::IdentExt as _;

use super::{Checker, Input, Names, default_name, numbers};
use crate::ast::{DenseSpec, Item, ItemKind, Value};
use crate::model::{Activation, Layer, Prob};
use crate::suggest::did_you_mean;
use dropout_shared::activation::Parameter;

/// The layers of a declaration, with the dropout sites attached to them.
#[derive(Default)]
pub(super) struct Stack {
    /// The site on the input (μ⁰).
    pub input_dropout: Option<Prob>,
    pub layers: Vec<Layer>,
    /// Per layer: the `dropout` keyword of the site written after it, even if that site's
    /// probability was refused (the site is there, and it may be misplaced).
    pub dropout_spans: Vec<Option<Span>>,
}

/// What a `dropout(…)` item attaches to: the item written before it.
pub(super) enum Target {
    Input,
    Layer(usize),
    /// Nothing: a dropout here is an error, described by the message.
    Nothing(&'static str),
    /// The previous item did not parse and is already reported; stay silent.
    Unknown,
}

/// The target of a dropout item that follows `previous` (`None` at the start of the body);
/// `layer` is the index the previous item got if it is a layer.
fn dropout_target(previous: Option<&Item>, layer: usize) -> Target {
    match previous {
        None => Target::Nothing("`dropout(…)` must follow `input: N` or a layer"),
        Some(Item::Input { .. }) => Target::Input,
        Some(Item::Dense(_)) => Target::Layer(layer),
        Some(Item::Dropout(_)) => Target::Nothing(
            "a layer has at most one dropout site; this `dropout(…)` follows another one",
        ),
        Some(Item::Scaling { .. }) => {
            Target::Nothing("`dropout(…)` must follow `input: N` or a layer, not `scaling`")
        }
        Some(Item::Tests { .. }) => {
            Target::Nothing("`dropout(…)` must follow `input: N` or a layer, not `tests`")
        }
        Some(Item::Test(_)) => {
            Target::Nothing("`dropout(…)` must follow `input: N` or a layer, not a test")
        }
        Some(Item::From { .. }) => {
            Target::Nothing("`dropout(…)` must follow `input: N` or a layer, not `from`")
        }
        Some(Item::Rounding { .. }) => {
            Target::Nothing("`dropout(…)` must follow `input: N` or a layer, not `rounding`")
        }
        Some(Item::Quantize { .. } | Item::Calibrate { .. }) => Target::Nothing(
            "`dropout(…)` must follow `input: N` or a layer, not `quantize` or `calibrate`",
        ),
        Some(Item::Invalid(_)) => Target::Unknown,
    }
}

impl Checker<'_> {
    /// Every layer and dropout site, in order. The fan-in of a layer is the size of the input or
    /// layer before it; after an item that did not parse it is unknown and not checked.
    pub(super) fn layers(&mut self, items: &[Item], input: &Input) -> Stack {
        let n_layers = items
            .iter()
            .filter(|item| item.kind() == ItemKind::Dense)
            .count();
        let mut stack = Stack::default();
        let mut names = Names::new();
        // The first layer reads the input, wherever `input: N` stands (a misplaced one is
        // reported by itself, not again as a wrong fan-in here).
        let mut fan_in = input.size;
        // Layer items so far, broken ones included: a layer that failed to parse is still a
        // layer of the network, and counts for the default names of those after it.
        let mut position = 0;
        for (idx, item) in items.iter().enumerate() {
            match item {
                Item::Dense(spec) => {
                    let is_output = position + 1 == n_layers;
                    let layer = self.dense(spec, position, is_output, fan_in, &mut names);
                    position += 1;
                    fan_in = (layer.size > 0).then_some(layer.size);
                    stack.layers.push(layer);
                    stack.dropout_spans.push(None);
                }
                Item::Dropout(spec) => {
                    let previous = idx.checked_sub(1).and_then(|p| items.get(p));
                    let target = dropout_target(previous, stack.layers.len().saturating_sub(1));
                    let prob = self.dropout(spec, &target, &stack.layers);
                    match target {
                        Target::Input => stack.input_dropout = prob,
                        Target::Layer(layer) => {
                            stack.layers[layer].dropout = prob;
                            stack.dropout_spans[layer] = Some(spec.keyword.span());
                        }
                        Target::Nothing(_) | Target::Unknown => {}
                    }
                }
                Item::Invalid(kind) => {
                    position += usize::from(*kind == ItemKind::Dense);
                    if matches!(kind, ItemKind::Dense | ItemKind::Unknown) {
                        fan_in = None;
                    }
                }
                Item::Input { .. }
                | Item::Scaling { .. }
                | Item::Test(_)
                | Item::Tests { .. }
                | Item::From { .. }
                | Item::Rounding { .. }
                | Item::Quantize { .. }
                | Item::Calibrate { .. } => {}
            }
        }
        self.weight_mask_fields(items, &stack);
        stack
    }

    /// The masks struct names a layer's DropConnect mask `<layer>_weights`; no other layer may
    /// have that name, or the two masks would share a field.
    fn weight_mask_fields(&mut self, items: &[Item], stack: &Stack) {
        let specs = items.iter().filter_map(|item| match item {
            Item::Dense(spec) => Some(spec),
            _ => None,
        });
        for (spec, layer) in specs.zip(&stack.layers) {
            let Some(dropconnect) = &spec.dropconnect else {
                continue;
            };
            let field = format!("{}_weights", layer.name.unraw());
            if stack.layers.iter().any(|other| other.name.unraw() == field) {
                self.errors.at(
                    dropconnect.keyword.span(),
                    format!("the masks struct holds this layer's weight mask in the field `{field}`, which is also a layer's name; rename that layer"),
                );
            }
        }
    }

    /// One `[name:] dense N activation [{ … }]` item.
    fn dense(
        &mut self,
        spec: &DenseSpec,
        position: usize,
        is_output: bool,
        fan_in: Option<usize>,
        names: &mut Names,
    ) -> Layer {
        let (name, label) = self.layer_name(spec, position, is_output, names);
        self.layer_kind(&spec.kind);
        let size = self
            .size(
                &spec.size,
                format!("layer `{label}` must have at least 1 neuron"),
            )
            .unwrap_or(0);
        let activation = self.activation(spec, &label, is_output);
        let dropconnect = spec
            .dropconnect
            .as_ref()
            .and_then(|dropconnect| self.dropconnect(dropconnect, &label));
        let params = spec
            .body
            .as_ref()
            .filter(|_| !self.imported)
            .and_then(|body| self.params(body, &label, size, fan_in));
        Layer {
            name,
            fan_in: fan_in.unwrap_or(0),
            size,
            activation,
            params,
            declared: spec.body.is_some(),
            dropout: None,
            dropconnect,
        }
    }

    /// A layer's name: unique among the layers, and not `input`. Unnamed layers are `h1`, `h2`,
    /// … and the last one `output`. Returns the field name and the name as the user reads it,
    /// for messages (they differ for a raw identifier and after a clash).
    fn layer_name(
        &mut self,
        spec: &DenseSpec,
        position: usize,
        is_output: bool,
        names: &mut Names,
    ) -> (Ident, String) {
        let name = spec
            .name
            .clone()
            .unwrap_or_else(|| default_name(position, is_output, spec.kind.span()));
        let label = name.unraw().to_string();
        let clash = if label == "input" {
            Some("`input` names the network's input; choose another layer name".to_owned())
        } else if !names.insert(label.clone()) {
            let note = if spec.name.is_none() {
                format!(" (the default name of layer {})", position + 1)
            } else {
                String::new()
            };
            Some(format!("duplicate layer name `{label}`{note}"))
        } else {
            None
        };
        match clash {
            Some(message) => {
                self.errors.at(name.span(), message);
                // A unique name keeps the stub's struct free of follow-on "duplicate field" errors.
                let unique = Ident::new(&format!("__layer{}", position + 1), name.span());
                (unique, label)
            }
            None => (name, label),
        }
    }

    /// The layer kind is `dense`.
    fn layer_kind(&mut self, kind: &Ident) {
        if kind != "dense" {
            let hint = did_you_mean(&kind.to_string(), &["dense"]).map_or_else(
                || "the supported kind is `dense`".to_owned(),
                |s| format!("did you mean `{s}`?"),
            );
            self.errors
                .at(kind.span(), format!("unknown layer kind `{kind}`; {hint}"));
        }
    }

    /// One of [`Activation::ALL`]; those with a [`Parameter`] take their number, the others
    /// nothing; `softmax` only on the output layer.
    fn activation(&mut self, spec: &DenseSpec, layer: &str, is_output: bool) -> Activation {
        let ident = &spec.activation.ident;
        let name = ident.to_string();
        let args = spec.activation.args.as_ref();
        let Some(activation) = Activation::from_name(&name) else {
            let hint = match name.as_str() {
                "swish" => "did you mean `silu`? (SiLU is swish with β = 1)".to_owned(),
                other => did_you_mean(other, &Activation::ALL.map(Activation::name)).map_or_else(
                    || format!("expected {}", Activation::list()),
                    |s| format!("did you mean `{s}`?"),
                ),
            };
            self.errors
                .at(ident.span(), format!("unknown activation `{name}`; {hint}"));
            return Activation::Identity;
        };
        if let Some(parameter) = activation.parameter() {
            let value = self.parameter(ident, args, &name, parameter);
            return activation.with_parameter(value.unwrap_or(parameter.example));
        }
        if let Some((span, _)) = args {
            self.errors
                .at(*span, format!("`{name}` takes no arguments"));
        }
        if !activation.is_elementwise() && !is_output {
            self.errors.at(
                ident.span(),
                format!("{name} normalises a whole layer and is only allowed on the output layer; `{layer}` is hidden"),
            );
        }
        activation
    }

    /// The number of `leaky_relu(α)` or `elu(α)` (`name`): exactly one, finite in the scalar
    /// type.
    fn parameter(
        &mut self,
        ident: &Ident,
        args: Option<&(Span, Vec<Value>)>,
        name: &str,
        parameter: Parameter,
    ) -> Option<f64> {
        let Parameter {
            meaning,
            symbol,
            example,
        } = parameter;
        let needs = format!("`{name}` needs its {meaning} α, e.g. `{name}({example:?})`");
        let Some((span, values)) = args else {
            self.errors.at(ident.span(), needs);
            return None;
        };
        match values.as_slice() {
            // The value as written (the runtime rounds it to the scalar type); finite there.
            [Value::Number(number)] => match numbers::parse(self.scalar, &number.text())
                .and_then(|_| number.text().parse::<f64>().ok())
            {
                Some(alpha) => Some(alpha),
                None => {
                    self.errors.spanned(
                        number,
                        format!(
                            "the {symbol} = {} is not a finite {}",
                            number.text(),
                            self.scalar.name()
                        ),
                    );
                    None
                }
            },
            [Value::Invalid] => None,
            [other] => {
                self.expected(other, format!("a number for the {symbol}"));
                None
            }
            [] => {
                self.errors.at(*span, needs);
                None
            }
            _ => {
                self.errors
                    .at(*span, format!("`{name}` takes one number, its {meaning} α"));
                None
            }
        }
    }
}

/// The declared layers of an imported network, in order, to be matched with the file's
/// layers; `None` when a layer item did not parse (it is already reported, and matching the
/// rest would misalign them) or the layers are not the stack's.
pub(super) fn imported_layers<'a>(items: &'a [Item], stack: &Stack) -> Option<Vec<&'a DenseSpec>> {
    let specs: Vec<&DenseSpec> = items
        .iter()
        .filter_map(|item| match item {
            Item::Dense(spec) => Some(&**spec),
            _ => None,
        })
        .collect();
    let invalid = items
        .iter()
        .any(|item| matches!(item, Item::Invalid(ItemKind::Dense)));
    (specs.len() == stack.layers.len() && !invalid).then_some(specs)
}

/// The span of `N` in `input: N`.
pub(super) fn input_span(items: &[Item]) -> Option<crate::errors::SpanRange> {
    items.iter().find_map(|item| match item {
        Item::Input { size, .. } => Some(size.span_range()),
        _ => None,
    })
}
