//! The `#[no_panic]` forwards compute the right values. Run with `--release`, this test also
//! proves that they have no panic path: otherwise it fails to link.

use dropout::Dense;
use dropout_no_std_check::{
    SINE, SineI8, SineI8Masks, Toy, ToyMasks, Wide, WideMasks, sine_float, sine_quantized,
    sine_quantized_masked, toy_eval, toy_masked, wide_eval, wide_masked,
};

#[test]
fn toy_forwards_match_the_article() {
    let masks = ToyMasks {
        input: [true, true],
        h1: [true, false, true],
        h2: [true, true, false],
        h3: [true, true],
    };
    assert_eq!(toy_masked(&[1.0, 1.0], &masks), [-5.0]);
    assert_eq!(toy_eval(&[1.0, 1.0]), Toy::new().forward(&[1.0, 1.0]));
    // Evaluation mode under classic scaling halves every hidden layer's output. From x = (0, 0):
    // h1 = relu(b1) = (0.5, 0, 0) → (0.25, 0, 0); h2 = relu(0.25, 0.625, −1.25) → (0.125, 0.3125, 0);
    // h3 = relu(0.9375, 0.4375) → (0.46875, 0.21875); y = 0.46875 − 2 · 0.21875 + 0.5.
    assert_eq!(toy_eval(&[0.0, 0.0]), [0.53125]);
}

/// `g(W·(x ⊙ keep) + b)` with plain loops, for the reference below.
fn layer<const IN: usize, const OUT: usize>(
    l: &Dense<f64, IN, OUT>,
    x: &[f64],
    keep: &[f64],
    g: fn(f64) -> f64,
) -> Vec<f64> {
    (0..OUT)
        .map(|n| {
            g((0..IN)
                .map(|i| l.weight(n, i).unwrap() * x[i] * keep[i])
                .sum::<f64>()
                + l.bias()[n])
        })
        .collect()
}

/// Deterministic weights in [−0.5, 0.5) and biases in [0, 0.4].
fn filled<const IN: usize, const OUT: usize>(seed: usize) -> Dense<f64, IN, OUT> {
    Dense::from_fn(
        |n, i| ((n * 7 + i * 3 + seed) % 11) as f64 / 11.0 - 0.5,
        |n| ((n + seed) % 5) as f64 / 10.0,
    )
}

#[test]
fn wide_forwards_match_a_plain_reference() {
    let net = Wide {
        h1: filled(1),
        h2: filled(2),
        h3: filled(3),
        output: filled(4),
    };
    let x: [f64; 16] = core::array::from_fn(|i| i as f64 / 8.0 - 1.0);
    let masks = WideMasks {
        input: core::array::from_fn(|i| i % 5 != 2),
        h1: core::array::from_fn(|n| n % 3 != 1),
        h2: [true, false, true, true, false, true, true, true],
    };
    // Inverted scaling: a kept unit is divided by its keep probability.
    let keep = |mask: &[bool], p: f64, masked: bool| -> Vec<f64> {
        mask.iter()
            .map(|&m| {
                if !masked {
                    1.0
                } else if m {
                    1.0 / (1.0 - p)
                } else {
                    0.0
                }
            })
            .collect()
    };
    let leaky = |z: f64| if z > 0.0 { z } else { 0.1 * z };
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    for masked in [false, true] {
        let h1 = layer(&net.h1, &x, &keep(&masks.input, 0.2, masked), f64::tanh);
        let h2 = layer(&net.h2, &h1, &keep(&masks.h1, 0.5, masked), leaky);
        let h3 = layer(&net.h3, &h2, &keep(&masks.h2, 0.25, masked), sigmoid);
        let z = layer(&net.output, &h3, &[1.0; 5], |z| z);
        let total: f64 = z.iter().map(|v| v.exp()).sum();
        let got = if masked {
            wide_masked(&net, &x, &masks)
        } else {
            wide_eval(&net, &x)
        };
        for (k, (&y, &zk)) in got.iter().zip(&z).enumerate() {
            let want = zk.exp() / total;
            assert!(
                (y - want).abs() < 1e-12,
                "output {k} (masked: {masked}): {y} vs {want}"
            );
        }
    }
}

#[test]
fn the_int8_sine_runs_in_integers() {
    // Every layer by hand, with the layers' own single-layer passes.
    for x in -128..=127_i8 {
        let h1 = SINE.h1.forward(&[x]);
        let h2 = SINE.h2.forward(&h1);
        assert_eq!(sine_quantized(&[x]), SINE.output.forward(&h2));
        let masks = SineI8Masks {
            h1: core::array::from_fn(|i| i % 3 != 0),
            h2: core::array::from_fn(|i| i % 2 == 0),
        };
        let h1 = SINE.h1.forward_train(&[x]);
        let h2 = SINE.h2.forward_masked(&h1, &masks.h1);
        assert_eq!(
            sine_quantized_masked(&[x], &masks),
            SINE.output.forward_masked(&h2, &masks.h2)
        );
    }
    let q = SineI8::INPUT.quantize(0.5);
    assert_eq!(
        sine_float(&[0.5]),
        [SineI8::OUTPUT.dequantize(sine_quantized(&[q])[0])]
    );
}
