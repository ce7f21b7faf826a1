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
    assert!(mc.std_dev[0] > 0.05, "{mc:?}");
    // Pass by pass under the same masks (a twin draws them as its float network does), the
    // integer pass is the float one to two steps of the output's grid, where the float pass
    // stays inside the range calibrated on evaluation passes, and that range's end where it
    // leaves it: at p = 0.25 a fifth of these passes fall below the output's calibrated minimum.
    let float = SineDropout::new();
    let q = twin.output.frame().output;
    let (lo, hi) = (
        q.scale * (-128 - q.zero_point) as f32,
        q.scale * (127 - q.zero_point) as f32,
    );
    let (mut inside, mut below) = (0, 0);
    for _ in 0..2000 {
        let seed = dropout::rand::Rng::next_u64(&mut rng);
        let drawn = || dropout::rand::rngs::ChaCha8Rng::seed_from_u64(seed);
        let masks = float.sample_masks(&mut drawn());
        let twin_masks = twin.sample_masks(&mut drawn());
        assert_eq!((masks.h1, masks.h2), (twin_masks.h1, twin_masks.h2));
        let (ours, theirs) = (
            twin.forward_masked(&[0.5], &twin_masks)[0],
            float.forward_masked(&[0.5], &masks)[0],
        );
        // Where the float pass leaves the range, its end.
        let clamped = theirs.clamp(lo, hi);
        assert!(
            (ours - clamped).abs() <= 2.0 * q.scale,
            "{ours} vs {theirs} under {masks:?}"
        );
        if theirs < lo {
            below += 1;
        } else if theirs <= hi {
            inside += 1;
        }
    }
    assert!(
        inside > 1000 && below > 100,
        "{inside} inside, {below} below"
    );
    // And it exports like an imported network.
    assert!(dropout::io::to_tflite(&twin).is_ok());
}

/// The sine model's float weights with `$activation` on both hidden layers, and its twin
/// calibrated at compile time on the converter's rows: layers the twin cannot fuse compute
/// their activation by a table.
macro_rules! sine_with {
    ($float:ident, $twin:ident, $($activation:tt)+) => {
        network! {
            pub struct $float<f32> {
                input: 1,
                dense 16 $($activation)+ {
                    weights: file("models/float/sine.safetensors", "0.weight"),
                    bias: file("models/float/sine.safetensors", "0.bias"),
                }, dropout(p = 0.2),
                dense 16 $($activation)+ {
                    weights: file("models/float/sine.safetensors", "1.weight"),
                    bias: file("models/float/sine.safetensors", "1.bias"),
                },
                dense 1 identity {
                    weights: file("models/float/sine.safetensors", "2.weight"),
                    bias: file("models/float/sine.safetensors", "2.bias"),
                },
                quantize: int8 as $twin,
                calibrate: file("models/float/sine.safetensors", "x"),
            }
        }
    };
}

sine_with!(SineTanh, SineTanhI8, tanh);
sine_with!(SineSigmoid, SineSigmoidI8, sigmoid);
sine_with!(SineElu, SineEluI8, elu(0.5));
sine_with!(SineSelu, SineSeluI8, selu);
sine_with!(SineGelu, SineGeluI8, gelu);
sine_with!(SineSilu, SineSiluI8, silu);
sine_with!(SineSoftplus, SineSoftplusI8, softplus);
sine_with!(SineLeaky, SineLeakyI8, leaky_relu(0.1));
sine_with!(SineHardSigmoid, SineHardSigmoidI8, hard_sigmoid);

/// Runs `$body` for each table twin with `$float` its float network, `$constant` the twin
/// calibrated at compile time and `$run` the twin quantized at run time on the same rows.
macro_rules! each_table_twin {
    (|$float:ident, $constant:ident, $run:ident| $body:block) => {{
        let rows = rows::<1>("sine");
        each_table_twin!(@one rows, SineTanh, SineTanhI8, $float, $constant, $run, $body);
        each_table_twin!(@one rows, SineSigmoid, SineSigmoidI8, $float, $constant, $run, $body);
        each_table_twin!(@one rows, SineElu, SineEluI8, $float, $constant, $run, $body);
        each_table_twin!(@one rows, SineSelu, SineSeluI8, $float, $constant, $run, $body);
        each_table_twin!(@one rows, SineGelu, SineGeluI8, $float, $constant, $run, $body);
        each_table_twin!(@one rows, SineSilu, SineSiluI8, $float, $constant, $run, $body);
        each_table_twin!(@one rows, SineSoftplus, SineSoftplusI8, $float, $constant, $run, $body);
        each_table_twin!(@one rows, SineLeaky, SineLeakyI8, $float, $constant, $run, $body);
        each_table_twin!(@one rows, SineHardSigmoid, SineHardSigmoidI8, $float, $constant, $run, $body);
    }};
    (@one $rows:ident, $F:ident, $T:ident, $float:ident, $constant:ident, $run:ident, $body:block) => {{
        let $float = $F::new();
        let $constant = $T::new();
        let $run = $T::quantize(&$float, &$rows).unwrap();
        $body
    }};
}

/// [`fake_quantized`] for the float network `N` of `twin`.
fn fake_quantized_of<N: dropout::Network>(_: &N, twin: &impl QuantizedNetwork, x: f32) -> f32 {
    fake_quantized::<N>(twin, x)
}

/// The activation of a network's first layer.
fn first_activation<N: dropout::Network>(_: &N) -> dropout::Activation {
    N::SPEC.layers[0].activation
}

/// The twin's pass at `x` in floats: each tensor quantized and dequantized where the twin
/// holds it in int8 (the input, each table's pre-activation, each layer's output), the
/// weights and biases the twin's own, dequantized, and the activations the float network's.
/// The integer pass rounds at the same places, so it stays within a quantum or two of this.
fn fake_quantized<N: dropout::Network>(twin: &impl QuantizedNetwork, x: f32) -> f32 {
    let round_trip = |q: dropout::int8::Quantization, v: f32| q.dequantize(q.quantize(v));
    let mut a = vec![round_trip(twin.layer(0).unwrap().input, x)];
    for k in 0..3 {
        let parts = twin.layer(k).unwrap();
        let n = parts.bias.len();
        let mut z: Vec<f32> = (0..n)
            .map(|c| {
                let s_w = parts.weight_scales[c.min(parts.weight_scales.len() - 1)];
                let mut sum = parts.bias[c] as f32 * parts.input.scale * s_w;
                for (i, &v) in a.iter().enumerate() {
                    sum += f32::from(parts.weights[c * a.len() + i]) * s_w * v;
                }
                sum
            })
            .collect();
        if let Some(table) = parts.table {
            for v in &mut z {
                *v = round_trip(table.input, *v);
            }
        }
        N::SPEC.layers[k].activation.apply_in_place(&mut z);
        a = z.iter().map(|&v| round_trip(parts.output, v)).collect();
    }
    a[0]
}

/// The twin's pass at `x` computed from its parts here: each layer by the integer formula
/// (`FullyConnected`, to the table's input quantization where there is a table), then each
/// table value from the definition, `z_out + round(g(s_pre · (q − z_pre)) / s_out)`, with the
/// standard library's `f64` functions.
fn by_definition(twin: &impl QuantizedNetwork, x: i8, activation: fn(f64) -> f64) -> i8 {
    use dropout::int8::FullyConnected;
    use dropout::quant::Rounding;
    let mut a = vec![x];
    let mut tables = 0;
    for k in 0..3 {
        let parts = twin.layer(k).unwrap();
        let target = parts.table.map_or(parts.output, |table| table.input);
        let layer = FullyConnected::new(
            parts.input.scale,
            parts.input.zero_point,
            parts.weight_scales,
            target.scale,
            target.zero_point,
            parts.activation,
        )
        .unwrap();
        let mut y = vec![0; parts.bias.len()];
        layer
            .apply(&a, parts.weights, parts.bias, Rounding::Double, &mut y)
            .unwrap();
        if parts.table.is_some() {
            tables += 1;
            for v in &mut y {
                let real = f64::from(target.scale) * f64::from(i32::from(*v) - target.zero_point);
                let steps = (activation(real) / f64::from(parts.output.scale)).round();
                *v = (f64::from(parts.output.zero_point) + steps).clamp(-128.0, 127.0) as i8;
            }
        }
        a = y;
    }
    assert_eq!(tables, 2, "both hidden layers have tables");
    a[0]
}

#[test]
fn tables_compute_the_real_activation_of_each_integer() {
    fn sigmoid(z: f64) -> f64 {
        1.0 / (1.0 + (-z).exp())
    }
    for x in -128..=127_i8 {
        assert_eq!(
            SineTanhI8::new().forward_quantized(&[x])[0],
            by_definition(&SineTanhI8::new(), x, f64::tanh),
            "tanh at {x}"
        );
        assert_eq!(
            SineSigmoidI8::new().forward_quantized(&[x])[0],
            by_definition(&SineSigmoidI8::new(), x, sigmoid),
            "sigmoid at {x}"
        );
        assert_eq!(
            SineEluI8::new().forward_quantized(&[x])[0],
            by_definition(&SineEluI8::new(), x, |z| if z > 0.0 {
                z
            } else {
                0.5 * z.exp_m1()
            }),
            "elu at {x}"
        );
        assert_eq!(
            SineLeakyI8::new().forward_quantized(&[x])[0],
            by_definition(&SineLeakyI8::new(), x, |z| if z > 0.0 {
                z
            } else {
                0.1 * z
            }),
            "leaky_relu at {x}"
        );
        assert_eq!(
            SineHardSigmoidI8::new().forward_quantized(&[x])[0],
            by_definition(&SineHardSigmoidI8::new(), x, |z| (z + 3.0).clamp(0.0, 6.0)
                / 6.0),
            "hard_sigmoid at {x}"
        );
    }
}

#[test]
fn table_twins_quantized_at_run_time_are_the_compile_time_twins() {
    each_table_twin!(|float, constant, run| {
        let activation = first_activation(&float);
        for k in 0..3 {
            assert_eq!(constant.layer(k), run.layer(k), "{activation}: layer {k}");
        }
        assert!(constant.layer(0).unwrap().table.is_some(), "{activation}");
        assert!(constant.layer(2).unwrap().table.is_none(), "{activation}");
    });
}

#[test]
fn table_twins_follow_their_float_networks() {
    each_table_twin!(|float, twin, _run| {
        let activation = first_activation(&float);
        let quantum = twin.output.output().scale;
        let (mut from_float, mut from_fake) = (0.0_f32, 0.0_f32);
        for k in 0..=80 {
            let x = -2.0 + 0.05 * k as f32;
            let q = twin.forward(&[x])[0];
            from_float = from_float.max((float.forward(&[x])[0] - q).abs() / quantum);
            from_fake = from_fake.max((fake_quantized_of(&float, &twin, x) - q).abs() / quantum);
        }
        println!(
            "{activation}: at most {from_float:.2} output quanta from the float network, {from_fake:.2} from its fake-quantized pass"
        );
        // Each layer rounds where the fake-quantized pass rounds, a unit apart at most; the
        // next layer's weights carry a unit of a hidden layer to a few units of the output
        // (measured: 1 to 8, sigmoid's 1/256 steps the most). A table built on the wrong grid
        // is tens of units off.
        assert!(from_fake <= 8.0, "{activation}: {from_fake} quanta");
        assert!(twin.forward(&[f32::NAN])[0].is_nan());
    });
}

#[test]
fn sigmoid_and_tanh_end_in_the_quantization_tensorflow_fixes() {
    let tanh = SineTanhI8::new();
    assert_eq!(
        (tanh.h1.output().scale, tanh.h1.output().zero_point),
        (1.0 / 128.0, 0)
    );
    let sigmoid = SineSigmoidI8::new();
    assert_eq!(
        (sigmoid.h2.output().scale, sigmoid.h2.output().zero_point),
        (1.0 / 256.0, -128)
    );
    // The next layer reads that quantization; the sums requantize to the table's input.
    assert_eq!(sigmoid.output.frame().input, sigmoid.h2.output());
    assert_eq!(sigmoid.h2.frame().output, sigmoid.h2.stage().input);
    // Calibrated: ELU's output range is its own.
    let elu = SineEluI8::new();
    assert_ne!(elu.h1.output(), elu.h1.stage().input);
}

#[test]
fn a_table_twin_runs_monte_carlo_dropout_in_integers() {
    use dropout::rand::SeedableRng as _;
    let (float, twin) = (SineTanh::new(), SineTanhI8::new());
    // A dropped unit of a table's output is its zero point, real 0: with every unit of μ¹
    // dropped, the second layer sees only its bias.
    let mut masks = SineTanhI8Masks::ALL_KEPT;
    masks.h1 = [false; 16];
    let all_dropped = twin.forward_quantized_masked(&[-100], &masks);
    assert_eq!(all_dropped, twin.forward_quantized_masked(&[90], &masks));
    let mut rng = dropout::rand::rngs::ChaCha8Rng::seed_from_u64(3);
    let mc = twin.predict_mc(&[0.5], 2000, &mut rng).unwrap();
    let float_mc = float.predict_mc(&[0.5], 2000, &mut rng).unwrap();
    assert!(mc.std_dev[0] > 0.0);
    assert!(
        (mc.mean[0] - float_mc.mean[0]).abs() < 0.1 * float_mc.std_dev[0].max(0.1),
        "{mc:?} vs {float_mc:?}"
    );
}

#[test]
fn table_twins_export_as_their_operators() {
    // Tanh's table at TFLite's output quantization is a `TANH` after the layer's
    // `FULLY_CONNECTED`, which reads back as the twin's layers.
    let twin = SineTanhI8::new();
    let bytes = dropout::io::to_tflite(&twin).unwrap();
    let model = dropout_tflite::read(&bytes).unwrap();
    for (k, layer) in model.layers.iter().enumerate() {
        let parts = twin.layer(k).unwrap();
        assert_eq!(layer.weights, parts.weights, "layer {k}");
        assert_eq!(layer.layer_output(), parts.output, "layer {k}");
        assert_eq!(
            layer.followed_by.map(|op| op.activation),
            parts.table.map(|table| table.activation),
            "layer {k}"
        );
    }
    // ELU has no operator of a `.tflite` file.
    let err = dropout::io::to_tflite(&SineEluI8::new()).unwrap_err();
    assert!(err.to_string().contains("table"), "{err}");
    // In ONNX: the pre-activation quantized and dequantized, then `Tanh` in floats (tract runs
    // it: tests/onnx_tract).
    let bytes = dropout::io::to_onnx_quantized(&twin).unwrap();
    assert!(bytes.windows(4).any(|w| w == b"Tanh"));
}

#[test]
fn softmax_has_no_int8_form_at_run_time() {
    network! {
        struct Soft<f32> { input: 2, dense 3 softmax }
    }
    use dropout::rand::SeedableRng as _;
    let net = Soft::init(&mut dropout::rand::rngs::ChaCha8Rng::seed_from_u64(0));
    let err = dropout::calibrate::calibrate(&net, &[[0.5, 0.5]]).unwrap_err();
    assert!(err.to_string().contains("softmax"), "{err}");
}

#[path = "fixtures/tflite_outputs.rs"]
mod tflite_outputs;
#[path = "fixtures/tflite_tables.rs"]
mod tflite_tables;

/// The Keras model of `tools/tflite_tables.py` (tanh and sigmoid hidden layers), with its
/// twin calibrated on the rows the converter calibrated with, requantizing with `$rounding`.
macro_rules! tables {
    ($float:ident, $twin:ident, $rounding:ident) => {
        network! {
            pub struct $float<f32> {
                input: 2,
                dense 8 tanh {
                    weights: file("models/float/tables.safetensors", "0.weight"),
                    bias: file("models/float/tables.safetensors", "0.bias"),
                },
                dense 8 sigmoid {
                    weights: file("models/float/tables.safetensors", "1.weight"),
                    bias: file("models/float/tables.safetensors", "1.bias"),
                },
                dense 2 identity {
                    weights: file("models/float/tables.safetensors", "2.weight"),
                    bias: file("models/float/tables.safetensors", "2.bias"),
                },
                quantize: int8 as $twin,
                calibrate: file("models/float/tables.safetensors", "x"),
                rounding: $rounding,
            }
        }
    };
}
tables!(TablesFloat, TablesTwin, double);
tables!(TablesSingleFloat, TablesSingleTwin, single);

#[test]
fn tables_quantize_as_tensorflow_converts_tanh_and_sigmoid() {
    use tflite_tables::OPS;
    let twin = TablesTwin::new();
    // FULLY_CONNECTED, TANH, FULLY_CONNECTED, LOGISTIC, FULLY_CONNECTED.
    let (fc, activations) = (
        [&OPS[0], &OPS[2], &OPS[4]],
        [Some(&OPS[1]), Some(&OPS[3]), None],
    );
    for k in 0..3 {
        let parts = twin.layer(k).unwrap();
        let weights: Vec<i8> = fc[k]
            .weights
            .iter()
            .flat_map(|row| row.iter().copied())
            .collect();
        assert_eq!(parts.weights, &weights[..], "layer {k}: weights");
        let scales: Vec<u32> = parts.weight_scales.iter().map(|s| s.to_bits()).collect();
        let expected: Vec<u32> = fc[k].weight_scales.iter().map(|s| s.to_bits()).collect();
        assert_eq!(scales, expected, "layer {k}: weight scales");
        for (b, c) in parts.bias.iter().zip(fc[k].bias) {
            assert!((b - c).abs() <= 1, "layer {k}: bias {b} vs {c}");
        }
        // What the sums requantize to: the pre-activation, calibrated (FULLY_CONNECTED's
        // output), where there is a table.
        let target = parts.table.map_or(parts.output, |table| table.input);
        assert_eq!(target.zero_point, fc[k].zero_point, "layer {k}");
        assert!(
            (target.scale - fc[k].scale).abs() / fc[k].scale < 1e-5,
            "layer {k}: {} vs {}",
            target.scale,
            fc[k].scale
        );
        // The activation's output: TANH's and LOGISTIC's fixed quantization, bit for bit.
        if let Some(op) = activations[k] {
            assert_eq!(
                parts.table.unwrap().activation.name(),
                ["tanh", "sigmoid"][k]
            );
            assert_eq!(
                (parts.output.scale.to_bits(), parts.output.zero_point),
                (op.scale.to_bits(), op.zero_point),
                "layer {k}: {}",
                op.name
            );
        }
    }
}

#[test]
fn tables_compute_what_tflite_computes() {
    let (double, single) = (TablesTwin::new(), TablesSingleTwin::new());
    let fixture = tflite_tables::OUTPUTS;
    let (mut micro_equal, mut reference_equal, mut all) = (0, 0, 0);
    for ((x, micro), reference) in fixture
        .inputs
        .iter()
        .zip(fixture.micro)
        .zip(fixture.reference)
    {
        let x = [x[0], x[1]];
        let (y, y_single) = (double.forward_quantized(&x), single.forward_quantized(&x));
        for (((&ours, &ours_single), &m), &r) in y.iter().zip(&y_single).zip(*micro).zip(*reference)
        {
            assert!((i32::from(ours) - i32::from(m)).abs() <= 1, "{x:?}");
            micro_equal += usize::from(ours == m);
            reference_equal += usize::from(ours_single == r);
            all += 1;
        }
    }
    eprintln!(
        "table twins: double rounding equals TFLite Micro on {micro_equal} of {all} outputs, single rounding TensorFlow's reference kernels on {reference_equal}"
    );
    // The interpreters compute LOGISTIC and TANH in fixed point of their own, which agrees
    // with the rounded real function on every int8 input of every scale tried (256 inputs at
    // each of 12 scales, tools/tflite_tables.py), and the twins' integers are the converter's
    // (the test above): every output is the interpreters'.
    assert_eq!(micro_equal, all);
    assert_eq!(reference_equal, all);
}
