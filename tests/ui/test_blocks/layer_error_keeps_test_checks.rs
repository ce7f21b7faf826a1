// A row one entry short in `h1` is reported once, and the test block is still checked against
// the declared shapes: two masks for one site.
dropout::network! {
    struct Net {
        input: 2, dropout(p = 0.5),
        dense 2 relu { weights: [[1.0], [2.0, 1.0]], bias: [0.0, 0.0] },
        dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] },
        test t { input: [1.0, 1.0], masks: [[1, 1], [1, 1]], expect: [0.0] }
    }
}

fn main() {}
