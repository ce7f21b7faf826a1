use dropout::network;

network! {
    struct Net<f32> {
        input: 2, dropout(p = 0.5, keep = 0.5),
        dense 1 identity { weights: [[1.0, 2.0]], bias: [0.0] },
    }
}

fn main() {}
