#![no_std]
//! Networks declared with [`dropout::network!`] in a crate that has only `core`: the runtime's
//! default features (`std`, `rand`, `ndarray`, …) are off.
//!
//! With the `no-panic` feature the forwards below carry `#[no_panic]`, and any panic path that
//! the optimizer leaves in them fails the link:
//!
//! ```sh
//! cargo test -p dropout-no-std-check --profile no-panic --features no-panic
//! ```
//!
//! The `no-panic` profile is `release` with link-time optimization, which lets the check see
//! into the functions of other crates (`libm`'s `exp` and `tanh`); without it every call into
//! another crate counts as a possible panic, and unoptimized builds keep their bounds checks.

use dropout::network;
#[cfg(feature = "no-panic")]
use no_panic::no_panic;

/// The toy network of "Comprehend Dropout", in `f32` (declared in `dropout::toy`, which is
/// `no_std` like everything a declaration generates).
pub use dropout::toy::{Toy, ToyMasks};

network! {
    /// A wider network in `f64` with every other activation: its first layer (16 × 80 weights,
    /// two storage panels) takes the path of big layers.
    pub struct Wide<f64> {
        input: 16, dropout(p = 0.2),
        dense 80 tanh, dropout(p = 0.5),
        dense 8 leaky_relu(0.1), dropout(p = 0.25),
        dense 5 sigmoid,
        dense 3 softmax,
    }
}

/// The toy network, evaluated at compile time into static memory.
pub static TOY: Toy = Toy::new();

/// Evaluation-mode forward pass of [`Toy`].
#[cfg_attr(feature = "no-panic", no_panic)]
#[must_use]
pub fn toy_eval(x: &[f32; 2]) -> [f32; 1] {
    TOY.forward(x)
}

/// Forward pass of [`Toy`] under the given masks.
#[cfg_attr(feature = "no-panic", no_panic)]
#[must_use]
pub fn toy_masked(x: &[f32; 2], masks: &ToyMasks) -> [f32; 1] {
    TOY.forward_masked(x, masks)
}

/// Evaluation-mode forward pass of [`Wide`].
#[cfg_attr(feature = "no-panic", no_panic)]
#[must_use]
pub fn wide_eval(net: &Wide, x: &[f64; 16]) -> [f64; 3] {
    net.forward(x)
}

/// Forward pass of [`Wide`] under the given masks.
#[cfg_attr(feature = "no-panic", no_panic)]
#[must_use]
pub fn wide_masked(net: &Wide, x: &[f64; 16], masks: &WideMasks) -> [f64; 3] {
    net.forward_masked(x, masks)
}

network! {
    /// The int8 sine model, imported from its `.tflite` file, with dropout on its hidden layers.
    pub struct SineI8<i8> {
        input: 1,
        dense 16 relu, dropout(p = 0.2),
        dense 16 relu, dropout(p = 0.2),
        dense 1 identity,
        from: tflite("../../models/sine.tflite"),
    }
}

/// The int8 sine model in flash.
pub static SINE: SineI8 = SineI8::new();

/// The integer evaluation pass of [`SineI8`].
#[cfg_attr(feature = "no-panic", no_panic)]
#[must_use]
pub fn sine_quantized(x: &[i8; 1]) -> [i8; 1] {
    SINE.forward_quantized(x)
}

/// The integer masked pass of [`SineI8`].
#[cfg_attr(feature = "no-panic", no_panic)]
#[must_use]
pub fn sine_quantized_masked(x: &[i8; 1], masks: &SineI8Masks) -> [i8; 1] {
    SINE.forward_quantized_masked(x, masks)
}

/// The float view of [`SineI8`]: quantize, integer pass, dequantize.
#[cfg_attr(feature = "no-panic", no_panic)]
#[must_use]
pub fn sine_float(x: &[f32; 1]) -> [f32; 1] {
    SINE.forward(x)
}
