use dropout::network;

// `tests/ui.rs` puts the fixtures beside the crate trybuild compiles these cases in.
network! {
    struct Net<f32> {
        input: 3,
        dense 4 identity {
            weights: file("fixtures/model.safetensors", "0.weight"),
            bias: file("fixtures/model.safetensors", "2.bias"),
        },
    }
}

fn main() {}
