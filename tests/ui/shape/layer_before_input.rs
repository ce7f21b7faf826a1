// One mistake, one error: the fan-ins still follow the layers in order.
dropout::network! {
    struct Net {
        dense 3 relu { weights: [[1, 2], [1, 2], [1, 2]], bias: [0, 0, 0] },
        input: 2,
        dense 1 identity { weights: [[1, 2, 3]], bias: [0] },
    }
}

fn main() {}
