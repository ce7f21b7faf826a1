//! Gaussian dropout (Srivastava et al. 2014, §10; Keras's `GaussianDropout`): every unit is
//! multiplied by noise from N(1, p/(1 − p)), and evaluation is the identity. PyTorch has no
//! Gaussian dropout, so the passes are checked by hand, against `dropout::reference`, and by
//! their moments.

use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::{Dropout, DropoutKind, Masks, network, reference, source};

network! {
    /// Worked by hand below.
    struct Hand<f64> {
        input: 2, gaussian_dropout(p = 0.5),
        dense 1 identity { weights: [[1.0, 10.0]], bias: [0.0] },

        test noised { input: [3, 4], masks: [[0.5, 1.25]], expect: [51.5] },
        test evaluation { input: [3, 4], expect: [43] },
    }
}

network! {
    /// Gaussian sites only, in `f32`: noise of all ones is the evaluation pass.
    struct Noisy<f32> {
        input: 3, gaussian_dropout(p = 0.2),
        dense 5 tanh, gaussian_dropout(keep = 0.6),
        dense 4 relu, gaussian_dropout(p = 0.5),
        dense 2 identity,

        tests: auto,
    }
}

network! {
    /// Every kind of site together, under classic scaling (which Gaussian dropout ignores).
    struct Mixed<f64> {
        scaling: classic,
        input: 3, dropout(p = 0.2),
        dense 4 selu, alpha_dropout(p = 0.1),
        dense 4 tanh, gaussian_dropout(p = 0.3),
        dense 3 relu dropconnect(p = 0.25), dropout(p = 0.5),
        dense 2 identity,

        tests: auto,
    }
}

network! {
    /// A Gaussian site with p = 0 changes nothing; the generated tests check it.
    struct Quiet<f64> {
        input: 2, gaussian_dropout(p = 0.0),
        dense 3 sigmoid, gaussian_dropout(p = 0.4),
        dense 1 identity,

        tests: auto,
    }
}

network! {
    /// Linear, for moments by formula.
    struct Linear<f64> {
        input: 3, gaussian_dropout(p = 0.2),
        dense 1 identity { weights: [[1.0, -2.0, 0.5]], bias: [0.25] },
    }
}

#[test]
fn noise_multiplies_units_and_evaluation_is_the_identity() {
    let masks = HandMasks { input: [0.5, 1.25] };
    assert_eq!(Hand::new().forward_masked(&[3.0, 4.0], &masks), [51.5]);
    assert_eq!(Hand::new().forward(&[3.0, 4.0]), [43.0]);
    assert_eq!(masks.to_string(), "μ⁰ = (0.5, 1.25)");
    assert_eq!(HandMasks::ALL_KEPT.input, [1.0, 1.0]);
    let d = Hand::SPEC.input_dropout.unwrap();
    assert_eq!(d.kind(), DropoutKind::Gaussian);
    assert_eq!(d.to_string(), "gaussian_dropout(p = 0.5)");
    assert_eq!(d.gaussian_std(), 1.0);
}

#[test]
fn noise_of_all_ones_is_the_evaluation_pass_bit_for_bit() {
    let net = Noisy::init(&mut ChaCha8Rng::seed_from_u64(1));
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..64 {
        let x: [f32; 3] = dropout::rand::RngExt::random(&mut rng);
        let eval = net.forward(&x).map(f32::to_bits);
        let ones = net
            .forward_masked(&x, &NoisyMasks::ALL_KEPT)
            .map(f32::to_bits);
        assert_eq!(eval, ones);
    }
}

#[test]
fn masked_passes_match_the_reference() {
    let net = Mixed::init(&mut ChaCha8Rng::seed_from_u64(3));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..32 {
        let x: [f64; 3] = dropout::rand::RngExt::random(&mut rng);
        let masks = net.sample_masks(&mut rng);
        let want = reference::forward_with_weights(
            &net,
            &x,
            reference::training_sites::<Mixed>(&masks),
            reference::training_weights::<Mixed>(&masks),
        )
        .unwrap();
        for (got, want) in net.forward_masked(&x, &masks).iter().zip(&want) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want} under {masks}");
        }
    }
}

#[test]
fn sampled_noise_has_the_declared_variance_and_a_seed_reproduces_it() {
    let net = Linear::new();
    let draw = |seed| net.sample_masks(&mut ChaCha8Rng::seed_from_u64(seed));
    assert_eq!(draw(5), draw(5));
    assert_ne!(draw(5), draw(6));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let noise: Vec<f64> = (0..20_000)
        .flat_map(|_| net.sample_masks(&mut rng).input)
        .collect();
    let n = noise.len() as f64;
    let mean = noise.iter().sum::<f64>() / n;
    let variance = noise.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (n - 1.0);
    // σ² = p/(1 − p) = 0.25.
    assert!((mean - 1.0).abs() < 0.01, "{mean}");
    assert!((variance - 0.25).abs() < 0.01, "{variance}");
    assert_eq!(Dropout::with_p(0.0).unwrap().gaussian().gaussian_std(), 0.0);
}

#[test]
fn moments_are_estimated_not_enumerated() {
    let net = Linear::new();
    let x = [1.0, 2.0, -4.0];
    assert_eq!(
        net.exact_moments(&x).unwrap_err().to_string(),
        "exact moments enumerate masks, and the Gaussian noise of site `input` is continuous; estimate them with `predict_mc`"
    );
    // y = b + Σ wᵢ xᵢ εᵢ: mean b + Σ wᵢ xᵢ (the evaluation pass), variance σ² Σ (wᵢ xᵢ)².
    let mc = net
        .predict_mc(&x, 50_000, &mut ChaCha8Rng::seed_from_u64(8))
        .unwrap();
    let [eval] = net.forward(&x);
    let std_dev = (0.25_f64 * (1.0 + 16.0 + 4.0)).sqrt();
    assert!((mc.mean[0] - eval).abs() < 0.03, "{} vs {eval}", mc.mean[0]);
    assert!(
        (mc.std_dev[0] - std_dev).abs() < 0.03,
        "{} vs {std_dev}",
        mc.std_dev[0]
    );
}

#[test]
fn non_finite_values_stay_non_finite() {
    let masks = HandMasks { input: [0.0, 1.0] };
    // Infinity times noise 0 is NaN, as the product says; NaN stays NaN.
    assert!(Hand::new().forward_masked(&[f64::INFINITY, 1.0], &masks)[0].is_nan());
    assert!(Hand::new().forward_masked(&[1.0, f64::NAN], &masks)[0].is_nan());
    let masks = HandMasks {
        input: [f64::NAN, 1.0],
    };
    assert!(Hand::new().forward_masked(&[1.0, 1.0], &masks)[0].is_nan());
    let y = reference::forward_with(
        &Hand::new(),
        &[f64::INFINITY, 1.0],
        reference::training_sites::<Hand>(&HandMasks { input: [0.0, 1.0] }),
    )
    .unwrap();
    assert!(y[0].is_nan());
}

#[test]
fn batches_equal_single_passes() {
    let net = Mixed::init(&mut ChaCha8Rng::seed_from_u64(9));
    let mut rng = ChaCha8Rng::seed_from_u64(10);
    let x = ndarray::Array2::from_shape_fn((7, 3), |(r, c)| (r as f64 - 3.0) * 0.4 - c as f64);
    let masks: Vec<MixedMasks> = (0..7).map(|_| net.sample_masks(&mut rng)).collect();
    let masked = net.forward_batch_masked(x.view(), &masks).unwrap();
    let eval = net.forward_batch(x.view()).unwrap();
    for (r, set) in masks.iter().enumerate() {
        let row = [x[[r, 0]], x[[r, 1]], x[[r, 2]]];
        for (got, want) in masked.row(r).iter().zip(net.forward_masked(&row, set)) {
            assert!((got - want).abs() < 1e-12, "row {r}");
        }
        for (got, want) in eval.row(r).iter().zip(net.forward(&row)) {
            assert!((got - want).abs() < 1e-12, "row {r}");
        }
    }
}

#[test]
fn traces_show_the_noise() {
    let masks = HandMasks { input: [0.5, 1.25] };
    let trace = Hand::new().trace(&[3.0, 4.0], &masks);
    assert_eq!(trace.rows()[0].noise, Some(vec![0.5, 1.25]));
    assert_eq!(trace.rows()[0].mask, None);
    assert_eq!(
        trace.to_string(),
        "Hand, training pass (inverted scaling)\n\
         layer   z       g(z)    μ            output\n\
         input           (3, 4)  (0.5, 1.25)  (1.5, 5)\n\
         output  (51.5)  (51.5)               (51.5)\n\
         prediction: (51.5)\n"
    );
    assert_eq!(Hand::new().trace_eval(&[3.0, 4.0]).rows()[0].noise, None);
    let text = source::declaration(&Hand::new()).unwrap();
    assert!(
        text.contains("input: 2, gaussian_dropout(p = 0.5),"),
        "{text}"
    );
    let svg = Hand::new().diagram(Some(&masks)).unwrap();
    assert!(svg.contains("μ⁰ gaussian p = 0.5"));
}

#[test]
fn dropping_a_gaussian_site_is_noise_of_zeros() {
    let masks = MixedMasks::dropping_site(2).unwrap();
    assert_eq!(masks.h2, [0.0; 4]);
    assert_eq!(masks.noise(2), Some(&[0.0; 4][..]));
    assert!(masks.site(2).is_none());
    assert_eq!(masks.site(3), Some(&[true; 3][..]));
}

network! {
    /// The architecture of `Mixed` without any dropout: the saved format holds weights only.
    struct Plain<f64> {
        input: 3,
        dense 4 selu,
        dense 4 tanh,
        dense 3 relu,
        dense 2 identity,
    }
}

#[test]
fn saved_parameters_do_not_depend_on_the_dropout_family() {
    let net = Mixed::init(&mut ChaCha8Rng::seed_from_u64(11));
    let json = dropout::io::to_json(&net).unwrap();
    let plain: Plain = dropout::io::from_json(&json).unwrap();
    // The same file but for the network's name.
    assert_eq!(
        dropout::io::to_json(&plain)
            .unwrap()
            .replace("\"Plain\"", "\"Mixed\""),
        json
    );
    let bytes = dropout::io::to_safetensors(&net).unwrap();
    let back: Mixed = dropout::io::from_safetensors(&bytes).unwrap();
    assert_eq!(dropout::io::to_safetensors(&back).unwrap(), bytes);
    let x = [0.5, -1.0, 2.0];
    assert_eq!(back.forward(&x), net.forward(&x));
    let plain: Plain = dropout::io::from_safetensors(&bytes).unwrap();
    assert_eq!(plain.h3.row(2), net.h3.row(2));
}
