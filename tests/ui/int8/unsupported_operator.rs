use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Classifier<i8> {
        input: 2,
        dense 4 relu,
        dense 3 softmax,
        from: tflite("models/softmax_output.tflite"),
    }
}

fn main() {}
