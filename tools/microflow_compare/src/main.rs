//! `microflow` (a proc-macro over `.tflite` files, per-tensor only) on the fixtures of
//! `tools/tflite_int8.py`: which models its macro builds, and, for those, on how many fixture
//! inputs its int8 outputs differ from TFLite Micro's and from TensorFlow's reference kernels.
//!
//! ```sh
//! cd tools/microflow_compare && cargo run --release
//! ```
//!
//! Of the eight fixtures only `per_tensor` is here: the others have per-channel weight scales,
//! which microflow does not read. `models/sine.tflite` (per channel) fails to compile under its
//! macro with "mismatched types: expected `1`, found `16`".

#[path = "../../../tests/fixtures/tflite_outputs.rs"]
mod outputs;

use microflow::model;

#[model("../../models/per_tensor.tflite")]
struct PerTensor;

fn main() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../models/per_tensor.tflite"
    ))
    .expect("the per-tensor fixture");
    let q = dropout_tflite::read(&bytes)
        .expect("a model")
        .output
        .quantization;
    let fixture = &outputs::PER_TENSOR;
    let (mut micro, mut reference, mut worst) = (0, 0, 0);
    for ((x, m), r) in fixture
        .inputs
        .iter()
        .zip(fixture.micro)
        .zip(fixture.reference)
    {
        let input = microflow::buffer::Buffer2D::<i8, 1, 3>::from_row_slice(x);
        // microflow dequantizes its int8 output; quantizing it again with the output's scale
        // gives the int8 values back.
        let y: Vec<i8> = PerTensor::predict_quantized(input)
            .iter()
            .map(|&v| ((v / q.scale).round() as i32 + q.zero_point).clamp(-128, 127) as i8)
            .collect();
        micro += usize::from(y[..] != m[..]);
        reference += usize::from(y[..] != r[..]);
        for (a, b) in y.iter().zip(m.iter()) {
            worst = worst.max((i32::from(*a) - i32::from(*b)).abs());
        }
    }
    println!(
        "microflow 0.1.3 on models/per_tensor.tflite, {} inputs: {micro} differ from TFLite Micro (by at most {worst}), {reference} from TensorFlow's reference kernels",
        fixture.inputs.len()
    );
}
