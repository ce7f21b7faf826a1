//! The converter's models read as chains of layers, and broken files are errors, not panics.

use std::path::PathBuf;

use dropout_tflite::{Error, FusedActivation, read};

fn model(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../models/{name}.tflite"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

#[test]
fn the_sine_model_reads_as_three_layers() {
    let model = read(&model("sine")).unwrap();
    let shapes: Vec<_> = model
        .layers
        .iter()
        .map(|fc| (fc.operator, fc.inputs, fc.outputs, fc.activation))
        .collect();
    assert_eq!(
        shapes,
        [
            (0, 1, 16, FusedActivation::Relu),
            (1, 16, 16, FusedActivation::Relu),
            (2, 16, 1, FusedActivation::Linear),
        ]
    );
    assert!(!model.input.float && !model.output.float);
    for fc in &model.layers {
        assert_eq!(fc.weights.len(), fc.inputs * fc.outputs);
        assert_eq!(fc.bias.len(), fc.outputs);
        // Per channel: one scale per output.
        assert_eq!(fc.weight_scales.len(), fc.outputs);
    }
    // Each layer's input is quantized as the previous layer's output.
    for pair in model.layers.windows(2) {
        assert_eq!(pair[0].output, pair[1].input);
    }
    assert_eq!(model.input.quantization, model.layers[0].input);
}

#[test]
fn float_io_and_per_tensor_models_read() {
    let float_io = read(&model("sine_float_io")).unwrap();
    assert!(float_io.input.float && float_io.output.float);
    assert_eq!(float_io.layers.len(), 3);
    let per_tensor = read(&model("per_tensor")).unwrap();
    assert!(
        per_tensor
            .layers
            .iter()
            .all(|fc| fc.weight_scales.len() == 1)
    );
    assert_eq!(per_tensor.layers[1].activation, FusedActivation::Relu6);
}

#[test]
fn truncated_and_corrupted_files_are_errors_never_panics() {
    let bytes = model("sine");
    for len in 0..bytes.len() {
        // Truncation can leave every table the reader follows intact (the end of a file is
        // often padding), so only the absence of a panic is asserted for each length…
        let _ = read(&bytes[..len]);
    }
    // …and that losing the header is an error.
    assert!(matches!(read(&bytes[..7]), Err(Error::Malformed(_))));
    let mut errors = 0;
    for idx in 0..bytes.len() {
        for flip in [0x01, 0x80, 0xff] {
            let mut corrupted = bytes.clone();
            corrupted[idx] ^= flip;
            errors += usize::from(read(&corrupted).is_err());
        }
    }
    // Most corruptions of offsets, types and shapes are caught; a flipped weight is not one.
    assert!(errors > bytes.len() / 2, "{errors} errors");
}

#[test]
fn an_operator_outside_the_chain_is_named() {
    let err = read(&model("softmax_output")).unwrap_err();
    assert_eq!(
        err,
        Error::Unsupported {
            // dense 4 relu, dense 3, then the softmax.
            operator: 2,
            name: "SOFTMAX".to_owned()
        }
    );
    assert!(
        err.to_string().starts_with("operator 2 is `SOFTMAX`"),
        "{err}"
    );
}

#[test]
fn logistic_and_tanh_follow_their_layers() {
    let sigmoid = read(&model("sigmoid_output")).unwrap();
    let last = sigmoid.layers.last().unwrap();
    assert_eq!(
        last.activation,
        dropout_shared::quant::FusedActivation::Linear
    );
    let op = last.followed_by.unwrap();
    assert_eq!(
        (op.operator, op.activation),
        (2, dropout_shared::Activation::Sigmoid)
    );
    assert_eq!(sigmoid.output.quantization, op.output);
    assert_eq!((op.output.scale, op.output.zero_point), (1.0 / 256.0, -128));
    let tables = read(&model("tables")).unwrap();
    let ops: Vec<_> = tables
        .layers
        .iter()
        .map(|layer| {
            (
                layer.operator,
                layer.followed_by.map(|op| (op.operator, op.activation)),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            (0, Some((1, dropout_shared::Activation::Tanh))),
            (2, Some((3, dropout_shared::Activation::Sigmoid))),
            (4, None),
        ]
    );
    // The next layer takes the activation operator's output.
    assert_eq!(tables.layers[1].input, tables.layers[0].layer_output());
}

#[test]
fn every_model_writes_back_as_itself() {
    for name in [
        "sine",
        "relu6",
        "identity_hidden",
        "wide",
        "one_unit",
        "deep",
        "per_tensor",
        "sine_float_io",
        "sigmoid_output",
        "tables",
    ] {
        let model = read(&model(name)).unwrap();
        let written = dropout_tflite::write(&model);
        assert_eq!(&written[4..8], b"TFL3", "{name}");
        assert_eq!(read(&written).unwrap(), model, "{name}");
        // Deterministic: the same model gives the same bytes.
        assert_eq!(dropout_tflite::write(&model), written, "{name}");
    }
}
