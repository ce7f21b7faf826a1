//! The runtime of the [`dropout`](https://docs.rs/dropout) crate.
//!
//! Networks declared with `dropout::network!` are structs of [`Dense`] layers; their generated
//! methods call into this crate for every computation: affine maps, [`Activation`]s, dropout
//! [`Site`]s under either [`Scaling`] convention, mask sampling, [`Trace`]s and batched passes.
//! Everything here is ordinary generic Rust and can be used without the macro.
//!
//! # Features
//! - `std` (default): standard library float functions; otherwise [`libm`] and `#![no_std]`.
//! - `alloc` (implied by `std`): [`Trace`].
//! - `rand` (default): mask sampling and weight initialisation over any [`rand::Rng`].
//! - `ndarray` (default): batched passes in [`batch`].
//! - `train` (default): gradients, optimizers and the trainer in [`train`].
//! - `diagram` (default): SVG pictures of networks in [`diagram`].
//! - `serde` (default): saving and loading parameters as JSON and safetensors in [`io`].
//!
//! # Example
//! ```
//! use dropout_runtime::{Activation, Dense, Dropout, Scaling, Site};
//!
//! // The first layer of "Comprehend Dropout"'s toy network under masks μ⁰ = (1, 1).
//! let h1 = Dense::<f32, 2, 3>::from_rows(&[[1.0, -1.0], [2.0, 1.0], [-1.0, 3.0]], &[0.5, -1.0, 0.0]);
//! let input_site = Site::new(Scaling::Classic, Dropout::NONE);
//! let z1 = input_site.masked(&h1, &[1.0, 1.0], &[true, true]);
//! assert_eq!(z1, [0.5, 2.0, 2.0]);
//! assert_eq!(Activation::Relu.apply(z1), [0.5, 2.0, 2.0]);
//! ```
#![cfg_attr(not(test), no_std)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The kernels are inlined into one function per instruction set; `#[inline(always)]` is how.
#![allow(clippy::inline_always)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod activation;
#[cfg(feature = "ndarray")]
pub mod batch;
mod dense;
#[cfg(feature = "diagram")]
pub mod diagram;
mod dropout;
mod error;
mod float;
pub mod init;
#[cfg(feature = "serde")]
pub mod io;
mod kernel;
mod network;
#[cfg(feature = "alloc")]
pub mod reference;
#[cfg(feature = "alloc")]
pub mod source;
mod spec;
#[cfg(feature = "alloc")]
pub mod stats;
#[doc(hidden)]
pub mod support;
#[cfg(all(feature = "alloc", feature = "rand"))]
pub mod testing;
#[cfg(feature = "alloc")]
mod trace;
#[cfg(feature = "train")]
pub mod train;

pub use activation::Activation;
pub use dense::Dense;
pub use dropout::{Dropout, Scaling, Site};
pub use error::Error;
pub use float::Float;
pub use network::{Layer, Masks, Network};
pub use spec::{LayerSpec, NetworkSpec};
#[cfg(feature = "alloc")]
pub use trace::{Trace, TraceRow};

#[cfg(feature = "ndarray")]
pub use ndarray;
#[cfg(feature = "rand")]
pub use rand;
