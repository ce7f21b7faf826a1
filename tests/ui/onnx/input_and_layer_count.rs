use dropout::network;

network! {
    pub struct WrongInput<f32> {
        input: 5,
        dense 16 relu,
        dense 8 tanh,
        dense 3 identity,
        from: onnx("models/onnx/classifier_torchscript.onnx"),
    }
}

network! {
    pub struct TooFewLayers<f32> {
        input: 4,
        dense 16 relu,
        dense 3 identity,
        from: onnx("models/onnx/classifier_dynamo.onnx"),
    }
}

fn main() {}
