use dropout::network;

network! {
    struct Net<f32> {
        input: 2, gaussian_dropout(p = 0.5),
        dense 1 identity { weights: [[1.0, 2.0]], bias: [0.0] },

        test noised { input: [1, 1], masks: [[0.5, 1.5, 1.0]], expect: [3.5] },
    }
}

fn main() {}
