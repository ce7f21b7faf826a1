//! Networks of other sizes, scalars and conventions, checked against hand calculations.

use dropout::{Activation, Dropout, Scaling, network};
use ndarray::{Array2, array};
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

network! {
    /// f64, inverted scaling, a dropout site on the input and on a leaky-ReLU layer.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Inverted<f64> {
        scaling: inverted,
        input: 3, dropout(p = 0.5),
        hidden: dense 2 leaky_relu(0.1) {
            weights: [[1, 2, -1],
                      [0.5, -1, 1]],
            bias: [0.5, -1],
        }, dropout(keep = 0.8),
        dense 1 identity { weights: [[2, -3]], bias: [0.25] },
        tests: auto,

        // x = (1, 2, 3), μ⁰ = (1, 0, 1) scaled by 2: (2, 0, 6); z¹ = (−3.5, 6), g = (−0.35, 6);
        // μ¹ = (0, 1) scaled by 1.25: (0, 7.5); output 2·0 − 3·7.5 + 0.25.
        test masked { input: [1, 2, 3], masks: [[1, 0, 1], [0, 1]], expect: [-22.25] }
        // Evaluation is the identity under inverted scaling: z¹ = (2.5, 0.5), output 5 − 1.5 + 0.25.
        test eval { input: [1, 2, 3], expect: [3.75], tolerance: 0 }
    }
}

network! {
    /// f32, classic scaling, tanh then softmax; scaling defaults are not used here.
    struct Classic<f32> {
        scaling: classic,
        input: 2,
        dense 2 tanh { weights: [[1, 0], [0, -1]], bias: [0, 0.5] }, dropout(p = 0.25),
        dense 2 softmax { weights: [[1, 1], [-1, 1]], bias: [0, 0] },
        tests: auto,
    }
}

network! {
    /// No weights declared: drawn by `init`. Default scaling (inverted) and scalar (f32).
    struct Drawn {
        input: 4, dropout(p = 0.2),
        dense 8 relu, dropout(p = 0.5),
        dense 3 sigmoid,
        tests: auto,
    }
}

network! {
    /// Mixed: the first layer is declared, the second is drawn.
    struct Mixed<f64> {
        input: 2,
        dense 2 identity { weights: [[1, 0], [0, 1]], bias: [0, 0] },
        dense 2 tanh,
    }
}

network! {
    /// No dropout site at all: the masks struct is empty.
    struct Plain<f64> {
        input: 1,
        dense 1 sigmoid { weights: [[2]], bias: [-1] },
        test half { input: [0.5], expect: [0.5] }
    }
}

const INVERTED_MASKS: InvertedMasks = InvertedMasks {
    input: [true, false, true],
    hidden: [false, true],
};

#[test]
fn inverted_network_matches_hand_calculation() {
    let net = Inverted::new();
    let x = [1.0, 2.0, 3.0];
    assert_eq!(net.forward_masked(&x, &INVERTED_MASKS), [-22.25]);
    assert_eq!(net.forward(&x), [3.75]);
    // All kept: input (2, 4, 6); z¹ = (4.5, 2); × 1.25 = (5.625, 2.5); output 11.25 − 7.5 + 0.25.
    assert_eq!(net.forward_masked(&x, &InvertedMasks::ALL_KEPT), [4.0]);
}

#[test]
fn classic_network_matches_hand_calculation() {
    let net = Classic::new();
    let t = 0.5_f32.tanh();
    // Evaluation: z¹ = (0.5, −0.5), g = (t, −t), × keep 0.75; z² = (0, −1.5t).
    let [p0, p1] = net.forward(&[0.5, 1.0]);
    let e = (-1.5 * t).exp();
    assert!((p0 - 1.0 / (1.0 + e)).abs() < 1e-6, "{p0}");
    assert!((p1 - e / (1.0 + e)).abs() < 1e-6, "{p1}");
    // μ¹ = (1, 0), raw mask under classic scaling: (t, 0); z² = (t, −t).
    let [q0, q1] = net.forward_masked(&[0.5, 1.0], &ClassicMasks { h1: [true, false] });
    let e = (-2.0 * t).exp();
    assert!((q0 - 1.0 / (1.0 + e)).abs() < 1e-6, "{q0}");
    assert!((q1 - e / (1.0 + e)).abs() < 1e-6, "{q1}");
}

#[test]
fn spec_describes_the_declaration() {
    let spec = Inverted::SPEC;
    assert_eq!((Inverted::N_INPUTS, Inverted::N_OUTPUTS), (3, 1));
    assert_eq!(spec.name, "Inverted");
    assert_eq!(spec.scalar, "f64");
    assert_eq!(spec.scaling, Scaling::Inverted);
    assert_eq!(spec.input_dropout, Some(Dropout::with_p(0.5).unwrap()));
    let names: Vec<_> = spec
        .layers
        .iter()
        .map(|l| (l.name, l.fan_in, l.size))
        .collect();
    assert_eq!(names, [("hidden", 3, 2), ("output", 2, 1)]);
    assert_eq!(spec.layers[0].activation, Activation::LeakyRelu(0.1));
    assert_eq!(spec.layers[0].dropout.map(Dropout::keep), Some(0.8));
    assert_eq!(spec.n_parameters(), 4 * 2 + 3);
    assert_eq!(Drawn::SPEC.scaling, Scaling::Inverted);
    assert_eq!(Drawn::SPEC.scalar, "f32");
    assert_eq!(
        Classic::SPEC.to_string(),
        "Classic<f32>: input 2 → dense 2 tanh → dropout(p = 0.25) → dense 2 softmax (classic scaling)"
    );
}

#[test]
fn declared_weights_read_back_in_declared_orientation() {
    let net = Inverted::new();
    assert_eq!(net.hidden.row(0), Some([1.0, 2.0, -1.0]));
    assert_eq!(net.hidden.weight(1, 2), Some(1.0));
    assert_eq!(net.output.bias(), &[0.25]);
}

/// A forward pass written out with plain loops over the layers' accessors.
fn reference_layer<const IN: usize, const OUT: usize>(
    layer: &dropout::Dense<f32, IN, OUT>,
    a: &[f32],
    activation: fn(f32) -> f32,
) -> Vec<f32> {
    (0..OUT)
        .map(|n| {
            let row = layer.row(n).unwrap();
            activation(layer.bias()[n] + row.iter().zip(a).map(|(w, x)| w * x).sum::<f32>())
        })
        .collect()
}

#[test]
fn drawn_network_is_reproducible_and_computes_what_its_layers_say() {
    let net = Drawn::init(&mut ChaCha8Rng::seed_from_u64(11));
    let again = Drawn::init(&mut ChaCha8Rng::seed_from_u64(11));
    let other = Drawn::init(&mut ChaCha8Rng::seed_from_u64(12));
    assert_eq!(net.h1.row(3), again.h1.row(3));
    assert_ne!(net.h1.row(3), other.h1.row(3));
    // He bound for fan-in 4: √(6/4); Xavier bound for 8 → 3: √(6/11).
    for n in 0..8 {
        assert!(
            net.h1
                .row(n)
                .unwrap()
                .iter()
                .all(|w| w.abs() <= (1.5_f32).sqrt())
        );
    }
    for n in 0..3 {
        assert!(
            net.output
                .row(n)
                .unwrap()
                .iter()
                .all(|w| w.abs() <= (6.0_f32 / 11.0).sqrt())
        );
    }
    assert_eq!(net.output.bias(), &[0.0; 3]);

    let x = [0.3, -1.2, 2.0, 0.7];
    let h = reference_layer(&net.h1, &x, |z| z.max(0.0));
    let want = reference_layer(&net.output, &h, |z| 1.0 / (1.0 + (-z).exp()));
    let got = net.forward(&x);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
    // A training pass keeping every unit scales each site by 1/keep: 1/0.8 on the input, 2 on h1.
    let scaled_x: Vec<f32> = x.iter().map(|v| v * 1.25).collect();
    let h = reference_layer(&net.h1, &scaled_x, |z| z.max(0.0));
    let scaled_h: Vec<f32> = h.iter().map(|v| v * 2.0).collect();
    let want = reference_layer(&net.output, &scaled_h, |z| 1.0 / (1.0 + (-z).exp()));
    let got = net.forward_masked(&x, &DrawnMasks::ALL_KEPT);
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
    }
}

#[test]
fn boxed_networks_are_built_as_the_ones_by_value() {
    let net = Mixed::init(&mut ChaCha8Rng::seed_from_u64(5));
    let boxed = Mixed::init_boxed(&mut ChaCha8Rng::seed_from_u64(5));
    for n in 0..2 {
        assert_eq!(boxed.h1.row(n), net.h1.row(n));
        assert_eq!(boxed.output.row(n), net.output.row(n));
    }
    assert_eq!(boxed.output.bias(), net.output.bias());
    assert_eq!(*Inverted::new_boxed(), Inverted::new());
    let zeros = <Inverted as dropout::Network>::zeros_boxed();
    assert_eq!(*zeros, <Inverted as dropout::Network>::zeros());
}

#[test]
fn mixed_network_keeps_declared_layers() {
    let net = Mixed::init(&mut ChaCha8Rng::seed_from_u64(5));
    assert_eq!(net.h1.row(0), Some([1.0, 0.0]));
    assert_eq!(net.h1.row(1), Some([0.0, 1.0]));
    let x = [0.25, -0.5];
    let want: Vec<f64> = (0..2)
        .map(|n| {
            net.output
                .row(n)
                .unwrap()
                .iter()
                .zip(&x)
                .map(|(w, a)| w * a)
                .sum::<f64>()
                .tanh()
        })
        .collect();
    assert_eq!(net.forward(&x).to_vec(), want);
}

#[test]
fn network_without_sites_has_empty_masks() {
    let net = Plain::new();
    assert_eq!(net.forward(&[0.5]), [0.5]);
    assert_eq!(net.forward_masked(&[0.5], &PlainMasks {}), [0.5]);
    assert_eq!(PlainMasks::ALL_KEPT.to_string(), "");
}

#[test]
fn trace_records_exactly_the_masked_pass() {
    let net = Inverted::new();
    let x = [1.0, 2.0, 3.0];
    let trace = net.trace(&x, &INVERTED_MASKS);
    assert_eq!(trace.prediction(), Some(&[-22.25][..]));
    let hidden = trace.layer("hidden").unwrap();
    assert_eq!(hidden.z.as_deref(), Some(&[-3.5, 6.0][..]));
    assert_eq!(hidden.activation, [0.1 * -3.5, 6.0]);
    assert_eq!(hidden.mask.as_deref(), Some(&[false, true][..]));
    assert_eq!(hidden.output, [0.0, 7.5]);
    let input = &trace.rows()[0];
    assert_eq!(input.output, [2.0, 0.0, 6.0]);
    assert!(trace.is_training());

    let eval = net.trace_eval(&x);
    assert_eq!(eval.prediction(), Some(&net.forward(&x)[..]));
    assert!(eval.rows().iter().all(|row| row.mask.is_none()));
}

#[test]
fn trace_and_forward_agree_on_random_masks() {
    let net = Drawn::init(&mut ChaCha8Rng::seed_from_u64(1));
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for _ in 0..50 {
        let masks = net.sample_masks(&mut rng);
        let x = [0.5, -0.25, 1.5, 2.0];
        let trace = net.trace(&x, &masks);
        assert_eq!(
            trace.prediction(),
            Some(&net.forward_masked(&x, &masks)[..])
        );
    }
}

#[test]
fn sampled_masks_are_seeded_and_have_the_declared_rate() {
    let net = Drawn::init(&mut ChaCha8Rng::seed_from_u64(0));
    let a = net.sample_masks(&mut ChaCha8Rng::seed_from_u64(99));
    let b = net.sample_masks(&mut ChaCha8Rng::seed_from_u64(99));
    assert_eq!(a, b);

    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 20_000;
    let (mut kept_input, mut kept_h1) = (0, 0);
    for _ in 0..n {
        let masks = net.sample_masks(&mut rng);
        kept_input += masks.input.iter().filter(|&&k| k).count();
        kept_h1 += masks.h1.iter().filter(|&&k| k).count();
    }
    // Binomial counts: keep 0.8 over 4·n draws and 0.5 over 8·n draws, within 5σ.
    let within = |kept: usize, draws: usize, keep: f64| {
        let (mean, sd) = (
            draws as f64 * keep,
            (draws as f64 * keep * (1.0 - keep)).sqrt(),
        );
        (kept as f64 - mean).abs() < 5.0 * sd
    };
    assert!(within(kept_input, 4 * n, 0.8), "{kept_input}");
    assert!(within(kept_h1, 8 * n, 0.5), "{kept_h1}");
}

#[test]
fn forward_train_returns_the_masks_it_used() {
    let net = Inverted::new();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for _ in 0..20 {
        let (y, masks) = net.forward_train(&[1.0, -1.0, 0.5], &mut rng);
        assert_eq!(y, net.forward_masked(&[1.0, -1.0, 0.5], &masks));
    }
}

#[test]
fn batched_passes_agree_with_single_passes() {
    let net = Inverted::new();
    let x = array![[1.0, 2.0, 3.0], [0.0, -1.0, 0.5], [2.0, 2.0, -2.0]];
    let eval = net.forward_batch(x.view()).unwrap();
    let masks = [
        INVERTED_MASKS,
        InvertedMasks::ALL_KEPT,
        InvertedMasks {
            input: [false; 3],
            hidden: [true, false],
        },
    ];
    let masked = net.forward_batch_masked(x.view(), &masks).unwrap();
    for (r, row) in x.rows().into_iter().enumerate() {
        let row = [row[0], row[1], row[2]];
        assert!((eval[[r, 0]] - net.forward(&row)[0]).abs() < 1e-12);
        assert!((masked[[r, 0]] - net.forward_masked(&row, &masks[r])[0]).abs() < 1e-12);
    }
    assert_eq!(eval[[0, 0]], 3.75);
    assert_eq!(masked[[0, 0]], -22.25);

    let net = Classic::new();
    let x = array![[0.5_f32, 1.0], [-1.0, 2.0]];
    let eval = net.forward_batch(x.view()).unwrap();
    for (r, row) in x.rows().into_iter().enumerate() {
        let single = net.forward(&[row[0], row[1]]);
        assert!((eval[[r, 0]] - single[0]).abs() < 1e-6 && (eval[[r, 1]] - single[1]).abs() < 1e-6);
    }
}

#[test]
fn small_networks_batch_masked_rows_as_their_single_pass_bit_for_bit() {
    // Small enough for lanes: the masked batch runs each row through `forward_masked`, so the
    // rows are its bits exactly, NaN and infinities included.
    let net = Inverted::new();
    let x = array![
        [1.0, 2.0, 3.0],
        [f64::NAN, -1.0, 0.5],
        [f64::INFINITY, 2.0, -2.0],
        [0.1, 0.2, 0.3]
    ];
    let masks = [
        INVERTED_MASKS,
        InvertedMasks::ALL_KEPT,
        InvertedMasks {
            input: [true, false, true],
            hidden: [true, false],
        },
        INVERTED_MASKS,
    ];
    let masked = net.forward_batch_masked(x.view(), &masks).unwrap();
    for (r, row) in x.rows().into_iter().enumerate() {
        let single = net.forward_masked(&[row[0], row[1], row[2]], &masks[r]);
        assert_eq!(masked[[r, 0]].to_bits(), single[0].to_bits(), "row {r}");
    }
    assert!(masked[[1, 0]].is_nan(), "a kept NaN input stays NaN");
}

#[test]
fn batched_passes_report_shape_errors() {
    let net = Inverted::new();
    let err = net
        .forward_batch(Array2::<f64>::zeros((2, 4)).view())
        .unwrap_err();
    assert_eq!(
        err,
        dropout::Error::BatchWidth {
            expected: 3,
            found: 4
        }
    );
    let err = net
        .forward_batch_masked(Array2::<f64>::zeros((2, 3)).view(), &[INVERTED_MASKS])
        .unwrap_err();
    assert_eq!(
        err,
        dropout::Error::MaskCount {
            expected: 2,
            found: 1
        }
    );
    // An empty batch is not an error.
    assert_eq!(
        net.forward_batch(Array2::<f64>::zeros((0, 3)).view())
            .unwrap()
            .dim(),
        (0, 1)
    );
}

#[test]
fn masks_print_with_site_indices() {
    assert_eq!(INVERTED_MASKS.to_string(), "μ⁰ = (1, 0, 1), μ¹ = (0, 1)");
    assert_eq!(
        ClassicMasks { h1: [true, false] }.to_string(),
        "μ¹ = (1, 0)"
    );
}

#[test]
fn networks_declared_in_a_function_body_work() {
    network! {
        struct Local<f64> { input: 1, dense 1 identity { weights: [[3]], bias: [1] } }
    }
    assert_eq!(Local::new().forward(&[2.0]), [7.0]);
}

#[test]
fn large_networks_fit_in_a_static() {
    static NET: Inverted = Inverted::new();
    assert_eq!(NET.forward(&[1.0, 2.0, 3.0]), [3.75]);
}
