use dropout::network;

network! {
    struct Net<f32> {
        input: 2, dropout(p = 0.5),
        dense 3 relu {
            weights: [[1, 0], [0, 1], [1, 1]],
            bias: [0, 0, 0],
        }, dropout(p = 0.5),
        dense 1 identity { weights: [[1, 1, 1]], bias: [0] },
        test t { input: [1, 1], expect: [4], tolerance: -1e-6 }
    }
}

fn main() {}
