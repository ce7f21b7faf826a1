use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Sine<i8> {
        input: 1,
        dense 16 relu6,
        dense 16 relu,
        dense 1 relu,
        from: tflite("models/sine.tflite"),
    }
}

fn main() {}
