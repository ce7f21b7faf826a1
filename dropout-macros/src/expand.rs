//! Checked model → Rust items.
//!
//! The generated code is data and calls: constant weight arrays, and for every method a straight
//! sequence of calls into `dropout-runtime` (one per layer) with the sizes fixed by the types.
//! Generated code names runtime items through `::dropout::__private`, never a bare crate name.

use std::fmt::Write as _;

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;

use crate::check::superscript;
use crate::model::{Activation, Layer, Model, Num, Prob, Scaling, TestCase};

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
    let structs = generator.structs();
    let core_impl = generator.core_impl();
    let rand_impl = generator.rand_impl();
    let alloc_impl = generator.alloc_impl();
    let batch_impl = generator.batch_impl();
    let masks_impl = generator.masks_impl();
    let trait_impls = generator.trait_impls();
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
        #tests
    }
}

struct Gen<'a> {
    model: &'a Model,
    mode: Mode,
    rt: TokenStream,
}

impl Gen<'_> {
    fn scalar(&self) -> TokenStream {
        self.model.scalar.tokens(Span::call_site())
    }

    fn input_ty(&self) -> TokenStream {
        let (t, n) = (self.scalar(), self.model.n_inputs);
        quote!([#t; #n])
    }

    fn output_ty(&self) -> TokenStream {
        let (t, n) = (self.scalar(), self.model.n_outputs());
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
        let masks = self.model.masks_ident();
        let summary = format!("Architecture: `{}`.", self.summary());
        let layer_fields = self.model.layers.iter().map(|layer| {
            let Layer {
                name, fan_in, size, ..
            } = layer;
            let doc = format!(
                "Layer `{}`: {size} {} {} over {fan_in} {}.",
                label(name),
                activation_name(layer.activation),
                if *size == 1 { "neuron" } else { "neurons" },
                if *fan_in == 1 { "input" } else { "inputs" },
            );
            quote!(#[doc = #doc] pub #name: #rt::Dense<#t, #fan_in, #size>,)
        });
        let masks_doc = format!(
            "Dropout masks of [`{ident}`]: one bit per unit of each dropout site, `true` keeps the unit."
        );
        let site_fields = self.model.sites().into_iter().map(|site| {
            let field = site.field(ident.span());
            let size = site.size;
            let doc = format!(
                "μ{}: the {size} units of `{}`, dropped with p = {:?}.",
                superscript(site.depth),
                label(&field),
                site.prob.p
            );
            quote!(#[doc = #doc] pub #field: [bool; #size],)
        });
        quote! {
            #(#attrs)*
            #[doc = ""]
            #[doc = #summary]
            #vis struct #ident {
                #(#layer_fields)*
            }

            #[doc = #masks_doc]
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
            #vis struct #masks {
                #(#site_fields)*
            }
        }
    }

    /// `input 2 → dropout(p = 0) → dense 3 relu → …`.
    fn summary(&self) -> String {
        let model = self.model;
        let mut out = format!("input {}", model.n_inputs);
        // Writing into a String cannot fail.
        if let Some(prob) = model.input_dropout {
            let _ = write!(out, " → dropout(p = {:?})", prob.p);
        }
        for layer in &model.layers {
            let _ = write!(
                out,
                " → {} {} {}",
                label(&layer.name),
                layer.size,
                activation_name(layer.activation)
            );
            if let Some(prob) = layer.dropout {
                let _ = write!(out, " → dropout(p = {:?})", prob.p);
            }
        }
        let scaling = match model.scaling {
            Scaling::Inverted => "inverted",
            Scaling::Classic => "classic",
        };
        format!("{out}, {} ({scaling} scaling)", model.scalar.name())
    }

    fn core_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let (n_inputs, n_outputs) = (model.n_inputs, model.n_outputs());
        let (input_ty, output_ty) = (self.input_ty(), self.output_ty());
        let masks = model.masks_ident();
        let spec = self.spec();
        let sites = self.sites_const();
        let layer_consts = self.layer_consts();
        let new = self.new_fn();
        let forward = self.body(self.chain(&quote!(x), |idx, layer, prev| {
            let name = &layer.name;
            match self.site_before(idx) {
                Some(site) => quote!(Self::__SITES[#site].eval(&self.#name, #prev)),
                None => quote!(self.#name.affine(#prev)),
            }
        }));
        let forward_masked = self.body(self.chain(&quote!(x), |idx, layer, prev| {
            let name = &layer.name;
            match self.site_before(idx) {
                Some(site) => {
                    let field = self.site_field(site);
                    quote!(Self::__SITES[#site].masked(&self.#name, #prev, &masks.#field))
                }
                None => quote!(self.#name.affine(#prev)),
            }
        }));
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
                /// units by their mask bits (and by 1/keep under `inverted` scaling). Biases are
                /// never masked.
                #[inline]
                pub fn forward_masked(&self, x: &#input_ty, masks: &#masks) -> #output_ty {
                    #forward_masked
                }
            }
        }
    }

    /// `let a1 = g(step(x)); let a2 = g(step(&a1)); … aN`, where `step` builds the affine part.
    fn chain(
        &self,
        input: &TokenStream,
        step: impl Fn(usize, &Layer, &TokenStream) -> TokenStream,
    ) -> TokenStream {
        self.chain_with(input, &quote!(apply), step)
    }

    /// [`Gen::chain`] with the activation applied by the method `apply` (`apply`, `apply_lanes`).
    fn chain_with(
        &self,
        input: &TokenStream,
        apply: &TokenStream,
        step: impl Fn(usize, &Layer, &TokenStream) -> TokenStream,
    ) -> TokenStream {
        let mut prev = input.clone();
        let mut lines = Vec::new();
        for (idx, layer) in self.model.layers.iter().enumerate() {
            let out = format_ident!("a{}", idx + 1);
            let affine = step(idx, layer, &prev);
            let activation = self.activation(layer.activation);
            lines.push(quote!(let #out = #activation.#apply(#affine);));
            prev = quote!(&#out);
        }
        let last = format_ident!("a{}", self.model.layers.len());
        if self.model.layers.is_empty() {
            quote!(*x)
        } else {
            quote!(#(#lines)* #last)
        }
    }

    /// The index into `__SITES` of the site feeding layer `layer_idx`, if any.
    fn site_before(&self, layer_idx: usize) -> Option<usize> {
        let has_site = |depth: usize| match depth {
            0 => self.model.input_dropout.is_some(),
            d => self.model.layers[d - 1].dropout.is_some(),
        };
        has_site(layer_idx).then(|| (0..layer_idx).filter(|&d| has_site(d)).count())
    }

    fn site_field(&self, site_idx: usize) -> Ident {
        self.model.sites()[site_idx].field(self.model.ident.span())
    }

    fn activation(&self, activation: Activation) -> TokenStream {
        let rt = &self.rt;
        match activation {
            Activation::Identity => quote!(#rt::Activation::Identity),
            Activation::Relu => quote!(#rt::Activation::Relu),
            Activation::LeakyRelu(alpha) => {
                let alpha = proc_macro2::Literal::f64_suffixed(alpha);
                quote!(#rt::Activation::LeakyRelu(#alpha))
            }
            Activation::Sigmoid => quote!(#rt::Activation::Sigmoid),
            Activation::Tanh => quote!(#rt::Activation::Tanh),
            Activation::Softmax => quote!(#rt::Activation::Softmax),
        }
    }

    fn scaling(&self) -> TokenStream {
        let rt = &self.rt;
        match self.model.scaling {
            Scaling::Inverted => quote!(#rt::Scaling::Inverted),
            Scaling::Classic => quote!(#rt::Scaling::Classic),
        }
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
        quote!(#rt::Dropout::from_checked(#p, #keep))
    }

    fn spec(&self) -> TokenStream {
        let model = self.model;
        let rt = &self.rt;
        let name = model.ident.to_string();
        let scalar = model.scalar.name();
        let scaling = self.scaling();
        let n_inputs = model.n_inputs;
        let input_dropout = self.dropout(model.input_dropout);
        let layers = model.layers.iter().map(|layer| {
            let name = label(&layer.name);
            let (fan_in, size) = (layer.fan_in, layer.size);
            let activation = self.activation(layer.activation);
            let dropout = self.dropout(layer.dropout);
            quote! {
                #rt::LayerSpec {
                    name: #name, fan_in: #fan_in, size: #size, activation: #activation, dropout: #dropout,
                }
            }
        });
        quote! {
            #rt::NetworkSpec {
                name: #name, scalar: #scalar, scaling: #scaling, n_inputs: #n_inputs,
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
        quote! {
            /// The dropout sites μ⁰, μ¹, … in order.
            const __SITES: [#rt::Site; #n] = [#(#sites),*];
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
        let consts = self.model.layers.iter().enumerate().filter_map(|(idx, layer)| {
            let params = layer.params.as_ref()?;
            let name = layer_const(idx);
            let (fan_in, size) = (layer.fan_in, layer.size);
            let rows = params.weights.iter().map(|row| {
                let values = row.iter().map(|num| self.number(*num));
                quote!([#(#values),*])
            });
            let bias = params.bias.iter().map(|num| self.number(*num));
            // The literals keep the user's spans; weights pasted from a trainer are long by nature.
            Some(quote! {
                #[allow(clippy::unreadable_literal, clippy::excessive_precision)]
                const #name: #rt::Dense<#t, #fan_in, #size> = #rt::Dense::from_rows(&[#(#rows),*], &[#(#bias),*]);
            })
        });
        quote!(#(#consts)*)
    }

    fn number(&self, num: Num) -> TokenStream {
        self.model.scalar.literal(num.value, num.span)
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

    fn rand_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let masks = model.masks_ident();
        let (input_ty, output_ty) = (self.input_ty(), self.output_ty());
        let init = if self.mode == Mode::Stub || !model.all_weights_declared() {
            let fields = model.layers.iter().enumerate().map(|(idx, layer)| {
                let name = &layer.name;
                if layer.params.is_some() {
                    let value = layer_const(idx);
                    quote!(#name: Self::#value,)
                } else {
                    let activation = self.activation(layer.activation);
                    quote!(#name: #rt::Dense::init(rng, #activation),)
                }
            });
            let body = self.body(quote!(Self { #(#fields)* }));
            quote! {
                /// A network with the declared weights where the declaration gives them and
                /// random ones elsewhere: He-uniform for the ReLU family, Xavier-uniform
                /// otherwise; biases start at zero.
                #[must_use]
                pub fn init<R: #rt::rand::Rng + ?::core::marker::Sized>(rng: &mut R) -> Self {
                    #body
                }
            }
        } else {
            TokenStream::new()
        };
        let sample = self.body(quote!(<Self as #rt::Network>::sample_masks(self, rng)));
        let train = self.body(quote! {
            let masks = self.sample_masks(rng);
            (self.forward_masked(x, &masks), masks)
        });
        quote! {
            ::dropout::__if_rand! {
                impl #ident {
                    #init

                    /// Draws one mask per dropout site: each unit is kept independently with its
                    /// site's keep probability. Sites are drawn in order μ⁰, μ¹, …, so a seeded
                    /// generator reproduces the masks.
                    pub fn sample_masks<R: #rt::rand::Rng + ?::core::marker::Sized>(&self, rng: &mut R) -> #masks {
                        #sample
                    }

                    /// A training-mode forward pass under freshly sampled masks; returns the output
                    /// and the masks used.
                    pub fn forward_train<R: #rt::rand::Rng + ?::core::marker::Sized>(
                        &self,
                        x: &#input_ty,
                        rng: &mut R,
                    ) -> (#output_ty, #masks) {
                        #train
                    }
                }
            }
        }
    }

    fn alloc_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let t = self.scalar();
        let masks = model.masks_ident();
        let input_ty = self.input_ty();
        let masked = self.body(self.trace_body(true));
        let eval = self.body(self.trace_body(false));
        quote! {
            ::dropout::__if_alloc! {
                impl #ident {
                    /// Every intermediate value of a training-mode pass under `masks`: per layer
                    /// z, g(z), μ and the masked activation. Prints as an aligned table.
                    pub fn trace(&self, x: &#input_ty, masks: &#masks) -> #rt::Trace<#t> {
                        #masked
                    }

                    /// Every intermediate value of an evaluation-mode pass.
                    pub fn trace_eval(&self, x: &#input_ty) -> #rt::Trace<#t> {
                        #eval
                    }
                }
            }
        }
    }

    fn trace_body(&self, masked: bool) -> TokenStream {
        let model = self.model;
        let rt = &self.rt;
        let name = model.ident.to_string();
        let scaling = self.scaling();
        let constructor = if masked {
            quote!(training)
        } else {
            quote!(evaluation)
        };
        // Site values (what the next layer sees) and the mask to record, for a site index.
        let site_output = |site: Option<usize>, value: TokenStream| -> (TokenStream, TokenStream) {
            match site {
                Some(idx) if masked => {
                    let field = self.site_field(idx);
                    (
                        quote!(Self::__SITES[#idx].masked_values(#value, &masks.#field)),
                        quote!(::core::option::Option::Some(&masks.#field[..])),
                    )
                }
                Some(idx) => (
                    quote!(Self::__SITES[#idx].eval_values(#value)),
                    quote!(::core::option::Option::None),
                ),
                None => (value, quote!(::core::option::Option::None)),
            }
        };
        let mut lines = Vec::new();
        let (input_out, input_mask) = site_output(self.site_before(0), quote!(*x));
        lines.push(quote! {
            let o0 = #input_out;
            trace.push_input(x, #input_mask, &o0);
        });
        for (idx, layer) in model.layers.iter().enumerate() {
            let (prev, z, g, o) = (
                format_ident!("o{idx}"),
                format_ident!("z{}", idx + 1),
                format_ident!("g{}", idx + 1),
                format_ident!("o{}", idx + 1),
            );
            let field = &layer.name;
            let layer_name = label(field);
            let activation = self.activation(layer.activation);
            let site = layer.dropout.and_then(|_| self.site_before(idx + 1));
            let (out, mask) = site_output(site, quote!(#g));
            lines.push(quote! {
                let #z = self.#field.affine(&#prev);
                let #g = #activation.apply(#z);
                let #o = #out;
                trace.push_layer(#layer_name, &#z, &#g, #mask, &#o);
            });
        }
        quote! {
            let mut trace = #rt::Trace::#constructor(#name, #scaling);
            #(#lines)*
            trace
        }
    }

    fn batch_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let t = self.scalar();
        let masks = model.masks_ident();
        let n_inputs = model.n_inputs;
        let batch = |masked: bool| {
            let mut lines = Vec::new();
            let mut prev = quote!(&x);
            for (idx, layer) in model.layers.iter().enumerate() {
                let out = format_ident!("a{}", idx + 1);
                let name = &layer.name;
                let affine = match self.site_before(idx) {
                    Some(site) if masked => {
                        let field = self.site_field(site);
                        quote!(Self::__SITES[#site].masked_batch(&self.#name, #prev, masks, |m: &#masks| &m.#field)?)
                    }
                    Some(site) => quote!(Self::__SITES[#site].eval_batch(&self.#name, #prev)?),
                    None => quote!(self.#name.affine_batch(#prev)?),
                };
                let activation = self.activation(layer.activation);
                lines.push(quote! {
                    let mut #out = #affine;
                    #activation.apply_batch(&mut #out);
                });
                prev = quote!(&#out);
            }
            let last = format_ident!("a{}", model.layers.len());
            let check_masks = if masked {
                quote!(#rt::batch::check_mask_count(&x, masks)?;)
            } else {
                quote!()
            };
            self.body(quote! {
                #rt::batch::check_width(&x, #n_inputs)?;
                #check_masks
                #(#lines)*
                ::core::result::Result::Ok(#last)
            })
        };
        let (eval, masked) = (batch(false), batch(true));
        let n_outputs = model.n_outputs();
        let lanes =
            self.body(
                self.chain_with(&quote!(x), &quote!(apply_lanes), |idx, layer, prev| {
                    let name = &layer.name;
                    match self.site_before(idx) {
                        Some(site) => quote!(Self::__SITES[#site].eval_lanes(&self.#name, #prev)),
                        None => quote!(self.#name.affine_lanes(#prev)),
                    }
                }),
            );
        // Small networks evaluate batches sample-parallel; the stub's body is `#eval` alone.
        let by_lanes = match self.mode {
            Mode::Full => quote! {
                if const { #rt::batch::prefers_lanes(&Self::SPEC) } {
                    return #rt::batch::by_lanes(self, &x);
                }
            },
            Mode::Stub => TokenStream::new(),
        };
        quote! {
            ::dropout::__if_ndarray! {
                impl #ident {
                    /// Evaluation-mode forward pass of a batch, one sample per row.
                    ///
                    /// # Errors
                    /// If `x` does not have one column per input.
                    pub fn forward_batch(
                        &self,
                        x: #rt::ndarray::ArrayView2<'_, #t>,
                    ) -> ::core::result::Result<#rt::ndarray::Array2<#t>, #rt::Error> {
                        #by_lanes
                        #eval
                    }

                    /// Training-mode forward pass of a batch; row `r` uses `masks[r]`.
                    ///
                    /// # Errors
                    /// If `x` does not have one column per input or `masks` has not one entry
                    /// per row.
                    pub fn forward_batch_masked(
                        &self,
                        x: #rt::ndarray::ArrayView2<'_, #t>,
                        masks: &[#masks],
                    ) -> ::core::result::Result<#rt::ndarray::Array2<#t>, #rt::Error> {
                        #masked
                    }
                }

                impl #rt::batch::ForwardLanes<#t, #n_inputs, #n_outputs> for #ident {
                    /// The evaluation pass of `LANES` samples stored lane-wise; always inlined, so
                    /// that it is compiled for the instruction set chosen at run time.
                    #[inline(always)]
                    fn forward_lanes(
                        &self,
                        x: &[[#t; #rt::batch::LANES]; #n_inputs],
                    ) -> [[#t; #rt::batch::LANES]; #n_outputs] {
                        #lanes
                    }
                }
            }
        }
    }

    fn masks_impl(&self) -> TokenStream {
        let model = self.model;
        let rt = &self.rt;
        let masks = model.masks_ident();
        let sites = model.sites();
        let all_kept = sites.iter().map(|site| {
            let (field, size) = (site.field(model.ident.span()), site.size);
            quote!(#field: [true; #size],)
        });
        let shown = sites.iter().map(|site| {
            let (field, depth) = (site.field(model.ident.span()), site.depth);
            quote!((#depth, &self.#field[..]))
        });
        quote! {
            impl #masks {
                /// Masks that keep every unit.
                pub const ALL_KEPT: Self = Self { #(#all_kept)* };
            }

            impl ::core::fmt::Display for #masks {
                /// Formats the masks as `μ⁰ = (1, 1), μ¹ = (1, 0, 1), …`.
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #rt::fmt_masks(f, &[#(#shown),*])
                }
            }
        }
    }

    /// `impl Network for Net` and `impl Masks for NetMasks`, delegating to the inherent items.
    fn trait_impls(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let t = self.scalar();
        let masks = model.masks_ident();
        let (input_ty, output_ty) = (self.input_ty(), self.output_ty());
        let layer_arms = |mutable: bool| {
            let arms = model.layers.iter().enumerate().map(|(idx, layer)| {
                let name = &layer.name;
                if mutable {
                    quote!(#idx => ::core::option::Option::Some(&mut self.#name),)
                } else {
                    quote!(#idx => ::core::option::Option::Some(&self.#name),)
                }
            });
            self.body(quote!(match idx { #(#arms)* _ => ::core::option::Option::None }))
        };
        let (layer, layer_mut) = (layer_arms(false), layer_arms(true));
        let sites = model.sites();
        let n_sites = sites.len();
        let site_arms = |mutable: bool| {
            let arms = sites.iter().enumerate().map(|(idx, site)| {
                let field = site.field(ident.span());
                if mutable {
                    quote!(#idx => ::core::option::Option::Some(&mut self.#field),)
                } else {
                    quote!(#idx => ::core::option::Option::Some(&self.#field),)
                }
            });
            quote!(match idx { #(#arms)* _ => ::core::option::Option::None })
        };
        let (site, site_mut) = (site_arms(false), site_arms(true));
        let forward = self.body(quote!(#ident::forward(self, x)));
        let forward_masked = self.body(quote!(#ident::forward_masked(self, x, masks)));
        let zero_fields = model.layers.iter().map(|layer| {
            let name = &layer.name;
            quote!(#name: #rt::Dense::zeros(),)
        });
        let zeros = self.body(quote!(Self { #(#zero_fields)* }));
        quote! {
            impl #rt::Network for #ident {
                type Scalar = #t;
                type Input = #input_ty;
                type Output = #output_ty;
                type Masks = #masks;
                const SPEC: #rt::NetworkSpec = #ident::SPEC;

                fn forward(&self, x: &#input_ty) -> #output_ty {
                    #forward
                }
                fn forward_masked(&self, x: &#input_ty, masks: &#masks) -> #output_ty {
                    #forward_masked
                }
                fn zeros() -> Self {
                    #zeros
                }
                fn layer(&self, idx: usize) -> ::core::option::Option<&dyn #rt::Layer<#t>> {
                    #layer
                }
                fn layer_mut(&mut self, idx: usize) -> ::core::option::Option<&mut dyn #rt::Layer<#t>> {
                    #layer_mut
                }
            }

            impl #rt::Masks for #masks {
                const ALL_KEPT: Self = #masks::ALL_KEPT;
                const N_SITES: usize = #n_sites;

                fn site(&self, idx: usize) -> ::core::option::Option<&[bool]> {
                    #site
                }
                fn site_mut(&mut self, idx: usize) -> ::core::option::Option<&mut [bool]> {
                    #site_mut
                }
            }
        }
    }

    fn tests(&self) -> TokenStream {
        let model = self.model;
        if model.tests.is_empty() && !model.auto_tests {
            return TokenStream::new();
        }
        let module = format_ident!(
            "{}_tests",
            snake_case(&label(&model.ident)),
            span = model.ident.span()
        );
        let cases = model.tests.iter().map(|case| self.test_case(case));
        let auto = if model.auto_tests {
            self.auto_tests()
        } else {
            TokenStream::new()
        };
        quote! {
            #[cfg(test)]
            mod #module {
                #(#cases)*
                #auto
            }
        }
    }

    /// The property tests of `tests: auto`, each one call into `dropout::testing`.
    fn auto_tests(&self) -> TokenStream {
        const CASES: usize = 32;
        const SEED: u64 = 0x00d1_5ea5;
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let network = if model.all_weights_declared() {
            quote!(super::#ident::new())
        } else {
            quote!(super::#ident::init(&mut <#rt::rand::rngs::Xoshiro256PlusPlus as #rt::rand::SeedableRng>::seed_from_u64(#SEED)))
        };
        let n_inputs = model.n_inputs;
        let n_outputs = model.n_outputs();
        let layer_sizes = model.layers.iter().map(|layer| layer.size);
        let site_sizes = model.sites().into_iter().map(|site| site.size);
        let keep_one = model
            .sites()
            .iter()
            .any(|site| site.prob.keep == 1.0)
            .then(|| {
                quote! {
                    #[test]
                    fn sites_with_p_zero_change_nothing() {
                        #rt::testing::check_keep_one_sites(&network(), #CASES, #SEED);
                    }
                }
            });
        quote! {
            ::dropout::__if_testing! {
                fn network() -> super::#ident {
                    #network
                }

                #[test]
                fn all_kept_training_pass_equals_undropped_network() {
                    #rt::testing::check_all_kept(&network(), #CASES, #SEED);
                }

                #[test]
                fn evaluation_pass_is_the_conventions_expectation() {
                    #rt::testing::check_eval(&network(), #CASES, #SEED);
                }

                #[test]
                fn masked_passes_match_the_reference() {
                    #rt::testing::check_masked(&network(), #CASES, #SEED);
                }

                #[test]
                fn dropping_a_whole_site_leaves_only_biases() {
                    #rt::testing::check_site_dropped(&network(), #CASES, #SEED);
                }

                #[test]
                fn sampled_masks_have_the_declared_rates() {
                    #rt::testing::check_sampling(&network(), #SEED);
                }

                #keep_one

                #[test]
                fn sizes_match_the_declaration() {
                    #rt::testing::check_shapes::<super::#ident>(#n_inputs, &[#(#layer_sizes),*], &[#(#site_sizes),*]);
                    #rt::testing::check_output_size(&network(), #n_outputs);
                }
            }
        }
    }

    fn test_case(&self, case: &TestCase) -> TokenStream {
        let model = self.model;
        let ident = &model.ident;
        let masks_ident = model.masks_ident();
        let TestCase {
            name,
            input,
            masks,
            expect,
            tolerance,
        } = case;
        let input = input.iter().map(|num| self.number(*num));
        let expect = expect.iter().map(|num| self.number(*num));
        let label = name.to_string();
        let tolerance = proc_macro2::Literal::f64_suffixed(*tolerance);
        let output = match masks {
            Some(masks) => {
                let fields = model.sites().into_iter().zip(masks).map(|(site, bits)| {
                    let field = site.field(name.span());
                    quote!(#field: [#(#bits),*],)
                });
                quote! {
                    let masks = super::#masks_ident { #(#fields)* };
                    net.forward_masked(&[#(#input),*], &masks)
                }
            }
            None => quote!(net.forward(&[#(#input),*])),
        };
        // The assertion carries the test name's span, so a failure points at the `test` block.
        let assert_close = quote_spanned! {name.span()=>
            ::dropout::__private::assert_close(&got, &[#(#expect),*], #tolerance, #label)
        };
        quote! {
            #[test]
            #[allow(clippy::unreadable_literal, clippy::excessive_precision)]
            fn #name() {
                let net = super::#ident::new();
                let got = { #output };
                #assert_close;
            }
        }
    }
}

fn layer_const(idx: usize) -> Ident {
    format_ident!("__LAYER_{}", idx)
}

/// An identifier as the user reads it (without `r#`).
fn label(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map_or(name.clone(), str::to_owned)
}

fn activation_name(activation: Activation) -> String {
    match activation {
        Activation::Identity => "identity".to_owned(),
        Activation::Relu => "relu".to_owned(),
        Activation::LeakyRelu(alpha) => format!("leaky_relu({alpha:?})"),
        Activation::Sigmoid => "sigmoid".to_owned(),
        Activation::Tanh => "tanh".to_owned(),
        Activation::Softmax => "softmax".to_owned(),
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
