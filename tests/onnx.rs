//! Float networks imported from `.onnx` files with `from: onnx("…")`, against onnxruntime's
//! outputs for the same files (`tools/onnx_fixtures.py` writes both: PyTorch's models, exported
//! with both of its exporters, and `tests/fixtures/onnx_outputs.rs`).

use dropout::{Network, network};

#[path = "fixtures/onnx_outputs.rs"]
mod outputs;

use outputs::Outputs;

network! {
    /// PyTorch's `Dropout(0.2)` layers are not in the file (evaluation-mode exports leave them
    /// out); the declaration puts them back, for `forward_masked` and `predict_mc`.
    pub struct Classifier<f32> {
        input: 4,
        dense 16 relu,
        dropout(p = 0.2),
        dense 8 tanh,
        dropout(p = 0.2),
        dense 3 identity,
        from: onnx("models/onnx/classifier_torchscript.onnx"),   // relative to Cargo.toml
    }
}

network! {
    struct ClassifierDynamo<f32> {
        input: 4, dense 16 relu, dense 8 tanh, dense 3 identity,
        from: onnx("models/onnx/classifier_dynamo.onnx"),
    }
}

network! {
    struct ClassifierExternal<f32> {
        input: 4, dense 16 relu, dense 8 tanh, dense 3 identity,
        from: onnx("models/onnx/classifier_external.onnx"),
    }
}

macro_rules! zoo {
    ($name:ident, $file:literal) => {
        network! {
            struct $name<f32> {
                input: 3,
                dense 6 leaky_relu(0.2),
                dense 6 elu(0.7),
                dense 6 selu,
                dense 6 sigmoid,
                dense 6 hard_sigmoid,
                dense 6 gelu,
                dense 6 softplus,
                dense 6 silu,
                dense 6 relu6,
                dense 6 tanh,
                dense 4 softmax,
                from: onnx($file),
            }
        }
    };
}
zoo!(ZooTorchScript, "models/onnx/zoo_torchscript.onnx");
zoo!(ZooDynamo, "models/onnx/zoo_dynamo.onnx");

network! {
    struct MatMul<f32> {
        input: 3, dense 5 relu, dense 2 identity,
        from: onnx("models/onnx/matmul.onnx"),
    }
}

network! {
    struct RegressorF64<f64> {
        input: 2, dense 8 tanh, dense 1 identity,
        from: onnx("models/onnx/regressor_f64.onnx"),
    }
}

network! {
    /// An `f32` file into an `f64` network: every value widens exactly.
    struct ClassifierF64<f64> {
        input: 4, dense 16 relu, dense 8 tanh, dense 3 identity,
        from: onnx("models/onnx/classifier_torchscript.onnx"),
    }
}

/// The largest error of `ours` against `theirs` relative to the largest magnitude of the row.
fn row_error(ours: &[f64], theirs: &[f64]) -> f64 {
    let scale = theirs.iter().fold(f64::MIN_POSITIVE, |m, v| m.max(v.abs()));
    ours.iter()
        .zip(theirs)
        .map(|(a, b)| (a - b).abs() / scale)
        .fold(0.0, f64::max)
}

fn check<T: Copy + Into<f64> + std::fmt::Debug, const IN: usize, const OUT: usize>(
    name: &str,
    outputs: &Outputs<T>,
    forward: impl Fn(&[T; IN]) -> [T; OUT],
    tolerance: f64,
) {
    assert!(!outputs.inputs.is_empty());
    let mut worst = 0.0f64;
    for (x, expected) in outputs.inputs.iter().zip(outputs.onnxruntime) {
        let x: [T; IN] = (*x).try_into().expect("the fixture's input width");
        let y = forward(&x);
        let ours: Vec<f64> = y.iter().map(|&v| v.into()).collect();
        let theirs: Vec<f64> = expected.iter().map(|&v| v.into()).collect();
        assert_eq!(ours.len(), theirs.len(), "{name}");
        assert!(ours.iter().all(|v| v.is_finite()), "{name}: {ours:?}");
        let error = row_error(&ours, &theirs);
        assert!(
            error <= tolerance,
            "{name}: input {x:?}: ours {ours:?}, onnxruntime {theirs:?} (error {error:e})"
        );
        worst = worst.max(error);
    }
    eprintln!("{name}: largest relative error {worst:e}");
}

#[test]
fn torchscript_and_dynamo_exports_agree_with_onnxruntime() {
    let net = Classifier::new();
    check(
        "classifier_torchscript",
        &outputs::CLASSIFIER_TORCHSCRIPT,
        |x| net.forward(x),
        1e-5,
    );
    let net = ClassifierDynamo::new();
    check(
        "classifier_dynamo",
        &outputs::CLASSIFIER_DYNAMO,
        |x| net.forward(x),
        1e-5,
    );
    let net = ClassifierExternal::new();
    check(
        "classifier_external",
        &outputs::CLASSIFIER_EXTERNAL,
        |x| net.forward(x),
        1e-5,
    );
}

#[test]
fn every_activation_agrees_with_onnxruntime() {
    let net = ZooTorchScript::new();
    check(
        "zoo_torchscript",
        &outputs::ZOO_TORCHSCRIPT,
        |x| net.forward(x),
        1e-5,
    );
    let net = ZooDynamo::new();
    check("zoo_dynamo", &outputs::ZOO_DYNAMO, |x| net.forward(x), 1e-5);
}

#[test]
fn matmul_and_add_and_double_precision_agree_with_onnxruntime() {
    let net = MatMul::new();
    check("matmul", &outputs::MATMUL, |x| net.forward(x), 1e-5);
    let net = RegressorF64::new();
    check(
        "regressor_f64",
        &outputs::REGRESSOR_F64,
        |x| net.forward(x),
        1e-12,
    );
}

#[test]
fn imported_weights_are_the_files() {
    // The same file in f32 and f64: the f64 network holds the f32 values exactly.
    let (f32_net, f64_net) = (Classifier::new(), ClassifierF64::new());
    let (a, b) = (f32_net.layer(1).unwrap(), f64_net.layer(1).unwrap());
    for neuron in 0..8 {
        for input in 0..16 {
            let (x, y) = (a.weight(neuron, input), b.weight(neuron, input));
            assert_eq!(x.map(f64::from), y);
            assert!(x.is_some());
        }
    }
    // The declaration's dropout sites are the network's, though the file has none.
    assert_eq!(Classifier::SPEC.sites().count(), 2);
    assert_eq!(
        Classifier::SPEC.layers[0].weights_tensor,
        Some("0.weight"),
        "the initializer's name, as PyTorch's exporter writes it"
    );
}
