//! DropConnect (Wan et al. 2013): masks on a layer's weights instead of its units. PyTorch has no
//! DropConnect, so the passes are checked by hand calculation, against `dropout::reference`,
//! against unit dropout (which DropConnect becomes when every neuron's mask row is the same),
//! and against exact enumeration.

use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::{Error, Masks, Scaling, network, reference, source};

network! {
    /// Worked by hand below, under classic scaling.
    struct Classic<f64> {
        scaling: classic,
        input: 2,
        dense 2 relu dropconnect(p = 0.5) {
            weights: [[1.0, 2.0],
                      [3.0, 4.0]],
            bias:     [0.5, -1.0],
        },
        dense 1 identity { weights: [[1.0, -1.0]], bias: [0.0] },

        test all_kept { input: [1, 1], masks: [], expect: [-2.5] },
        test evaluation { input: [1, 1], expect: [-0.5] },
    }
}

network! {
    /// The same weights under inverted scaling.
    struct Inverted<f64> {
        input: 2,
        dense 2 relu dropconnect(p = 0.5) {
            weights: [[1.0, 2.0],
                      [3.0, 4.0]],
            bias:     [0.5, -1.0],
        },
        dense 1 identity { weights: [[1.0, -1.0]], bias: [0.0] },
    }
}

network! {
    /// Unit dropout before a layer, in `f32`.
    struct Units<f32> {
        input: 3,
        dense 4 tanh, dropout(p = 0.3),
        dense 3 relu,
        dense 2 identity,
    }
}

network! {
    /// The same architecture with DropConnect on the layer the unit site feeds.
    struct Weights<f32> {
        input: 3,
        dense 4 tanh,
        dense 3 relu dropconnect(p = 0.3),
        dense 2 identity,
    }
}

network! {
    /// Both on one layer, DropConnect on two, and the generated property tests.
    struct Both<f64> {
        scaling: classic,
        input: 3, dropout(p = 0.2),
        dense 4 tanh dropconnect(keep = 0.75), dropout(p = 0.5),
        dense 3 sigmoid dropconnect(p = 0.25),
        dense 2 identity,

        tests: auto,
    }
}

network! {
    /// Small enough to enumerate every mask: 4 + 2 weights and 2 units.
    struct Small<f64> {
        input: 2,
        dense 2 relu dropconnect(p = 0.5) {
            weights: [[1.0, -2.0], [0.5, 1.5]],
            bias: [0.25, -0.5],
        }, dropout(p = 0.5),
        dense 1 identity dropconnect(p = 0.4) { weights: [[2.0, -1.0]], bias: [0.1] },
    }
}

/// Neuron 0 keeps only its weight from input 0, neuron 1 only its weight from input 1.
const DIAGONAL: [[bool; 2]; 2] = [[true, false], [false, true]];

#[test]
fn training_and_evaluation_passes_by_hand() {
    // Classic: h = relu(1·1 + 0.5, 4·1 − 1) = (1.5, 3), y = 1.5 − 3.
    let masks = ClassicMasks {
        h1_weights: DIAGONAL,
    };
    assert_eq!(Classic::new().forward_masked(&[1.0, 1.0], &masks), [-1.5]);
    // Evaluation multiplies every weight by keep = ½: h = (1.5·½ + 0.5, 7·½ − 1) = (2, 2.5).
    assert_eq!(Classic::new().forward(&[1.0, 1.0]), [-0.5]);
    // All weights kept is the undropped network: h = (3.5, 6).
    assert_eq!(
        Classic::new().forward_masked(&[1.0, 1.0], &ClassicMasks::ALL_KEPT),
        [-2.5]
    );
    // Inverted: kept weights × 2 in training, h = (2.5, 7); evaluation is the undropped network;
    // every weight kept and doubled gives h = (6.5, 13).
    let masks = InvertedMasks {
        h1_weights: DIAGONAL,
    };
    assert_eq!(Inverted::new().forward_masked(&[1.0, 1.0], &masks), [-4.5]);
    assert_eq!(Inverted::new().forward(&[1.0, 1.0]), [-2.5]);
    assert_eq!(
        Inverted::new().forward_masked(&[1.0, 1.0], &InvertedMasks::ALL_KEPT),
        [-6.5]
    );
}

#[test]
fn every_weight_dropped_leaves_the_biases() {
    let masks = ClassicMasks {
        h1_weights: [[false; 2]; 2],
    };
    // h = relu(0.5, −1) = (0.5, 0).
    assert_eq!(Classic::new().forward_masked(&[3.0, -7.0], &masks), [0.5]);
}

#[test]
fn rows_equal_to_a_unit_mask_give_the_unit_dropout_bits() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let units = Units::init(&mut rng);
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let weights = Weights::init(&mut rng);
    for seed in 0..64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let x: [f32; 3] = dropout::rand::RngExt::random(&mut rng);
        let unit_masks = units.sample_masks(&mut rng);
        let weight_masks = WeightsMasks {
            h2_weights: [unit_masks.h1; 3],
        };
        let (a, b) = (
            units.forward_masked(&x, &unit_masks),
            weights.forward_masked(&x, &weight_masks),
        );
        assert_eq!(
            a.map(f32::to_bits),
            b.map(f32::to_bits),
            "masks {unit_masks}"
        );
        assert_eq!(units.forward(&x), weights.forward(&x));
    }
}

#[test]
fn masked_passes_match_the_reference() {
    let net = Both::init(&mut ChaCha8Rng::seed_from_u64(2));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for _ in 0..32 {
        let x: [f64; 3] = dropout::rand::RngExt::random(&mut rng);
        let masks = net.sample_masks(&mut rng);
        let want = reference::forward_with_weights(
            &net,
            &x,
            reference::training_sites::<Both>(&masks),
            reference::training_weights::<Both>(&masks),
        )
        .unwrap();
        let got = net.forward_masked(&x, &masks);
        for (got, want) in got.iter().zip(&want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want} under {masks}");
        }
        let want = reference::forward_with_weights(
            &net,
            &x,
            reference::evaluation_sites::<Both>(),
            reference::evaluation_weights::<Both>(),
        )
        .unwrap();
        for (got, want) in net.forward(&x).iter().zip(&want) {
            assert!((got - want).abs() < 1e-12, "evaluation: {got} vs {want}");
        }
    }
}

#[test]
fn non_finite_values_are_not_dropped_into_plausible_numbers() {
    let masks = ClassicMasks {
        h1_weights: [[true, false], [true, true]],
    };
    // Input 1 is NaN: neuron 0 drops its weight from it, (w · 0) · NaN is NaN all the same.
    assert!(Classic::new().forward_masked(&[1.0, f64::NAN], &masks)[0].is_nan());
    assert!(Classic::new().forward_masked(&[1.0, f64::INFINITY], &masks)[0].is_nan());
    assert!(Classic::new().forward(&[f64::NAN, 1.0])[0].is_nan());
    // The reference agrees.
    let y = reference::forward_with_weights(
        &Classic::new(),
        &[1.0, f64::INFINITY],
        |_, _| {},
        reference::training_weights::<Classic>(&masks),
    )
    .unwrap();
    assert!(y[0].is_nan());
    // A dropped infinite weight is NaN too, not 0.
    let mut net = Classic::new();
    if let Some(w) = net.h1.weight_mut(0, 1) {
        *w = f64::INFINITY;
    }
    assert!(net.forward_masked(&[1.0, 1.0], &masks)[0].is_nan());
}

#[test]
fn exact_moments_enumerate_weights_and_units() {
    let net = Small::new();
    let x = [1.0, 2.0];
    let moments = net.exact_moments(&x).unwrap();
    // 4 + 2 weights and 2 units: 2⁸ masks.
    assert_eq!(moments.passes, 256);
    // The same by enumerating here, each mask weighted by its probability.
    let (mut mean, mut square) = (0.0, 0.0);
    for pattern in 0..256_u32 {
        let bit = |k: u32| pattern >> k & 1 == 1;
        let masks = SmallMasks {
            h1: [bit(0), bit(1)],
            h1_weights: [[bit(2), bit(3)], [bit(4), bit(5)]],
            output_weights: [[bit(6), bit(7)]],
        };
        let probability: f64 = (0..8)
            .map(|k| match (k, bit(k)) {
                (6 | 7, true) => 0.6,
                (6 | 7, false) => 0.4,
                _ => 0.5,
            })
            .product();
        let y = net.forward_masked(&x, &masks)[0];
        mean += probability * y;
        square += probability * y * y;
    }
    assert!((moments.mean[0] - mean).abs() < 1e-12);
    assert!((moments.std_dev[0] - (square - mean * mean).sqrt()).abs() < 1e-12);
    // Monte Carlo dropout samples the weight masks as well.
    let mc = net
        .predict_mc(&x, 40_000, &mut ChaCha8Rng::seed_from_u64(9))
        .unwrap();
    let standard_error = moments.std_dev[0] / 40_000_f64.sqrt();
    assert!(
        (mc.mean[0] - mean).abs() < 4.0 * standard_error,
        "{} vs {mean}",
        mc.mean[0]
    );
}

#[test]
fn sampled_masks_keep_weights_at_the_declared_rate() {
    const SAMPLES: usize = 10_000;
    let net = Small::new();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let (mut h1, mut output) = (0, 0);
    for _ in 0..SAMPLES {
        let masks = net.sample_masks(&mut rng);
        h1 += masks
            .h1_weights
            .as_flattened()
            .iter()
            .filter(|&&k| k)
            .count();
        output += masks
            .output_weights
            .as_flattened()
            .iter()
            .filter(|&&k| k)
            .count();
    }
    let h1_rate = h1 as f64 / (4 * SAMPLES) as f64;
    let output_rate = output as f64 / (2 * SAMPLES) as f64;
    assert!((h1_rate - 0.5).abs() < 0.02, "{h1_rate}");
    assert!((output_rate - 0.6).abs() < 0.02, "{output_rate}");
    // Six weights carry mask bits, besides the two units of `h1`'s site.
    assert_eq!(Small::SPEC.n_droppable_units(), 2);
    assert_eq!(Small::SPEC.n_droppable_weights(), 6, "{}", Small::SPEC);
    assert_eq!(
        Small::SPEC.to_string(),
        "Small<f64>: input 2 → dense 2 relu dropconnect(p = 0.5) → dropout(p = 0.5) → dense 1 identity dropconnect(p = 0.4) (inverted scaling)"
    );
}

#[test]
fn batches_equal_single_passes() {
    let net = Both::init(&mut ChaCha8Rng::seed_from_u64(6));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let x = ndarray::Array2::from_shape_fn((9, 3), |(r, c)| (r as f64 - 4.0) * 0.3 + c as f64);
    let masks: Vec<BothMasks> = (0..9).map(|_| net.sample_masks(&mut rng)).collect();
    let masked = net.forward_batch_masked(x.view(), &masks).unwrap();
    let eval = net.forward_batch(x.view()).unwrap();
    for (r, set) in masks.iter().enumerate() {
        let row = [x[[r, 0]], x[[r, 1]], x[[r, 2]]];
        for (k, (got, want)) in masked
            .row(r)
            .iter()
            .zip(net.forward_masked(&row, set))
            .enumerate()
        {
            assert!((got - want).abs() < 1e-12, "row {r}, output {k}");
        }
        for (got, want) in eval.row(r).iter().zip(net.forward(&row)) {
            assert!((got - want).abs() < 1e-12, "row {r}");
        }
    }
    assert!(matches!(
        net.forward_batch_masked(x.view(), &masks[..2]),
        Err(Error::MaskCount { .. })
    ));
}

#[test]
fn traces_masks_and_declarations_show_the_dropped_weights() {
    let masks = ClassicMasks {
        h1_weights: DIAGONAL,
    };
    assert_eq!(masks.to_string(), "M(h1) = ((1, 0), (0, 1))");
    let trace = Classic::new().trace(&[1.0, 1.0], &masks);
    assert_eq!(trace.prediction(), Some(&[-1.5][..]));
    assert_eq!(
        trace.layer("h1").unwrap().dropped_weights,
        Some(vec![(0, 1), (1, 0)])
    );
    assert_eq!(
        trace.to_string(),
        "Classic, training pass (classic scaling)\n\
         layer   z         g(z)      μ  output\n\
         input             (1, 1)       (1, 1)\n\
         h1      (1.5, 3)  (1.5, 3)     (1.5, 3)\n\
         output  (-1.5)    (-1.5)       (-1.5)\n\
         h1 drops the weights (neuron ← input) 0 ← 1, 1 ← 0\n\
         prediction: (-1.5)\n"
    );
    let eval = Classic::new().trace_eval(&[1.0, 1.0]);
    assert_eq!(eval.prediction(), Some(&[-0.5][..]));
    assert_eq!(eval.layer("h1").unwrap().dropped_weights, None);
    let text = source::declaration(&Classic::new()).unwrap();
    assert!(
        text.contains("h1: dense 2 relu dropconnect(p = 0.5) {"),
        "{text}"
    );
}

#[test]
fn the_diagram_draws_dropped_weights_as_dropped() {
    let faint = |svg: &str| svg.matches("opacity=\"0.08\"").count();
    let all_kept = Classic::new()
        .diagram(Some(&ClassicMasks::ALL_KEPT))
        .unwrap();
    let masks = ClassicMasks {
        h1_weights: DIAGONAL,
    };
    let two_dropped = Classic::new().diagram(Some(&masks)).unwrap();
    assert_eq!(faint(&two_dropped), faint(&all_kept) + 2);
    assert!(two_dropped.contains("dropconnect p = 0.5"));
}

#[test]
fn scaling_conventions_apply_to_weights_as_to_units() {
    assert_eq!(Classic::SPEC.scaling, Scaling::Classic);
    let d = Classic::SPEC.layers[0].dropconnect.unwrap();
    assert_eq!(d.to_string(), "dropconnect(p = 0.5)");
    assert_eq!(Scaling::Classic.eval_factor(d), 0.5);
    assert_eq!(Scaling::Inverted.train_factor(d), 2.0);
    let mut masks = BothMasks::ALL_KEPT;
    masks.connections_mut(1).unwrap().fill(false);
    assert_eq!(masks.h2_weights, [[false; 4]; 3]);
    assert!(masks.connections(2).is_none());
}
