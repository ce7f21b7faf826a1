//! Checked model → Rust items.
//!
//! The generated code is data and calls: constant weight arrays, and for every method a straight
//! sequence of calls into `dropout-runtime` (one per layer) with the sizes fixed by the types.
//! Generated code names runtime items through `::dropout::__private`, never a bare crate name.

use std::fmt::Write as _;

use dropout_shared::Superscript;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt as _;

use crate::model::{Activation, DropoutKind, Layer, Model, Num, ParamValues, Prob, Scalar};

mod api;
mod impls;
mod int8;
mod layout;
mod passes;

use passes::Pass;

/// Whether to emit working code or, after errors, only the API's signatures.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Full,
    /// Signatures with unreachable bodies, so that the user's other code type-checks and the
    /// only errors shown are the declaration's own.
    Stub,
}

pub(crate) fn network(model: &Model, mode: Mode) -> TokenStream {
    let generator = Gen {
        model,
        mode,
        rt: quote!(::dropout::__private),
    };
    if let Some(int8) = &model.int8 {
        return generator.int8_network(int8);
    }
    let twin = model.twin.as_ref().map(|twin| {
        let twin_model = Model {
            // The twin has no declaration of its own to derive from.
            attrs: vec![syn::parse_quote!(#[derive(Clone, Debug, PartialEq)])],
            ident: twin.ident.clone(),
            tests: Vec::new(),
            auto_tests: false,
            files: Vec::new(),
            int8: Some(twin.int8.clone()),
            twin: None,
            ..model.clone()
        };
        network(&twin_model, mode)
    });
    let structs = generator.structs();
    let core_impl = generator.core_impl();
    let rand_impl = generator.rand_impl();
    let alloc_impl = generator.alloc_impl();
    let batch_impl = generator.batch_impl();
    let masks_impl = generator.masks_impl();
    let trait_impls = generator.trait_impls();
    let file_dependencies = generator.file_dependencies();
    let tests = if mode == Mode::Full {
        generator.tests()
    } else {
        TokenStream::new()
    };
    quote! {
        #structs
        #core_impl
        #rand_impl
        #alloc_impl
        #batch_impl
        #masks_impl
        #trait_impls
        #file_dependencies
        #tests
        #twin
    }
}

struct Gen<'a> {
    model: &'a Model,
    mode: Mode,
    rt: TokenStream,
}

impl Gen<'_> {
    fn scalar(&self) -> TokenStream {
        scalar_tokens(self.model.scalar, Span::call_site())
    }

    /// The declared scalar type: `f32`, `f64`, or `i8` for an int8 network (whose float view
    /// is `f32`).
    fn scalar_name(&self) -> &'static str {
        if self.model.int8.is_some() {
            "i8"
        } else {
            self.model.scalar.name()
        }
    }

    fn input_ty(&self) -> TokenStream {
        let (t, n) = (self.scalar(), size(self.model.n_inputs));
        quote!([#t; #n])
    }

    fn output_ty(&self) -> TokenStream {
        let (t, n) = (self.scalar(), size(self.model.n_outputs()));
        quote!([#t; #n])
    }

    /// A method body: `body` in full mode, an unreachable stub otherwise.
    fn body(&self, body: TokenStream) -> TokenStream {
        match self.mode {
            Mode::Full => body,
            Mode::Stub => quote!(::core::unreachable!()),
        }
    }

    fn structs(&self) -> TokenStream {
        let Model {
            attrs, vis, ident, ..
        } = self.model;
        let rt = &self.rt;
        let t = self.scalar();
        let summary = format!("Architecture: `{}`.", self.summary());
        let masks_struct = self.masks_struct();
        let layer_fields = self.model.layers.iter().map(|layer| {
            let Layer {
                name, fan_in, size, ..
            } = layer;
            let doc = format!(
                "Layer `{}`: {size} {} {} over {fan_in} {}.",
                label(name),
                layer.activation,
                if *size == 1 { "neuron" } else { "neurons" },
                if *fan_in == 1 { "input" } else { "inputs" },
            );
            let (fan_in, size) = (self::size(*fan_in), self::size(*size));
            quote!(#[doc = #doc] pub #name: #rt::Dense<#t, #fan_in, #size>,)
        });
        quote! {
            #(#attrs)*
            #[doc = ""]
            #[doc = #summary]
            #vis struct #ident {
                #(#layer_fields)*
            }

            #masks_struct
        }
    }

    /// The struct of one mask per dropout site (and per layer with DropConnect).
    fn masks_struct(&self) -> TokenStream {
        let Model { vis, ident, .. } = self.model;
        let t = self.scalar();
        let masks = self.model.masks_ident();
        let masks_doc = format!(
            "Dropout masks of [`{ident}`]: one bit per unit of each dropout site (a multiplier per unit of a Gaussian-dropout site){}, `true` keeps it.",
            if self.model.connections().next().is_some() {
                " and one per weight of each layer with DropConnect"
            } else {
                ""
            }
        );
        let site_fields = self.model.sites().into_iter().map(|site| {
            let field = site.field(ident.span());
            let size = site.size;
            let doc = match site.prob.kind {
                DropoutKind::Gaussian => format!(
                    "μ{}: the noise of the {size} units of `{}`, each drawn from N(1, σ²) with σ² = p/(1 − p), p = {:?} (Gaussian dropout).",
                    Superscript(site.depth),
                    label(&field),
                    site.prob.p,
                ),
                kind => format!(
                    "μ{}: the {size} units of `{}`, dropped with p = {:?}{}.",
                    Superscript(site.depth),
                    label(&field),
                    site.prob.p,
                    if kind == DropoutKind::Alpha {
                        " (alpha dropout)"
                    } else {
                        ""
                    }
                ),
            };
            let size = self::size(size);
            if site.prob.kind == DropoutKind::Gaussian {
                quote!(#[doc = #doc] pub #field: [#t; #size],)
            } else {
                quote!(#[doc = #doc] pub #field: [bool; #size],)
            }
        });
        let weight_fields = self.model.connections().map(|(_, layer, prob)| {
            let field = layer.connections_field();
            let doc = format!(
                "DropConnect on the weights of `{}`: `[neuron][input]`, each weight dropped with p = {:?}.",
                label(&layer.name),
                prob.p
            );
            let (fan_in, size) = (self::size(layer.fan_in), self::size(layer.size));
            quote!(#[doc = #doc] pub #field: [[bool; #fan_in]; #size],)
        });
        // Noise is floating point: masks with Gaussian sites are not `Eq` or `Hash`.
        let exact_derives = (!self.model.has_gaussian_sites())
            .then(|| quote!(#[derive(::core::cmp::Eq, ::core::hash::Hash)]));
        quote! {
            #[doc = #masks_doc]
            #[derive(Clone, Copy, Debug, PartialEq)]
            #exact_derives
            #vis struct #masks {
                #(#site_fields)*
                #(#weight_fields)*
            }
        }
    }

    /// `input 2 → dropout(p = 0) → dense 3 relu → …`.
    fn summary(&self) -> String {
        let model = self.model;
        let mut out = format!("input {}", model.n_inputs);
        // Writing into a String cannot fail.
        if let Some(prob) = model.input_dropout {
            let _ = write!(out, " → {}(p = {:?})", prob.keyword(), prob.p);
        }
        for layer in &model.layers {
            let _ = write!(
                out,
                " → {} {} {}",
                label(&layer.name),
                layer.size,
                layer.activation
            );
            if let Some(prob) = layer.dropconnect {
                let _ = write!(out, " {}(p = {:?})", prob.keyword(), prob.p);
            }
            if let Some(prob) = layer.dropout {
                let _ = write!(out, " → {}(p = {:?})", prob.keyword(), prob.p);
            }
        }
        format!(
            "{out}, {} ({} scaling)",
            self.scalar_name(),
            model.scaling.name()
        )
    }

    fn core_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let (n_inputs, n_outputs) = (size(model.n_inputs), size(model.n_outputs()));
        let (input_ty, output_ty) = (self.input_ty(), self.output_ty());
        let masks = model.masks_ident();
        let zero_fields = model.layers.iter().map(|layer| {
            let name = &layer.name;
            quote!(#name: #rt::Dense::zeros(),)
        });
        let zeros = self.body(quote!(Self { #(#zero_fields)* }));
        let zeros_boxed = self.body(quote!(#rt::boxed_zeroed()));
        let spec = self.spec();
        let sites = self.sites_const();
        let layer_consts = self.layer_consts();
        let new = self.new_fn();
        let forward = self.body(self.chain(Pass::Eval));
        let forward_masked = self.body(self.chain(Pass::Masked));
        quote! {
            impl #ident {
                /// The number of inputs.
                pub const N_INPUTS: usize = #n_inputs;
                /// The number of outputs.
                pub const N_OUTPUTS: usize = #n_outputs;
                /// The architecture as declared: sizes, activations, dropout sites and scaling.
                pub const SPEC: #rt::NetworkSpec = #spec;
                #sites
                #layer_consts
                #new

                /// Evaluation-mode forward pass: every dropout site applies its evaluation
                /// scaling (the identity under `inverted`, × keep probability under `classic`).
                #[inline]
                pub fn forward(&self, x: &#input_ty) -> #output_ty {
                    #forward
                }

                /// Training-mode forward pass under the given masks: each site multiplies its
                /// units by their mask bits (and by 1/keep under `inverted` scaling), and each
                /// layer with DropConnect its weights. Biases are never masked.
                #[inline]
                pub fn forward_masked(&self, x: &#input_ty, masks: &#masks) -> #output_ty {
                    #forward_masked
                }

                /// The network with every weight and bias zero, e.g. to load saved parameters
                /// into. The value passes through the stack: for a large network use
                /// `zeros_boxed`.
                #[must_use]
                pub const fn zeros() -> Self {
                    #zeros
                }
            }

            ::dropout::__if_alloc! {
                impl #ident {
                    /// The network with every weight and bias zero, built directly on the heap:
                    /// it needs no more stack than a small network, however large this one is.
                    #[must_use]
                    pub fn zeros_boxed() -> #rt::Box<Self> {
                        #zeros_boxed
                    }
                }
            }
        }
    }

    /// `let a1 = g(z1(x)); let a2 = g(z2(&a1)); … aN`: the steps of the model in `pass`
    /// (one sample or lanes), each layer from [`Pass::layer`].
    fn chain(&self, pass: Pass) -> TokenStream {
        let mut prev = quote!(x);
        let mut lines = Vec::new();
        for (idx, step) in self.model.steps().iter().enumerate() {
            let out = format_ident!("a{}", idx + 1);
            let activation = self.activation(step.layer.activation);
            let layer = pass.layer(step, &prev, &activation);
            lines.push(quote!(let #out = #layer;));
            prev = quote!(&#out);
        }
        let last = format_ident!("a{}", self.model.layers.len());
        if self.model.layers.is_empty() {
            quote!(*x)
        } else {
            quote!(#(#lines)* #last)
        }
    }

    fn activation(&self, activation: Activation) -> TokenStream {
        self::activation(&self.rt, activation)
    }

    fn scaling(&self) -> TokenStream {
        let rt = &self.rt;
        let variant = Ident::new(self.model.scaling.variant(), Span::call_site());
        quote!(#rt::Scaling::#variant)
    }

    fn dropout(&self, prob: Option<Prob>) -> TokenStream {
        match prob {
            Some(prob) => {
                let dropout = self.dropout_value(prob);
                quote!(::core::option::Option::Some(#dropout))
            }
            None => quote!(::core::option::Option::None),
        }
    }

    fn dropout_value(&self, prob: Prob) -> TokenStream {
        let rt = &self.rt;
        let p = proc_macro2::Literal::f64_suffixed(prob.p);
        let keep = proc_macro2::Literal::f64_suffixed(prob.keep);
        let kind = Ident::new(prob.kind.variant(), Span::call_site());
        quote!(#rt::DropoutKind::#kind.checked(#p, #keep))
    }

    fn spec(&self) -> TokenStream {
        let model = self.model;
        let rt = &self.rt;
        let name = model.ident.to_string();
        let visibility = visibility(&model.vis);
        let attributes: String = model
            .attrs
            .iter()
            .map(|attr| attribute_text(attr) + "\n")
            .collect();
        let scalar = self.scalar_name();
        let scaling = self.scaling();
        let n_inputs = size(model.n_inputs);
        let input_dropout = self.dropout(model.input_dropout);
        let layers = model.layers.iter().map(|layer| {
            let name = label(&layer.name);
            let (fan_in, size) = (size(layer.fan_in), size(layer.size));
            let activation = self.activation(layer.activation);
            let dropout = self.dropout(layer.dropout);
            let dropconnect = self.dropout(layer.dropconnect);
            let tensor = |name: Option<&String>| match name {
                Some(name) => quote!(::core::option::Option::Some(#name)),
                None => quote!(::core::option::Option::None),
            };
            let params = layer.params.as_ref();
            let weights_tensor = tensor(params.and_then(|p| p.weights_tensor.as_ref()));
            let bias_tensor = tensor(params.and_then(|p| p.bias_tensor.as_ref()));
            quote! {
                #rt::LayerSpec {
                    name: #name, fan_in: #fan_in, size: #size, activation: #activation, dropout: #dropout,
                    dropconnect: #dropconnect, weights_tensor: #weights_tensor, bias_tensor: #bias_tensor,
                }
            }
        });
        quote! {
            #rt::NetworkSpec {
                name: #name, visibility: #visibility, attributes: #attributes, scalar: #scalar,
                scaling: #scaling, n_inputs: #n_inputs,
                input_dropout: #input_dropout, layers: &[#(#layers),*],
            }
        }
    }

    fn sites_const(&self) -> TokenStream {
        if self.mode == Mode::Stub {
            return TokenStream::new();
        }
        let rt = &self.rt;
        let scaling = self.scaling();
        let sites = self.model.sites();
        let n = sites.len();
        let sites = sites.iter().map(|site| {
            let dropout = self.dropout_value(site.prob);
            quote!(#rt::Site::new(#scaling, #dropout))
        });
        let connections: Vec<TokenStream> = self
            .model
            .connections()
            .map(|(_, _, prob)| {
                let dropout = self.dropout_value(prob);
                quote!(#rt::Site::new(#scaling, #dropout))
            })
            .collect();
        let n_connections = connections.len();
        let connections = (n_connections > 0).then(|| {
            quote! {
                /// DropConnect of each layer that has it, in order.
                const __CONNECTIONS: [#rt::Site; #n_connections] = [#(#connections),*];
            }
        });
        quote! {
            /// The dropout sites μ⁰, μ¹, … in order.
            const __SITES: [#rt::Site; #n] = [#(#sites),*];
            #connections
        }
    }

    /// One `const` per layer with declared weights: the data lives in static memory, so even
    /// large declarations compile quickly.
    fn layer_consts(&self) -> TokenStream {
        if self.mode == Mode::Stub {
            return TokenStream::new();
        }
        let rt = &self.rt;
        let t = self.scalar();
        let consts = self
            .model
            .layers
            .iter()
            .enumerate()
            .filter_map(|(idx, layer)| {
                let params = layer.params.as_ref()?;
                let name = layer_const(idx);
                let (fan_in, size) = (layer.fan_in, layer.size);
                let value = match &params.values {
                    // Written out, a large layer's literals cost the compiler about 30 µs each
                    // (3.3 s for 784-128-10); as bytes, the checked values cost next to nothing.
                    ParamValues::Literal { weights, bias } if fan_in * size >= LITERAL_BYTES => {
                        let scalar = self.model.scalar;
                        let weights: Vec<u8> = weights
                            .iter()
                            .flatten()
                            .flat_map(|num| le_bytes(scalar, num.value))
                            .collect();
                        let bias: Vec<u8> = bias
                            .iter()
                            .flat_map(|num| le_bytes(scalar, num.value))
                            .collect();
                        self.layer_from_bytes(&weights, &bias, fan_in, size)
                    }
                    ParamValues::Literal { weights, bias } => {
                        let rows = weights.iter().map(|row| {
                            let values = row.iter().map(|num| self.number(*num));
                            quote!([#(#values),*])
                        });
                        let bias = bias.iter().map(|num| self.number(*num));
                        quote!(#rt::Dense::from_rows(&[#(#rows),*], &[#(#bias),*]))
                    }
                    // Embedded in the order the runtime stores them: evaluating the constant is one
                    // copy, where a million literals would take the compiler minutes.
                    ParamValues::Bytes { weights, bias } => {
                        self.layer_from_bytes(weights, bias, fan_in, size)
                    }
                };
                // The literals keep the user's spans; weights pasted from a trainer are long by nature.
                Some(quote! {
                    #[allow(clippy::unreadable_literal, clippy::excessive_precision)]
                    const #name: #rt::Dense<#t, #fan_in, #size> = #value;
                })
            });
        quote!(#(#consts)*)
    }

    /// A layer's constant from the little-endian bytes of its weights (one row per neuron) and
    /// biases, embedded in the order the runtime stores them.
    fn layer_from_bytes(
        &self,
        weights: &[u8],
        bias: &[u8],
        fan_in: usize,
        size: usize,
    ) -> TokenStream {
        let rt = &self.rt;
        let width = self.model.scalar.width();
        let weights = layout::storage_order(weights, fan_in, size, width);
        let weights = proc_macro2::Literal::byte_string(&weights);
        let bias = proc_macro2::Literal::byte_string(bias);
        let panel = dropout_shared::layout::PANEL;
        let from_bytes = match self.model.scalar {
            Scalar::F32 => quote!(f32_layer_from_bytes),
            Scalar::F64 => quote!(f64_layer_from_bytes),
        };
        quote!(#rt::#from_bytes::<#fan_in, #size>(#weights, #bias, #panel))
    }

    /// Every file read makes the crate depend on it: editing one recompiles and re-checks.
    fn file_dependencies(&self) -> TokenStream {
        let files = self.model.files.iter().map(|path| {
            let path = path.to_string_lossy();
            quote!(
                const _: &[u8] = ::core::include_bytes!(#path);
            )
        });
        quote!(#(#files)*)
    }

    fn number(&self, num: Num) -> TokenStream {
        literal(self.model.scalar, num.value, num.span)
    }

    fn new_fn(&self) -> TokenStream {
        if self.mode == Mode::Full && !self.model.all_weights_declared() {
            return TokenStream::new();
        }
        let fields = self.model.layers.iter().enumerate().map(|(idx, layer)| {
            let (name, value) = (&layer.name, layer_const(idx));
            quote!(#name: Self::#value,)
        });
        let body = self.body(quote!(Self { #(#fields)* }));
        quote! {
            /// The network with the weights and biases written in its declaration. Evaluated at
            /// compile time: `static NET: Net = Net::new();` puts a large network in static memory.
            #[must_use]
            pub const fn new() -> Self {
                #body
            }
        }
    }
}

/// An attribute as source text: a doc comment as `/// …`, anything else as `#[…]` with the
/// spacing a person writes (`#[derive(Debug, Clone)]`, not the token stream's
/// `# [derive (Debug , Clone)]`).
fn attribute_text(attr: &syn::Attribute) -> String {
    if let syn::Meta::NameValue(meta) = &attr.meta
        && meta.path.is_ident("doc")
        && let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &meta.value
    {
        return text
            .value()
            .lines()
            .map(|line| format!("///{line}"))
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut text = quote!(#attr).to_string();
    for (spaced, tight) in [
        (" ,", ","),
        (" )", ")"),
        (" ]", "]"),
        ("( ", "("),
        ("[ ", "["),
        (" (", "("),
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        ("# ", "#"),
        (" = ", " = "),
    ] {
        text = text.replace(spaced, tight);
    }
    text
}

/// The visibility as written in source: `pub`, `pub(crate)`, `pub(in crate::a)` or nothing.
fn visibility(vis: &syn::Visibility) -> String {
    match vis {
        syn::Visibility::Public(_) => "pub".to_owned(),
        syn::Visibility::Restricted(restricted) => {
            let path: Vec<String> = restricted
                .path
                .segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect();
            let leading = if restricted.path.leading_colon.is_some() {
                "::"
            } else {
                ""
            };
            let within = if restricted.in_token.is_some() {
                "in "
            } else {
                ""
            };
            format!("pub({within}{leading}{})", path.join("::"))
        }
        syn::Visibility::Inherited => String::new(),
    }
}

/// A size as a plain literal, so that the generated items' documentation reads `[f32; 2]`, not
/// `[f32; 2usize]`.
fn size(n: usize) -> proc_macro2::Literal {
    proc_macro2::Literal::usize_unsuffixed(n)
}

fn layer_const(idx: usize) -> Ident {
    format_ident!("__LAYER_{}", idx)
}

/// An identifier as the user reads it (without `r#`).
fn label(ident: &Ident) -> String {
    ident.unraw().to_string()
}

/// The scalar type as tokens.
fn scalar_tokens(scalar: Scalar, span: Span) -> TokenStream {
    match scalar {
        Scalar::F32 => quote_spanned!(span=> f32),
        Scalar::F64 => quote_spanned!(span=> f64),
    }
}

/// Layers of at least this many weights declared as literals are embedded as bytes, as
/// weights from files are; smaller ones are written out as the literals they were declared as,
/// with their spans.
const LITERAL_BYTES: usize = 1024;

/// `value`, already rounded to `scalar`, as that type's little-endian bytes.
fn le_bytes(scalar: Scalar, value: f64) -> Vec<u8> {
    match scalar {
        // Exact: a checked value is an `f32` already.
        #[expect(clippy::cast_possible_truncation, reason = "the value is an f32")]
        Scalar::F32 => (value as f32).to_le_bytes().to_vec(),
        Scalar::F64 => value.to_le_bytes().to_vec(),
    }
}

/// A suffixed literal that denotes exactly `value` (already rounded to `scalar`).
fn literal(scalar: Scalar, value: f64, span: Span) -> TokenStream {
    let mut literal = match scalar {
        Scalar::F32 => proc_macro2::Literal::f32_suffixed(value.abs() as f32),
        Scalar::F64 => proc_macro2::Literal::f64_suffixed(value.abs()),
    };
    literal.set_span(span);
    if value.is_sign_negative() {
        quote_spanned!(span=> -#literal)
    } else {
        quote_spanned!(span=> #literal)
    }
}

/// `MnistNet` → `mnist_net`.
fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (idx, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if idx > 0 && !out.ends_with('_') {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `Activation::Elu(1.0)`: the runtime's value of `activation`.
fn activation(rt: &TokenStream, activation: Activation) -> TokenStream {
    let variant = Ident::new(activation.variant(), Span::call_site());
    match activation.parameter_value() {
        Some(value) => {
            let value = proc_macro2::Literal::f64_suffixed(value);
            quote!(#rt::Activation::#variant(#value))
        }
        None => quote!(#rt::Activation::#variant),
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_of_struct_names() {
        assert_eq!(snake_case("Toy"), "toy");
        assert_eq!(snake_case("MnistNet"), "mnist_net");
        assert_eq!(snake_case("My_Net"), "my_net");
    }
}
