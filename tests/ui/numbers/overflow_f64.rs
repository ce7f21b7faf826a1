use dropout::network;

network! {
    struct Net<f64> {
        input: 2,
        dense 1 identity { weights: [[1.0, -1e309]], bias: [0.0] },
    }
}

fn main() {}
