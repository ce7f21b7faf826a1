//! The syntax tree of a `network!` declaration and its parser.
//!
//! Parsing checks syntax only: which keys exist, whether sizes fit and whether numbers are in
//! range is the checker's business. Every node keeps the user's tokens so that errors can point
//! at them. A syntax error inside one item is recorded and parsing resumes at the next top-level
//! comma, so a declaration with several mistakes reports all of them in one build.

use dropout_shared::DropoutKind;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::ext::IdentExt as _;
use syn::parse::{ParseStream, Parser as _};
use syn::{Attribute, Ident, LitFloat, LitInt, LitStr, Token, Visibility, token};

use crate::errors::{Errors, SpanRange};

/// `#[attrs] vis struct Name<scalar> { items }`.
pub(crate) struct Declaration {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    /// The token between `<` and `>`: `f32` or `f64` if the declaration is valid.
    pub scalar: Option<TokenTree>,
    /// The span of the whole `{ … }` body.
    pub body_span: Span,
    pub items: Vec<Item>,
}

/// One comma-separated entry of the body.
pub(crate) enum Item {
    /// `scaling: classic`
    Scaling { key: Ident, value: Ident },
    /// `input: 2`
    Input { key: Ident, size: Size },
    /// `dropout(p = 0.5)`, `alpha_dropout(p = 0.1)` or `gaussian_dropout(p = 0.2)`
    Dropout(DropoutSpec),
    /// `[name:] dense 3 relu [dropconnect(p = …)] [{ weights: …, bias: … }]`
    Dense(Box<DenseSpec>),
    /// `test name { input: …, masks: …, expect: … }`
    Test(TestBlock),
    /// `tests: auto`
    Tests { key: Ident, value: Ident },
    /// `from: tflite("model.tflite")`: where an imported network's parameters come from.
    From { key: Ident, value: Value },
    /// `rounding: single`: how an int8 network requantizes.
    Rounding { key: Ident, value: Ident },
    /// `quantize: int8 as Twin`: an int8 twin of a float network.
    Quantize {
        key: Ident,
        format: Ident,
        name: Ident,
    },
    /// `calibrate: file("rows.safetensors", "x")`: the twin's calibration rows.
    Calibrate { key: Ident, value: Value },
    /// An item whose syntax error has been recorded; `kind` is what it was meant to be.
    Invalid(ItemKind),
}

/// The kind of an item, known from its first tokens even when the rest does not parse.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ItemKind {
    Scaling,
    Input,
    Dropout,
    Dense,
    Test,
    Tests,
    From,
    Rounding,
    Quantize,
    Calibrate,
    Unknown,
}

impl Item {
    /// What the item is, whether it parsed or not.
    pub fn kind(&self) -> ItemKind {
        match self {
            Item::Scaling { .. } => ItemKind::Scaling,
            Item::Input { .. } => ItemKind::Input,
            Item::Dropout(_) => ItemKind::Dropout,
            Item::Dense(_) => ItemKind::Dense,
            Item::Test(_) => ItemKind::Test,
            Item::Tests { .. } => ItemKind::Tests,
            Item::From { .. } => ItemKind::From,
            Item::Rounding { .. } => ItemKind::Rounding,
            Item::Quantize { .. } => ItemKind::Quantize,
            Item::Calibrate { .. } => ItemKind::Calibrate,
            Item::Invalid(kind) => *kind,
        }
    }
}

/// A size as written: an integer literal, with a minus sign kept apart so that an error can
/// underline `-2` whole (syn's `LitInt` would keep only the sign's span).
pub(crate) struct Size {
    pub minus: Option<Token![-]>,
    pub lit: LitInt,
}

impl Size {
    /// The tokens of the size, sign included.
    pub fn span_range(&self) -> SpanRange {
        join_spans(self.minus.as_ref().map(|m| m.span), self.lit.span())
    }
}

pub(crate) struct DropoutSpec {
    pub keyword: Ident,
    /// The span of `( … )`.
    pub paren: Span,
    pub args: Vec<DropoutArg>,
}

/// `p = 0.5`, `keep = 0.8`, or a bare value (a mistake the checker explains).
pub(crate) struct DropoutArg {
    pub key: Option<Ident>,
    pub value: Value,
}

pub(crate) struct DenseSpec {
    pub name: Option<Ident>,
    pub kind: Ident,
    pub size: Size,
    pub activation: ActivationSpec,
    /// `dropconnect(p = …)` after the activation.
    pub dropconnect: Option<DropoutSpec>,
    pub body: Option<Body>,
}

/// `relu`, `leaky_relu(0.01)` or `elu(1.0)`.
pub(crate) struct ActivationSpec {
    pub ident: Ident,
    /// The span of `( … )` and the values inside, if parentheses were written.
    pub args: Option<(Span, Vec<Value>)>,
}

/// `{ key: value, … }`.
pub(crate) struct Body {
    pub span: Span,
    pub fields: Vec<Field>,
}

pub(crate) struct Field {
    pub key: Ident,
    pub value: Value,
}

pub(crate) struct TestBlock {
    pub keyword: Ident,
    pub name: Ident,
    pub body: Body,
}

/// A value in a field: a number, a list, a word (`true`), a string, or a call (`file("…")`).
pub(crate) enum Value {
    Number(Number),
    List(List),
    Ident(Ident),
    Str(LitStr),
    Call(Call),
    /// A value whose syntax error has been recorded.
    Invalid,
}

/// An integer or float literal with an optional leading minus sign.
pub(crate) struct Number {
    pub minus: Option<Token![-]>,
    pub lit: NumberLit,
}

pub(crate) enum NumberLit {
    Int(LitInt),
    Float(LitFloat),
}

/// `[ value, … ]`.
pub(crate) struct List {
    pub span: Span,
    pub items: Vec<Value>,
}

/// `name(value, …)`, such as `file("model.safetensors", "0.weight")`.
pub(crate) struct Call {
    pub func: Ident,
    /// The span of `( … )`.
    pub span: Span,
    pub args: Vec<Value>,
}

impl Call {
    /// The tokens of the call, from the name to the closing parenthesis.
    pub fn span_range(&self) -> SpanRange {
        join_spans(Some(self.func.span()), self.span)
    }
}

impl Number {
    /// The literal's digits (no suffix, no underscores) with the sign.
    pub fn text(&self) -> String {
        let digits = match &self.lit {
            NumberLit::Int(lit) => lit.base10_digits(),
            NumberLit::Float(lit) => lit.base10_digits(),
        };
        if self.minus.is_some() {
            format!("-{digits}")
        } else {
            digits.to_owned()
        }
    }

    pub fn suffix(&self) -> &str {
        match &self.lit {
            NumberLit::Int(lit) => lit.suffix(),
            NumberLit::Float(lit) => lit.suffix(),
        }
    }
}

impl ToTokens for Number {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.minus.to_tokens(tokens);
        match &self.lit {
            NumberLit::Int(lit) => lit.to_tokens(tokens),
            NumberLit::Float(lit) => lit.to_tokens(tokens),
        }
    }
}

impl Value {
    /// The span covering the whole value, for error messages.
    pub fn span(&self) -> Option<SpanRange> {
        match self {
            Value::Number(n) => Some(join_spans(
                n.minus.as_ref().map(|m| m.span),
                lit_span(&n.lit),
            )),
            Value::List(list) => Some(list.span.into()),
            Value::Ident(ident) => Some(ident.span().into()),
            Value::Str(lit) => Some(lit.span().into()),
            Value::Call(call) => Some(call.span_range()),
            Value::Invalid => None,
        }
    }

    /// A short description of the value's kind, for "expected …, found …" messages.
    pub fn describe(&self) -> String {
        match self {
            Value::Number(n) => format!("`{}`", n.text()),
            Value::List(_) => "a list".to_owned(),
            Value::Ident(ident) => format!("`{ident}`"),
            Value::Str(_) => "a string".to_owned(),
            Value::Call(call) => format!("`{}(…)`", call.func),
            Value::Invalid => "an invalid value".to_owned(),
        }
    }
}

fn lit_span(lit: &NumberLit) -> Span {
    match lit {
        NumberLit::Int(lit) => lit.span(),
        NumberLit::Float(lit) => lit.span(),
    }
}

/// The tokens from `first` (if any) to `last`.
pub(crate) fn join_spans(first: Option<Span>, last: Span) -> SpanRange {
    SpanRange {
        first: first.unwrap_or(last),
        last,
    }
}

/// Parses a whole declaration. Returns `None` only if the header (`struct Name`) is unreadable;
/// every other syntax error is recorded in `errors` and the item is kept as [`Item::Invalid`].
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> Option<Declaration> {
    let parser = |input: ParseStream| parse_declaration(input, errors);
    match parser.parse2(tokens) {
        Ok(decl) => Some(decl),
        Err(err) => {
            errors.push(err);
            None
        }
    }
}

fn parse_declaration(input: ParseStream, errors: &mut Errors) -> syn::Result<Declaration> {
    let attrs = input.call(Attribute::parse_outer)?;
    let vis: Visibility = input.parse()?;
    if !input.peek(Token![struct]) {
        return Err(
            input.error("expected `struct Name { … }`: a network is declared like a struct")
        );
    }
    input.parse::<Token![struct]>()?;
    let ident: Ident = input
        .parse()
        .map_err(|_| input.error("expected the network's name after `struct`"))?;
    let scalar = if input.peek(Token![<]) {
        input.parse::<Token![<]>()?;
        let scalar: TokenTree = input
            .parse()
            .map_err(|_| input.error("expected `f32` or `f64`"))?;
        if !input.peek(Token![>]) {
            return Err(input.error("expected `>`: the scalar type is one word, `f32` or `f64`"));
        }
        input.parse::<Token![>]>()?;
        Some(scalar)
    } else {
        None
    };
    if !input.peek(token::Brace) {
        return Err(input.error("expected `{` and the network's layers after its name"));
    }
    let content;
    let brace = syn::braced!(content in input);
    let items = parse_items(&content, errors);
    if !input.is_empty() {
        let rest: TokenStream = input.parse()?;
        errors.push(syn::Error::new_spanned(
            rest,
            "unexpected tokens after the network's body",
        ));
    }
    Ok(Declaration {
        attrs,
        vis,
        ident,
        scalar,
        body_span: brace.span.join(),
        items,
    })
}

fn parse_items(input: ParseStream, errors: &mut Errors) -> Vec<Item> {
    let mut items = Vec::new();
    while !input.is_empty() {
        let kind = classify(input);
        let item = match parse_item(input, kind, errors) {
            Ok(item) => item,
            Err(err) => {
                errors.push(err);
                skip_to_comma(input);
                Item::Invalid(kind)
            }
        };
        let ends_with_brace = matches!(&item, Item::Test(_))
            || matches!(&item, Item::Dense(dense) if dense.body.is_some());
        items.push(item);
        if input.peek(Token![,]) {
            // Cannot fail: just peeked.
            let _ = input.parse::<Token![,]>();
        } else if !input.is_empty() && !ends_with_brace {
            // Carry on as if the comma were there: the next tokens usually start an item.
            errors.push(input.error("expected `,` between items"));
        }
    }
    items
}

/// What the item at the cursor is meant to be, judged from its first tokens.
fn classify(input: ParseStream) -> ItemKind {
    let Ok(lead) = input.fork().call(Ident::parse_any) else {
        return ItemKind::Unknown;
    };
    match lead.to_string().as_str() {
        "scaling" if input.peek2(Token![:]) => ItemKind::Scaling,
        "rounding" if input.peek2(Token![:]) => ItemKind::Rounding,
        "from" if input.peek2(Token![:]) => ItemKind::From,
        "quantize" if input.peek2(Token![:]) => ItemKind::Quantize,
        "calibrate" if input.peek2(Token![:]) => ItemKind::Calibrate,
        // `input: dense …` is a layer named `input`, which the checker refuses with a reason.
        "input" if input.peek2(Token![:]) && !input.peek3(Ident) => ItemKind::Input,
        keyword
            if DropoutKind::from_keyword(keyword).is_some_and(|kind| !kind.on_weights())
                && !input.peek2(LitInt) =>
        {
            ItemKind::Dropout
        }
        "test" if input.peek2(Ident) || input.peek2(token::Brace) => ItemKind::Test,
        "tests" if input.peek2(Token![:]) && !input.peek3(token::Brace) => ItemKind::Tests,
        _ if input.peek2(Token![:]) || input.peek2(LitInt) || input.peek2(LitFloat) => {
            ItemKind::Dense
        }
        _ => ItemKind::Unknown,
    }
}

fn parse_item(input: ParseStream, kind: ItemKind, errors: &mut Errors) -> syn::Result<Item> {
    const EXPECTED_ITEM: &str = "expected `input: N`, a layer such as `dense 3 relu`, `dropout(p = …)`, `alpha_dropout(p = …)`, `gaussian_dropout(p = …)`, `scaling: …` or `test name { … }`";
    match kind {
        ItemKind::Scaling => {
            let (key, value) = parse_setting(input, "`inverted` or `classic`")?;
            Ok(Item::Scaling { key, value })
        }
        ItemKind::Input => {
            let key = input.call(Ident::parse_any)?;
            input.parse::<Token![:]>()?;
            if input.peek(Ident) && input.peek2(LitInt) {
                return Err(
                    input.error("`input` names the network's input; choose another layer name")
                );
            }
            let size = parse_size(input, "expected the number of inputs, e.g. `input: 2`")?;
            Ok(Item::Input { key, size })
        }
        ItemKind::Dropout if input.peek2(token::Paren) => {
            Ok(Item::Dropout(parse_dropout(input, errors)?))
        }
        ItemKind::Dropout => {
            let keyword = input.fork().call(Ident::parse_any)?;
            Err(input.error(format!(
                "expected `(` after `{keyword}`, e.g. `{keyword}(p = 0.5)`"
            )))
        }
        ItemKind::Tests => {
            let (key, value) = parse_setting(input, "`auto`")?;
            Ok(Item::Tests { key, value })
        }
        ItemKind::Rounding | ItemKind::Quantize | ItemKind::Calibrate | ItemKind::From => {
            parse_int8_item(input, kind, errors)
        }
        ItemKind::Test => {
            let keyword = input.call(Ident::parse_any)?;
            // A strict parse: the name becomes a function name, so keywords are refused.
            let name: Ident = input.parse().map_err(|_| {
                input.error("expected a test name after `test`, e.g. `test article { … }`")
            })?;
            let body = parse_body(input, errors)?;
            Ok(Item::Test(TestBlock {
                keyword,
                name,
                body,
            }))
        }
        ItemKind::Dense if input.peek2(Token![:]) => {
            // A strict parse: the name becomes a field name, so keywords are refused.
            let name: Ident = input.parse()?;
            input.parse::<Token![:]>()?;
            if input.peek(LitInt) {
                return Err(input.error(format!(
                    "expected a layer kind before the size, e.g. `{name}: dense 3 relu`"
                )));
            }
            let mut dense = parse_dense(input, errors)?;
            dense.name = Some(name);
            Ok(Item::Dense(Box::new(dense)))
        }
        ItemKind::Dense => Ok(Item::Dense(Box::new(parse_dense(input, errors)?))),
        ItemKind::Unknown
            if input.peek2(token::Paren)
                && input
                    .fork()
                    .call(Ident::parse_any)
                    .is_ok_and(|keyword| {
                        DropoutKind::from_keyword(&keyword.to_string())
                            .is_some_and(DropoutKind::on_weights)
                    }) =>
        {
            Err(input.error(
                "`dropconnect(…)` masks the weights of one layer: write it on the layer, after its activation, e.g. `dense 3 relu dropconnect(p = 0.5)`",
            ))
        }
        ItemKind::Unknown => Err(input.error(EXPECTED_ITEM)),
    }
}

/// The items of int8 networks and twins: `rounding`, `quantize`, `calibrate`, `from`.
fn parse_int8_item(input: ParseStream, kind: ItemKind, errors: &mut Errors) -> syn::Result<Item> {
    match kind {
        ItemKind::Rounding => {
            let (key, value) = parse_setting(input, "`double` or `single`")?;
            Ok(Item::Rounding { key, value })
        }
        ItemKind::Quantize => {
            let (key, format) = parse_setting(input, "`int8 as Name`")?;
            if !input.peek(Token![as]) {
                return Err(input.error(format!(
                    "expected `as` and the twin's name, e.g. `{key}: {format} as NetI8`"
                )));
            }
            input.parse::<Token![as]>()?;
            // A strict parse: the name becomes a struct name.
            let name: Ident = input
                .parse()
                .map_err(|_| input.error("expected the twin's name after `as`, e.g. `NetI8`"))?;
            Ok(Item::Quantize { key, format, name })
        }
        ItemKind::Calibrate => {
            let key = input.call(Ident::parse_any)?;
            input.parse::<Token![:]>()?;
            if input.is_empty() || input.peek(Token![,]) {
                return Err(input.error(
                    "expected the calibration rows after `calibrate:`, e.g. `calibrate: file(\"rows.safetensors\", \"x\")`",
                ));
            }
            let value = parse_value(input, errors);
            Ok(Item::Calibrate { key, value })
        }
        ItemKind::From => {
            let key = input.call(Ident::parse_any)?;
            input.parse::<Token![:]>()?;
            if input.is_empty() || input.peek(Token![,]) {
                return Err(input.error(
                    "expected where the network comes from after `from:`, e.g. `from: onnx(\"model.onnx\")` or (over `i8`) `from: tflite(\"model.tflite\")`",
                ));
            }
            let value = parse_value(input, errors);
            Ok(Item::From { key, value })
        }
        _ => Err(input.error("expected `rounding`, `quantize`, `calibrate` or `from`")),
    }
}

/// A size: an integer literal, perhaps with a minus sign (which the checker refuses with the
/// whole number underlined). A float is refused here, at the float.
fn parse_size(input: ParseStream, expected: &str) -> syn::Result<Size> {
    let minus: Option<Token![-]> = input.parse()?;
    if input.peek(LitFloat) {
        let float: LitFloat = input.parse()?;
        let range = join_spans(minus.as_ref().map(|m| m.span), float.span());
        let sign = if minus.is_some() { "-" } else { "" };
        return Err(syn::Error::new_spanned(
            range,
            format!("a size is a positive integer, found `{sign}{float}`"),
        ));
    }
    let lit: LitInt = input.parse().map_err(|_| input.error(expected))?;
    Ok(Size { minus, lit })
}

/// `key: word`, where `expected` says which words fit.
fn parse_setting(input: ParseStream, expected: &str) -> syn::Result<(Ident, Ident)> {
    let key = input.call(Ident::parse_any)?;
    input.parse::<Token![:]>()?;
    let value = input
        .call(Ident::parse_any)
        .map_err(|_| input.error(format!("expected {expected} after `{key}:`")))?;
    Ok((key, value))
}

fn parse_dropout(input: ParseStream, errors: &mut Errors) -> syn::Result<DropoutSpec> {
    let keyword = input.call(Ident::parse_any)?;
    let content;
    let paren = syn::parenthesized!(content in input);
    let args = comma_separated(&content, errors, |content, errors| {
        let key = if content.peek(Ident) && content.peek2(Token![=]) {
            let key = content.call(Ident::parse_any)?;
            content.parse::<Token![=]>()?;
            Some(key)
        } else {
            None
        };
        let value = parse_value(content, errors);
        Ok(DropoutArg { key, value })
    });
    Ok(DropoutSpec {
        keyword,
        paren: paren.span.join(),
        args,
    })
}

fn parse_dense(input: ParseStream, errors: &mut Errors) -> syn::Result<DenseSpec> {
    let kind = input.call(Ident::parse_any)?;
    let size = parse_size(
        input,
        &format!("expected the layer size (its number of neurons) after `{kind}`"),
    )?;
    if !input.peek(Ident::peek_any) {
        return Err(input.error(format!(
            "expected an activation after the layer size: {}",
            dropout_shared::Activation::list()
        )));
    }
    let ident = input.call(Ident::parse_any)?;
    let args = if input.peek(token::Paren) {
        let content;
        let paren = syn::parenthesized!(content in input);
        Some((paren.span.join(), values(&content, errors)))
    } else {
        None
    };
    let dropconnect = if input.peek(Ident::peek_any) && input.peek2(token::Paren) {
        let keyword = input.fork().call(Ident::parse_any)?;
        if DropoutKind::from_keyword(&keyword.to_string()) != Some(DropoutKind::Connect) {
            return Err(syn::Error::new(
                keyword.span(),
                format!(
                    "expected `dropconnect(p = …)`, `{{`, `,` or the end of the network after the layer's activation, found `{keyword}`"
                ),
            ));
        }
        Some(parse_dropout(input, errors)?)
    } else {
        None
    };
    let body = if input.peek(token::Brace) {
        Some(parse_body(input, errors)?)
    } else {
        None
    };
    if !input.is_empty() && !input.peek(Token![,]) {
        let expected = if dropconnect.is_some() {
            "expected `{`, `,` or the end of the network after `dropconnect(…)`"
        } else {
            "expected `dropconnect(p = …)`, `{`, `,` or the end of the network after the layer's activation"
        };
        return Err(input.error(expected));
    }
    Ok(DenseSpec {
        name: None,
        kind,
        size,
        activation: ActivationSpec { ident, args },
        dropconnect,
        body,
    })
}

fn parse_body(input: ParseStream, errors: &mut Errors) -> syn::Result<Body> {
    let content;
    let brace = syn::braced!(content in input);
    let fields = comma_separated(&content, errors, parse_field);
    Ok(Body {
        span: brace.span.join(),
        fields,
    })
}

fn parse_field(input: ParseStream, errors: &mut Errors) -> syn::Result<Field> {
    let key = input
        .call(Ident::parse_any)
        .map_err(|_| input.error("expected a key such as `weights:`"))?;
    if !input.peek(Token![:]) {
        return Err(syn::Error::new(
            key.span(),
            format!("expected `:` after `{key}`"),
        ));
    }
    input.parse::<Token![:]>()?;
    let value = parse_value(input, errors);
    Ok(Field { key, value })
}

/// Parses one value; on a syntax error records it, skips to the next comma and returns
/// [`Value::Invalid`].
fn parse_value(input: ParseStream, errors: &mut Errors) -> Value {
    match try_parse_value(input, errors) {
        Ok(value) => value,
        Err(err) => {
            errors.push(err);
            skip_to_comma(input);
            Value::Invalid
        }
    }
}

fn try_parse_value(input: ParseStream, errors: &mut Errors) -> syn::Result<Value> {
    if input.peek(Token![-]) || input.peek(LitInt) || input.peek(LitFloat) {
        let minus: Option<Token![-]> = input.parse()?;
        let lit = if input.peek(LitInt) {
            NumberLit::Int(input.parse()?)
        } else if input.peek(LitFloat) {
            NumberLit::Float(input.parse()?)
        } else {
            return Err(input.error("expected a number after `-`"));
        };
        Ok(Value::Number(Number { minus, lit }))
    } else if input.peek(token::Bracket) {
        let content;
        let bracket = syn::bracketed!(content in input);
        Ok(Value::List(List {
            span: bracket.span.join(),
            items: values(&content, errors),
        }))
    } else if input.peek(LitStr) {
        Ok(Value::Str(input.parse()?))
    } else if input.peek(Ident::peek_any) && input.peek2(token::Paren) {
        let func = input.call(Ident::parse_any)?;
        let content;
        let paren = syn::parenthesized!(content in input);
        Ok(Value::Call(Call {
            func,
            span: paren.span.join(),
            args: values(&content, errors),
        }))
    } else if input.peek(Ident::peek_any) {
        Ok(Value::Ident(input.call(Ident::parse_any)?))
    } else if input.is_empty() {
        Err(input.error("expected a value"))
    } else {
        let found: TokenTree = input.parse()?;
        Err(syn::Error::new(
            found.span(),
            format!("expected a number or a `[…]` list, found `{found}`"),
        ))
    }
}

/// The comma-separated elements of a delimited group (`[…]`, `(…)`, `{…}`), each parsed by
/// `element`. An element with a syntax error is recorded and skipped up to the next comma, and a
/// missing comma is recorded and assumed, so that one mistake does not hide the rest.
fn comma_separated<T>(
    content: ParseStream,
    errors: &mut Errors,
    mut element: impl FnMut(ParseStream, &mut Errors) -> syn::Result<T>,
) -> Vec<T> {
    let mut elements = Vec::new();
    while !content.is_empty() {
        match element(content, errors) {
            Ok(parsed) => elements.push(parsed),
            Err(err) => {
                errors.push(err);
                skip_to_comma(content);
            }
        }
        expect_comma_or_end(content, errors);
    }
    elements
}

/// `value, value, …` inside a delimited group.
fn values(content: ParseStream, errors: &mut Errors) -> Vec<Value> {
    comma_separated(content, errors, |content, errors| {
        Ok(parse_value(content, errors))
    })
}

/// After a list element or field: consumes a comma, accepts the end, or records a missing
/// comma and carries on as if it were there (the next tokens usually start the next element).
fn expect_comma_or_end(input: ParseStream, errors: &mut Errors) {
    if input.is_empty() {
        return;
    }
    if input.peek(Token![,]) {
        let _ = input.parse::<Token![,]>();
        return;
    }
    errors.push(input.error("expected `,`"));
}

/// Skips token trees up to (not including) the next comma at this nesting level.
fn skip_to_comma(input: ParseStream) {
    let _ = input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((tree, next)) = rest.token_tree() {
            if matches!(&tree, TokenTree::Punct(p) if p.as_char() == ',') {
                break;
            }
            rest = next;
        }
        Ok(((), rest))
    });
}
