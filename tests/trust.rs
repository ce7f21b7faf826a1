//! The run-time promises: no silent wrong numbers, no panics on bad arguments, no lost files.
//! Each test is one reproduction of a way the runtime once failed them (its number in the list
//! the README's "Guarantees" section refers to), now an error or a correct value.

use std::ops::ControlFlow;

use dropout::io::{self, Saved, SavedLayer};
use dropout::train::{Gradients, Loss, Optimizer, OptimizerState, Trainer, evaluate};
use dropout::{Dropout, Error, Masks, network, reference};
use ndarray::{Array2, array};
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

network! {
    /// ReLU layers, small enough for the sample-parallel batch path.
    #[derive(Clone, Debug, PartialEq)]
    struct Small<f32> {
        input: 2, dropout(p = 0.5),
        dense 3 relu { weights: [[1, -1], [2, 1], [-1, 3]], bias: [0.5, -1, 0] }, dropout(p = 0.5),
        dense 1 identity { weights: [[1, -2, 0.5]], bias: [0.5] },
    }
}

network! {
    /// ReLU layers wide enough for the matrix-product batch path and the dispatched kernels.
    struct Wide<f32> {
        input: 40, dropout(p = 0.5),
        dense 64 relu, dropout(p = 0.5),
        dense 3 identity,
    }
}

network! {
    /// For training: f64, inverted scaling, identity output.
    #[derive(Clone, Debug, PartialEq)]
    struct Regressor<f64> {
        input: 2, dropout(p = 0.1),
        dense 8 tanh, dropout(p = 0.5),
        dense 1 identity,
    }
}

network! {
    /// A softmax output, trained with softmax cross-entropy.
    struct Classifier<f64> {
        input: 2,
        dense 4 tanh,
        dense 3 softmax,
    }
}

fn small_input_nan() -> [f32; 2] {
    [f32::NAN, 1.0]
}

// 1. ReLU once turned NaN into 0 in every pass, and the reference did too (`f64::max`).

#[test]
fn finding_1_relu_keeps_nan_in_every_pass() {
    let net = Small::new();
    let x = small_input_nan();
    assert!(net.forward(&x)[0].is_nan());
    assert!(net.forward_masked(&x, &SmallMasks::ALL_KEPT)[0].is_nan());
    assert!(net.trace(&x, &SmallMasks::ALL_KEPT).prediction().unwrap()[0].is_nan());
    assert!(net.trace_eval(&x).prediction().unwrap()[0].is_nan());
    let batch = Array2::from_shape_vec((2, 2), vec![f32::NAN, 1.0, 0.5, 0.5]).unwrap();
    let lanes = net.forward_batch(batch.view()).unwrap();
    assert!(lanes[[0, 0]].is_nan() && lanes[[1, 0]].is_finite());
    let masked = net
        .forward_batch_masked(batch.view(), &[SmallMasks::ALL_KEPT; 2])
        .unwrap();
    assert!(masked[[0, 0]].is_nan() && masked[[1, 0]].is_finite());
    let moments = net.exact_moments(&x).unwrap();
    assert!(moments.mean[0].is_nan() && moments.std_dev[0].is_nan());
    let y = reference::forward_with(&net, &[f64::NAN, 1.0], |_, _| {}).unwrap();
    assert!(y[0].is_nan());
    assert!(dropout::Activation::Relu.apply([f64::NAN])[0].is_nan());

    let wide = Wide::init(&mut ChaCha8Rng::seed_from_u64(1));
    let mut x = [0.5_f32; 40];
    x[7] = f32::NAN;
    assert!(wide.forward(&x).iter().all(|v| v.is_nan()));
    let mut rows = Array2::from_elem((3, 40), 0.5_f32);
    rows[[1, 7]] = f32::NAN;
    let y = wide.forward_batch(rows.view()).unwrap();
    assert!(y.row(1).iter().all(|v| v.is_nan()));
    assert!(y.row(0).iter().chain(y.row(2)).all(|v| v.is_finite()));
}

#[test]
fn finding_1_a_dropped_nan_or_infinity_is_nan_as_in_pytorch() {
    // PyTorch computes dropout as x · mask: a dropped NaN or ∞ becomes NaN, not 0.
    let net = Small::new();
    let masks = SmallMasks {
        input: [false, true],
        h1: [true; 3],
    };
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        assert!(net.forward_masked(&[bad, 1.0], &masks)[0].is_nan(), "{bad}");
        assert!(net.trace(&[bad, 1.0], &masks).prediction().unwrap()[0].is_nan());
        let batch = Array2::from_shape_vec((1, 2), vec![bad, 1.0]).unwrap();
        let y = net.forward_batch_masked(batch.view(), &[masks]).unwrap();
        assert!(y[[0, 0]].is_nan());
    }
    // A finite dropped unit contributes nothing, as before.
    assert_eq!(
        net.forward_masked(&[1e30, 1.0], &masks),
        net.forward_masked(&[0.0, 1.0], &masks)
    );
}

// 2. Training once hid bad data and divergence behind `Ok`.

fn regression_data() -> (Array2<f64>, Array2<f64>) {
    let x = Array2::from_shape_fn((16, 2), |(r, c)| (r * 3 + c) as f64 / 16.0 - 1.0);
    let y = x.map_axis(ndarray::Axis(1), |row| row[0] - 0.5 * row[1]);
    (x, y.insert_axis(ndarray::Axis(1)))
}

fn trainer(optimizer: Optimizer) -> Trainer {
    Trainer::new(optimizer, Loss::MeanSquaredError)
        .epochs(3)
        .batch_size(4)
        .progress(false)
}

#[test]
fn finding_2_non_finite_training_data_is_refused_with_its_place() {
    let (mut x, y) = regression_data();
    x[[5, 1]] = f64::NAN;
    let mut net = Regressor::init(&mut ChaCha8Rng::seed_from_u64(0));
    let before = net.clone();
    let err = trainer(Optimizer::adam(1e-3))
        .fit(&mut net, (&x, &y), None, |_| {})
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "training inputs hold NaN at row 5, column 1: values must be finite"
    );
    assert_eq!(net, before);
    let (x, mut y) = regression_data();
    y[[2, 0]] = f64::INFINITY;
    let err = trainer(Optimizer::adam(1e-3))
        .fit(&mut net, (&x, &x.clone()), Some((&x, &y)), |_| {})
        .unwrap_err();
    assert!(matches!(err, Error::TargetShape { .. }), "{err}");
    let err = trainer(Optimizer::adam(1e-3))
        .fit(&mut net, (&x, &regression_data().1), Some((&x, &y)), |_| {})
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::NonFiniteData {
                what: "validation targets",
                row: 2,
                column: 0,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn finding_2_hyperparameters_out_of_range_are_refused() {
    let (x, y) = regression_data();
    let mut net = Regressor::init(&mut ChaCha8Rng::seed_from_u64(0));
    let before = net.clone();
    let cases = [
        (Optimizer::adam(f64::NAN), "learning rate"),
        (Optimizer::adam(-1.0), "learning rate"),
        (Optimizer::sgd(f64::INFINITY), "learning rate"),
        (Optimizer::sgd(0.1).with_momentum(1.5), "momentum"),
        (Optimizer::sgd(0.1).with_weight_decay(-1e-4), "weight decay"),
        (
            Optimizer::Adam {
                learning_rate: 1e-3,
                beta1: 1.0,
                beta2: 0.999,
                epsilon: 1e-8,
                weight_decay: 0.0,
            },
            "beta1",
        ),
        (
            Optimizer::Adam {
                learning_rate: 1e-3,
                beta1: 0.9,
                beta2: 0.999,
                epsilon: 0.0,
                weight_decay: 0.0,
            },
            "epsilon",
        ),
    ];
    for (optimizer, name) in cases {
        let err = trainer(optimizer)
            .fit(&mut net, (&x, &y), None, |_| {})
            .unwrap_err();
        assert!(
            matches!(err, Error::Hyperparameter { name: found, .. } if found == name),
            "{optimizer:?}: {err}"
        );
        assert!(OptimizerState::<Regressor>::new(optimizer).is_err());
    }
    assert_eq!(net, before);
}

#[test]
fn finding_2_empty_data_sets_are_refused() {
    let (x, y) = regression_data();
    let mut net = Regressor::init(&mut ChaCha8Rng::seed_from_u64(0));
    let empty_x = Array2::<f64>::zeros((0, 2));
    let empty_y = Array2::<f64>::zeros((0, 1));
    let err = trainer(Optimizer::adam(1e-3))
        .fit(&mut net, (&empty_x, &empty_y), None, |_| {})
        .unwrap_err();
    assert_eq!(err, Error::EmptyData { what: "training" });
    let err = trainer(Optimizer::adam(1e-3))
        .fit(&mut net, (&x, &y), Some((&empty_x, &empty_y)), |_| {})
        .unwrap_err();
    assert_eq!(err, Error::EmptyData { what: "validation" });
    let err = evaluate(&net, (&empty_x, &empty_y), Loss::MeanSquaredError).unwrap_err();
    assert_eq!(err, Error::EmptyData { what: "evaluation" });
}

#[test]
fn finding_2_cross_entropy_targets_must_be_distributions() {
    let mut net = Classifier::init(&mut ChaCha8Rng::seed_from_u64(0));
    let x = array![[0.5, -0.5], [1.0, 0.0]];
    let y = array![[1.0, 0.0, 0.0], [5.0, -3.0, 0.0]];
    let err = Trainer::new(Optimizer::adam(1e-2), Loss::SoftmaxCrossEntropy)
        .progress(false)
        .fit(&mut net, (&x, &y), None, |_| {})
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "training targets, row 1: softmax cross-entropy needs probabilities ≥ 0, found -3 in column 1"
    );
}

#[test]
fn finding_2_divergence_stops_training_and_keeps_the_last_finite_parameters() {
    network! {
        struct Explodes<f32> { input: 1, dense 1 identity { weights: [[1.0]], bias: [0.0] } }
    }
    let x = array![[1e10_f32], [2e10]];
    let y = array![[0.0_f32], [1.0]];
    let mut net = Explodes::new();
    // The first step moves the weight by about 1e30 · 1e20: beyond f32.
    let err = Trainer::new(Optimizer::sgd(1e30), Loss::MeanSquaredError)
        .progress(false)
        .fit(&mut net, (&x, &y), None, |_| {})
        .unwrap_err();
    assert_eq!(
        err,
        Error::Diverged {
            epoch: 1,
            step: 1,
            what: "parameter"
        }
    );
    assert_eq!(net.output.row(0), Some([1.0]));
    assert_eq!(net.output.bias(), &[0.0]);
}

#[test]
fn finding_2_max_abs_sees_nan() {
    network! {
        struct Line<f64> { input: 1, dense 1 identity { weights: [[2.0]], bias: [1.0] } }
    }
    let x = array![[f64::NAN]];
    let masks = [LineMasks::ALL_KEPT];
    let (loss, grads) = dropout::train::gradients_batch(
        &Line::new(),
        &x,
        &masks,
        &array![[1.0]],
        Loss::MeanSquaredError,
    )
    .unwrap();
    assert!(loss.is_nan());
    assert!(grads.max_abs().is_nan());
    assert!(!grads.is_finite());
    assert_eq!(Gradients::<Line>::zeros().max_abs(), 0.0);
}

#[test]
fn finding_2_the_epoch_callback_can_stop_training() {
    let (x, y) = regression_data();
    let mut net = Regressor::init(&mut ChaCha8Rng::seed_from_u64(0));
    // `usize::MAX` epochs once pre-allocated the history and panicked.
    let history = Trainer::new(Optimizer::adam(1e-3), Loss::MeanSquaredError)
        .epochs(usize::MAX)
        .progress(false)
        .fit(&mut net, (&x, &y), None, |report| {
            if report.epoch == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap();
    assert_eq!(history.len(), 2);
}

// 3. A softmax output once had softmax applied twice by the loss.

#[test]
fn finding_3_a_softmax_output_meets_cross_entropy_on_its_logits() {
    let net = Classifier::init(&mut ChaCha8Rng::seed_from_u64(3));
    let x = array![[0.5, -0.5], [1.0, 0.25], [-1.0, 0.5]];
    let y = array![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.2, 0.8]];
    // The network's true negative log-likelihood, from its probabilities.
    let mut nll = 0.0;
    for (row, target) in x.rows().into_iter().zip(y.rows()) {
        let p = net.forward(&[row[0], row[1]]);
        nll -= target.iter().zip(p).map(|(t, p)| t * p.ln()).sum::<f64>();
    }
    let reported = evaluate(&net, (&x, &y), Loss::SoftmaxCrossEntropy).unwrap();
    assert!(
        (reported - nll / 3.0).abs() < 1e-12,
        "{reported} vs {}",
        nll / 3.0
    );
    // The other link is refused rather than applied on top of the softmax.
    let err = evaluate(&net, (&x, &y), Loss::BinaryCrossEntropyWithLogits).unwrap_err();
    assert!(matches!(err, Error::LossOutput { .. }), "{err}");
}

// 5. Saves once truncated the previous file before writing.

#[test]
fn finding_5_a_save_replaces_the_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.json");
    io::save_json(&Small::new(), &path).unwrap();
    let first = std::fs::read(&path).unwrap();
    let mut changed = Small::new();
    changed.output.bias_mut()[0] = 7.0;
    io::save_json(&changed, &path).unwrap();
    assert_ne!(std::fs::read(&path).unwrap(), first);
    let loaded: Small = io::load_json(&path).unwrap();
    assert_eq!(loaded, changed);
    // No temporary file is left beside it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    // A save into a directory that does not exist fails and names the file.
    let missing = dir.path().join("no/such/dir/small.json");
    let err = io::save_safetensors(&Small::new(), &missing).unwrap_err();
    assert!(
        matches!(&err, Error::Io { path, .. } if path.ends_with("small.json")),
        "{err}"
    );
}

// 6. `to_safetensors` once panicked inside `safetensors` on two tensors of one name.

network! {
    /// Two layers that read their weights from the same tensors.
    struct Tied<f32> {
        input: 2,
        a: dense 2 relu {
            weights: file("tests/fixtures/tied.json", "w"),
            bias: file("tests/fixtures/tied.json", "b"),
        },
        dense 2 identity {
            weights: file("tests/fixtures/tied.json", "w"),
            bias: file("tests/fixtures/tied.json", "b"),
        },
    }
}

network! {
    /// A layer reading `b.weight` next to a layer named `b`, which saves as `b.weight` too.
    struct Clash<f32> {
        input: 2,
        a: dense 2 relu {
            weights: file("tests/fixtures/tied.json", "b.weight"),
            bias: [0, 0],
        },
        b: dense 2 identity { weights: [[1, 0], [0, 1]], bias: [0, 0] },
    }
}

#[test]
fn finding_6_two_layers_under_one_tensor_name_are_an_error() {
    let err = io::to_safetensors(&Tied::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layers `a` and `output` would both be saved as tensor `w`"
    );
    let err = io::to_safetensors(&Clash::new()).unwrap_err();
    assert!(
        matches!(err, Error::TensorName { ref tensor, .. } if tensor == "b.weight"),
        "{err}"
    );
    // JSON names layers, not tensors: both save.
    let json = io::to_json(&Tied::new()).unwrap();
    assert_eq!(
        io::from_json::<Tied>(&json).unwrap().a.row(1),
        Some([0.5, 2.0])
    );
}

// 7. Loaders once accepted what saving and the macro refuse.

fn saved_small(weights: Vec<Vec<f64>>) -> Saved {
    let mut saved = io::save(&Small::new()).unwrap();
    saved.layers[0] = SavedLayer {
        name: "h1".into(),
        weights,
        bias: vec![0.5, -1.0, 0.0],
    };
    saved
}

#[test]
fn finding_7_loaded_values_must_be_finite_in_the_scalar_type() {
    let mut net = Small::new();
    // 1e39 is finite in f64 but overflows f32.
    let json = io::to_json(&Small::new())
        .unwrap()
        .replacen("0.5", "1e39", 1);
    let err = io::from_json_into(&mut net, &json).unwrap_err();
    assert!(
        err.to_string()
            .contains("1000000000000000000000000000000000000000 at"),
        "{err}"
    );
    assert!(err.to_string().contains("is not a finite f32"), "{err}");
    let err = io::load_into(
        &mut net,
        &saved_small(vec![vec![f64::NAN, 1.0], vec![0.0; 2], vec![0.0; 2]]),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer `h1`, tensor `weights`: NaN at [0, 0] is not a finite f32"
    );
    assert_eq!(net, Small::new());
}

#[test]
fn finding_7_safetensors_values_ranks_and_dtypes_are_checked() {
    use safetensors::Dtype;
    use safetensors::tensor::TensorView;
    let write = |tensors: Vec<(&str, Dtype, Vec<usize>, Vec<u8>)>| {
        let views: Vec<(String, TensorView<'_>)> = tensors
            .iter()
            .map(|(name, dtype, shape, bytes)| {
                (
                    (*name).to_owned(),
                    TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
                )
            })
            .collect();
        safetensors::serialize(views, None).unwrap()
    };
    let f32s = |values: &[f32]| {
        values
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    let good_output = || {
        vec![
            (
                "output.weight",
                Dtype::F32,
                vec![1, 3],
                f32s(&[1.0, -2.0, 0.5]),
            ),
            ("output.bias", Dtype::F32, vec![1], f32s(&[0.5])),
        ]
    };
    let with_h1 = |weight: (Dtype, Vec<usize>, Vec<u8>), bias: (Dtype, Vec<usize>, Vec<u8>)| {
        let mut tensors = good_output();
        tensors.push(("h1.weight", weight.0, weight.1, weight.2));
        tensors.push(("h1.bias", bias.0, bias.1, bias.2));
        write(tensors)
    };
    let six = f32s(&[1.0, -1.0, 2.0, 1.0, -1.0, 3.0]);
    let bias = (Dtype::F32, vec![3], f32s(&[0.5, -1.0, 0.0]));
    let mut nan = six.clone();
    nan[8..12].copy_from_slice(&f32::NAN.to_le_bytes());
    let cases = [
        (
            with_h1((Dtype::F32, vec![3, 2], nan), bias.clone()),
            "layer `h1`, tensor `h1.weight`: NaN at [1, 0] is not a finite f32",
        ),
        (
            with_h1((Dtype::F32, vec![3, 2, 1], six.clone()), bias.clone()),
            "layer `h1`, tensor `h1.weight`: has shape [3, 2, 1], of rank 3; it needs rank 2 (neurons × inputs)",
        ),
        (
            with_h1((Dtype::F32, vec![6], six.clone()), bias.clone()),
            "layer `h1`, tensor `h1.weight`: has shape [6], of rank 1; it needs rank 2 (neurons × inputs)",
        ),
        (
            with_h1(
                (Dtype::F32, vec![3, 2], six.clone()),
                (Dtype::F32, vec![3, 1], f32s(&[0.5, -1.0, 0.0])),
            ),
            "layer `h1`, tensor `h1.bias`: has shape [3, 1], of rank 2; it needs rank 1 (one bias per neuron)",
        ),
        (
            with_h1((Dtype::F64, vec![3, 2], vec![0; 48]), bias.clone()),
            "layer `h1`, tensor `h1.weight`: holds F64 values; a network of f32 needs F32",
        ),
    ];
    for (bytes, message) in cases {
        let mut net = Small::new();
        let err = io::from_safetensors_into(&mut net, &bytes).unwrap_err();
        assert_eq!(err.to_string(), message);
        assert_eq!(net, Small::new());
    }
    // The intact file loads.
    let bytes = with_h1((Dtype::F32, vec![3, 2], six), bias);
    assert_eq!(io::from_safetensors::<Small>(&bytes).unwrap(), Small::new());
}

#[test]
fn finding_7_a_file_of_the_other_scalar_type_is_refused() {
    network! {
        struct Small64<f64> {
            input: 2, dropout(p = 0.5),
            dense 3 relu { weights: [[1, -1], [2, 1], [-1, 3]], bias: [0.5, -1, 0] }, dropout(p = 0.5),
            dense 1 identity { weights: [[1, -2, 0.5]], bias: [0.5] },
        }
    }
    let json = io::to_json(&Small64::new()).unwrap();
    let err = io::from_json::<Small>(&json).unwrap_err();
    assert_eq!(
        err,
        Error::Scalar {
            expected: "f32",
            found: "f64".into()
        }
    );
    let bytes = io::to_safetensors(&Small64::new()).unwrap();
    assert!(matches!(
        io::from_safetensors::<Small>(&bytes),
        Err(Error::Tensor { .. })
    ));
}

#[test]
fn finding_7_saves_are_byte_for_byte_deterministic() {
    let net = Wide::init(&mut ChaCha8Rng::seed_from_u64(5));
    // Every hash map of a process iterates in its own order: a header written from a map of
    // more than one key would differ between these saves.
    let first = io::to_safetensors(&net).unwrap();
    for _ in 0..20 {
        assert_eq!(io::to_safetensors(&net).unwrap(), first);
    }
}

// 8. Public functions once panicked on mismatched arguments.

#[test]
fn finding_8_mismatched_arguments_are_errors() {
    assert_eq!(
        Loss::MeanSquaredError.value(&array![[1.0_f64]], &array![[1.0, 2.0]]),
        Err(Error::TargetShape {
            expected: (1, 1),
            found: (1, 2)
        })
    );
    let err = Dropout::with_keep(1e-320).unwrap_err();
    assert!(err.to_string().contains("overflows f32"), "{err}");
    assert!(Dropout::with_keep(Dropout::MIN_KEEP).is_ok());
    // A keep that is subnormal in f32: 1/keep is finite, but the all-kept pass of any unit
    // above 1.02 overflows.
    let err = Dropout::with_keep(3e-39).unwrap_err();
    assert!(
        err.to_string().starts_with("keep = 3e-39 is so small"),
        "{err}"
    );
    let err = reference::forward_with(&Small::new(), &[1.0, 2.0, 3.0], |_, _| {}).unwrap_err();
    assert_eq!(
        err,
        Error::InputLength {
            expected: 2,
            found: 3
        }
    );
    assert!(reference::run_from(&Small::new(), 5, vec![0.0; 3], |_, _| {}).is_err());
    assert_eq!(SmallMasks::dropping_site(7), None);
}

#[test]
fn finding_8_run_time_sizes_and_numbers_have_error_paths() {
    let net = Regressor::init(&mut ChaCha8Rng::seed_from_u64(0));
    let err = dropout::train::predict(&net, &Array2::zeros((2, 3))).unwrap_err();
    assert_eq!(
        err,
        Error::BatchWidth {
            expected: 2,
            found: 3
        }
    );
    // A NaN input gives NaN gradients, which a step refuses without touching the network.
    let (_, grads) = dropout::train::gradients(
        &net,
        &[f64::NAN, 0.0],
        &RegressorMasks::ALL_KEPT,
        &[1.0],
        Loss::MeanSquaredError,
    )
    .unwrap();
    let mut stepped = net.clone();
    let mut state = OptimizerState::new(Optimizer::adam(1e-3)).unwrap();
    assert_eq!(
        state.step(&mut stepped, &grads),
        Err(Error::Diverged {
            epoch: 0,
            step: 0,
            what: "gradient"
        })
    );
    assert_eq!(stepped, net);
    assert_eq!(grads.weight(2, 0, 0), None);
    assert_eq!(grads.weight(0, 8, 0), None);
    assert_eq!(grads.bias(1, 1), None);
    assert!(
        dropout::train::gradients(
            &net,
            &[0.0, 0.0],
            &RegressorMasks::ALL_KEPT,
            &[f64::INFINITY],
            Loss::MeanSquaredError,
        )
        .is_err()
    );
}

// 9. Statistics once reported a spread where there is none to estimate, and overflowed.

#[test]
fn finding_9_one_sample_has_an_undefined_spread_and_huge_outputs_do_not_overflow() {
    let net = Small::new();
    let mc = net
        .predict_mc(&[1.0, 1.0], 1, &mut ChaCha8Rng::seed_from_u64(0))
        .unwrap();
    assert!(mc.std_dev[0].is_nan());
    assert!(mc.mean[0].is_finite());
    network! {
        struct Huge<f64> {
            input: 1, dropout(p = 0.5),
            dense 1 identity { weights: [[1e200]], bias: [0] },
        }
    }
    let moments = Huge::new().exact_moments(&[2.0]).unwrap();
    // Outputs 0 and 4e200 (inverted scaling doubles the kept input), each with probability ½.
    assert_eq!(moments.mean, [2e200]);
    assert!((moments.std_dev[0] - 2e200).abs() <= 1e188, "{moments:?}");
}
