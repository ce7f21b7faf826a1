use dropout::network;

// `tests/ui.rs` puts the fixtures beside the crate trybuild compiles these cases in.
network! {
    struct Net<f32> {
        input: 1,
        dense 2 identity {
            weights: [[1.0], [2.0]],
            bias: file("fixtures/model.json", "tiny"),
        },
    }
}

fn main() {}
