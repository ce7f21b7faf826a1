//! The reader on the files of `models/onnx/`, written by PyTorch's two exporters
//! (`tools/onnx_fixtures.py`), and on the files the writer writes.

use dropout_onnx::{Activation, Graph, Precision};

fn model(name: &str) -> dropout_onnx::Model {
    let path = format!("{}/../models/onnx/{name}.onnx", env!("CARGO_MANIFEST_DIR"));
    dropout_onnx::read_file(&path).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn shape(model: &dropout_onnx::Model) -> Vec<(usize, usize, Activation)> {
    model
        .layers
        .iter()
        .map(|layer| (layer.fan_in, layer.size, layer.activation))
        .collect()
}

#[test]
fn both_exporters_classifiers() {
    use Activation::{Identity, Relu, Tanh};
    for (name, opset) in [
        ("classifier_torchscript", 17),
        ("classifier_dynamo", 20),
        ("classifier_external", 17),
    ] {
        let m = model(name);
        assert_eq!(
            (m.input, m.precision, m.opset),
            (4, Precision::F32, opset),
            "{name}"
        );
        assert_eq!(
            shape(&m),
            [(4, 16, Relu), (16, 8, Tanh), (8, 3, Identity)],
            "{name}"
        );
    }
    // The same weights, inline or external.
    assert_eq!(
        model("classifier_torchscript").layers[1].weights,
        model("classifier_external").layers[1].weights
    );
}

#[test]
fn every_activation_of_both_exporters() {
    use Activation::*;
    let expected = [
        LeakyRelu(f64::from(0.2f32)),
        Elu(f64::from(0.7f32)),
        Selu,
        Sigmoid,
        HardSigmoid,
        Gelu,
        Softplus,
        Silu,
        Relu6,
        Tanh,
        Softmax,
    ];
    for name in ["zoo_torchscript", "zoo_dynamo"] {
        let m = model(name);
        let activations: Vec<_> = m.layers.iter().map(|l| l.activation).collect();
        assert_eq!(activations, expected, "{name}");
        assert_eq!(m.layers.last().map(|l| l.size), Some(4));
    }
}

#[test]
fn matmul_and_add_and_double_precision() {
    let m = model("matmul");
    assert_eq!(
        shape(&m),
        [(3, 5, Activation::Relu), (5, 2, Activation::Identity)]
    );
    assert!(m.layers[0].node.contains("MatMul") && m.layers[0].node.contains("Add"));
    let m = model("regressor_f64");
    assert_eq!(m.precision, Precision::F64);
    assert_eq!(
        shape(&m),
        [(2, 8, Activation::Tanh), (8, 1, Activation::Identity)]
    );
}

#[test]
fn written_graphs_read_back() {
    let activations = [
        Activation::Relu,
        Activation::LeakyRelu(0.25),
        Activation::LeakyRelu(0.1),
        Activation::Elu(0.5),
        Activation::Selu,
        Activation::Sigmoid,
        Activation::HardSigmoid,
        Activation::Tanh,
        Activation::Gelu,
        Activation::Softplus,
        Activation::Silu,
        Activation::Relu6,
        Activation::Softmax,
    ];
    {
        let mut graph = Graph::new(Precision::F32);
        let mut x = graph.input("x", 2).unwrap();
        let mut expected = Vec::new();
        for (idx, &activation) in activations.iter().enumerate() {
            let w: Vec<f64> = (0..4u8)
                .map(|k: u8| f64::from(k) - 1.5 + idx as f64)
                .collect();
            let h = graph
                .dense(&x, &format!("l{idx}"), 2, 2, &w, &[0.5, -0.5])
                .unwrap();
            x = graph.activation(&h, activation).unwrap();
            let stored = match activation {
                Activation::LeakyRelu(a) => Activation::LeakyRelu(f64::from(a as f32)),
                other => other,
            };
            expected.push((2, 2, stored));
        }
        let bytes = graph.finish(&x, 2).unwrap();
        let m = dropout_onnx::read(&bytes).unwrap();
        assert_eq!(shape(&m), expected);
        assert_eq!(m.layers[3].weights, [1.5, 2.5, 3.5, 4.5]);
    }
}

#[test]
fn bad_graphs_are_errors() {
    let mut graph = Graph::new(Precision::F32);
    let x = graph.input("x", 2).unwrap();
    assert!(graph.input("x", 2).is_err());
    let err = graph
        .dense(&x, "h", 2, 3, &[1.0; 5], &[0.0; 3])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer `h` has 3 neurons of 2 inputs and 5 weights"
    );
    assert!(Graph::new(Precision::F64).finish(&x, 2).is_err());
    assert!(dropout_onnx::read(b"not a model").is_err());
    // External data named from bytes, with no directory to read it from.
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models/onnx/classifier_external.onnx"
    ))
    .unwrap();
    let err = dropout_onnx::read(&bytes).unwrap_err().to_string();
    assert!(err.contains("classifier_external.onnx.data"), "{err}");
}
