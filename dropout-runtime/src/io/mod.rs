//! Saving and loading parameters, checked against the network's shapes: as JSON, and as
//! safetensors files, which PyTorch reads and writes.
//!
//! The JSON format names each layer and writes its weights in the declared orientation, one row
//! per neuron, so a file can be read and edited by hand:
//!
//! ```json
//! { "network": "Toy", "scalar": "f32",
//!   "layers": [ { "name": "h1", "weights": [[1.0, -1.0], [2.0, 1.0], [-1.0, 3.0]], "bias": [0.5, -1.0, 0.0] }, … ] }
//! ```
//!
//! Loading is as strict as the macro: the scalar type, every layer's name, shape and tensor
//! rank, and every value's finiteness are checked before anything is written, and a network is
//! left untouched when loading fails. Each format is read in three ways: by value
//! ([`from_json`]), on the heap ([`from_json_boxed`], for networks too large for the stack),
//! and into an existing network ([`from_json_into`]); likewise from a path. Saving writes a
//! temporary file beside the target and renames it over the target once it is complete and
//! synced, so a failed save leaves the previous file as it was.
//!
//! With the `tflite` feature, [`to_tflite`] writes an int8 network as a TensorFlow Lite model;
//! with the `onnx` feature, [`to_onnx`] and [`to_onnx_masked`] write a float network's
//! evaluation and training passes as ONNX models.

#[cfg(feature = "onnx")]
mod onnx;
#[cfg(feature = "serde")]
mod params;
#[cfg(feature = "tflite")]
mod tflite;

#[cfg(feature = "onnx")]
pub use onnx::{
    OnnxInput, onnx_mask_inputs, to_onnx, to_onnx_masked, to_onnx_quantized, triton_config,
};
#[cfg(feature = "serde")]
pub use params::*;
#[cfg(feature = "tflite")]
pub use tflite::to_tflite;
