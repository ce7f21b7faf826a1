//! Exact dropout moments against an independent enumeration and against sampling; Monte Carlo
//! dropout against the exact moments.

use dropout::{Error, network};
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

network! {
    /// The toy network of "Comprehend Dropout" (classic scaling, p = 0.5 on three hidden layers).
    struct Toy<f64> {
        scaling: classic,
        input: 2, dropout(keep = 1.0),
        dense 3 relu { weights: [[1, -1], [2, 1], [-1, 3]], bias: [0.5, -1, 0] }, dropout(p = 0.5),
        dense 3 relu { weights: [[1, 1, -1], [0.5, -2, 1], [-1, 1, 2]], bias: [0, 0.5, -1] }, dropout(p = 0.5),
        dense 2 relu { weights: [[2, -1, 1], [1, 1, -1]], bias: [1, 0] }, dropout(p = 0.5),
        dense 1 identity { weights: [[1, -2]], bias: [0.5] },
    }
}

network! {
    /// Unequal probabilities and two outputs, inverted scaling.
    struct Skewed<f64> {
        input: 3, dropout(p = 0.2),
        dense 2 tanh { weights: [[0.5, -1, 2], [1, 1, -0.5]], bias: [0.1, -0.2] }, dropout(keep = 0.7),
        dense 2 identity { weights: [[1, -1], [2, 0.5]], bias: [0, 1] },
    }
}

network! {
    /// Too many droppable units to enumerate.
    struct Wide { input: 30, dropout(p = 0.5), dense 1 identity }
}

/// Every mask of the toy's 8 droppable units (μ¹, μ², μ³), each with probability 1/256: the
/// moments computed by a plain two-pass loop.
fn toy_moments_by_hand(x: &[f64; 2]) -> (f64, f64) {
    let toy = Toy::new();
    let outputs: Vec<f64> = (0..256_u32)
        .map(|pattern| {
            let bit = |k: u32| pattern >> k & 1 == 1;
            let masks = ToyMasks {
                input: [true, true],
                h1: [bit(0), bit(1), bit(2)],
                h2: [bit(3), bit(4), bit(5)],
                h3: [bit(6), bit(7)],
            };
            toy.forward_masked(x, &masks)[0]
        })
        .collect();
    let mean = outputs.iter().sum::<f64>() / 256.0;
    let variance = outputs.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / 256.0;
    (mean, variance.sqrt())
}

#[test]
fn exact_moments_equal_an_independent_enumeration() {
    for x in [[1.0, 1.0], [0.5, -2.0], [-1.0, 3.0]] {
        let moments = Toy::new().exact_moments(&x).unwrap();
        let (mean, std_dev) = toy_moments_by_hand(&x);
        assert!(
            (moments.mean[0] - mean).abs() < 1e-12,
            "{moments:?} vs {mean}"
        );
        assert!(
            (moments.std_dev[0] - std_dev).abs() < 1e-12,
            "{moments:?} vs {std_dev}"
        );
        assert_eq!(moments.passes, 256);
    }
}

#[test]
fn exact_moments_differ_from_the_evaluation_pass_through_relus() {
    let toy = Toy::new();
    let moments = toy.exact_moments(&[1.0, 1.0]).unwrap();
    // Weight scaling is exact for a linear network, not through ReLUs: 1.5625 is the
    // evaluation pass, the ensemble mean is lower.
    assert_eq!(toy.forward(&[1.0, 1.0]), [1.5625]);
    assert!((moments.mean[0] - 1.5625).abs() > 0.1, "{moments:?}");
}

#[test]
fn exact_moments_agree_with_brute_force_sampling() {
    let net = Skewed::new();
    let x = [0.3, -1.2, 0.8];
    let exact = net.exact_moments(&x).unwrap();
    // 3 + 2 droppable units: 32 masks.
    assert_eq!(exact.passes, 32);
    let n: usize = 200_000;
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let mut sums = [0.0; 2];
    let mut squares = [0.0; 2];
    for _ in 0..n {
        let (y, _) = net.forward_train(&x, &mut rng);
        for k in 0..2 {
            sums[k] += y[k];
            squares[k] += y[k] * y[k];
        }
    }
    for k in 0..2 {
        let mean = sums[k] / n as f64;
        let std_dev = (squares[k] / n as f64 - mean * mean).sqrt();
        // The sample mean is within 5 standard errors of the exact mean.
        let standard_error = exact.std_dev[k] / (n as f64).sqrt();
        assert!(
            (mean - exact.mean[k]).abs() < 5.0 * standard_error,
            "output {k}: {mean} vs {exact:?}"
        );
        assert!(
            (std_dev - exact.std_dev[k]).abs() < 0.01 * exact.std_dev[k],
            "output {k}: {std_dev} vs {exact:?}"
        );
    }
}

#[test]
fn monte_carlo_dropout_converges_to_the_exact_moments_and_is_seeded() {
    let toy = Toy::new();
    let exact = toy.exact_moments(&[1.0, 1.0]).unwrap();
    let n = 100_000;
    let mc = toy
        .predict_mc(&[1.0, 1.0], n, &mut ChaCha8Rng::seed_from_u64(3))
        .unwrap();
    let standard_error = exact.std_dev[0] / (n as f64).sqrt();
    assert!(
        (mc.mean[0] - exact.mean[0]).abs() < 5.0 * standard_error,
        "{mc:?} vs {exact:?}"
    );
    assert!(
        (mc.std_dev[0] - exact.std_dev[0]).abs() < 0.02 * exact.std_dev[0],
        "{mc:?} vs {exact:?}"
    );
    let again = toy
        .predict_mc(&[1.0, 1.0], n, &mut ChaCha8Rng::seed_from_u64(3))
        .unwrap();
    assert_eq!(mc, again);
    // Each pass's masks come from a generator of its own, seeded by one draw of the caller's.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let by_hand = dropout::stats::monte_carlo([0.0], n, || {
        let masks = toy.sample_masks(&mut dropout::stats::pass_rng(&mut rng));
        toy.forward_masked(&[1.0, 1.0], &masks)
    })
    .unwrap();
    assert_eq!(mc, by_hand);
    // Not the caller's generator drawn bit by bit.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let direct = dropout::stats::monte_carlo([0.0], n, || {
        toy.forward_masked(&[1.0, 1.0], &toy.sample_masks(&mut rng))
    })
    .unwrap();
    assert_ne!(mc, direct);
}

#[test]
fn limits_are_errors_not_panics() {
    let wide = Wide::init(&mut ChaCha8Rng::seed_from_u64(0));
    let err = wide.exact_moments(&[0.0; 30]).unwrap_err();
    assert_eq!(err, Error::TooManyUnits { found: 30, max: 24 });
    assert!(err.to_string().contains("n = 30 droppable units"));
    let err = Toy::new()
        .predict_mc(&[1.0, 1.0], 0, &mut ChaCha8Rng::seed_from_u64(0))
        .unwrap_err();
    assert_eq!(err, Error::NoSamples);
}

#[test]
fn sites_that_keep_everything_are_not_enumerated() {
    // μ⁰ has keep = 1: its units are always kept, so only the 8 hidden units are enumerated.
    assert_eq!(Toy::new().exact_moments(&[0.0, 0.0]).unwrap().passes, 256);
    assert_eq!(Toy::SPEC.n_droppable_units(), 10);
}
