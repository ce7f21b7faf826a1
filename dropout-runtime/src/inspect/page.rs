//! What the explorer page computes, in Rust: the page embeds its network as bytes
//! (`encode`) and this module compiled to WebAssembly (`explorer/`, the crate
//! `dropout-explorer`), which decodes them into a [`Page`] and answers the page's script. The
//! script only draws what [`Page::view`] describes; every number on the page — each pass, the
//! trace's text, the exact distribution, each formatted value — comes from here, through the
//! same [`Trace`](crate::Trace) walk, kernel, activations, sites and sampler as the declared network's own
//! passes.
//!
//! Not a stable API: the page and this module change together.

use alloc::vec::Vec;

use crate::{Dropout, DropoutKind, Float, Masks, Network, Scaling};

#[cfg(feature = "rand")]
mod view;
#[cfg(feature = "rand")]
pub use view::{AnyPage, Page};

/// The most droppable units (and weights) whose every mask the page enumerates (2¹⁶ passes).
pub const MAX_EXACT_UNITS: usize = 16;

const MAGIC: &[u8; 4] = b"DXP1";

/// The page's network and the state it opens in, as bytes for the WebAssembly module: the
/// architecture, every parameter in the network's scalar type, the input, the masks, the pass
/// and the seed.
pub(crate) fn encode<N: Network>(
    net: &N,
    x: &N::Input,
    masks: &N::Masks,
    training: bool,
    seed: u64,
) -> Vec<u8> {
    let spec = &N::SPEC;
    let mut out = Writer(Vec::new());
    out.0.extend_from_slice(MAGIC);
    out.u8(match N::Scalar::NAME {
        "f32" => 4,
        _ => 8,
    });
    out.u8(match spec.scaling {
        Scaling::Classic => 0,
        Scaling::Inverted => 1,
    });
    out.text(spec.name);
    out.u32(spec.n_inputs);
    out.dropout(spec.input_dropout);
    out.u32(spec.layers.len());
    for (idx, layer_spec) in spec.layers.iter().enumerate() {
        out.text(layer_spec.name);
        out.u32(layer_spec.fan_in);
        out.u32(layer_spec.size);
        out.text(layer_spec.activation.name());
        out.f64(layer_spec.activation.parameter_value().unwrap_or(0.0));
        out.dropout(layer_spec.dropout);
        out.dropout(layer_spec.dropconnect);
        let layer = net.layer(idx);
        for neuron in 0..layer_spec.size {
            for input in 0..layer_spec.fan_in {
                let w = layer.and_then(|l| l.weight(neuron, input));
                out.scalar(w.unwrap_or(N::Scalar::ZERO));
            }
        }
        for neuron in 0..layer_spec.size {
            let b = layer.and_then(|l| l.biases().get(neuron).copied());
            out.scalar(b.unwrap_or(N::Scalar::ZERO));
        }
    }
    for &v in x.as_ref() {
        out.scalar(v);
    }
    out.u8(u8::from(training));
    out.0.extend_from_slice(&seed.to_le_bytes());
    for (idx, (_, size, _)) in spec.sites().enumerate() {
        match (masks.site(idx), masks.noise(idx)) {
            (Some(bits), _) => bits.iter().for_each(|&b| out.u8(u8::from(b))),
            (None, Some(noise)) => noise.iter().for_each(|&v| out.scalar(v)),
            (None, None) => (0..size).for_each(|_| out.u8(1)),
        }
    }
    for idx in 0..spec.connections().count() {
        for &b in masks.connections(idx).unwrap_or(&[]) {
            out.u8(u8::from(b));
        }
    }
    out.0
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u32(&mut self, v: usize) {
        self.0
            .extend_from_slice(&u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes());
    }
    fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn scalar<T: Float>(&mut self, v: T) {
        // Every f32 is an f64 exactly, and reads back as itself.
        self.f64(v.to_f64());
    }
    fn text(&mut self, text: &str) {
        self.u32(text.len());
        self.0.extend_from_slice(text.as_bytes());
    }
    fn dropout(&mut self, dropout: Option<Dropout>) {
        match dropout {
            None => self.u8(0),
            Some(d) => {
                let kind = DropoutKind::ALL.iter().position(|&k| k == d.kind());
                self.u8(1 + u8::try_from(kind.unwrap_or(0)).unwrap_or(0));
                self.f64(d.p());
                self.f64(d.keep());
            }
        }
    }
}
