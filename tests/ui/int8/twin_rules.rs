use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Net<f32> {
        input: 1,
        dense 2 sigmoid { weights: [[1.0], [2.0]], bias: [0.0, 0.0] },
        alpha_dropout(p = 0.1),
        dense 1 identity dropconnect(p = 0.5) { weights: [[1.0, 1.0]], bias: [0.0] },
        quantize: int4 as NetI8,
    }
}

network! {
    pub struct Wide<f64> {
        input: 1,
        dense 1 identity { weights: [[1.0]], bias: [0.0] },
        quantize: int8 as Wide,
    }
}

// Softmax couples a layer's units: no table can compute it (sigmoid and tanh above have one).
network! {
    pub struct Classes<f32> {
        input: 1,
        dense 2 tanh { weights: [[1.0], [2.0]], bias: [0.0, 0.0] },
        dense 2 softmax { weights: [[1.0, 0.0], [0.0, 1.0]], bias: [0.0, 0.0] },
        quantize: int8 as ClassesI8,
    }
}

fn main() {}
