//! Gradients against finite differences for every activation, loss and scaling; optimizers and
//! the trainer on small problems.

use dropout::train::{
    Gradients, Loss, Optimizer, OptimizerState, Trainer, evaluate, gradients, gradients_batch,
    predict,
};
use dropout::{Activation, Error, Masks, Network, network};
use ndarray::{Array2, array};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt as _, SeedableRng as _};

network! {
    /// Classic scaling through relu and leaky relu, identity output.
    #[derive(Clone)]
    struct ClassicNet<f64> {
        scaling: classic,
        input: 3, dropout(p = 0.3),
        dense 4 relu, dropout(p = 0.5),
        dense 3 leaky_relu(0.1),
        dense 2 identity,
    }
}

network! {
    /// Inverted scaling through sigmoid and tanh, softmax output.
    #[derive(Clone)]
    struct InvertedNet<f64> {
        input: 3, dropout(p = 0.2),
        dense 4 sigmoid, dropout(p = 0.5),
        dense 4 tanh, dropout(keep = 0.75),
        dense 3 softmax,
    }
}

network! {
    /// The dropout family: SELU with alpha dropout, ELU, GELU, softplus and SiLU.
    #[derive(Clone)]
    struct SmoothNet<f64> {
        input: 3, dropout(p = 0.2),
        dense 4 selu, alpha_dropout(p = 0.3),
        dense 4 elu(0.7), dropout(p = 0.5),
        dense 4 gelu,
        dense 3 softplus,
        dense 2 silu,
    }
}

network! {
    /// DropConnect on two layers, one of them behind a unit site, under inverted scaling.
    #[derive(Clone)]
    struct ConnectNet<f64> {
        input: 3, dropout(p = 0.2),
        dense 4 tanh dropconnect(p = 0.5), dropout(p = 0.3),
        dense 3 relu,
        dense 2 identity dropconnect(keep = 0.6),
    }
}

network! {
    /// Gaussian dropout on the input and between layers.
    #[derive(Clone)]
    struct GaussianNet<f64> {
        input: 3, gaussian_dropout(p = 0.2),
        dense 4 tanh, gaussian_dropout(p = 0.5),
        dense 3 relu dropconnect(p = 0.3), dropout(p = 0.25),
        dense 2 identity,
    }
}

network! {
    /// DropConnect under classic scaling.
    #[derive(Clone)]
    struct ClassicConnectNet<f64> {
        scaling: classic,
        input: 2,
        dense 5 sigmoid dropconnect(p = 0.4),
        dense 3 softmax dropconnect(p = 0.25),
    }
}

network! {
    /// Inverted scaling with logits out, for the cross-entropy losses.
    #[derive(Clone)]
    struct LogitNet<f64> {
        input: 2, dropout(p = 0.1),
        dense 5 tanh, dropout(p = 0.4),
        dense 3 identity,
    }
}

/// The loss of one sample under fixed masks, through the generated forward pass. A softmax
/// output's cross-entropy is the negative log-likelihood of its probabilities, −Σ t·ln y, which
/// is what PyTorch's `CrossEntropyLoss` computes on the layer's logits.
fn loss_of<N: Network<Scalar = f64>>(
    net: &N,
    x: &N::Input,
    masks: &N::Masks,
    target: &N::Output,
    loss: Loss,
) -> f64 {
    let y = net.forward_masked(x, masks);
    let softmax_output = N::SPEC.layers.last().map(|l| l.activation) == Some(Activation::Softmax);
    if loss == Loss::SoftmaxCrossEntropy && softmax_output {
        return -y
            .as_ref()
            .iter()
            .zip(target.as_ref())
            .map(|(y, t)| t * y.ln())
            .sum::<f64>();
    }
    let y = Array2::from_shape_vec((1, y.as_ref().len()), y.as_ref().to_vec()).unwrap();
    let t = Array2::from_shape_vec((1, target.as_ref().len()), target.as_ref().to_vec()).unwrap();
    loss.value(&y, &t).unwrap()
}

/// Central differences for every weight and bias against the analytic gradients.
fn check_against_finite_differences<N: Network<Scalar = f64> + Clone>(
    net: &N,
    loss: Loss,
    seed: u64,
    target: N::Output,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let h = 1e-6;
    for _ in 0..4 {
        let x: Vec<f64> = (0..N::SPEC.n_inputs)
            .map(|_| rng.random_range(-1.5..1.5))
            .collect();
        let x = N::Input::try_from(&x[..]).ok().unwrap();
        let masks = net.sample_masks(&mut rng);
        let (value, grads) = gradients(net, &x, &masks, &target, loss).unwrap();
        assert!((value - loss_of(net, &x, &masks, &target, loss)).abs() < 1e-12);
        let mut checked = 0;
        for (idx, spec) in N::SPEC.layers.iter().enumerate() {
            let parameters = (0..spec.size).flat_map(|n| (0..=spec.fan_in).map(move |i| (n, i)));
            for (neuron, input) in parameters {
                let shifted = |delta: f64| {
                    let mut copy = net.clone();
                    let layer = copy.layer_mut(idx).unwrap();
                    match layer.weight_mut(neuron, input) {
                        Some(w) => *w += delta,
                        None => layer.biases_mut()[neuron] += delta,
                    }
                    loss_of(&copy, &x, &masks, &target, loss)
                };
                let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
                let analytic = if input < spec.fan_in {
                    grads.weight(idx, neuron, input).unwrap()
                } else {
                    grads.bias(idx, neuron).unwrap()
                };
                assert!(
                    (numeric - analytic).abs() <= 1e-6 * numeric.abs().max(1.0),
                    "{}: layer {idx}, neuron {neuron}, {}: analytic {analytic} vs numeric {numeric} (masks {masks:?})",
                    N::SPEC.name,
                    if input < spec.fan_in {
                        format!("weight from input {input}")
                    } else {
                        "bias".to_owned()
                    },
                );
                checked += 1;
            }
        }
        assert_eq!(checked, N::SPEC.n_parameters());
    }
}

/// A network with weights from `init` and random biases: `init` starts biases at zero, which
/// would put units exactly on the kink of a ReLU whenever their inputs are all zero.
fn drawn<N: Network<Scalar = f64>>(init: impl FnOnce(&mut ChaCha8Rng) -> N, seed: u64) -> N {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut net = init(&mut rng);
    for idx in 0..N::SPEC.layers.len() {
        for b in net.layer_mut(idx).unwrap().biases_mut() {
            *b = rng.random_range(-0.5..0.5);
        }
    }
    net
}

#[test]
fn gradients_match_finite_differences_classic_relu_leaky_mse() {
    let net = drawn(ClassicNet::init, 1);
    check_against_finite_differences(&net, Loss::MeanSquaredError, 10, [0.5, -1.0]);
}

#[test]
fn gradients_match_finite_differences_selu_elu_gelu_softplus_silu() {
    let net = drawn(SmoothNet::init, 21);
    check_against_finite_differences(&net, Loss::MeanSquaredError, 22, [0.5, -1.0]);
}

#[test]
fn gradients_match_finite_differences_classic_binary_cross_entropy() {
    let net = drawn(ClassicNet::init, 2);
    check_against_finite_differences(&net, Loss::BinaryCrossEntropyWithLogits, 11, [1.0, 0.0]);
}

#[test]
fn gradients_match_finite_differences_inverted_sigmoid_tanh_softmax_mse() {
    let net = drawn(InvertedNet::init, 3);
    check_against_finite_differences(&net, Loss::MeanSquaredError, 12, [0.2, 0.3, 0.5]);
}

#[test]
fn gradients_match_finite_differences_inverted_softmax_cross_entropy() {
    let net = drawn(LogitNet::init, 4);
    check_against_finite_differences(&net, Loss::SoftmaxCrossEntropy, 13, [0.0, 1.0, 0.0]);
    check_against_finite_differences(
        &net,
        Loss::BinaryCrossEntropyWithLogits,
        14,
        [1.0, 0.0, 1.0],
    );
    let net = drawn(InvertedNet::init, 5);
    check_against_finite_differences(&net, Loss::SoftmaxCrossEntropy, 15, [0.0, 0.0, 1.0]);
}

#[test]
fn gradients_match_finite_differences_through_dropconnect() {
    let net = drawn(ConnectNet::init, 31);
    check_against_finite_differences(&net, Loss::MeanSquaredError, 32, [0.5, -1.0]);
    let net = drawn(ClassicConnectNet::init, 33);
    check_against_finite_differences(&net, Loss::SoftmaxCrossEntropy, 34, [0.0, 1.0, 0.0]);
}

#[test]
fn gradients_match_finite_differences_through_gaussian_noise() {
    let net = drawn(GaussianNet::init, 41);
    check_against_finite_differences(&net, Loss::MeanSquaredError, 42, [0.5, -1.0]);
    // The noise multiplies the gradient too: noise 0 on a unit stops it.
    let mut masks = GaussianNetMasks::ALL_KEPT;
    masks.input = [1.5, 0.0, 1.0];
    let (_, grads) = gradients(
        &net,
        &[0.3, -0.7, 1.1],
        &masks,
        &[1.0, 0.0],
        Loss::MeanSquaredError,
    )
    .unwrap();
    for neuron in 0..4 {
        assert_eq!(grads.weight(0, neuron, 1), Some(0.0));
    }
}

#[test]
fn training_with_every_kind_of_site_is_reproducible_and_lowers_the_loss() {
    let mut rng = ChaCha8Rng::seed_from_u64(43);
    let x = Array2::from_shape_fn((64, 3), |_| rng.random_range(-1.0..1.0));
    let y = Array2::from_shape_fn((64, 2), |(r, c)| {
        if c == 0 {
            x[[r, 0]] - x[[r, 1]]
        } else {
            x[[r, 2]] * 0.5
        }
    });
    let trainer = Trainer::new(Optimizer::adam(0.02), Loss::MeanSquaredError)
        .epochs(150)
        .batch_size(16)
        .seed(44)
        .progress(false);
    let fit = |seed| {
        let mut net = GaussianNet::init(&mut ChaCha8Rng::seed_from_u64(seed));
        let reports = trainer.fit(&mut net, (&x, &y), None, |_| ()).unwrap();
        (reports, net)
    };
    let (first, net) = fit(45);
    let (again, _) = fit(45);
    assert_eq!(first, again);
    let start = first.first().unwrap().train_eval_loss;
    let end = first.last().unwrap().train_eval_loss;
    assert!(end < 0.4 * start, "{start} → {end}");
    assert_eq!(
        evaluate(&net, (&x, &y), Loss::MeanSquaredError).unwrap(),
        end
    );
}

#[test]
fn dropped_weights_get_no_gradient_and_batches_average_samples() {
    let net = drawn(ConnectNet::init, 35);
    let mut rng = ChaCha8Rng::seed_from_u64(36);
    let mut masks = ConnectNetMasks::ALL_KEPT;
    masks.h1_weights[2][1] = false;
    let (_, grads) = gradients(
        &net,
        &[0.3, -0.7, 1.1],
        &masks,
        &[1.0, 0.0],
        Loss::MeanSquaredError,
    )
    .unwrap();
    assert_eq!(grads.weight(0, 2, 1), Some(0.0));
    assert_ne!(grads.weight(0, 2, 0), Some(0.0));
    let x = Array2::from_shape_fn((4, 3), |_| rng.random_range(-1.0..1.0));
    let targets = Array2::from_shape_fn((4, 2), |_| rng.random_range(-1.0..1.0));
    let masks: Vec<_> = (0..4).map(|_| net.sample_masks(&mut rng)).collect();
    let (_, batch) = gradients_batch(&net, &x, &masks, &targets, Loss::MeanSquaredError).unwrap();
    for (layer, spec) in ConnectNet::SPEC.layers.iter().enumerate() {
        for n in 0..spec.size {
            for i in 0..spec.fan_in {
                let mean: f64 = (0..4)
                    .map(|r| {
                        let xr = [x[[r, 0]], x[[r, 1]], x[[r, 2]]];
                        let target = [targets[[r, 0]], targets[[r, 1]]];
                        let (_, g) =
                            gradients(&net, &xr, &masks[r], &target, Loss::MeanSquaredError)
                                .unwrap();
                        g.weight(layer, n, i).unwrap() / 4.0
                    })
                    .sum();
                assert!((batch.weight(layer, n, i).unwrap() - mean).abs() < 1e-12);
            }
        }
    }
    // The trainer's evaluation pass is the generated one, DropConnect's scaling included.
    let engine = predict(&net, &x).unwrap();
    let generated = net.forward_batch(x.view()).unwrap();
    for (a, b) in engine.iter().zip(generated.iter()) {
        assert!((a - b).abs() < 1e-12);
    }
    let net = drawn(ClassicConnectNet::init, 37);
    let x = Array2::from_shape_fn((3, 2), |_| rng.random_range(-1.0..1.0));
    let engine = predict(&net, &x).unwrap();
    let generated = net.forward_batch(x.view()).unwrap();
    for (a, b) in engine.iter().zip(generated.iter()) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn dropped_units_pass_no_gradient_but_biases_still_get_theirs() {
    let net = drawn(LogitNet::init, 6);
    // Every unit of h1 dropped: nothing reaches the output layer's weights.
    let masks = LogitNetMasks::dropping_site(1).unwrap();
    let (_, grads) = gradients(
        &net,
        &[0.3, -0.7],
        &masks,
        &[1.0, 0.0, 0.0],
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    for n in 0..3 {
        for i in 0..5 {
            assert_eq!(grads.weight(1, n, i), Some(0.0));
        }
        assert_ne!(grads.bias(1, n), Some(0.0));
    }
    // And nothing flows back into h1 either: its parameters get zero gradient.
    assert_eq!(grads.weight(0, 2, 1), Some(0.0));
    assert_eq!(grads.bias(0, 4), Some(0.0));
}

#[test]
fn batch_gradients_are_the_mean_of_sample_gradients() {
    let net = drawn(ClassicNet::init, 7);
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let x = Array2::from_shape_fn((5, 3), |_| rng.random_range(-1.0..1.0));
    let targets = Array2::from_shape_fn((5, 2), |_| rng.random_range(-1.0..1.0));
    let masks: Vec<_> = (0..5).map(|_| net.sample_masks(&mut rng)).collect();
    let (value, batch) =
        gradients_batch(&net, &x, &masks, &targets, Loss::MeanSquaredError).unwrap();
    let mut mean_value = 0.0;
    let mut sum = [0.0; 4 * 3];
    for r in 0..5 {
        let xr = [x[[r, 0]], x[[r, 1]], x[[r, 2]]];
        let (v, g) = gradients(
            &net,
            &xr,
            &masks[r],
            &[targets[[r, 0]], targets[[r, 1]]],
            Loss::MeanSquaredError,
        )
        .unwrap();
        mean_value += v / 5.0;
        for n in 0..4 {
            for i in 0..3 {
                sum[n * 3 + i] += g.weight(0, n, i).unwrap() / 5.0;
            }
        }
    }
    assert!((value - mean_value).abs() < 1e-12);
    for n in 0..4 {
        for i in 0..3 {
            assert!((batch.weight(0, n, i).unwrap() - sum[n * 3 + i]).abs() < 1e-12);
        }
    }
}

#[test]
fn shape_errors_are_reported() {
    let net = drawn(ClassicNet::init, 9);
    let x = Array2::zeros((2, 3));
    let err = gradients_batch(
        &net,
        &x,
        &[ClassicNetMasks::ALL_KEPT; 2],
        &Array2::zeros((2, 3)),
        Loss::MeanSquaredError,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::TargetShape {
            expected: (2, 2),
            found: (2, 3)
        }
    );
    let err = gradients_batch(
        &net,
        &x,
        &[ClassicNetMasks::ALL_KEPT; 1],
        &Array2::zeros((2, 2)),
        Loss::MeanSquaredError,
    )
    .unwrap_err();
    assert_eq!(
        err,
        Error::MaskCount {
            expected: 2,
            found: 1
        }
    );
    let trainer = Trainer::new(Optimizer::sgd(0.1), Loss::MeanSquaredError).progress(false);
    let mut net = net;
    let err = trainer
        .clone()
        .batch_size(0)
        .fit(&mut net, (&x, &Array2::zeros((2, 2))), None, |_| {})
        .unwrap_err();
    assert_eq!(err, Error::BatchSize);
    let err = trainer
        .clone()
        .dropout(0.5)
        .fit(&mut net, (&x, &Array2::zeros((2, 2))), None, |_| {})
        .unwrap_err();
    assert_eq!(err, Error::OverrideNeedsInverted);
    let mut logits = drawn(LogitNet::init, 1);
    let err = trainer
        .dropout(1.0)
        .fit(
            &mut logits,
            (&Array2::zeros((2, 2)), &Array2::zeros((2, 3))),
            None,
            |_| {},
        )
        .unwrap_err();
    assert!(matches!(err, Error::Probability { name: "p", .. }));
}

#[test]
fn engine_evaluation_equals_the_generated_batch_pass() {
    let net = drawn(ClassicNet::init, 10);
    let x = array![[0.1, -0.2, 0.3], [1.0, 0.5, -1.5]];
    let engine = predict(&net, &x).unwrap();
    let generated = net.forward_batch(x.view()).unwrap();
    for (a, b) in engine.iter().zip(generated.iter()) {
        assert!((a - b).abs() < 1e-12);
    }
}

#[test]
fn an_sgd_step_lowers_the_loss_and_adam_state_counts_steps() {
    let mut net = drawn(LogitNet::init, 11);
    let x = array![[0.5, -0.5], [0.1, 0.9]];
    let y = array![[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    let before = evaluate(&net, (&x, &y), Loss::SoftmaxCrossEntropy).unwrap();
    let mut state = OptimizerState::new(Optimizer::sgd(0.1)).unwrap();
    let (_, grads) = gradients_batch(
        &net,
        &x,
        &[LogitNetMasks::ALL_KEPT; 2],
        &y,
        Loss::SoftmaxCrossEntropy,
    )
    .unwrap();
    state.step(&mut net, &grads).unwrap();
    // Eval differs from the all-kept pass only by the site scaling; a small step still helps.
    let after = evaluate(&net, (&x, &y), Loss::SoftmaxCrossEntropy).unwrap();
    assert!(after < before, "{after} vs {before}");
    assert_eq!(Gradients::<LogitNet>::zeros().max_abs(), 0.0);
}

#[test]
fn training_fits_a_small_problem_and_is_reproducible() {
    // XOR-like targets: 4 points, 2 classes.
    let x = array![[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]];
    let y = array![
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0],
        [1.0, 0.0, 0.0]
    ];
    let run = |seed| {
        let mut net = drawn(LogitNet::init, 12);
        let trainer = Trainer::new(Optimizer::adam(0.05), Loss::SoftmaxCrossEntropy)
            .epochs(300)
            .batch_size(4)
            .seed(seed)
            .progress(false);
        let mut seen = 0;
        let history = trainer
            .fit(&mut net, (&x, &y), Some((&x, &y)), |report| {
                seen = report.epoch;
            })
            .unwrap();
        assert_eq!(seen, 300);
        (net, history)
    };
    let (net, history) = run(1);
    let first = history[0].train_eval_loss;
    let last = history.last().unwrap();
    assert!(
        last.train_eval_loss < first / 5.0,
        "{first} → {}",
        last.train_eval_loss
    );
    assert_eq!(last.validation_loss, Some(last.train_eval_loss));
    let predicted = net.forward_batch(x.view()).unwrap();
    for (row, target) in predicted.rows().into_iter().zip(y.rows()) {
        let best = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
        assert_eq!(target[best], 1.0, "{predicted:?}");
    }
    let (again, history_again) = run(1);
    assert_eq!(history, history_again);
    assert_eq!(net.h1.row(2), again.h1.row(2));
    let (other, _) = run(2);
    assert_ne!(net.h1.row(2), other.h1.row(2));
}

#[test]
fn a_dropout_override_of_zero_trains_without_masks() {
    let x = array![[0.2, 0.4], [-0.3, 0.9], [0.8, -0.1]];
    let y = array![[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]];
    let fit = |trainer: Trainer| {
        let mut net = drawn(LogitNet::init, 13);
        trainer
            .epochs(5)
            .batch_size(3)
            .progress(false)
            .fit(&mut net, (&x, &y), None, |_| {})
            .unwrap()
    };
    // One step per epoch: epoch 2's training loss is measured at the parameters epoch 1's
    // evaluation saw. Without dropout the two losses are equal; with dropout they differ.
    let plain = fit(Trainer::new(Optimizer::sgd(0.1), Loss::SoftmaxCrossEntropy).dropout(0.0));
    assert!((plain[1].train_loss - plain[0].train_eval_loss).abs() < 1e-12);
    let noisy = fit(Trainer::new(Optimizer::sgd(0.1), Loss::SoftmaxCrossEntropy));
    assert!((noisy[1].train_loss - noisy[0].train_eval_loss).abs() > 1e-6);
}
