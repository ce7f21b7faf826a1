use dropout::network;

// `tests/ui.rs` copies `models/` beside the crate trybuild compiles these cases in.
network! {
    pub struct Classifier<f32> {
        input: 4,
        dense 12 relu,
        dense 8 sigmoid,
        dense 3 softmax,
        from: onnx("models/onnx/classifier_torchscript.onnx"),
    }
}

network! {
    /// The file's LeakyReLU has α = 0.2, its ELU α = 0.7.
    pub struct Zoo<f32> {
        input: 3,
        dense 6 leaky_relu(0.3),
        dense 6 elu(0.7),
        dense 6 selu,
        dense 6 sigmoid,
        dense 6 hard_sigmoid,
        dense 6 gelu,
        dense 6 softplus,
        dense 6 relu,
        dense 6 relu6,
        dense 6 tanh,
        dense 4 softmax,
        from: onnx("models/onnx/zoo_dynamo.onnx"),
    }
}

fn main() {}
