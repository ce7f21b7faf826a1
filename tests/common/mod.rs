//! Declarations shared by several integration tests.

dropout::network! {
    /// The article's toy network: f32, classic scaling, p = 0.5 on the three hidden layers.
    pub struct Toy<f32> {
        scaling: classic,
        input: 2, dropout(keep = 1.0),
        dense 3 relu { weights: [[1, -1], [2, 1], [-1, 3]], bias: [0.5, -1, 0] }, dropout(p = 0.5),
        dense 3 relu { weights: [[1, 1, -1], [0.5, -2, 1], [-1, 1, 2]], bias: [0, 0.5, -1] }, dropout(p = 0.5),
        dense 2 relu { weights: [[2, -1, 1], [1, 1, -1]], bias: [1, 0] }, dropout(p = 0.5),
        dense 1 identity { weights: [[1, -2]], bias: [0.5] },
    }
}
