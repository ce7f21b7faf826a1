//! The methods that depend on optional features: sampling (`rand`), traces (`alloc`) and
//! batches (`ndarray`).

use proc_macro2::TokenStream;
use quote::quote;

use super::{Gen, Mode, Pass, layer_const, size};

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
        let masked =
            self.body(quote!(#rt::Trace::of(self, x, ::core::option::Option::Some(masks))));
        let eval = self.body(quote!(#rt::Trace::of(self, x, ::core::option::Option::None)));
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

    pub(super) fn batch_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let t = self.scalar();
        let masks = model.masks_ident();
        // The batched passes are the runtime's, written once over `Network`.
        let eval = self.body(quote!(#rt::forward_batch(self, &x)));
        let masked = self.body(quote!(#rt::forward_batch_masked(self, &x, masks)));
        // Small networks evaluate batches sample-parallel; the stub's body is `#eval` alone.
        let (by_lanes, by_rows) = match self.mode {
            Mode::Full => (
                quote! {
                    if const { #rt::prefers_lanes(&Self::SPEC) } {
                        return #rt::by_lanes(self, &x);
                    }
                },
                if model.masks_in_lanes() {
                    quote! {
                        if const { #rt::prefers_lanes(&Self::SPEC) } {
                            return #rt::by_lanes_masked(self, &x, masks);
                        }
                    }
                } else {
                    quote! {
                        if const { #rt::prefers_lanes(&Self::SPEC) } {
                            return #rt::by_rows_masked(self, &x, masks);
                        }
                    }
                },
            ),
            Mode::Stub => (TokenStream::new(), TokenStream::new()),
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
                        #by_rows
                        #masked
                    }
                }

                #lanes
            }
        }
    }

    /// The evaluation pass over `LANES` samples at once, which `forward_batch` of a small network
    /// runs on the widest vectors the CPU offers.
    fn lanes_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let t = self.scalar();
        let (n_inputs, n_outputs) = (size(model.n_inputs), size(model.n_outputs()));
        let lanes = self.body(self.chain(Pass::Lanes));
        let masks = model.masks_ident();
        let masked = model.masks_in_lanes().then(|| {
            let body = self.body(self.chain(Pass::MaskedLanes));
            quote! {
                #[automatically_derived]
                #[doc(hidden)]
                impl #rt::ForwardLanesMasked<#t, #n_inputs, #n_outputs> for #ident {
                    type Masks = #masks;

                    /// The training pass of `LANES` samples stored lane-wise, each under its
                    /// masks; always inlined, as `forward_lanes`.
                    #[inline(always)]
                    fn forward_lanes_masked(
                        &self,
                        x: &[[#t; #rt::LANES]; #n_inputs],
                        masks: [&#masks; #rt::LANES],
                    ) -> [[#t; #rt::LANES]; #n_outputs] {
                        #body
                    }
                }
            }
        });
        quote! {
            #masked

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
