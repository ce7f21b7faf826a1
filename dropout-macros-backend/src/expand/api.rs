//! The methods that depend on optional features: sampling (`rand`), traces (`alloc`) and
//! batches (`ndarray`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Gen, Mode, label, layer_const, size};

impl Gen<'_> {
    pub(super) fn rand_impl(&self) -> TokenStream {
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
        let init_boxed = self.init_boxed();
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

            #init_boxed
        }
    }

    /// `init_boxed` (where `init` exists) or `new_boxed` (where `new` does): the network built
    /// on the heap, layer by layer in place, so that no value of its size passes through the
    /// stack. `init_boxed` draws the same weights as `init` from the same generator.
    fn init_boxed(&self) -> TokenStream {
        let model = self.model;
        let rt = &self.rt;
        let ident = &model.ident;
        let drawn = self.mode == Mode::Stub || !model.all_weights_declared();
        let layers = model.layers.iter().enumerate().map(|(idx, layer)| {
            let name = &layer.name;
            if layer.params.is_some() {
                let value = layer_const(idx);
                quote!(net.#name.copy_from(&Self::#value);)
            } else {
                let activation = self.activation(layer.activation);
                quote!(net.#name.init_in_place(rng, #activation);)
            }
        });
        let body = self.body(quote! {
            let mut net = <Self as #rt::Network>::zeros_boxed();
            #(#layers)*
            net
        });
        if drawn {
            quote! {
                ::dropout::__if_alloc_rand! {
                    impl #ident {
                        /// [`Self::init`] on the heap: the same weights from the same generator,
                        /// built in place, so that even a network of many megabytes needs no
                        /// more stack than a small one.
                        #[must_use]
                        pub fn init_boxed<R: #rt::rand::Rng + ?::core::marker::Sized>(
                            rng: &mut R,
                        ) -> #rt::Box<Self> {
                            #body
                        }
                    }
                }
            }
        } else {
            quote! {
                ::dropout::__if_alloc! {
                    impl #ident {
                        /// [`Self::new`] on the heap, built in place, so that even a network of
                        /// many megabytes needs no more stack than a small one.
                        #[must_use]
                        pub fn new_boxed() -> #rt::Box<Self> {
                            #body
                        }
                    }
                }
            }
        }
    }

    /// Traces, exact moments, Monte Carlo dropout and diagrams: what needs the heap.
    pub(super) fn alloc_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let t = self.scalar();
        let masks = model.masks_ident();
        let (input_ty, output_ty) = (self.input_ty(), self.output_ty());
        let masked = self.body(self.trace_body(true));
        let eval = self.body(self.trace_body(false));
        let moments = self.body(quote!(#rt::exact_moments(self, x)));
        let explorer = self.body(quote!(#rt::Explorer::new(self, x)));
        let monte_carlo = self.body(quote!(#rt::predict_mc(self, x, samples, rng)));
        let diagram = self.body(quote!(#rt::diagram(self, masks)));
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

                    /// The exact mean and standard deviation of the output under training-mode
                    /// dropout, over every mask of the droppable units, each weighted by its
                    /// probability (`dropout::stats::exact_moments`).
                    ///
                    /// # Errors
                    /// If the network has more droppable units than the enumeration's limit.
                    pub fn exact_moments(
                        &self,
                        x: &#input_ty,
                    ) -> ::core::result::Result<#rt::Moments<#output_ty>, #rt::Error> {
                        #moments
                    }

                    /// An interactive page for this network at input `x`: click units to drop
                    /// them and watch the pass, the ensemble and the prediction change
                    /// (`dropout::explorer`). Build it with `.html()` or write it with
                    /// `.save(path)`.
                    pub fn explorer<'a>(&'a self, x: &'a #input_ty) -> #rt::Explorer<'a, Self> {
                        #explorer
                    }
                }
            }

            ::dropout::__if_alloc_rand! {
                impl #ident {
                    /// Monte Carlo dropout (Gal & Ghahramani 2016): the mean and sample standard
                    /// deviation of the output over `samples` training-mode passes under masks
                    /// drawn from `rng` (`dropout::stats::predict_mc`).
                    ///
                    /// # Errors
                    /// If `samples` is zero.
                    pub fn predict_mc<R: #rt::rand::Rng + ?::core::marker::Sized>(
                        &self,
                        x: &#input_ty,
                        samples: usize,
                        rng: &mut R,
                    ) -> ::core::result::Result<#rt::Moments<#output_ty>, #rt::Error> {
                        #monte_carlo
                    }
                }
            }

            ::dropout::__if_diagram! {
                impl #ident {
                    /// An SVG picture of the network, with the units that `masks` drops crossed
                    /// out (`dropout::diagram::diagram`).
                    ///
                    /// # Errors
                    /// Only if drawing fails, which writing into a string does not.
                    pub fn diagram(
                        &self,
                        masks: ::core::option::Option<&#masks>,
                    ) -> ::core::result::Result<#rt::String, #rt::Error> {
                        #diagram
                    }
                }
            }
        }
    }

    pub(super) fn trace_body(&self, masked: bool) -> TokenStream {
        let model = self.model;
        let rt = &self.rt;
        let name = model.ident.to_string();
        let scaling = self.scaling();
        let constructor = if masked {
            quote!(training)
        } else {
            quote!(evaluation)
        };
        // Site values (what the next layer sees), the mask to record and the statement that
        // records Gaussian noise, for a site index.
        let site_output =
            |site: Option<usize>, value: TokenStream| -> (TokenStream, TokenStream, TokenStream) {
                let none = quote!(::core::option::Option::None);
                match site {
                    Some(idx) if masked && self.is_gaussian(idx) => {
                        let field = self.site_field(idx);
                        (
                            quote!(Self::__SITES[#idx].noised_values(#value, &masks.#field)),
                            none,
                            quote!(trace.record_noise(&masks.#field);),
                        )
                    }
                    Some(idx) if masked => {
                        let field = self.site_field(idx);
                        (
                            quote!(Self::__SITES[#idx].masked_values(#value, &masks.#field)),
                            quote!(::core::option::Option::Some(&masks.#field[..])),
                            TokenStream::new(),
                        )
                    }
                    Some(idx) => (
                        quote!(Self::__SITES[#idx].eval_values(#value)),
                        none,
                        TokenStream::new(),
                    ),
                    None => (value, none, TokenStream::new()),
                }
            };
        let mut lines = Vec::new();
        let (input_out, input_mask, input_noise) = site_output(self.site_before(0), quote!(*x));
        lines.push(quote! {
            let o0 = #input_out;
            trace.push_input(x, #input_mask, &o0);
            #input_noise
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
            let (out, mask, noise) = site_output(site, quote!(#g));
            let affine = match self.connections_of(idx) {
                Some(weights) if masked => {
                    let mask = layer.connections_field();
                    quote!(Self::__CONNECTIONS[#weights].connected(&self.#field, &#prev, &masks.#mask))
                }
                Some(weights) => quote!(Self::__CONNECTIONS[#weights].eval(&self.#field, &#prev)),
                None => quote!(self.#field.affine(&#prev)),
            };
            let weight_mask = match self.connections_of(idx) {
                Some(_) if masked => {
                    let mask = layer.connections_field();
                    quote!(trace.drop_weights(&masks.#mask);)
                }
                _ => TokenStream::new(),
            };
            lines.push(quote! {
                let #z = #affine;
                let #g = #activation.apply(#z);
                let #o = #out;
                trace.push_layer(#layer_name, &#z, &#g, #mask, &#o);
                #noise
                #weight_mask
            });
        }
        quote! {
            let mut trace = #rt::Trace::#constructor(#name, #scaling);
            #(#lines)*
            trace
        }
    }

    pub(super) fn batch_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let t = self.scalar();
        let masks = model.masks_ident();
        let (eval, masked) = (self.batch_pass(false), self.batch_pass(true));
        // Small networks evaluate batches sample-parallel; the stub's body is `#eval` alone.
        let by_lanes = match self.mode {
            Mode::Full => quote! {
                if const { #rt::prefers_lanes(&Self::SPEC) } {
                    return #rt::by_lanes(self, &x);
                }
            },
            Mode::Stub => TokenStream::new(),
        };
        let lanes = self.lanes_impl();
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

                #lanes
            }
        }
    }

    /// The body of `forward_batch` (`masked` false) or `forward_batch_masked`: one matrix product
    /// per layer, its site fused into it.
    fn batch_pass(&self, masked: bool) -> TokenStream {
        let model = self.model;
        let rt = &self.rt;
        let masks = model.masks_ident();
        let n_inputs = model.n_inputs;
        let mut lines = Vec::new();
        let mut prev = quote!(&x);
        for (idx, layer) in model.layers.iter().enumerate() {
            let out = format_ident!("a{}", idx + 1);
            let name = &layer.name;
            let affine = match (self.site_before(idx), self.connections_of(idx)) {
                (Some(site), None) if masked => {
                    let field = self.site_field(site);
                    let batch = if self.is_gaussian(site) {
                        quote!(noised_batch)
                    } else {
                        quote!(masked_batch)
                    };
                    quote!(Self::__SITES[#site].#batch(&self.#name, #prev, masks, |m: &#masks| &m.#field)?)
                }
                (Some(site), None) => quote!(Self::__SITES[#site].eval_batch(&self.#name, #prev)?),
                (None, None) => quote!(self.#name.affine_batch(#prev)?),
                (site, Some(weights)) => {
                    let input = match site {
                        Some(site) if masked => {
                            let field = self.site_field(site);
                            let values = if self.is_gaussian(site) {
                                quote!(noised_values_batch)
                            } else {
                                quote!(masked_values_batch)
                            };
                            quote!(&Self::__SITES[#site].#values(#prev, masks, |m: &#masks| &m.#field)?)
                        }
                        Some(site) => quote!(&Self::__SITES[#site].eval_values_batch(#prev)),
                        None => prev.clone(),
                    };
                    if masked {
                        let field = layer.connections_field();
                        quote!(Self::__CONNECTIONS[#weights].connected_batch(&self.#name, #input, masks, |m: &#masks| &m.#field)?)
                    } else {
                        quote!(Self::__CONNECTIONS[#weights].eval_batch(&self.#name, #input)?)
                    }
                }
            };
            let activation = self.activation(layer.activation);
            lines.push(quote! {
                let mut #out = #affine;
                #rt::apply_rows(#activation, &mut #out);
            });
            prev = quote!(&#out);
        }
        let last = format_ident!("a{}", model.layers.len());
        let check_masks = masked.then(|| quote!(#rt::check_mask_count(&x, masks)?;));
        self.body(quote! {
            #rt::check_width(&x, #n_inputs)?;
            #check_masks
            #(#lines)*
            ::core::result::Result::Ok(#last)
        })
    }

    /// The evaluation pass over `LANES` samples at once, which `forward_batch` of a small network
    /// runs on the widest vectors the CPU offers.
    fn lanes_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let t = self.scalar();
        let (n_inputs, n_outputs) = (size(model.n_inputs), size(model.n_outputs()));
        let lanes =
            self.body(
                self.chain_with(&quote!(x), &quote!(apply_lanes), |idx, layer, prev| {
                    let name = &layer.name;
                    match (self.site_before(idx), self.connections_of(idx)) {
                        (Some(site), None) => quote!(Self::__SITES[#site].eval_lanes(&self.#name, #prev)),
                        (None, None) => quote!(self.#name.affine_lanes(#prev)),
                        (site, Some(weights)) => {
                            let input = match site {
                                Some(site) => quote!(&Self::__SITES[#site].eval_values_lanes(::core::clone::Clone::clone(#prev))),
                                None => prev.clone(),
                            };
                            quote!(Self::__CONNECTIONS[#weights].eval_lanes(&self.#name, #input))
                        }
                    }
                }),
            );
        quote! {
            #[automatically_derived]
            #[doc(hidden)]
            impl #rt::ForwardLanes<#t, #n_inputs, #n_outputs> for #ident {
                /// The evaluation pass of `LANES` samples stored lane-wise; always inlined, so
                /// that it is compiled for the instruction set chosen at run time.
                #[inline(always)]
                fn forward_lanes(
                    &self,
                    x: &[[#t; #rt::LANES]; #n_inputs],
                ) -> [[#t; #rt::LANES]; #n_outputs] {
                    #lanes
                }
            }
        }
    }
}
