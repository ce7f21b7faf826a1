use dropout::network;

network! {
    pub struct Missing<f32> {
        input: 4, dense 16 relu, dense 8 tanh, dense 3 identity,
        from: onnx("models/onnx/no_such_model.onnx"),
    }
}

network! {
    pub struct NotOnnx<f32> {
        input: 1, dense 16 relu, dense 16 relu, dense 1 identity,
        from: onnx("models/sine.tflite"),
    }
}

network! {
    pub struct Double<f32> {
        input: 2, dense 8 tanh, dense 1 identity,
        from: onnx("models/onnx/regressor_f64.onnx"),
    }
}

network! {
    pub struct WithBody<f32> {
        input: 4,
        dense 16 relu,
        dense 8 tanh,
        dense 3 identity {
            weights: [[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]],
            bias: [0.0, 0.0, 0.0],
        },
        from: onnx("models/onnx/classifier_torchscript.onnx"),
    }
}

network! {
    pub struct Int8<i8> {
        input: 4, dense 16 relu, dense 8 relu, dense 3 identity,
        from: onnx("models/onnx/classifier_torchscript.onnx"),
    }
}

network! {
    pub struct TwoSources<f32> {
        input: 4, dense 16 relu, dense 8 tanh, dense 3 identity,
        from: onnx("models/onnx/classifier_torchscript.onnx"),
        from: onnx("models/onnx/classifier_dynamo.onnx"),
    }
}

network! {
    pub struct NoPath<f32> {
        input: 4, dense 16 relu, dense 8 tanh, dense 3 identity,
        from: onnx(),
    }
}

fn main() {}
