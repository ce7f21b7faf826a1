//! Float networks imported from `.onnx` files with `from: onnx("…")`, against onnxruntime's
//! outputs for the same files (`tools/onnx_fixtures.py` writes both: PyTorch's models, exported
//! with both of its exporters, and `tests/fixtures/onnx_outputs.rs`).

use dropout::{Float, Masks, Network, network};

#[path = "fixtures/onnx_outputs.rs"]
mod outputs;

/// The networks `to_onnx` writes to `models/onnx/exported/`, and the `zoo!` macro.
#[macro_use]
#[path = "../examples/export_onnx.rs"]
#[allow(dead_code, reason = "the example's `main` is not called here")]
mod export_onnx;

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
        assert!(theirs.iter().all(|v| v.is_finite()), "{name}: {theirs:?}");
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
    let net = export_onnx::Zoo::new();
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

/// The masks of row `row` of a masked export's fixture: its inputs, one per site and then one
/// per layer with DropConnect, in the order of `to_onnx_masked`'s model.
fn masks_of<N: Network>(outputs: &Outputs<N::Scalar>, row: usize) -> N::Masks {
    let mut masks = N::Masks::ALL_KEPT;
    let mut inputs = outputs.masks.iter().map(|input| input[row]);
    for idx in 0..N::SPEC.sites().count() {
        let values = inputs.next().expect("an input per site");
        if let Some(bits) = masks.site_mut(idx) {
            assert_eq!(bits.len(), values.len());
            for (bit, &v) in bits.iter_mut().zip(values) {
                *bit = v != N::Scalar::ZERO;
            }
        } else {
            masks.noise_mut(idx).unwrap().copy_from_slice(values);
        }
    }
    for idx in 0..N::SPEC.connections().count() {
        let values = inputs.next().expect("an input per layer with DropConnect");
        let bits = masks.connections_mut(idx).unwrap();
        assert_eq!(bits.len(), values.len());
        for (bit, &v) in bits.iter_mut().zip(values) {
            *bit = v != N::Scalar::ZERO;
        }
    }
    assert!(
        inputs.next().is_none(),
        "the model has more inputs than sites"
    );
    masks
}

/// `net`'s evaluation pass (or, for a fixture with masks, its training pass under them)
/// against onnxruntime's outputs for the model `to_onnx` (`to_onnx_masked`) wrote.
fn check_export<N: Network>(name: &str, net: &N, outputs: &Outputs<N::Scalar>, tolerance: f64) {
    let masked = !outputs.masks.is_empty();
    let masks: Vec<N::Masks> = if masked {
        (0..outputs.inputs.len())
            .map(|row| masks_of::<N>(outputs, row))
            .collect()
    } else {
        Vec::new()
    };
    if masked {
        // `onnx_mask_inputs` gives the arrays the fixture fed onnxruntime.
        let inputs = dropout::io::onnx_mask_inputs::<N>(&masks);
        assert_eq!(inputs.len(), outputs.masks.len(), "{name}");
        for (input, fed) in inputs.iter().zip(outputs.masks) {
            assert_eq!(input.shape[0], fed.len(), "{name}: {}", input.name);
            assert_eq!(input.values, fed.concat(), "{name}: {}", input.name);
        }
    }
    let mut worst = 0.0f64;
    for (row, (x, expected)) in outputs.inputs.iter().zip(outputs.onnxruntime).enumerate() {
        let x = N::Input::try_from(x).unwrap_or_else(|_| panic!("{name}: the input width"));
        let y = if masked {
            net.forward_masked(&x, &masks[row])
        } else {
            net.forward(&x)
        };
        let ours: Vec<f64> = y.as_ref().iter().map(|v| v.to_f64()).collect();
        let theirs: Vec<f64> = expected.iter().map(|v| v.to_f64()).collect();
        assert_eq!(ours.len(), theirs.len(), "{name}");
        assert!(
            ours.iter().chain(&theirs).all(|v| v.is_finite()),
            "{name}: {ours:?} {theirs:?}"
        );
        let error = row_error(&ours, &theirs);
        assert!(
            error <= tolerance,
            "{name}: row {row}: ours {ours:?}, onnxruntime {theirs:?} (error {error:e})"
        );
        worst = worst.max(error);
    }
    eprintln!("{name}: largest relative error {worst:e}");
}

#[test]
fn the_committed_exports_are_what_to_onnx_writes() {
    let root = env!("CARGO_MANIFEST_DIR");
    let models = export_onnx::models().unwrap();
    assert_eq!(models.len(), 10);
    for (name, bytes) in models {
        let committed = std::fs::read(format!("{root}/models/onnx/exported/{name}.onnx")).unwrap();
        assert!(
            bytes == committed,
            "{name}: run `python3 tools/onnx_fixtures.py` again"
        );
    }
}

#[test]
fn onnxruntime_runs_the_exports_with_our_outputs() {
    use export_onnx::{Classifier, Zoo, family};
    let toy = dropout::toy::Toy::new();
    check_export("toy", &toy, &outputs::EXPORTED_TOY, 1e-6);
    check_export("toy_masked", &toy, &outputs::EXPORTED_TOY_MASKED, 1e-6);
    let classifier = Classifier::new();
    check_export(
        "classifier",
        &classifier,
        &outputs::EXPORTED_CLASSIFIER,
        1e-5,
    );
    check_export(
        "classifier_masked",
        &classifier,
        &outputs::EXPORTED_CLASSIFIER_MASKED,
        1e-5,
    );
    check_export("zoo", &Zoo::new(), &outputs::EXPORTED_ZOO, 1e-5);
    let family = family();
    check_export("family", &family, &outputs::EXPORTED_FAMILY, 1e-12);
    check_export(
        "family_masked",
        &family,
        &outputs::EXPORTED_FAMILY_MASKED,
        1e-12,
    );
}

#[test]
fn an_exported_network_reads_back_as_itself() {
    let net = export_onnx::Classifier::new();
    let bytes = dropout::io::to_onnx(&net).unwrap();
    let model = dropout_onnx::read(&bytes).unwrap();
    assert_eq!(model.input, 4);
    assert_eq!(model.layers.len(), 3);
    for (idx, (layer, spec)) in model
        .layers
        .iter()
        .zip(export_onnx::Classifier::SPEC.layers)
        .enumerate()
    {
        assert_eq!((layer.fan_in, layer.size), (spec.fan_in, spec.size));
        assert_eq!(layer.activation, spec.activation);
        let ours = net.layer(idx).unwrap();
        for neuron in 0..spec.size {
            for input in 0..spec.fan_in {
                let stored = layer.weights[neuron * spec.fan_in + input];
                assert_eq!(Some(stored as f32), ours.weight(neuron, input));
            }
        }
        let bias: Vec<f32> = layer.bias.iter().map(|&b| b as f32).collect();
        assert_eq!(bias, ours.biases());
    }
    // A `double` model (its biases added by `Add` nodes of their own) reads back exactly.
    let net = ClassifierF64::new();
    let model = dropout_onnx::read(&dropout::io::to_onnx(&net).unwrap()).unwrap();
    assert_eq!(model.layers.len(), 3);
    for (idx, layer) in model.layers.iter().enumerate() {
        let ours = net.layer(idx).unwrap();
        let weights: Vec<f64> = (0..ours.size())
            .flat_map(|n| (0..ours.fan_in()).map(move |i| (n, i)))
            .map(|(n, i)| ours.weight(n, i).unwrap())
            .collect();
        assert_eq!(layer.weights, weights);
        assert_eq!(layer.bias, ours.biases());
        assert_eq!(layer.activation, ClassifierF64::SPEC.layers[idx].activation);
    }
    // Every activation survives the trip; an `f32` model stores α as an `f32`.
    let zoo = dropout_onnx::read(&dropout::io::to_onnx(&export_onnx::Zoo::new()).unwrap()).unwrap();
    let as_f32 = |a: dropout::Activation| (a.name(), a.parameter_value().map(|v| v as f32));
    let activations: Vec<_> = zoo.layers.iter().map(|l| as_f32(l.activation)).collect();
    let declared: Vec<_> = export_onnx::Zoo::SPEC
        .layers
        .iter()
        .map(|l| as_f32(l.activation))
        .collect();
    assert_eq!(activations, declared);
    assert_eq!(activations[0], ("leaky_relu", Some(0.2)));
}

#[test]
fn non_finite_parameters_are_not_exported() {
    let mut net = export_onnx::Classifier::new();
    *net.layer_mut(1).unwrap().weight_mut(2, 3).unwrap() = f32::NAN;
    for result in [
        dropout::io::to_onnx(&net),
        dropout::io::to_onnx_masked(&net),
    ] {
        let err = result.unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer `h2` has a parameter that is NaN or infinite (did training diverge?)"
        );
    }
}

#[test]
fn the_readme_shows_what_triton_config_writes() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let (_, after) = readme
        .split_once("with this `config.pbtxt`")
        .expect("the README's Triton configuration");
    let block = after
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .map(|(block, _)| block)
        .expect("a text block after it");
    let config = dropout::io::triton_config::<dropout::toy::Toy>("toy", 1024, false).unwrap();
    assert_eq!(block, config);
}

#[test]
fn triton_configs_name_every_input_of_the_masked_model() {
    let config = dropout::io::triton_config::<export_onnx::Family>("family", 8, true).unwrap();
    let names: Vec<&str> = config
        .lines()
        .filter_map(|line| line.trim().strip_prefix("name: "))
        .collect();
    assert_eq!(
        names,
        [
            "\"family\"",
            "\"x\"",
            "\"mask.input\"",
            "\"mask.h1\"",
            "\"noise.h2\"",
            "\"mask.h3\"",
            "\"connections.h3\"",
            "\"y\""
        ]
    );
    assert!(
        config.contains("name: \"connections.h3\"\n    data_type: TYPE_FP64\n    dims: [ 6, 8 ]")
    );
    for (name, batch) in [
        ("", 8),
        ("two words", 8),
        ("quote\"", 8),
        ("..", 8),
        ("ok", 0),
    ] {
        let err = dropout::io::triton_config::<export_onnx::Family>(name, batch, true).unwrap_err();
        assert!(matches!(err, dropout::Error::Export(_)), "{name}: {err}");
    }
}

/// Outputs of `ours` and onnxruntime's that differ by more than `step`; returns how many of
/// them are equal and how many there are.
fn within_one_step<T: Copy + Into<f64> + std::fmt::Debug, const IN: usize, const OUT: usize>(
    name: &str,
    outputs: &Outputs<T>,
    pass: impl Fn(&[T; IN]) -> [T; OUT],
    step: f64,
) -> (usize, usize) {
    let (mut equal, mut all) = (0, 0);
    for (x, expected) in outputs.inputs.iter().zip(outputs.onnxruntime) {
        let x: [T; IN] = (*x).try_into().expect("the fixture's input width");
        let y = pass(&x);
        assert_eq!(y.len(), expected.len(), "{name}");
        for (&a, &b) in y.iter().zip(*expected) {
            let (a, b): (f64, f64) = (a.into(), b.into());
            assert!(
                (a - b).abs() <= step * (1.0 + 1e-6),
                "{name}: input {x:?}: ours {y:?}, onnxruntime {expected:?}"
            );
            equal += usize::from(a == b);
            all += 1;
        }
    }
    eprintln!("{name}: {equal} of {all} outputs equal onnxruntime's, the others one step apart");
    (equal, all)
}

#[test]
fn onnxruntime_runs_int8_networks_within_one_step_of_ours() {
    use dropout::int8::QuantizedNetwork as _;
    use export_onnx::int8::{PerTensor, Sine, SineFloatIo};

    let mut totals = (0, 0);
    let mut add = |(equal, all): (usize, usize)| {
        totals.0 += equal;
        totals.1 += all;
    };
    let net = Sine::new();
    add(within_one_step(
        "sine_qdq",
        &outputs::EXPORTED_SINE_QDQ,
        |x| net.forward_quantized(x),
        1.0,
    ));
    let net = PerTensor::new();
    add(within_one_step(
        "per_tensor_qdq",
        &outputs::EXPORTED_PER_TENSOR_QDQ,
        |x| net.forward_quantized(x),
        1.0,
    ));
    let net = SineFloatIo::new();
    let step = f64::from(net.output_quantization().unwrap().scale);
    add(within_one_step(
        "sine_float_io_qdq",
        &outputs::EXPORTED_SINE_FLOAT_IO_QDQ,
        |x| net.forward(x),
        step,
    ));
    // Rounding in floating point (onnxruntime) and in integers (TFLite's multipliers) part on
    // ties and near them only.
    assert!(totals.0 * 10 >= totals.1 * 9, "{totals:?}");
}
