use dropout::network;

network! {
    struct Net<f32> {
        input: 2,
        dense 3 relu {
            weights: [[1.0], [2.0, 3.0], [4.0, 5.0, 6.0]],
            bias: [0.0, 0.0],
        }, dropout(p = 2),
        dense 1 Identity { weights: [[1.0, 1.0, 1.0]], bias: [0.0] },
    }
}

fn main() {}
