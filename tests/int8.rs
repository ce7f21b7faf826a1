//! Int8 networks imported from `.tflite` files with `from: tflite("…")`, against the outputs of
//! TFLite Micro and of TensorFlow's reference kernels for the same files
//! (`tools/tflite_int8.py` writes both into `tests/fixtures/tflite_outputs.rs`).

use dropout::network;
use dropout::rand::SeedableRng as _;

#[path = "fixtures/tflite_outputs.rs"]
mod outputs;

use outputs::Outputs;
// The name `fixtures/tflite_tables.rs` finds the shared `Outputs` under.
use outputs as tflite_outputs;

network! {
    pub struct Sine<i8> {
        input: 1,
        dense 16 relu,
        dense 16 relu,
        dense 1 identity,
        from: tflite("models/sine.tflite"),   // path relative to the crate's Cargo.toml
    }
}

network! {
    /// The same file, requantized as TensorFlow's reference kernels do.
    struct SineSingle<i8> {
        input: 1,
        dense 16 relu,
        dense 16 relu,
        dense 1 identity,
        from: tflite("models/sine.tflite"),
        rounding: single,
    }
}

/// Declares a network over a model twice, once per rounding, and checks both against the
/// interpreters' outputs for that model.
macro_rules! both_roundings {
    ($test:ident, $double:ident, $single:ident, $outputs:expr, $file:literal, { $($layers:tt)* }) => {
        network! {
            struct $double<i8> { $($layers)* from: tflite($file) }
        }
        network! {
            struct $single<i8> { $($layers)* from: tflite($file), rounding: single }
        }

        #[test]
        fn $test() {
            let (double, single) = ($double::new(), $single::new());
            check(&$outputs, |x| double.forward_quantized(x), |x| single.forward_quantized(x));
        }
    };
}

/// Compares both roundings with both interpreters on every input of `outputs`.
fn check<const N: usize, const M: usize>(
    outputs: &Outputs<i8>,
    double: impl Fn(&[i8; N]) -> [i8; M],
    single: impl Fn(&[i8; N]) -> [i8; M],
) {
    let mut extremes = 0;
    for ((x, micro), reference) in outputs
        .inputs
        .iter()
        .zip(outputs.micro)
        .zip(outputs.reference)
    {
        let x: [i8; N] = (*x).try_into().expect("an input of the network's width");
        assert_eq!(
            double(&x)[..],
            micro[..],
            "double rounding vs TFLite Micro at {x:?}"
        );
        assert_eq!(
            single(&x)[..],
            reference[..],
            "single rounding vs TensorFlow at {x:?}"
        );
        extremes += usize::from(x.contains(&-128) || x.contains(&127));
    }
    assert!(
        outputs.inputs.len() >= 60,
        "{} inputs",
        outputs.inputs.len()
    );
    assert!(extremes >= 2, "inputs at −128 and 127 are among them");
}

both_roundings!(relu6_hidden_layers, Relu6Double, Relu6Single, outputs::RELU6, "models/relu6.tflite", {
    input: 2, dense 8 relu6, dense 4 relu6, dense 1 identity,
});
both_roundings!(identity_hidden_layer, IdentityDouble, IdentitySingle, outputs::IDENTITY_HIDDEN, "models/identity_hidden.tflite", {
    input: 3, dense 5 identity, dense 7 relu, dense 2 identity,
});
both_roundings!(wide_layers, WideDouble, WideSingle, outputs::WIDE, "models/wide.tflite", {
    input: 4, dense 64 relu, dense 32 relu6, dense 3 identity,
});
both_roundings!(one_unit_layers, OneDouble, OneSingle, outputs::ONE_UNIT, "models/one_unit.tflite", {
    input: 1, dense 1 relu, dense 1 identity,
});
both_roundings!(five_layers, DeepDouble, DeepSingle, outputs::DEEP, "models/deep.tflite", {
    input: 2, dense 12 relu, dense 12 relu6, dense 12 identity, dense 12 relu, dense 4 identity,
});
both_roundings!(per_tensor_scales, PerTensorDouble, PerTensorSingle, outputs::PER_TENSOR, "models/per_tensor.tflite", {
    input: 3, dense 8 relu, dense 6 relu6, dense 2 identity,
});

#[test]
fn sine_is_bit_exact_under_both_roundings() {
    let (double, single) = (Sine::new(), SineSingle::new());
    check(
        &outputs::SINE,
        |x| double.forward_quantized(x),
        |x| single.forward_quantized(x),
    );
    // All 256 int8 inputs are among the fixture's.
    assert!(outputs::SINE.inputs.len() >= 256);
}

#[test]
fn the_roundings_are_told_apart_by_the_fixtures() {
    let all = [
        &outputs::SINE,
        &outputs::RELU6,
        &outputs::IDENTITY_HIDDEN,
        &outputs::WIDE,
        &outputs::ONE_UNIT,
        &outputs::DEEP,
        &outputs::PER_TENSOR,
    ];
    let apart: usize = all
        .iter()
        .map(|o| {
            o.micro
                .iter()
                .zip(o.reference)
                .filter(|(m, r)| m != r)
                .count()
        })
        .sum();
    // Otherwise the tests above could not show that `rounding: single` is TensorFlow's.
    assert!(apart > 0);
}

#[test]
fn the_issue_syntax_runs_from_flash() {
    static NET: Sine = Sine::new(); // const, weights in flash
    let q: [i8; 1] = NET.forward_quantized(&[-3]); // int8 in, int8 out, as the interpreter
    let y: [f32; 1] = NET.forward(&[0.5]); // quantize, integer pass, dequantize
    let micro = outputs::SINE
        .inputs
        .iter()
        .position(|x| *x == [-3])
        .map(|at| outputs::SINE.micro[at]);
    assert_eq!(Some(&q[..]), micro);
    let through = NET.forward_quantized(&[Sine::INPUT.quantize(0.5)]);
    assert_eq!(y, [Sine::OUTPUT.dequantize(through[0])]);
}

network! {
    struct SineFloatIo<i8> {
        input: 1,
        dense 16 relu,
        dense 16 relu,
        dense 1 identity,
        from: tflite("models/sine_float_io.tflite"),
    }
}

#[test]
fn float_input_and_output_convert_as_quantize_and_dequantize() {
    let net = SineFloatIo::new();
    let outputs = &outputs::SINE_FLOAT_IO;
    let mut compared = 0;
    for (x, micro) in outputs.inputs.iter().zip(outputs.micro) {
        let y = net.forward(&[x[0]]);
        if (x[0] / SineFloatIo::INPUT.scale).abs() >= 2.0_f32.powi(31) {
            // Past i32, C++'s float-to-int conversion is undefined: x86 gives i32::MIN (so the
            // interpreters quantize 3.4e38 to −128), Arm saturates. Saturating is the result
            // everywhere here: the quantized input is 127 or −128 by the sign.
            let q = if x[0] > 0.0 { 127 } else { -128 };
            assert_eq!(
                y,
                [SineFloatIo::OUTPUT.dequantize(net.forward_quantized(&[q])[0])]
            );
            continue;
        }
        assert_eq!(
            y[0].to_bits(),
            micro[0].to_bits(),
            "at {x:?}: {y:?} vs {micro:?}"
        );
        compared += 1;
    }
    assert!(compared > 100, "{compared}");
    assert!(net.forward(&[f32::NAN])[0].is_nan(), "NaN stays NaN");
}

network! {
    /// The sine model with a dropout site on its input and on each hidden layer.
    struct SineMc<i8> {
        input: 1,
        dropout(p = 0.5),
        dense 16 relu,
        dropout(p = 0.25),
        dense 16 relu,
        dropout(p = 0.5),
        dense 1 identity,
        from: tflite("models/sine.tflite"),
    }
}

network! {
    struct SineMcClassic<i8> {
        input: 1,
        dropout(p = 0.5),
        dense 16 relu,
        dense 16 relu,
        dense 1 identity,
        from: tflite("models/sine.tflite"),
        scaling: classic,
    }
}

#[test]
fn sites_leave_the_evaluation_pass_the_files() {
    let (plain, mc) = (Sine::new(), SineMc::new());
    for x in -128..=127 {
        assert_eq!(mc.forward_quantized(&[x]), plain.forward_quantized(&[x]));
    }
}

#[test]
fn a_kept_unit_counts_twice_under_p_one_half_and_a_dropped_one_as_its_zero_point() {
    // The input site's one unit, kept (×2, folded into the first layer's requantization) or
    // dropped (the zero point), against the first layer of the plain network at twice the
    // input's distance from the zero point, or at the zero point.
    let (net, plain) = (SineMc::new(), Sine::new());
    let z = Sine::INPUT.zero_point;
    let mut compared = 0;
    for q in -128..=127_i32 {
        let Ok(doubled) = i8::try_from(z + 2 * (q - z)) else {
            continue;
        };
        let q = i8::try_from(q).unwrap();
        let kept = net.h1.forward_masked(&[q], &[true]);
        let twice = plain.h1.forward(&[doubled]);
        let dropped = net.h1.forward_masked(&[q], &[false]);
        let at_zero = plain.h1.forward(&[i8::try_from(z).unwrap()]);
        for c in 0..16 {
            // Halving an odd bias rounds it: the folded pass is within a unit of the other.
            assert!(
                (i32::from(kept[c]) - i32::from(twice[c])).abs() <= 1,
                "{q}: {kept:?} vs {twice:?}"
            );
            assert!(
                (i32::from(dropped[c]) - i32::from(at_zero[c])).abs() <= 1,
                "{q}: {dropped:?}"
            );
        }
        compared += 1;
    }
    assert!(compared > 50, "{compared}");
    // The evaluation pass's requantization is the file's; the masked pass's is not.
    assert_eq!(net.h1.eval(), plain.h1.eval());
    assert_ne!(net.h1.train(), plain.h1.train());
    assert_eq!(net.h1.weights(), plain.h1.weights());
}

#[test]
fn classic_scaling_halves_the_input_in_evaluation_and_not_in_training() {
    let (net, plain) = (SineMcClassic::new(), Sine::new());
    let z = Sine::INPUT.zero_point;
    for q in -128..=127_i32 {
        // Evaluation multiplies the input by keep = 0.5: as the plain network at an input half
        // as far from the zero point (when that is an integer).
        if (q - z) % 2 == 0 {
            let half = i8::try_from(z + (q - z) / 2).unwrap();
            let eval = net.forward_quantized(&[i8::try_from(q).unwrap()]);
            let plain_half = plain.forward_quantized(&[half]);
            assert!(
                (i32::from(eval[0]) - i32::from(plain_half[0])).abs() <= 1,
                "{q}"
            );
        }
        // Training keeps units unscaled: the plain network, bit for bit.
        let q = i8::try_from(q).unwrap();
        assert_eq!(
            net.forward_quantized_masked(&[q], &SineMcClassicMasks::ALL_KEPT),
            plain.forward_quantized(&[q])
        );
    }
}

#[test]
fn monte_carlo_dropout_runs_in_integers() {
    let net = SineMc::new();
    let mut rng = dropout::rand::rngs::ChaCha8Rng::seed_from_u64(7);
    let x = [0.75_f32];
    let mc = net.predict_mc(&x, 20_000, &mut rng).unwrap();
    // The same passes by hand, from the same seed.
    let mut rng = dropout::rand::rngs::ChaCha8Rng::seed_from_u64(7);
    let outputs: Vec<f64> = (0..20_000)
        .map(|_| {
            let masks = net.sample_masks(&mut dropout::stats::pass_rng(&mut rng));
            f64::from(net.forward_masked(&x, &masks)[0])
        })
        .collect();
    let mean = outputs.iter().sum::<f64>() / 20_000.0;
    let var = outputs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 19_999.0;
    assert!(
        (f64::from(mc.mean[0]) - mean).abs() < 1e-5,
        "{mc:?} vs {mean}"
    );
    assert!((f64::from(mc.std_dev[0]) - var.sqrt()).abs() < 1e-5);
    // Dropout spreads the outputs; without sites there is no spread.
    assert!(mc.std_dev[0] > 0.05, "{mc:?}");
    let plain = Sine::new().predict_mc(&x, 10, &mut rng).unwrap();
    assert_eq!(plain.std_dev, [0.0]);
    assert_eq!(plain.mean, Sine::new().forward(&x));
    assert!(net.predict_mc(&x, 0, &mut rng).is_err());
}

#[test]
fn the_spec_says_i8_and_the_sites() {
    assert_eq!(SineMc::SPEC.scalar, "i8");
    assert_eq!(SineMc::SPEC.sites().count(), 3);
    assert_eq!((SineMc::N_INPUTS, SineMc::N_OUTPUTS), (1, 1));
    let masks = SineMcMasks::ALL_KEPT;
    assert_eq!(masks.h1.len(), 16);
}

#[test]
fn the_committed_exports_are_what_to_tflite_writes() {
    // `tools/tflite_int8.py` writes them with `examples/export_tflite.rs` and runs TFLite Micro
    // on them; a change to the writer must be followed by running it again.
    for (name, bytes) in [
        ("sine", dropout::io::to_tflite(&Sine::new())),
        // The example declares a dropout site on this one: the file holds the evaluation pass.
        ("sine_float_io", dropout::io::to_tflite(&SineFloatIo::new())),
        (
            "per_tensor",
            dropout::io::to_tflite(&PerTensorDouble::new()),
        ),
    ] {
        let committed = std::fs::read(format!(
            "{}/models/exported/{name}.tflite",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        assert!(
            bytes.unwrap() == committed,
            "{name}: run tools/tflite_int8.py again"
        );
    }
}

#[test]
fn tflite_micro_runs_the_exported_files_with_our_outputs() {
    let (double, single) = (Sine::new(), SineSingle::new());
    check(
        &outputs::EXPORTED_SINE,
        |x| double.forward_quantized(x),
        |x| single.forward_quantized(x),
    );
    let (double, single) = (PerTensorDouble::new(), PerTensorSingle::new());
    check(
        &outputs::EXPORTED_PER_TENSOR,
        |x| double.forward_quantized(x),
        |x| single.forward_quantized(x),
    );
    let net = SineFloatIo::new();
    let exported = &outputs::EXPORTED_SINE_FLOAT_IO;
    let mut compared = 0;
    for (x, micro) in exported.inputs.iter().zip(exported.micro) {
        // As above: past i32 the C++ conversion is undefined.
        if (x[0] / SineFloatIo::INPUT.scale).abs() < 2.0_f32.powi(31) {
            assert_eq!(
                net.forward(&[x[0]])[0].to_bits(),
                micro[0].to_bits(),
                "{x:?}"
            );
            compared += 1;
        }
    }
    assert!(compared > 100);
}

#[test]
fn an_exported_network_reads_as_the_file_it_came_from() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (name, bytes) in [
        ("sine", dropout::io::to_tflite(&Sine::new()).unwrap()),
        (
            "sine_float_io",
            dropout::io::to_tflite(&SineFloatIo::new()).unwrap(),
        ),
        ("wide", dropout::io::to_tflite(&WideDouble::new()).unwrap()),
        ("deep", dropout::io::to_tflite(&DeepDouble::new()).unwrap()),
    ] {
        let original = std::fs::read(format!("{root}/models/{name}.tflite")).unwrap();
        assert_eq!(
            dropout_tflite::read(&bytes).unwrap(),
            dropout_tflite::read(&original).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn classic_scaling_with_a_site_does_not_export() {
    let err = dropout::io::to_tflite(&SineMcClassic::new()).unwrap_err();
    assert!(matches!(err, dropout::Error::Quantization(_)), "{err}");
    assert!(err.to_string().contains("classic scaling"), "{err}");
    // Inverted scaling's evaluation pass is the file's: it exports.
    assert!(dropout::io::to_tflite(&SineMc::new()).is_ok());
}

#[test]
fn the_batch_pass_is_the_single_pass_row_by_row() {
    let net = WideDouble::new();
    let rows: Vec<[i8; 4]> = outputs::WIDE
        .inputs
        .iter()
        .map(|x| (*x).try_into().unwrap())
        .collect();
    // Not a multiple of four: the rows left over take the single pass.
    let rows = &rows[..rows.len() / 4 * 4 - 1];
    let mut y = vec![[0i8; 3]; rows.len()];
    net.forward_quantized_batch(rows, &mut y).unwrap();
    for (x, y) in rows.iter().zip(&y) {
        assert_eq!(*y, net.forward_quantized(x), "{x:?}");
    }
    let mut short = vec![[7i8; 3]; 2];
    let err = net.forward_quantized_batch(rows, &mut short).unwrap_err();
    assert!(
        matches!(err, dropout::Error::OutputRows { found: 2, .. }),
        "{err}"
    );
    assert_eq!(short, [[7; 3]; 2], "left as it was");
}

#[path = "fixtures/tflite_tables.rs"]
mod tables;

both_roundings!(
    tanh_and_sigmoid_layers_are_bit_exact,
    TablesDouble,
    TablesSingle,
    tables::OUTPUTS,
    "models/tables.tflite",
    { input: 2, dense 8 tanh, dense 8 sigmoid, dense 2 identity, }
);

both_roundings!(
    a_sigmoid_output_is_bit_exact,
    SigmoidOutputDouble,
    SigmoidOutputSingle,
    tables::SIGMOID_OUTPUT,
    "models/sigmoid_output.tflite",
    { input: 2, dense 4 relu, dense 1 sigmoid, }
);

#[test]
fn logistic_and_tanh_are_the_layers_tables() {
    // The `FULLY_CONNECTED` before the activation operator fuses nothing and requantizes to
    // the pre-activation; the table maps it to TFLite's fixed output quantization.
    let net = TablesDouble::new();
    let table = net.h1.stage();
    assert_eq!(table.activation, dropout::Activation::Tanh);
    assert_eq!(net.h1.frame().output, table.input);
    assert_eq!(
        (table.output.scale, table.output.zero_point),
        (1.0 / 128.0, 0)
    );
    assert_eq!(net.h2.stage().activation, dropout::Activation::Sigmoid);
    assert_eq!(net.output.frame().input, net.h2.output());
    // Its float view ends where the file's graph ends.
    let sigmoid = SigmoidOutputDouble::new();
    assert_eq!(SigmoidOutputDouble::OUTPUT, sigmoid.output.output());
    assert!(sigmoid.forward(&[f32::NAN, 0.0])[0].is_nan());
}

#[test]
fn logistic_and_tanh_export_and_read_back() {
    let root = env!("CARGO_MANIFEST_DIR");
    for (name, bytes) in [
        (
            "tables",
            dropout::io::to_tflite(&TablesDouble::new()).unwrap(),
        ),
        (
            "sigmoid_output",
            dropout::io::to_tflite(&SigmoidOutputDouble::new()).unwrap(),
        ),
    ] {
        let original = std::fs::read(format!("{root}/models/{name}.tflite")).unwrap();
        assert_eq!(
            dropout_tflite::read(&bytes).unwrap(),
            dropout_tflite::read(&original).unwrap(),
            "{name}"
        );
    }
    // What the script ran TFLite Micro on is what `to_tflite` writes today.
    let committed = std::fs::read(format!("{root}/models/exported/tables.tflite")).unwrap();
    assert!(
        dropout::io::to_tflite(&TablesDouble::new()).unwrap() == committed,
        "run tools/tflite_tables.py again"
    );
}
