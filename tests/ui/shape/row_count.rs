use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 3 relu {
            weights: [[1.0, 2.0], [3.0, 4.0]],
            bias: [0.0, 0.0, 0.0],
        },
        dense 1 identity,
    }
}

fn main() {}
