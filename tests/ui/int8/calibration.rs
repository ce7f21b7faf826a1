use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Lonely<f32> {
        input: 1,
        dense 1 identity { weights: [[1.0]], bias: [0.0] },
        calibrate: file("models/float/sine.safetensors", "x"),
    }
}

network! {
    pub struct Untrained<f32> {
        input: 1,
        dense 4 relu,
        dense 1 identity,
        quantize: int8 as UntrainedI8,
        calibrate: file("models/float/sine.safetensors", "x"),
    }
}

network! {
    pub struct TwoInputs<f32> {
        input: 2,
        dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] },
        quantize: int8 as TwoInputsI8,
        calibrate: file("models/float/sine.safetensors", "x"),
    }
}

network! {
    pub struct NoTensor<f32> {
        input: 1,
        dense 1 identity { weights: [[1.0]], bias: [0.0] },
        quantize: int8 as NoTensorI8,
        calibrate: file("models/float/sine.safetensors", "rows"),
    }
}

network! {
    pub struct Untested<f32> {
        input: 1,
        dense 1 identity { weights: [[1.0]], bias: [0.0] },
        quantize: int8 as UntestedI8,
        test one { input: [1.0], expect: [1.0], twin_tolerance: 1 },
    }
}

fn main() {
    // A twin without calibration rows has no `new()`, only `quantize`.
    let _ = UntrainedI8::quantize;
}
