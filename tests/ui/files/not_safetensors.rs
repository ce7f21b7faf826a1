use dropout::network;

// `tests/ui.rs` puts the fixtures beside the crate trybuild compiles these cases in.
network! {
    struct Net<f32> {
        input: 3,
        dense 2 identity {
            weights: file("fixtures/broken.safetensors", "0.weight"),
            bias: file("fixtures/broken.safetensors", "0.bias"),
        },
    }
}

fn main() {}
