//! Keeping what was trained: JSON files checked against the network's shapes, and a trained
//! network printed back as a `network!` declaration that compiles and computes the same values.

use std::fmt::Write as _;

use dropout::train::{Loss, Optimizer, Trainer};
use dropout::{Error, io, network, source};
use ndarray::Array2;
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

network! {
    /// A small classifier trained below.
    pub struct Trained<f32> {
        input: 3, dropout(p = 0.1),
        encoder: dense 6 leaky_relu(0.05), dropout(p = 0.5),
        dense 2 identity,
    }
}

network! {
    /// The same layer names with another width.
    struct Wider<f32> {
        input: 3, dropout(p = 0.1),
        encoder: dense 7 leaky_relu(0.05), dropout(p = 0.5),
        dense 2 identity,
    }
}

network! {
    /// A different first layer name.
    struct Renamed<f32> {
        input: 3,
        h1: dense 6 relu,
        dense 2 identity,
    }
}

network! {
    /// Classic scaling, to check that the printed declaration keeps it.
    struct Classic<f64> {
        scaling: classic,
        input: 2, dropout(keep = 0.8),
        dense 3 tanh,
        dense 1 sigmoid,
    }
}

fn trained() -> Trained {
    let mut net = Trained::init(&mut ChaCha8Rng::seed_from_u64(1));
    let x = Array2::from_shape_fn((32, 3), |(r, c)| ((r * 7 + c * 3) % 11) as f32 / 5.0 - 1.0);
    let y = Array2::from_shape_fn((32, 2), |(r, c)| if (r + c) % 2 == 0 { 1.0 } else { 0.0 });
    Trainer::new(Optimizer::adam(0.01), Loss::BinaryCrossEntropyWithLogits)
        .epochs(20)
        .batch_size(8)
        .progress(false)
        .fit(&mut net, (&x, &y), None, |_| {})
        .unwrap();
    net
}

#[test]
fn json_round_trip_is_exact() {
    let net = trained();
    let json = io::to_json(&net).unwrap();
    assert!(json.contains("\"name\": \"encoder\""), "{json}");
    let loaded: Trained = io::from_json(&json).unwrap();
    for n in 0..6 {
        assert_eq!(loaded.encoder.row(n), net.encoder.row(n));
    }
    assert_eq!(loaded.output.bias(), net.output.bias());
    assert_eq!(
        loaded.forward(&[0.3, -0.2, 0.9]),
        net.forward(&[0.3, -0.2, 0.9])
    );
}

/// Shortest round-trip digits of `f64`s that a best-effort JSON parser reads one unit in the last
/// place off; written as printed, so that they can be compared with the JSON text.
const HARD: [f64; 4] = [
    -0.209_316_775_889_154_95,
    0.106_909_195_376_245_76,
    -0.186_075_078_217_922_02,
    0.124_881_628_567_715_01,
];

#[test]
fn f64_json_round_trip_is_bit_exact() {
    let mut net = Classic::init(&mut ChaCha8Rng::seed_from_u64(11));
    for (k, value) in HARD.into_iter().enumerate() {
        if let Some(w) = net.h1.weight_mut(k / 2, k % 2) {
            *w = value;
        }
    }
    let loaded: Classic = io::from_json(&io::to_json(&net).unwrap()).unwrap();
    for n in 0..3 {
        let bits = |row: Option<[f64; 2]>| row.map(|r| r.map(f64::to_bits));
        assert_eq!(bits(loaded.h1.row(n)), bits(net.h1.row(n)));
    }
    let x = [0.3, -0.7];
    assert_eq!(
        loaded.forward(&x).map(f64::to_bits),
        net.forward(&x).map(f64::to_bits)
    );
}

network! {
    /// f64 weights read from JSON by the macro: the literals and the file must agree exactly.
    struct FromJson<f64> {
        input: 3,
        dense 1 identity {
            weights: file("tests/fixtures/exact.json", "w"),
            bias: file("tests/fixtures/exact.json", "b"),
        },
    }
}

#[test]
fn f64_weights_from_json_files_are_read_exactly() {
    let net = FromJson::new();
    // tests/fixtures/exact.json holds the values of `HARD`.
    assert_eq!(
        net.output.row(0).map(|r| r.map(f64::to_bits)),
        Some([HARD[0], HARD[1], HARD[2]].map(f64::to_bits))
    );
    assert_eq!(net.output.bias()[0].to_bits(), HARD[3].to_bits());
}

#[test]
fn files_are_written_and_read_with_errors_naming_them() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("trained.json");
    let net = trained();
    io::save_json(&net, &path).unwrap();
    let loaded: Trained = io::load_json(&path).unwrap();
    assert_eq!(loaded.encoder.row(3), net.encoder.row(3));
    let missing = dir.join("no-such-file.json");
    let Err(err) = io::load_json::<Trained>(&missing) else {
        panic!("the file does not exist")
    };
    assert!(
        matches!(&err, Error::Io { path, .. } if path.ends_with("no-such-file.json")),
        "{err}"
    );
    std::fs::write(dir.join("broken.json"), "{ \"network\": ").unwrap();
    let Err(err) = io::load_json::<Trained>(dir.join("broken.json")) else {
        panic!("the file is not JSON")
    };
    assert!(
        err.to_string()
            .starts_with("not saved network parameters: "),
        "{err}"
    );
    assert!(err.to_string().contains("broken.json"), "{err}");
}

#[test]
fn shape_mismatches_name_the_layer_and_both_shapes() {
    let json = io::to_json(&trained()).unwrap();
    let Err(err) = io::from_json::<Wider>(&json) else {
        panic!("the widths differ")
    };
    assert_eq!(
        err.to_string(),
        "layer `encoder`: expected weights of 7 rows × 3 columns and 7 biases, found 6 × 3 and 6 biases"
    );
    let Err(err) = io::from_json::<Renamed>(&json) else {
        panic!("the names differ")
    };
    assert_eq!(
        err.to_string(),
        "expected layer `h1`, found `encoder` in the saved parameters"
    );
    let mut saved = io::save(&trained()).unwrap();
    saved.layers.pop();
    let mut net = Trained::zeros();
    assert_eq!(
        io::load_into(&mut net, &saved).unwrap_err(),
        Error::LayerCount {
            expected: 2,
            found: 1
        }
    );
    // A loaded network is untouched when loading fails.
    let mut wider = Wider::zeros();
    let saved = io::save(&trained()).unwrap();
    assert!(io::load_into(&mut wider, &saved).is_err());
    assert_eq!(wider.encoder.row(0), Some([0.0; 3]));
}

#[test]
fn diverged_parameters_are_refused() {
    let mut net = trained();
    *net.encoder.weight_mut(2, 1).unwrap() = f32::NAN;
    assert_eq!(
        io::to_json(&net).unwrap_err(),
        Error::NotFinite {
            layer: "encoder".to_owned()
        }
    );
    assert_eq!(
        source::declaration(&net).unwrap_err(),
        Error::NotFinite {
            layer: "encoder".to_owned()
        }
    );
}

#[test]
fn printed_declaration_keeps_the_architecture() {
    let text = source::declaration(&Classic::init(&mut ChaCha8Rng::seed_from_u64(3))).unwrap();
    // `Classic` is private, and prints as it was declared.
    assert!(text.contains("\n    struct Classic<f64> {"), "{text}");
    let public = source::declaration(&trained()).unwrap();
    assert!(
        public.contains("\n    pub struct Trained<f32> {"),
        "{public}"
    );
    assert!(text.contains("scaling: classic,"), "{text}");
    assert!(text.contains("input: 2, dropout(keep = 0.8),"), "{text}");
    assert!(text.contains("h1: dense 3 tanh {"), "{text}");
    assert!(text.contains("output: dense 1 sigmoid {"), "{text}");
}

/// The trained network's declaration, plus a `main` that checks the compiled network computes
/// bit for bit what the trained one computed.
fn round_trip_program(net: &Trained) -> String {
    let mut program = String::from("use dropout::network;\n\n");
    program.push_str(&source::declaration(net).unwrap());
    program.push_str("\nfn main() {\n    let net = Trained::new();\n");
    let inputs = [[0.3_f32, -0.2, 0.9], [1.0, 1.0, -1.0], [-0.5, 0.25, 0.0]];
    let masks = TrainedMasks {
        input: [true, false, true],
        encoder: [true, true, false, true, false, true],
    };
    for x in inputs {
        let eval = net.forward(&x).map(f32::to_bits);
        let masked = net.forward_masked(&x, &masks).map(f32::to_bits);
        let _ = writeln!(
            program,
            "    assert_eq!(net.forward(&{x:?}).map(f32::to_bits), {eval:?});"
        );
        let _ = writeln!(
            program,
            "    let masks = TrainedMasks {{ input: {:?}, encoder: {:?} }};\n    assert_eq!(net.forward_masked(&{x:?}, &masks).map(f32::to_bits), {masked:?});",
            masks.input, masks.encoder
        );
    }
    program.push_str("}\n");
    program
}

#[test]
fn printed_declaration_compiles_to_the_same_network() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("round_trip");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trained_declaration.rs");
    std::fs::write(&path, round_trip_program(&trained())).unwrap();
    trybuild::TestCases::new().pass(&path);
}
