use dropout::network;

// `tests/ui.rs` puts the fixtures beside the crate trybuild compiles these cases in.
network! {
    struct Net<f32> {
        input: 3,
        dense 2 identity {
            weights: file("fixtures/model.json", "ragged"),
            bias: file("fixtures/model.json", "0.bias"),
        },
    }
}

fn main() {}
