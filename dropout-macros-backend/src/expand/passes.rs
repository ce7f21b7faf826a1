//! The affine part of every step of every generated pass, written once from the model's
//! [`Step`]s: which site and DropConnect feed a layer is decided there, how each pass calls the
//! runtime for them here.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::model::Step;

/// The generated passes that are written step by step.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Pass {
    /// `forward`: one sample, evaluation mode.
    Eval,
    /// `forward_masked`: one sample under `masks`.
    Masked,
    /// `forward_lanes`: `LANES` samples stored lane-wise, evaluation mode.
    Lanes,
    /// `forward_lanes_masked`: `LANES` samples stored lane-wise, each under its own masks
    /// (`masks: [&Masks; LANES]`). Written only for models whose sites all draw bits
    /// ([`Model::masks_in_lanes`](crate::model::Model::masks_in_lanes)).
    MaskedLanes,
}

impl Pass {
    fn is_masked(self) -> bool {
        matches!(self, Pass::Masked | Pass::MaskedLanes)
    }

    /// Whether this pass runs `LANES` samples stored lane-wise.
    pub(super) fn in_lanes(self) -> bool {
        matches!(self, Pass::Lanes | Pass::MaskedLanes)
    }

    /// The runtime method for this pass: `base` for one sample, `base_lanes` for lanes.
    fn method(self, base: &str) -> proc_macro2::Ident {
        if self.in_lanes() {
            format_ident!("{base}_lanes")
        } else {
            format_ident!("{base}")
        }
    }
}

impl Pass {
    /// The output of `step`'s layer in this pass, `activation` (the layer's, as tokens) applied
    /// to its pre-activation from `prev`: a reference to what the layer before gave, before the
    /// site between them. The lane passes hand the activation to the runtime's lane methods,
    /// which apply it while each neuron's sums are in registers.
    pub(super) fn layer(
        self,
        step: &Step<'_>,
        prev: &TokenStream,
        activation: &TokenStream,
    ) -> TokenStream {
        if self.in_lanes() {
            self.affine(step, prev, &quote!(, #activation))
        } else {
            let affine = self.affine(step, prev, &TokenStream::new());
            quote!(#activation.apply(#affine))
        }
    }

    /// The call for `step`'s layer in this pass, from `prev`, with `tail` after its arguments:
    /// the layer's pre-activation, or, in the lane passes, whose `tail` is the activation, its
    /// output.
    fn affine(self, step: &Step<'_>, prev: &TokenStream, tail: &TokenStream) -> TokenStream {
        let name = &step.layer.name;
        let mask = |field: &proc_macro2::Ident| match self {
            Pass::MaskedLanes => quote!(, masks.map(|m| &m.#field)),
            _ => quote!(, &masks.#field),
        };
        // What a site does in this pass: evaluate, or apply its bits or its noise.
        let site_base = |noise: bool| match (self.is_masked(), noise) {
            (false, _) => "eval",
            (true, false) => "masked",
            (true, true) => "noised",
        };
        match (&step.site, &step.connection) {
            (None, None) => {
                let affine = if self.in_lanes() {
                    format_ident!("activated_lanes")
                } else {
                    format_ident!("affine")
                };
                let scale = self
                    .in_lanes()
                    .then(|| quote!(, ::core::option::Option::None));
                quote!(self.#name.#affine(#prev #scale #tail))
            }
            // The site fused into the layer's affine map.
            (Some(site), None) => {
                let (index, method) = (site.index, self.method(site_base(site.noise)));
                let mask = self.is_masked().then(|| mask(&site.field));
                quote!(Self::__SITES[#index].#method(&self.#name, #prev #mask #tail))
            }
            // DropConnect masks weights, not inputs: the site's values are computed first.
            (site, Some(connection)) => {
                let input = match site {
                    None => prev.clone(),
                    Some(site) => {
                        let index = site.index;
                        let method = self.method(&format!("{}_values", site_base(site.noise)));
                        let mask = self.is_masked().then(|| mask(&site.field));
                        quote!(&Self::__SITES[#index].#method(
                            ::core::clone::Clone::clone(#prev) #mask
                        ))
                    }
                };
                let index = connection.index;
                let method = self.method(if self.is_masked() {
                    "connected"
                } else {
                    "eval"
                });
                let mask = self.is_masked().then(|| mask(&connection.field));
                quote!(Self::__CONNECTIONS[#index].#method(&self.#name, #input #mask #tail))
            }
        }
    }
}
