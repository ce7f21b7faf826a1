//! Weights read from files at compile time land where they belong: every value of
//! tests/fixtures/formula.* follows a formula (see tools/layout_fixture.py), checked here weight
//! by weight, through a layer of 130 neurons that spans three storage panels.

use dropout::{io, network};

network! {
    /// Safetensors weights and biases, and a layer that mixes a file's weights with written biases.
    struct Formula<f32> {
        input: 3,
        hidden: dense 130 relu {
            weights: file("tests/fixtures/formula.safetensors", "hidden.weight"),
            bias: file("tests/fixtures/formula.safetensors", "hidden.bias"),
        }, dropout(p = 0.5),
        output: dense 2 identity {
            weights: file("tests/fixtures/formula.safetensors", "head.weight"),
            bias: [0.5, -0.25],
        },
    }
}

network! {
    /// Weights and biases from a JSON file, as literals.
    struct FromJson<f64> {
        input: 3,
        dense 2 identity { weights: file("tests/fixtures/formula.json", "weight"), bias: file("tests/fixtures/formula.json", "bias") },
    }
}

/// Mirrors `weight` in tools/layout_fixture.py.
fn weight(neuron: usize, input: usize, layer: usize) -> f64 {
    ((neuron * 31 + input * 17 + layer * 5) % 101) as f64 / 64.0 - 50.0 / 64.0
}

/// Mirrors `bias` in tools/layout_fixture.py.
fn bias(neuron: usize) -> f64 {
    (neuron % 7) as f64 / 8.0 - 3.0 / 8.0
}

/// Evaluated at compile time, like any network with all its weights declared.
static FORMULA: Formula = Formula::new();

#[test]
fn every_safetensors_weight_is_in_place() {
    for neuron in 0..130 {
        let row = FORMULA.hidden.row(neuron).unwrap();
        for (input, &w) in row.iter().enumerate() {
            assert_eq!(
                f64::from(w),
                weight(neuron, input, 0),
                "hidden weight ({neuron}, {input})"
            );
        }
        assert_eq!(
            f64::from(FORMULA.hidden.bias()[neuron]),
            bias(neuron),
            "hidden bias {neuron}"
        );
    }
    for neuron in 0..2 {
        let row = FORMULA.output.row(neuron).unwrap();
        for (input, &w) in row.iter().enumerate() {
            assert_eq!(
                f64::from(w),
                weight(neuron, input, 1),
                "output weight ({neuron}, {input})"
            );
        }
    }
    assert_eq!(FORMULA.output.bias(), &[0.5, -0.25]);
}

#[test]
fn forward_passes_agree_with_the_formula() {
    let x = [0.5, -1.25, 2.0];
    let masks = FormulaMasks {
        hidden: core::array::from_fn(|n| n % 3 != 0),
    };
    let hidden: Vec<f64> = (0..130)
        .map(|n| {
            (0..3)
                .map(|i| weight(n, i, 0) * f64::from(x[i]))
                .sum::<f64>()
                + bias(n)
        })
        .map(|z| z.max(0.0))
        .collect();
    for (masked, got) in [
        (false, FORMULA.forward(&x)),
        (true, FORMULA.forward_masked(&x, &masks)),
    ] {
        for (neuron, &y) in got.iter().enumerate() {
            let scale = |n: usize| {
                if !masked {
                    1.0
                } else if masks.hidden[n] {
                    2.0
                } else {
                    0.0
                }
            };
            let expected = (0..130)
                .map(|n| weight(neuron, n, 1) * hidden[n] * scale(n))
                .sum::<f64>()
                + [0.5, -0.25][neuron];
            assert!(
                (f64::from(y) - expected).abs() < 1e-4,
                "output {neuron} (masked: {masked}): {y} vs {expected}"
            );
        }
    }
}

#[test]
fn json_weights_are_in_place() {
    let net = FromJson::new();
    for neuron in 0..2 {
        assert_eq!(
            net.output.row(neuron),
            Some(core::array::from_fn(|i| weight(neuron, i, 2)))
        );
    }
    assert_eq!(net.output.bias(), &[bias(0), bias(1)]);
}

/// Saved tensors take the names they were read from; the written bias gets the layer's name.
#[test]
fn saved_tensors_carry_the_file_names() {
    let bytes = io::to_safetensors(&FORMULA).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = file.names().into_iter().map(ToString::to_string).collect();
    names.sort();
    assert_eq!(
        names,
        ["head.weight", "hidden.bias", "hidden.weight", "output.bias"]
    );
    let reloaded: Formula = io::from_safetensors(&bytes).unwrap();
    assert_eq!(
        (reloaded.hidden, reloaded.output),
        (FORMULA.hidden, FORMULA.output)
    );
}
