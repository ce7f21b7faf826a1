use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Sine<i8> {
        input: 1,
        alpha_dropout(p = 0.1),
        dense 16 relu { weights: [[1.0]], bias: [0.0] },
        dense 16 relu dropconnect(p = 0.5),
        dense 1 identity,
        from: tflite("models/sine.tflite"),
        rounding: singel,
        test zero { input: [0.0], expect: [0.0] },
    }
}

fn main() {}
