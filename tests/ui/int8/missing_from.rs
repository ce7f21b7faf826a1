use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Sine<i8> {
        input: 1,
        dense 16 relu,
        dense 1 identity,
    }
}

fn main() {
    // The stub keeps the int8 API, so only the declaration's error shows.
    let _: [i8; 1] = Sine::new().forward_quantized(&[0]);
}
