//! What `dropout-macros-backend` (which runs while a crate compiles) and `dropout-runtime` (which
//! runs in the compiled program) must agree on, defined once for both: the vocabulary of a
//! network — its [`Activation`]s (names, parameters, forward functions and derivatives), the
//! [`DropoutKind`]s and [`Scaling`] conventions of its sites — the order in which a layer's
//! weights are stored, the scalar types a network can be declared over and their arithmetic
//! ([`Float`]), and the notation both print.
//!
//! Adding an activation means adding it here: the macro's parser and messages, the generated
//! code, the passes, backpropagation, initialisation and the reference all read this crate.
//!
//! The macro embeds weights read from safetensors files as bytes already in the runtime's storage
//! order; if the two crates disagreed on [`layout`], a network would compute with scrambled
//! weights. Depending on this crate is what makes that impossible.
#![cfg_attr(not(test), no_std)]

#[cfg(feature = "std")]
extern crate std;

pub mod activation;
mod dropout;
mod float;
pub mod layout;
pub mod quant;
mod scalar;
mod superscript;

pub use activation::{Activation, Init};
pub use dropout::{ALPHA_PRIME, Dropout, DropoutKind, ProbabilityError, Scaling};
pub use float::{ByType, Float};
pub use scalar::Scalar;
pub use superscript::Superscript;

/// The smallest keep probability a dropout site may have: `inverted` scaling multiplies kept
/// units by 1/keep. A keep below the smallest normal `f32` (1.18e-38) would be stored with
/// fewer bits, and its 1/keep (above 8.5e37) would overflow `f32` for activations below 4.
pub const MIN_KEEP: f64 = f32::MIN_POSITIVE as f64;
