use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Sine<f32> {
        input: 1,
        dense 1 identity,
        from: tflite("models/sine.tflite"),
        rounding: single,
    }
}

fn main() {}
