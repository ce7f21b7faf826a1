use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Sine<i8> {
        input: 3,
        dense 2 identity,
        from: tflite("fixtures/model.safetensors"),
    }
}

fn main() {}
