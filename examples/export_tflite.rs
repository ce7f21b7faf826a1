//! Writes int8 networks imported from `models/` back out as `.tflite` files with
//! `dropout::io::to_tflite`, into the directory given (default `models/exported`).
//! `tools/tflite_int8.py` (and `tools/tflite_tables.py`, for `tables`) runs this and then TFLite
//! Micro on what it wrote; `tests/int8.rs`
//! checks that the committed files are what `to_tflite` writes today.
//!
//! ```sh
//! cargo run --example export_tflite -- models/exported
//! ```

use std::path::PathBuf;

use dropout::network;

network! {
    pub struct Sine<i8> {
        input: 1, dense 16 relu, dense 16 relu, dense 1 identity,
        from: tflite("models/sine.tflite"),
    }
}

network! {
    /// Dropout sites are declared here and left out of the file, as TensorFlow leaves them out.
    pub struct SineFloatIo<i8> {
        input: 1, dense 16 relu, dropout(p = 0.2), dense 16 relu, dense 1 identity,
        from: tflite("models/sine_float_io.tflite"),
    }
}

network! {
    pub struct PerTensor<i8> {
        input: 3, dense 8 relu, dense 6 relu6, dense 2 identity,
        from: tflite("models/per_tensor.tflite"),
    }
}

network! {
    /// Tanh and sigmoid layers: `LOGISTIC` and `TANH` operators after their
    /// `FULLY_CONNECTED`s.
    pub struct Tables<i8> {
        input: 2, dense 8 tanh, dense 8 sigmoid, dense 2 identity,
        from: tflite("models/tables.tflite"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("models/exported"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    for (name, bytes) in [
        ("sine", dropout::io::to_tflite(&Sine::new())?),
        (
            "sine_float_io",
            dropout::io::to_tflite(&SineFloatIo::new())?,
        ),
        ("per_tensor", dropout::io::to_tflite(&PerTensor::new())?),
        ("tables", dropout::io::to_tflite(&Tables::new())?),
    ] {
        let path = dir.join(format!("{name}.tflite"));
        std::fs::write(&path, &bytes)?;
        println!("{}: {} bytes", path.display(), bytes.len());
    }
    Ok(())
}
