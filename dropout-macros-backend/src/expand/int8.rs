//! The items of an int8 network: a struct of [`int8::Dense`] layers whose `new()` is a constant
//! of the imported integers, its passes in integers (`forward_quantized`,
//! `forward_quantized_masked`) and their float views (`forward`, `forward_masked`,
//! `predict_mc`), and the same masks struct a float network has.
//!
//! [`int8::Dense`]: https://docs.rs/dropout-nn/latest/dropout/int8/struct.Dense.html

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::{Gen, Mode, label, size};
use crate::model::{Int8, Int8Layer, Quantization, QuantizedMultiplier, Requantization, Rounding};

impl Gen<'_> {
    pub(super) fn int8_network(&self, int8: &Int8) -> TokenStream {
        let model = self.model;
        let (attrs, vis, ident, rt) = (&model.attrs, &model.vis, &model.ident, &self.rt);
        let (n_inputs, n_outputs) = (size(model.n_inputs), size(model.n_outputs()));
        let masks = model.masks_ident();
        let summary = format!(
            "Architecture: `{}`, {} ({} rounding).",
            self.summary(),
            int8.source,
            int8.rounding.name()
        );
        let fields = model.layers.iter().enumerate().map(|(idx, layer)| {
            let (name, fan_in, n) = (&layer.name, size(layer.fan_in), size(layer.size));
            let scales = match int8.layers.get(idx) {
                Some(q) if q.weight_scales.len() > 1 => ", a weight scale per channel",
                Some(_) => ", one weight scale",
                None => "",
            };
            let how = if tabled(layer) {
                "by a table of its 256 values"
            } else {
                "fused"
            };
            let doc = format!(
                "Layer `{}`: {} int8 {} over {}{scales}, `{}` {how}.",
                label(name),
                layer.size,
                if layer.size == 1 {
                    "channel"
                } else {
                    "channels"
                },
                layer.fan_in,
                layer.activation
            );
            let stage = tabled(layer).then(|| quote!(, #rt::int8::Table));
            quote!(#[doc = #doc] pub #name: #rt::int8::Dense<#fan_in, #n #stage>,)
        });
        let masks_struct = self.masks_struct();
        let masks_impl = self.masks_impl();
        let masks_trait = self.masks_trait_impl();
        let spec = self.spec();
        let constant = int8.constant.then(|| self.int8_constant(int8));
        let quantize = self.twin_quantize(int8);
        let (first, last) = match (model.layers.first(), model.layers.last()) {
            (Some(first), Some(last)) => (first.name.clone(), last.name.clone()),
            _ => (ident.clone(), ident.clone()),
        };
        let forward_quantized = self.body(self.int8_chain(false));
        let forward_quantized_masked = self.body(self.int8_chain(true));
        let batch = self.int8_batch();
        let io = quote!(self.#first.frame().input, self.#last.output());
        let forward = self.body(quote! {
            #rt::int8::through_integers(x, #io, |q| self.forward_quantized(q))
        });
        let forward_masked = self.body(quote! {
            #rt::int8::through_integers(x, #io, |q| self.forward_quantized_masked(q, masks))
        });
        let sampling = self.int8_sampling();
        let quantized_network = self.quantized_network(int8);
        let file_dependencies = self.file_dependencies();
        let forward_quantized_doc = forward_quantized_doc(int8);
        quote! {
            #(#attrs)*
            #[doc = ""]
            #[doc = #summary]
            #vis struct #ident {
                #(#fields)*
            }

            #masks_struct

            impl #ident {
                /// The number of inputs.
                pub const N_INPUTS: usize = #n_inputs;
                /// The number of outputs.
                pub const N_OUTPUTS: usize = #n_outputs;
                /// The architecture as declared, with scalar `i8`.
                pub const SPEC: #rt::NetworkSpec = #spec;
                #constant

                #[doc = #forward_quantized_doc]
                #[must_use]
                pub fn forward_quantized(&self, x: &[i8; #n_inputs]) -> [i8; #n_outputs] {
                    #forward_quantized
                }

                /// The training-mode pass in integers under `masks`: a dropped unit takes its
                /// zero point (real 0), and the scale factor of the kept ones is folded into the
                /// next layer's requantization.
                #[must_use]
                pub fn forward_quantized_masked(&self, x: &[i8; #n_inputs], masks: &#masks) -> [i8; #n_outputs] {
                    #forward_quantized_masked
                }

                /// [`forward_quantized`](Self::forward_quantized) on the quantized input,
                /// dequantized; an input with a NaN gives NaN outputs.
                #[must_use]
                pub fn forward(&self, x: &[f32; #n_inputs]) -> [f32; #n_outputs] {
                    #forward
                }

                /// [`forward_quantized_masked`](Self::forward_quantized_masked) on the quantized
                /// input, dequantized; an input with a NaN gives NaN outputs.
                #[must_use]
                pub fn forward_masked(&self, x: &[f32; #n_inputs], masks: &#masks) -> [f32; #n_outputs] {
                    #forward_masked
                }
            }

            #sampling
            #quantized_network
            #batch
            #quantize
            #masks_impl
            #masks_trait
            #file_dependencies
        }
    }

    /// `forward_quantized4`, and the batch pass: layer by layer over chunks of rows with
    /// `alloc` (each layer's products for the whole chunk at once), four rows at a time through
    /// every layer without it.
    fn int8_batch(&self) -> TokenStream {
        let (ident, rt) = (&self.model.ident, &self.rt);
        let (n_inputs, n_outputs) = (size(self.model.n_inputs), size(self.model.n_outputs()));
        let forward4 = self.body(self.int8_chain4());
        let by_layers = self.body(self.int8_layers_chain());
        let by_fours = self.body(quote! {
            #rt::int8::batch(x, y, |rows| self.forward_quantized4(rows), |row| self.forward_quantized(row))
        });
        let batch = |body: &TokenStream| {
            quote! {
                impl #ident {
                    /// [`forward_quantized`](Self::forward_quantized) of each row of `x` into
                    /// the same row of `y`.
                    ///
                    /// # Errors
                    /// [`Error::OutputRows`](::dropout::Error::OutputRows) if `y` is not as long
                    /// as `x`; `y` is then left as it was.
                    pub fn forward_quantized_batch(
                        &self,
                        x: &[[i8; #n_inputs]],
                        y: &mut [[i8; #n_outputs]],
                    ) -> ::core::result::Result<(), #rt::Error> {
                        #body
                    }
                }
            }
        };
        let (with_heap, without) = (batch(&by_layers), batch(&by_fours));
        quote! {
            impl #ident {
                /// [`forward_quantized`](Self::forward_quantized) of four inputs at once (each
                /// weight loaded once for the four where the CPU has AVX-512 VNNI).
                #[must_use]
                pub fn forward_quantized4(&self, x: &[[i8; #n_inputs]; 4]) -> [[i8; #n_outputs]; 4] {
                    #forward4
                }
            }

            ::dropout::__if_alloc! { #with_heap }
            ::dropout::__if_not_alloc! { #without }
        }
    }

    /// `batch_layers(x, y, |x, y| { let mut a1 = rows(x.len()); self.h1.forward_rows(x, &mut
    /// a1)?; …; self.out.forward_rows(&a2, y) })`.
    fn int8_layers_chain(&self) -> TokenStream {
        let rt = &self.rt;
        let layers = &self.model.layers;
        let mut prev = quote!(x);
        let mut lines = Vec::new();
        for (idx, layer) in layers.iter().enumerate() {
            let name = &layer.name;
            if idx + 1 == layers.len() {
                lines.push(quote!(self.#name.forward_rows(#prev, y)));
            } else {
                let (out, n) = (format_ident!("a{}", idx + 1), size(layer.size));
                lines.push(quote! {
                    let mut #out = #rt::int8::rows::<#n>(x.len());
                    self.#name.forward_rows(#prev, &mut #out)?;
                });
                prev = quote!(&#out);
            }
        }
        quote!(#rt::int8::batch_layers(x, y, |x, y| { #(#lines)* }))
    }

    /// `INPUT`, `OUTPUT` and `new()`, for integers known at compile time.
    fn int8_constant(&self, int8: &Int8) -> TokenStream {
        let rt = &self.rt;
        let (input, output) = (quantization(rt, int8.input), quantization(rt, int8.output));
        let new = self.int8_new(int8);
        quote! {
            /// The quantization of the input: `forward` quantizes with it.
            pub const INPUT: #rt::int8::Quantization = #input;
            /// The quantization of the output: `forward` dequantizes with it.
            pub const OUTPUT: #rt::int8::Quantization = #output;

            /// The network with its weights, biases and requantization, evaluated at compile
            /// time: `static NET: Net = Net::new();` keeps it in flash.
            #[must_use]
            pub const fn new() -> Self {
                #new
            }
        }
    }

    /// A twin's `quantize`: its float network calibrated on rows and quantized as TensorFlow's
    /// converter would, at run time.
    fn twin_quantize(&self, int8: &Int8) -> TokenStream {
        let Some(float) = &int8.twin_of else {
            return TokenStream::new();
        };
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let n_inputs = size(model.n_inputs);
        let mut site_before = model.input_dropout;
        let rounding = rounding(rt, int8.rounding);
        let fields = model.layers.iter().enumerate().map(|(k, layer)| {
            let name = &layer.name;
            let (eval, train) =
                dropout_shared::quant::site_factors(site_before.map(|p| p.keep), model.scaling);
            site_before = layer.dropout;
            let (eval, train) = (Literal::f64_suffixed(eval), Literal::f64_suffixed(train));
            quote! {
                #name: #rt::calibrate::quantized_layer(
                    &net.#name, &calibration, #k, (#eval, #train), #rounding,
                )?,
            }
        });
        let body = self.body(quote! {
            let calibration = #rt::calibrate::calibrate(net, rows)?;
            ::core::result::Result::Ok(Self { #(#fields)* })
        });
        let doc = format!(
            "[`{float}`] in int8: its input and every layer's output calibrated on `rows` (min and max, widened to include 0), weights per channel, as TensorFlow's converter chooses them."
        );
        quote! {
            ::dropout::__if_alloc! {
                impl #ident {
                    #[doc = #doc]
                    ///
                    /// # Errors
                    /// [`Error::NoSamples`](::dropout::Error::NoSamples) without rows;
                    /// [`Error::Quantization`](::dropout::Error::Quantization) if a weight, bias
                    /// or calibrated range is not finite.
                    pub fn quantize(net: &#float, rows: &[[f32; #n_inputs]]) -> ::core::result::Result<Self, #rt::Error> {
                        #body
                    }
                }
            }
        }
    }

    /// `impl QuantizedNetwork`: the architecture and each layer's integers and scales, for
    /// generic code such as `io::to_tflite`.
    fn quantized_network(&self, int8: &Int8) -> TokenStream {
        let (ident, rt) = (&self.model.ident, &self.rt);
        let arms = self.model.layers.iter().enumerate().map(|(idx, layer)| {
            let name = &layer.name;
            quote!(#idx => ::core::option::Option::Some(self.#name.parts()),)
        });
        let (float_in, float_out) = int8.float_io;
        let body = self.body(quote!(match idx { #(#arms)* _ => ::core::option::Option::None }));
        quote! {
            #[automatically_derived]
            impl #rt::int8::QuantizedNetwork for #ident {
                const SPEC: #rt::NetworkSpec = #ident::SPEC;
                const FLOAT_IO: (bool, bool) = (#float_in, #float_out);

                fn layer(&self, idx: usize) -> ::core::option::Option<#rt::int8::LayerParts<'_>> {
                    #body
                }
            }
        }
    }

    /// `sample_masks` and `predict_mc`, as the features allow.
    fn int8_sampling(&self) -> TokenStream {
        let model = self.model;
        let (ident, rt) = (&model.ident, &self.rt);
        let (n_inputs, n_outputs) = (size(model.n_inputs), size(model.n_outputs()));
        let masks = model.masks_ident();
        let sample = self.body(quote!(#rt::sample_masks(&Self::SPEC, rng)));
        let predict_mc = self.body(quote! {
            #rt::monte_carlo(self.forward(x), samples, || {
                let masks = self.sample_masks(&mut #rt::pass_rng(rng));
                self.forward_masked(x, &masks)
            })
        });
        quote! {
            ::dropout::__if_rand! {
                impl #ident {
                    /// Draws one mask per dropout site, each unit kept with its site's keep
                    /// probability, sites in order μ⁰, μ¹, … (as a float network draws them).
                    pub fn sample_masks<R: #rt::rand::Rng + ?::core::marker::Sized>(&self, rng: &mut R) -> #masks {
                        #sample
                    }
                }
            }

            ::dropout::__if_alloc_rand! {
                impl #ident {
                    /// Monte Carlo dropout in integers: the mean and sample standard deviation of
                    /// `samples` dequantized masked passes at `x`, each pass's masks drawn from
                    /// `dropout::stats::pass_rng(rng)`, as a float network's are.
                    ///
                    /// # Errors
                    /// [`Error::NoSamples`](::dropout::Error::NoSamples) if `samples` is zero.
                    pub fn predict_mc<R: #rt::rand::Rng + ?::core::marker::Sized>(
                        &self,
                        x: &[f32; #n_inputs],
                        samples: usize,
                        rng: &mut R,
                    ) -> ::core::result::Result<#rt::Moments<[f32; #n_outputs]>, #rt::Error> {
                        #predict_mc
                    }
                }
            }

        }
    }

    /// `Self { h1: Dense::new(…), … }` from the imported integers; after an error, a network of
    /// zeros, so that `static NET: Net = Net::new()` compiles and only the declaration's errors
    /// show.
    fn int8_new(&self, int8: &Int8) -> TokenStream {
        let rt = &self.rt;
        if self.mode == Mode::Stub {
            let fields = self.model.layers.iter().map(|layer| {
                let name = &layer.name;
                if tabled(layer) {
                    let unit = quote!(#rt::int8::Quantization { scale: 1.0, zero_point: 0 });
                    let activation = super::activation(rt, layer.activation);
                    quote! {
                        #name: #rt::int8::Dense::zeroed_with(#rt::int8::Table {
                            activation: #activation,
                            input: #unit,
                            output: #unit,
                            values: [0; 256],
                        }),
                    }
                } else {
                    quote!(#name: #rt::int8::Dense::zeroed(),)
                }
            });
            return quote!(Self { #(#fields)* });
        }
        let fields = self
            .model
            .layers
            .iter()
            .zip(&int8.layers)
            .map(|(layer, q)| {
                let name = &layer.name;
                let value = int8_layer(rt, q, layer.fan_in, int8.rounding);
                quote!(#name: #value,)
            });
        quote!(Self { #(#fields)* })
    }

    /// `let a1 = self.h1.forward4(x); …`: four inputs through every layer.
    fn int8_chain4(&self) -> TokenStream {
        let mut prev = quote!(x);
        let mut lines = Vec::new();
        for (idx, layer) in self.model.layers.iter().enumerate() {
            let (out, name) = (format_ident!("a{}", idx + 1), &layer.name);
            lines.push(quote!(let #out = self.#name.forward4(#prev);));
            prev = quote!(&#out);
        }
        let last = format_ident!("a{}", self.model.layers.len());
        quote!(#(#lines)* #last)
    }

    /// `let a1 = self.h1.forward(x); …`, or the masked pass: the layer a site feeds takes its
    /// mask, the others their `train` requantization.
    fn int8_chain(&self, masked: bool) -> TokenStream {
        let mut prev = quote!(x);
        let mut lines = Vec::new();
        for (idx, step) in self.model.steps().iter().enumerate() {
            let (out, name) = (format_ident!("a{}", idx + 1), &step.layer.name);
            let call = match (&step.site, masked) {
                (_, false) => quote!(self.#name.forward(#prev)),
                (Some(site), true) => {
                    let field = &site.field;
                    quote!(self.#name.forward_masked(#prev, &masks.#field))
                }
                (None, true) => quote!(self.#name.forward_train(#prev)),
            };
            lines.push(quote!(let #out = #call;));
            prev = quote!(&#out);
        }
        let last = format_ident!("a{}", self.model.layers.len());
        if masked && self.model.sites().is_empty() {
            lines.insert(0, quote!(let _ = masks;));
        }
        quote!(#(#lines)* #last)
    }
}

/// What `forward_quantized` computes: the interpreter's bits for an imported network, the
/// rounding for a twin.
fn forward_quantized_doc(int8: &Int8) -> String {
    let rounding_doc = match int8.rounding {
        Rounding::Double => "double rounding, as TFLite Micro and CMSIS-NN",
        Rounding::Single => "single rounding, as TensorFlow's reference kernels",
    };
    if int8.twin_of.is_some() {
        format!("The evaluation pass in integers, requantized with {rounding_doc}.")
    } else {
        format!("The evaluation pass in integers, bit for bit the interpreter's ({rounding_doc}).")
    }
}

fn quantization(rt: &TokenStream, q: Quantization) -> TokenStream {
    let scale = Literal::f32_suffixed(q.scale);
    let zero_point = q.zero_point;
    quote!(#rt::int8::Quantization { scale: #scale, zero_point: #zero_point })
}

fn int8_layer(rt: &TokenStream, q: &Int8Layer, fan_in: usize, rounding_: Rounding) -> TokenStream {
    let bytes: Vec<u8> = q.weights.iter().map(|w| w.cast_unsigned()).collect();
    let bytes = Literal::byte_string(&bytes);
    let n = q.weights.len() / fan_in.max(1);
    // One scale per channel: a per-tensor scale repeated.
    let scales = (0..n).map(|c| {
        Literal::f32_suffixed(q.weight_scales[if q.weight_scales.len() == 1 { 0 } else { c }])
    });
    let (size, fan_in) = (size(n), size(fan_in));
    let (input, output) = (quantization(rt, q.input), quantization(rt, q.output));
    let (lo, hi) = (
        Literal::i8_unsuffixed(q.range.0),
        Literal::i8_unsuffixed(q.range.1),
    );
    let activation = fused(rt, Some(q.activation));
    let rounding = rounding(rt, rounding_);
    let (eval, train) = (requantization(rt, &q.eval), requantization(rt, &q.train));
    let frame = quote! {
        #rt::int8::Frame {
            input: #input,
            output: #output,
            activation: #activation,
            range: (#lo, #hi),
            rounding: #rounding,
        }
    };
    let weights = quote!(#rt::int8::weights_from_bytes::<#fan_in, #size>(#bytes));
    match &q.table {
        Some(table) => {
            let (input, output, activation) = (
                quantization(rt, table.input),
                quantization(rt, table.output),
                super::activation(rt, table.activation),
            );
            let values = table.values.iter().map(|&v| Literal::i8_unsuffixed(v));
            quote! {
                #rt::int8::Dense::with_stage(
                    #weights, [#(#scales),*], #frame, #eval, #train,
                    #rt::int8::Table {
                        activation: #activation,
                        input: #input,
                        output: #output,
                        values: [#(#values),*],
                    },
                )
            }
        }
        None => quote!(#rt::int8::Dense::new(#weights, [#(#scales),*], #frame, #eval, #train)),
    }
}

/// Whether a layer of an int8 network computes its activation by a table: whether it does not
/// fuse it (an imported network's layers always do).
fn tabled(layer: &crate::model::Layer) -> bool {
    dropout_shared::quant::FusedActivation::of(layer.activation).is_none()
}

fn rounding(rt: &TokenStream, rounding: Rounding) -> TokenStream {
    match rounding {
        Rounding::Double => quote!(#rt::Rounding::Double),
        Rounding::Single => quote!(#rt::Rounding::Single),
    }
}

/// The fused activation's variant; `Linear` where none applies (an error already reported).
fn fused(
    rt: &TokenStream,
    activation: Option<dropout_shared::quant::FusedActivation>,
) -> TokenStream {
    use dropout_shared::quant::FusedActivation;
    let variant = match activation {
        Some(FusedActivation::Relu) => quote!(Relu),
        Some(FusedActivation::Relu6) => quote!(Relu6),
        Some(FusedActivation::Linear) | None => quote!(Linear),
    };
    quote!(#rt::FusedActivation::#variant)
}

fn requantization(rt: &TokenStream, r: &Requantization) -> TokenStream {
    let bias = &r.bias;
    let multipliers = r.multipliers.iter().map(|QuantizedMultiplier { multiplier, shift }| {
        quote!(#rt::QuantizedMultiplier { multiplier: #multiplier, shift: #shift })
    });
    quote!(#rt::int8::Requantization { bias: [#(#bias),*], multipliers: [#(#multipliers),*] })
}
