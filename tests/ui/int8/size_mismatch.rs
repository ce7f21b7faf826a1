use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Sine<i8> {
        input: 1,
        dense 16 relu,
        dense 8 relu,
        dense 1 identity,
        from: tflite("models/sine.tflite"),
    }
}

fn main() {
    static NET: Sine = Sine::new();
    let _: [i8; 1] = NET.forward_quantized(&[-3]);
}
