use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Classifier<i8> {
        input: 2,
        dense 4 relu,
        dense 1 identity,
        from: tflite("models/sigmoid_output.tflite"),
    }
}

fn main() {}
