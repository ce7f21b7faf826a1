//! Writes float networks as ONNX models with `dropout::io::to_onnx` (the evaluation pass) and
//! `dropout::io::to_onnx_masked` (the training pass, its masks inputs), into the directory
//! given (default `models/onnx/exported`). `tools/onnx_fixtures.py` runs this, checks the files
//! with `onnx.checker` and runs them in onnxruntime; `tests/onnx.rs` checks that the committed
//! files are what the functions write today and that onnxruntime's outputs are `forward`'s.
//!
//! ```sh
//! cargo run --example export_onnx --features onnx -- models/onnx/exported
//! ```

use std::path::PathBuf;

use dropout::network;
use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;

/// The int8 networks imported from `models/*.tflite`, which `to_onnx_quantized` writes in the
/// QDQ format.
#[path = "export_tflite.rs"]
#[allow(dead_code, reason = "that example's `main` is not called here")]
pub mod int8;

network! {
    /// PyTorch's classifier with its `Dropout(0.2)` layers declared again.
    pub struct Classifier<f32> {
        input: 4,
        dense 16 relu, dropout(p = 0.2),
        dense 8 tanh, dropout(p = 0.2),
        dense 3 identity,
        from: onnx("models/onnx/classifier_dynamo.onnx"),
    }
}

#[macro_use]
#[path = "../tests/fixtures/zoo.rs"]
mod zoo;

zoo!(
    /// Every activation, once.
    Zoo,
    "models/onnx/zoo_torchscript.onnx"
);

network! {
    /// Every kind of dropout site, in `f64`: on the input, alpha dropout after SELU, Gaussian
    /// dropout, DropConnect with a site on the same layer, and a softmax output.
    pub struct Family<f64> {
        input: 4, dropout(p = 0.1),
        dense 8 selu, alpha_dropout(p = 0.2),
        dense 8 tanh, gaussian_dropout(p = 0.3),
        dense 6 leaky_relu(0.1) dropconnect(p = 0.25), dropout(p = 0.2),
        dense 3 softmax,
    }
}

/// The files this example writes, by name: the toy network of "Comprehend Dropout" (classic
/// scaling, whose evaluation pass multiplies by the keep probabilities), the imported
/// classifier and activations, the family of sites, and int8 networks as QDQ models.
///
/// # Errors
/// If a network cannot be written.
pub fn models() -> Result<Vec<(&'static str, Vec<u8>)>, dropout::Error> {
    use dropout::io::{to_onnx, to_onnx_masked, to_onnx_quantized};

    let toy = dropout::toy::Toy::new();
    let family = family();
    Ok(vec![
        ("toy", to_onnx(&toy)?),
        ("toy_masked", to_onnx_masked(&toy)?),
        ("classifier", to_onnx(&Classifier::new())?),
        ("classifier_masked", to_onnx_masked(&Classifier::new())?),
        ("zoo", to_onnx(&Zoo::new())?),
        ("family", to_onnx(&family)?),
        ("family_masked", to_onnx_masked(&family)?),
        ("sine_qdq", to_onnx_quantized(&int8::Sine::new())?),
        (
            "sine_float_io_qdq",
            to_onnx_quantized(&int8::SineFloatIo::new())?,
        ),
        (
            "per_tensor_qdq",
            to_onnx_quantized(&int8::PerTensor::new())?,
        ),
    ])
}

/// [`Family`] with weights drawn from a fixed seed.
pub fn family() -> Family {
    Family::init(&mut ChaCha8Rng::seed_from_u64(23))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("models/onnx/exported"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in models()? {
        let path = dir.join(format!("{name}.onnx"));
        std::fs::write(&path, &bytes)?;
        println!("{}: {} bytes", path.display(), bytes.len());
    }
    Ok(())
}
