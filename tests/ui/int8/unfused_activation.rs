use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Sine<i8> {
        input: 1,
        dense 16 relu,
        dense 16 gelu,
        dense 1 identity,
        from: tflite("models/sine.tflite"),
    }
}

fn main() {}
