//! Int8 twins of float networks (`quantize: int8 as Twin`), against the int8 models TensorFlow's
//! converter made of the same float weights and calibration rows (`tools/tflite_int8.py` writes
//! both: `models/float/<name>.safetensors` and `models/<name>.tflite`).

use dropout::int8::QuantizedNetwork;
use dropout::network;

network! {
    /// The sine model before TensorFlow quantized it, with its int8 twin calibrated on the rows
    /// the converter calibrated with.
    pub struct SineFloat<f32> {
        input: 1,
        dense 16 relu {
            weights: file("models/float/sine.safetensors", "0.weight"),
            bias: file("models/float/sine.safetensors", "0.bias"),
        },
        dense 16 relu {
            weights: file("models/float/sine.safetensors", "1.weight"),
            bias: file("models/float/sine.safetensors", "1.bias"),
        },
        dense 1 identity {
            weights: file("models/float/sine.safetensors", "2.weight"),
            bias: file("models/float/sine.safetensors", "2.bias"),
        },
        quantize: int8 as SineTwin,
        calibrate: file("models/float/sine.safetensors", "x"),
        // The float outputs, and the twin within four of its output quanta of them.
        test half { input: [0.5], expect: [-0.02657267], twin_tolerance: 4 },
        test left { input: [-1.25], expect: [0.98274374], twin_tolerance: 4 },
    }
}

network! {
    pub struct Sine<i8> {
        input: 1, dense 16 relu, dense 16 relu, dense 1 identity,
        from: tflite("models/sine.tflite"),
    }
}

network! {
    /// Relu6 and identity hidden layers, five layers deep.
    pub struct DeepFloat<f32> {
        input: 2,
        dense 12 relu {
            weights: file("models/float/deep.safetensors", "0.weight"),
            bias: file("models/float/deep.safetensors", "0.bias"),
        },
        dense 12 relu6 {
            weights: file("models/float/deep.safetensors", "1.weight"),
            bias: file("models/float/deep.safetensors", "1.bias"),
        },
        dense 12 identity {
            weights: file("models/float/deep.safetensors", "2.weight"),
            bias: file("models/float/deep.safetensors", "2.bias"),
        },
        dense 12 relu {
            weights: file("models/float/deep.safetensors", "3.weight"),
            bias: file("models/float/deep.safetensors", "3.bias"),
        },
        dense 4 identity {
            weights: file("models/float/deep.safetensors", "4.weight"),
            bias: file("models/float/deep.safetensors", "4.bias"),
        },
        quantize: int8 as DeepTwin,
        calibrate: file("models/float/deep.safetensors", "x"),
    }
}

network! {
    pub struct Deep<i8> {
        input: 2, dense 12 relu, dense 12 relu6, dense 12 identity, dense 12 relu, dense 4 identity,
        from: tflite("models/deep.tflite"),
    }
}

/// The calibration rows of a model, as the converter got them.
fn rows<const N: usize>(name: &str) -> Vec<[f32; N]> {
    let path = format!(
        "{}/models/float/{name}.safetensors",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(path).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let x = tensors.tensor("x").unwrap();
    x.data()
        .chunks_exact(4 * N)
        .map(|row| {
            std::array::from_fn(|i| f32::from_le_bytes(row[4 * i..4 * i + 4].try_into().unwrap()))
        })
        .collect()
}

/// The twin's layers against the converter's: the same weights and weight scales bit for bit,
/// activation scales within `1e-5` (the converter calibrates with TensorFlow's float kernels,
/// whose sums round differently in the last place), the same zero points, biases within one.
fn same_as_converter(
    twin: &impl QuantizedNetwork,
    converted: &impl QuantizedNetwork,
    layers: usize,
) {
    for k in 0..layers {
        let (ours, theirs) = (twin.layer(k).unwrap(), converted.layer(k).unwrap());
        assert_eq!(ours.weights, theirs.weights, "layer {k}: weights");
        let scales: Vec<u32> = ours.weight_scales.iter().map(|s| s.to_bits()).collect();
        let expected: Vec<u32> = theirs.weight_scales.iter().map(|s| s.to_bits()).collect();
        assert_eq!(scales, expected, "layer {k}: weight scales");
        for (q, p, what) in [
            (ours.input, theirs.input, "input"),
            (ours.output, theirs.output, "output"),
        ] {
            assert_eq!(q.zero_point, p.zero_point, "layer {k}: {what} zero point");
            let relative = (q.scale - p.scale).abs() / p.scale;
            assert!(
                relative < 1e-5,
                "layer {k}: {what} scale {} vs {}",
                q.scale,
                p.scale
            );
        }
        for (b, c) in ours.bias.iter().zip(theirs.bias) {
            assert!((b - c).abs() <= 1, "layer {k}: bias {b} vs {c}");
        }
    }
}

#[test]
fn the_twin_is_what_tensorflow_converts() {
    same_as_converter(&SineTwin::new(), &Sine::new(), 3);
    same_as_converter(&DeepTwin::new(), &Deep::new(), 5);
    // The first layer sees the rows themselves: its input quantization is the converter's, bit
    // for bit, and so are its biases.
    let (ours, theirs) = (SineTwin::new(), Sine::new());
    assert_eq!(ours.h1.frame().input, theirs.h1.frame().input);
    assert_eq!(ours.h1.eval().bias, theirs.h1.eval().bias);
}

#[test]
fn the_twin_computes_what_the_converted_model_computes() {
    let (ours, theirs) = (SineTwin::new(), Sine::new());
    let mut equal = 0;
    for x in -128..=127_i8 {
        let (a, b) = (
            ours.forward_quantized(&[x])[0],
            theirs.forward_quantized(&[x])[0],
        );
        assert!((i32::from(a) - i32::from(b)).abs() <= 1, "{x}: {a} vs {b}");
        equal += usize::from(a == b);
    }
    assert!(equal > 200, "{equal} of 256 equal");
}

#[test]
fn quantizing_at_run_time_gives_the_compile_time_twin() {
    let twin = SineTwin::quantize(&SineFloat::new(), &rows::<1>("sine")).unwrap();
    assert_eq!(
        (&twin.h1, &twin.h2, &twin.output),
        (
            &SineTwin::new().h1,
            &SineTwin::new().h2,
            &SineTwin::new().output
        )
    );
    let twin = DeepTwin::quantize(&DeepFloat::new(), &rows::<2>("deep")).unwrap();
    let constant = DeepTwin::new();
    for k in 0..5 {
        assert_eq!(twin.layer(k), constant.layer(k), "layer {k}");
    }
}

#[test]
fn the_twin_follows_the_float_network() {
    let (float, twin) = (SineFloat::new(), SineTwin::new());
    let quantum = twin.output.frame().output.scale;
    for k in 0..=80 {
        let x = -2.0 + 0.05 * k as f32;
        let (f, q) = (float.forward(&[x])[0], twin.forward(&[x])[0]);
        // Three layers of rounding: a few output quanta.
        assert!((f - q).abs() <= 4.0 * quantum, "{x}: float {f}, int8 {q}");
    }
}

#[test]
fn bad_rows_are_errors() {
    let float = SineFloat::new();
    assert!(matches!(
        SineTwin::quantize(&float, &[]),
        Err(dropout::Error::NoSamples)
    ));
    let err = SineTwin::quantize(&float, &[[0.5], [f32::NAN]]).unwrap_err();
    assert!(err.to_string().contains("not finite"), "{err}");
    assert!(SineTwin::quantize(&float, &[[f32::INFINITY]]).is_err());
}

network! {
    /// Dropout sites and no calibration file: the twin is quantized at run time, and runs Monte
    /// Carlo dropout in integers.
    pub struct SineDropout<f32> {
        input: 1,
        dense 16 relu {
            weights: file("models/float/sine.safetensors", "0.weight"),
            bias: file("models/float/sine.safetensors", "0.bias"),
        }, dropout(p = 0.25),
        dense 16 relu {
            weights: file("models/float/sine.safetensors", "1.weight"),
            bias: file("models/float/sine.safetensors", "1.bias"),
        }, dropout(p = 0.25),
        dense 1 identity {
            weights: file("models/float/sine.safetensors", "2.weight"),
            bias: file("models/float/sine.safetensors", "2.bias"),
        },
        quantize: int8 as SineDropoutI8,
        rounding: single,
    }
}

#[test]
fn a_twin_with_sites_runs_monte_carlo_dropout_in_integers() {
    use dropout::rand::SeedableRng as _;
    let twin = SineDropoutI8::quantize(&SineDropout::new(), &rows::<1>("sine")).unwrap();
    // Sites are the identity in evaluation under inverted scaling: the same ranges as without
    // them, and (with single rounding) the same evaluation pass as a twin without sites.
    let plain = SineTwin::quantize(&SineFloat::new(), &rows::<1>("sine")).unwrap();
    assert_eq!(twin.h1.weights(), plain.h1.weights());
    assert_eq!(twin.h1.frame().rounding, dropout::quant::Rounding::Single);
    let mut rng = dropout::rand::rngs::ChaCha8Rng::seed_from_u64(1);
    let mc = twin.predict_mc(&[0.5], 2000, &mut rng).unwrap();
    let float_mc = SineDropout::new()
        .predict_mc(&[0.5], 2000, &mut rng)
        .unwrap();
    assert!(mc.std_dev[0] > 0.0);
    // The integer MC estimate follows the float one (within the samples' spread).
    assert!(
        (mc.mean[0] - float_mc.mean[0]).abs() < 0.1 * float_mc.std_dev[0].max(0.1),
        "{mc:?} vs {float_mc:?}"
    );
    // And it exports like an imported network.
    assert!(dropout::io::to_tflite(&twin).is_ok());
}
