//! Trait implementations for the network and its masks, and the generated tests.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use syn::Ident;

use super::{Gen, label, size, snake_case};
use crate::model::{DropoutKind, SiteMask, TestCase};

impl Gen<'_> {
    pub(super) fn masks_impl(&self) -> TokenStream {
        let model = self.model;
        let (rt, t) = (&self.rt, self.scalar());
        let masks = model.masks_ident();
        let sites = model.sites();
        let all_kept = sites.iter().map(|site| {
            let (field, size) = (site.field(model.ident.span()), size(site.size));
            if site.prob.kind == DropoutKind::Gaussian {
                quote!(#field: [1.0; #size],)
            } else {
                quote!(#field: [true; #size],)
            }
        });
        let all_kept_weights = model.connections().map(|(_, layer, _)| {
            let field = layer.connections_field();
            let (fan_in, size) = (size(layer.fan_in), size(layer.size));
            quote!(#field: [[true; #fan_in]; #size],)
        });
        let shown = sites.iter().map(|site| {
            let (field, depth) = (site.field(model.ident.span()), site.depth);
            if site.prob.kind == DropoutKind::Gaussian {
                quote!((#depth, #rt::SiteMask::Noise(&self.#field[..])))
            } else {
                quote!((#depth, #rt::SiteMask::Bits(&self.#field[..])))
            }
        });
        let shown_weights = model.connections().map(|(_, layer, _)| {
            let (name, fan_in) = (label(&layer.name), layer.fan_in);
            let field = layer.connections_field();
            quote!((#name, #fan_in, self.#field.as_flattened()))
        });
        quote! {
            impl #masks {
                /// Masks that keep every unit and every weight (and Gaussian noise of all ones).
                pub const ALL_KEPT: Self = Self { #(#all_kept)* #(#all_kept_weights)* };
            }

            #[automatically_derived]
            impl ::core::fmt::Display for #masks {
                /// Formats the masks as `μ⁰ = (1, 1), μ¹ = (1, 0, 1), …`, then the weight masks
                /// of layers with DropConnect as `M(h2) = ((1, 0), (1, 1), …)`.
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #rt::fmt_masks::<#t>(f, &[#(#shown),*], &[#(#shown_weights),*])
                }
            }
        }
    }

    /// `impl Network for Net` and `impl Masks for NetMasks`, delegating to the inherent items.
    pub(super) fn trait_impls(&self) -> TokenStream {
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
        let forward = self.body(quote!(#ident::forward(self, x)));
        let forward_masked = self.body(quote!(#ident::forward_masked(self, x, masks)));
        let masks_trait = self.masks_trait_impl();
        let field_checks = model.layers.iter().map(|layer| {
            let name = &layer.name;
            quote!(zero_bits(&net.#name);)
        });
        quote! {
            // SAFETY: every field of the struct is a `Dense` layer, for which all-zero bytes are
            // a valid value; the function below makes the compiler check that they are.
            #[automatically_derived]
            #[doc(hidden)]
            unsafe impl #rt::ZeroBits for #ident {}

            const _: () = {
                fn zero_bits<Z: #rt::ZeroBits>(_: &Z) {}
                fn every_field_is_zero_bits(net: &#ident) {
                    #(#field_checks)*
                }
            };

            #[automatically_derived]
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
                    #ident::zeros()
                }
                ::dropout::__if_alloc! {
                    fn zeros_boxed() -> #rt::Box<Self> {
                        #ident::zeros_boxed()
                    }
                }
                fn layer(&self, idx: usize) -> ::core::option::Option<&dyn #rt::Layer<#t>> {
                    #layer
                }
                fn layer_mut(&mut self, idx: usize) -> ::core::option::Option<&mut dyn #rt::Layer<#t>> {
                    #layer_mut
                }
            }

            #masks_trait
        }
    }

    /// `impl Masks for NetMasks`: the sites' bits and the weight masks as slices.
    pub(super) fn masks_trait_impl(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let masks = model.masks_ident();
        let sites = model.sites();
        let n_sites = size(sites.len());
        // Bits for unit sites, noise for Gaussian ones.
        let site_arms = |mutable: bool, noise: bool| {
            let arms = sites
                .iter()
                .enumerate()
                .filter(|(_, site)| (site.prob.kind == DropoutKind::Gaussian) == noise)
                .map(|(idx, site)| {
                    let field = site.field(ident.span());
                    if mutable {
                        quote!(#idx => ::core::option::Option::Some(&mut self.#field),)
                    } else {
                        quote!(#idx => ::core::option::Option::Some(&self.#field),)
                    }
                });
            quote!(match idx { #(#arms)* _ => ::core::option::Option::None })
        };
        let (site, site_mut) = (site_arms(false, false), site_arms(true, false));
        let (noise, noise_mut) = (site_arms(false, true), site_arms(true, true));
        let t = self.scalar();
        let connection_arms = |mutable: bool| {
            let arms = model.connections().enumerate().map(|(idx, (_, layer, _))| {
                let field = layer.connections_field();
                if mutable {
                    quote!(#idx => ::core::option::Option::Some(self.#field.as_flattened_mut()),)
                } else {
                    quote!(#idx => ::core::option::Option::Some(self.#field.as_flattened()),)
                }
            });
            quote!(match idx { #(#arms)* _ => ::core::option::Option::None })
        };
        let (connections, connections_mut) = (connection_arms(false), connection_arms(true));
        quote! {
            #[automatically_derived]
            impl #rt::Masks for #masks {
                type Scalar = #t;
                const ALL_KEPT: Self = #masks::ALL_KEPT;
                const N_SITES: usize = #n_sites;

                fn site(&self, idx: usize) -> ::core::option::Option<&[bool]> {
                    #site
                }
                fn site_mut(&mut self, idx: usize) -> ::core::option::Option<&mut [bool]> {
                    #site_mut
                }
                fn noise(&self, idx: usize) -> ::core::option::Option<&[#t]> {
                    #noise
                }
                fn noise_mut(&mut self, idx: usize) -> ::core::option::Option<&mut [#t]> {
                    #noise_mut
                }
                fn connections(&self, idx: usize) -> ::core::option::Option<&[bool]> {
                    #connections
                }
                fn connections_mut(&mut self, idx: usize) -> ::core::option::Option<&mut [bool]> {
                    #connections_mut
                }
            }
        }
    }

    pub(super) fn tests(&self) -> TokenStream {
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
        let scope_check = self.module_level_check(&module);
        quote! {
            #[cfg(test)]
            mod #module {
                #(#cases)*
                #auto
            }

            #scope_check
        }
    }

    /// The generated tests live in a child module that names the network as `super::Net`,
    /// which only works for a declaration at module level: inside a function body the network
    /// is a local item that no module can see, and the tests could not compile (nor would the
    /// test harness collect tests nested in a function). This check makes such a declaration an
    /// error in every build, at its first `test` keyword, in a sentence.
    ///
    /// It tells the two places apart by name resolution: beside the network stands a marker
    /// naming `AtModuleLevel`; the check module names `InsideAFunction` by the same name, and a
    /// block inside it glob-imports its parent module. A block's glob import comes before the
    /// enclosing module's own names, so the block sees the marker exactly when the check
    /// module's parent is the network's module — when the network is declared at module level.
    fn module_level_check(&self, module: &Ident) -> TokenStream {
        let model = self.model;
        let rt = &self.rt;
        let span = model
            .tests
            .first()
            .map_or_else(|| model.ident.span(), |case| case.keyword.span());
        let marker = format_ident!("__{}_scope", label(&model.ident), span = span);
        let check = format_ident!("{}_scope", module);
        let bound = quote_spanned!(span=> #rt::scope::declared_at_module_level::<#marker>);
        quote! {
            #[doc(hidden)]
            #[allow(non_camel_case_types)]
            type #marker = #rt::scope::AtModuleLevel;
            #[doc(hidden)]
            mod #check {
                #[allow(non_camel_case_types, unused_imports)]
                use #rt::scope::InsideAFunction as #marker;
                const _: () = {
                    #[allow(unused_imports)]
                    use super::*;
                    #bound()
                };
            }
        }
    }

    /// The property tests of `tests: auto`, each one call into `dropout::testing`.
    pub(super) fn auto_tests(&self) -> TokenStream {
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
        let weights_dropped = model.connections().next().map(|_| {
            quote! {
                #[test]
                fn dropping_every_weight_of_a_layer_leaves_only_its_biases() {
                    #rt::testing::check_weights_dropped(&network(), #CASES, #SEED);
                }
            }
        });
        quote! {
            ::dropout::__if_alloc_rand! {
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
                #weights_dropped

                #[test]
                fn sizes_match_the_declaration() {
                    #rt::testing::check_shapes::<super::#ident>(#n_inputs, &[#(#layer_sizes),*], &[#(#site_sizes),*]);
                    #rt::testing::check_output_size(&network(), #n_outputs);
                }
            }
        }
    }

    pub(super) fn test_case(&self, case: &TestCase) -> TokenStream {
        let model = self.model;
        let ident = &model.ident;
        let masks_ident = model.masks_ident();
        let TestCase {
            name,
            input,
            masks,
            expect,
            tolerance,
            twin_tolerance,
            keyword: _,
        } = case;
        let input = input.iter().map(|num| self.number(*num));
        let expect = expect.iter().map(|num| self.number(*num));
        let label = name.to_string();
        let tolerance = proc_macro2::Literal::f64_suffixed(*tolerance);
        let input: Vec<TokenStream> = input.collect();
        let masks_value = |masks_ident: &Ident| {
            masks.as_ref().map(|masks| {
                let fields = model.sites().into_iter().zip(masks).map(|(site, mask)| {
                    let field = site.field(name.span());
                    match mask {
                        SiteMask::Bits(bits) => quote!(#field: [#(#bits),*],),
                        SiteMask::Noise(noise) => {
                            let noise = noise.iter().map(|num| self.number(*num));
                            quote!(#field: [#(#noise),*],)
                        }
                    }
                });
                // A network with DropConnect keeps every weight in a test that gives unit masks.
                let weights = model
                    .connections()
                    .next()
                    .map(|_| quote!(..super::#masks_ident::ALL_KEPT));
                quote!(super::#masks_ident { #(#fields)* #weights })
            })
        };
        let pass = |net: TokenStream, masks_ident: &Ident| match masks_value(masks_ident) {
            Some(masks) => quote! {
                let masks = #masks;
                #net.forward_masked(&[#(#input),*], &masks)
            },
            None => quote!(#net.forward(&[#(#input),*])),
        };
        let output = pass(quote!(net), &masks_ident);
        let twin_check = twin_tolerance
            .zip(model.twin.as_ref())
            .map(|(tolerance, twin)| {
                let twin_ident = &twin.ident;
                let twin_masks = format_ident!("{}Masks", twin_ident);
                let twin_output = pass(quote!(twin), &twin_masks);
                let last = model.layers.last().map(|layer| &layer.name);
                let tolerance = proc_macro2::Literal::f64_suffixed(tolerance);
                quote_spanned! {name.span()=>
                    let twin = super::#twin_ident::new();
                    let int8 = { #twin_output };
                    ::dropout::__private::assert_twin_close(
                        &int8, &got, #tolerance, twin.#last.output().scale, #label,
                    );
                }
            });
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
                #twin_check
            }
        }
    }
}
