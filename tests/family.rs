//! The dropout family beyond unit dropout: alpha dropout for SELU networks, and the activations
//! it and its relatives need (SELU, ELU, GELU, softplus, SiLU). PyTorch's outputs for the same
//! modules are in `tests/torch_oracle.rs`; here, the properties each has.

use dropout::rand::rngs::ChaCha8Rng;
use dropout::rand::{RngExt as _, SeedableRng as _};
use dropout::{Activation, Dropout, DropoutKind, Masks, Scaling, Site, network, reference};

network! {
    /// A self-normalising network: SELU layers with alpha dropout, on the input too.
    struct SelfNormalising<f64> {
        input: 6, alpha_dropout(p = 0.1),
        dense 8 selu, alpha_dropout(p = 0.2),
        dense 8 selu, alpha_dropout(keep = 0.95),
        dense 3 identity,

        tests: auto,
    }
}

network! {
    /// The same in `f32` with classic scaling (which alpha dropout ignores), beside a unit site.
    struct SelfNormalisingF32<f32> {
        scaling: classic,
        input: 4, dropout(p = 0.5),
        dense 5 selu, alpha_dropout(p = 0.3),
        dense 4 elu(0.5), dropout(p = 0.25),
        dense 3 gelu,
        dense 3 softplus,
        dense 2 silu,

        tests: auto,
    }
}

/// A standard normal draw (Box–Muller).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random_range(0.0..1.0);
    (-2.0 * u.ln()).sqrt() * (core::f64::consts::TAU * v).cos()
}

/// The mean and variance of `values`.
fn moments(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

#[test]
fn alpha_dropout_keeps_the_mean_and_variance_of_selu_units() {
    const UNITS: usize = 64;
    const ROUNDS: usize = 4000;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for p in [0.05, 0.1, 0.2, 0.5] {
        let site = Site::new(Scaling::Inverted, Dropout::with_p(p).unwrap().alpha());
        let (mut before, mut after) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            // Standard normal pre-activations through SELU: mean 0, variance 1 (its fixed point).
            let z: [f64; UNITS] = std::array::from_fn(|_| normal(&mut rng));
            let a = Activation::Selu.apply(z);
            let mask = site.sample::<_, UNITS>(&mut rng);
            before.extend(a);
            after.extend(site.masked_values(a, &mask));
        }
        let n = (UNITS * ROUNDS) as f64;
        let (mean, var) = moments(&after);
        let (mean_in, var_in) = moments(&before);
        // Five standard errors: of a mean, √(var/n); of a variance, about var·√(2/n) (plus the
        // spread of the input's own moments, which SELU leaves near 0 and 1).
        let (mean_bound, var_bound) = (5.0 / n.sqrt(), 5.0 * (2.0 / n).sqrt() * 2.0);
        assert!(
            (mean_in).abs() < 0.01 && (var_in - 1.0).abs() < 0.02,
            "SELU: {mean_in}, {var_in}"
        );
        assert!(
            (mean - mean_in).abs() <= mean_bound + 0.005,
            "p = {p}: mean {mean} after alpha dropout, {mean_in} before"
        );
        assert!(
            (var - var_in).abs() <= var_bound + 0.01,
            "p = {p}: variance {var} after alpha dropout, {var_in} before"
        );
    }
}

#[test]
fn alpha_dropout_follows_pytorch_formula_and_ignores_scaling() {
    let dropout = Dropout::with_p(0.2).unwrap().alpha();
    assert_eq!(dropout.kind(), DropoutKind::Alpha);
    assert_eq!(dropout.to_string(), "alpha_dropout(p = 0.2)");
    // PyTorch 2.15, `torch.nn.functional.alpha_dropout` on [1, −2, 0.5] with the mask [1, 0, 1]
    // (float64): a = 0.8789035834435328, b = 0.30903996214409446, so [1.1879435455876273,
    // −1.2361598485763778, 0.7484917538658609].
    let (a, b) = dropout.alpha_affine();
    assert!((a - 0.878_903_583_443_532_8).abs() < 1e-15);
    assert!((b - 0.309_039_962_144_094_46).abs() < 1e-15);
    for scaling in [Scaling::Inverted, Scaling::Classic] {
        let site = Site::new(scaling, dropout);
        let out = site.masked_values([1.0_f64, -2.0, 0.5], &[true, false, true]);
        let want = [
            1.187_943_545_587_627_3,
            -1.236_159_848_576_377_8,
            0.748_491_753_865_860_9,
        ];
        for (got, want) in out.iter().zip(want) {
            assert!((got - want).abs() < 1e-15, "{scaling}: {got} vs {want}");
        }
        // Evaluation is the identity under either convention.
        assert_eq!(site.eval_values([1.0_f64, -2.0, 0.5]), [1.0, -2.0, 0.5]);
        // A dropped unit that is not finite gives NaN (x · 0 in PyTorch's formula).
        let out = site.masked_values([f64::INFINITY, f64::NAN], &[false, true]);
        assert!(out.iter().all(|v| v.is_nan()));
    }
}

#[test]
fn exact_moments_enumerate_alpha_dropout_masks() {
    network! {
        struct Small<f64> {
            input: 2, alpha_dropout(p = 0.25),
            dense 2 selu { weights: [[1.0, -1.0], [0.5, 2.0]], bias: [0.1, -0.2] }, alpha_dropout(p = 0.5),
            dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] },
        }
    }
    let net = Small::new();
    let x = [0.7, -1.3];
    let moments = net.exact_moments(&x).unwrap();
    // Every mask of the four units, weighted, through the independent reference.
    let (mut mean, mut second) = (0.0, 0.0);
    for pattern in 0..16_u32 {
        let mut masks = SmallMasks::ALL_KEPT;
        let mut probability = 1.0;
        for (bit, (site, unit, keep)) in [(0, 0, 0.75), (0, 1, 0.75), (1, 0, 0.5), (1, 1, 0.5)]
            .into_iter()
            .enumerate()
        {
            let kept = pattern >> bit & 1 == 1;
            probability *= if kept { keep } else { 1.0 - keep };
            masks.site_mut(site).unwrap()[unit] = kept;
        }
        let y = reference::forward_with(&net, &x, reference::training_sites::<Small>(&masks))
            .unwrap()[0];
        mean += probability * y;
        second += probability * y * y;
    }
    assert!((moments.mean[0] - mean).abs() < 1e-12);
    assert!((moments.std_dev[0] - (second - mean * mean).sqrt()).abs() < 1e-12);
    assert_eq!(moments.passes, 16);
}

#[test]
fn the_family_in_the_spec_and_the_declaration() {
    let spec = SelfNormalising::SPEC;
    assert_eq!(
        spec.to_string(),
        "SelfNormalising<f64>: input 6 → alpha_dropout(p = 0.1) → dense 8 selu → alpha_dropout(p = 0.2) → dense 8 selu → alpha_dropout(keep = 0.95) → dense 3 identity (inverted scaling)"
    );
    assert_eq!(
        spec.input_dropout.map(Dropout::kind),
        Some(DropoutKind::Alpha)
    );
    let source =
        dropout::source::declaration(&SelfNormalisingF32::init(&mut ChaCha8Rng::seed_from_u64(2)))
            .unwrap();
    for written in [
        "selu",
        "elu(0.5)",
        "gelu",
        "softplus",
        "silu",
        "alpha_dropout(p = 0.3)",
    ] {
        assert!(source.contains(written), "{written} missing from\n{source}");
    }
}
