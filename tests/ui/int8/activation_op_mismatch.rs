use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in. The file's
// last `FULLY_CONNECTED` fuses nothing and a `LOGISTIC` follows it: the layer is `sigmoid`.
network! {
    pub struct Classifier<i8> {
        input: 2,
        dense 4 relu,
        dense 1 identity,
        from: tflite("models/sigmoid_output.tflite"),
    }
}

fn main() {}
