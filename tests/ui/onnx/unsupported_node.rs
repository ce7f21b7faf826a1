use dropout::network;

network! {
    /// The file normalises the first layer's output with `LayerNorm`.
    pub struct Normalised<f32> {
        input: 3,
        dense 4 identity,
        dense 2 identity,
        from: onnx("models/onnx/unsupported.onnx"),
    }
}

fn main() {}
