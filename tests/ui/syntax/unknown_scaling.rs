use dropout::network;

network! {
    struct Net<f32> {
        scaling: clasic,
        input: 2,
        dense 1 identity { weights: [[1.0, 2.0]], bias: [0.0] },
    }
}

fn main() {}
