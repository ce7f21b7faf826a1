dropout::network! {
    struct Net {
        input: 2, dropout(keep = 1e-320),
        dense 1 identity { weights: [[1.0, 2.0]], bias: [0.0] },
    }
}

fn main() {}
