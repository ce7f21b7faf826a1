//! The ONNX models of `dropout` in tract (`tract-onnx`), a runtime that shares no code with it:
//! PyTorch's files that `from: onnx("…")` imports, and what `io::to_onnx` and
//! `io::to_onnx_masked` write for networks with every activation and every kind of dropout
//! site, each against `forward` (or `forward_masked` under the same masks).

use dropout::io::{onnx_mask_inputs, to_onnx, to_onnx_masked};
use dropout::rand::rngs::ChaCha8Rng;
use dropout::rand::{RngExt as _, SeedableRng as _};
use dropout::{Float, Network, network};
use tract_onnx::prelude::{
    Datum, Framework as _, InferenceModelExt as _, IntoRunnable as _, TValue, Tensor, tvec,
};

// Paths are relative to this crate's Cargo.toml, two directories below the repository's.
network! {
    struct Classifier<f32> {
        input: 4,
        dense 16 relu, dropout(p = 0.2),
        dense 8 tanh, dropout(p = 0.2),
        dense 3 identity,
        from: onnx("../../models/onnx/classifier_torchscript.onnx"),
    }
}

network! {
    struct ClassifierDynamo<f32> {
        input: 4, dense 16 relu, dense 8 tanh, dense 3 identity,
        from: onnx("../../models/onnx/classifier_dynamo.onnx"),
    }
}

network! {
    struct ClassifierExternal<f32> {
        input: 4, dense 16 relu, dense 8 tanh, dense 3 identity,
        from: onnx("../../models/onnx/classifier_external.onnx"),
    }
}

#[macro_use]
#[path = "../../fixtures/zoo.rs"]
mod zoo;
zoo!(ZooTorchScript, "../../models/onnx/zoo_torchscript.onnx");
zoo!(ZooDynamo, "../../models/onnx/zoo_dynamo.onnx");

network! {
    struct MatMul<f32> {
        input: 3, dense 5 relu, dense 2 identity,
        from: onnx("../../models/onnx/matmul.onnx"),
    }
}

network! {
    struct RegressorF64<f64> {
        input: 2, dense 8 tanh, dense 1 identity,
        from: onnx("../../models/onnx/regressor_f64.onnx"),
    }
}

network! {
    /// Every kind of site under classic scaling, in `f32`, whose evaluation pass multiplies by
    /// keep probabilities (alpha and Gaussian dropout leave it alone).
    struct Sites<f32> {
        scaling: classic,
        input: 5, dropout(p = 0.2),
        dense 7 selu dropconnect(p = 0.3), alpha_dropout(p = 0.1),
        dense 6 gelu, gaussian_dropout(p = 0.4),
        dense 6 elu(0.5) dropconnect(p = 0.5), dropout(p = 0.5),
        dense 4 softplus,
        dense 2 sigmoid,
    }
}

network! {
    /// As [`Sites`] in `f64` under inverted scaling, ending in softmax.
    struct SitesF64<f64> {
        input: 5, dropout(p = 0.2),
        dense 7 selu dropconnect(p = 0.3), alpha_dropout(p = 0.1),
        dense 6 leaky_relu(0.01), gaussian_dropout(p = 0.4),
        dense 6 hard_sigmoid dropconnect(p = 0.5), dropout(p = 0.5),
        dense 3 softmax,
    }
}

network! {
    /// A layer of every activation an int8 twin computes by a table, and its twin.
    struct Tables<f32> {
        input: 3,
        dense 6 tanh, dense 6 sigmoid, dense 6 elu(0.7), dense 6 selu, dense 6 gelu,
        dense 6 silu, dense 6 softplus, dense 6 leaky_relu(0.2), dense 6 hard_sigmoid,
        dense 2 identity,
        quantize: int8 as TablesI8,
    }
}

/// An input of a model: its shape and row-major values.
type Input<T> = (Vec<usize>, Vec<T>);

/// tract's outputs for `model` (the bytes of an `.onnx` file) on `inputs`, in order.
fn tract<T: Datum + Copy>(model: &[u8], inputs: &[Input<T>]) -> Vec<T> {
    let model = tract_onnx::onnx()
        .model_for_read(&mut &model[..])
        .expect("tract reads the model")
        .into_optimized()
        .expect("tract optimizes the model")
        .into_runnable()
        .expect("tract plans the model");
    let inputs: tract_onnx::prelude::TVec<TValue> = inputs
        .iter()
        .map(|(shape, values)| Tensor::from_shape(shape, values).unwrap().into())
        .collect();
    let outputs = model.run(inputs).expect("tract runs the model");
    assert_eq!(outputs.len(), 1);
    outputs[0]
        .try_as_plain_ram()
        .unwrap()
        .as_slice::<T>()
        .unwrap()
        .to_vec()
}

/// Rows of inputs: zeros, large values of both signs, and values drawn from a fixed seed.
fn rows<N: Network>(rng: &mut ChaCha8Rng) -> Vec<N::Input> {
    let width = N::SPEC.n_inputs;
    let mut rows: Vec<Vec<f64>> = vec![vec![0.0; width], vec![25.0; width], vec![-25.0; width]];
    rows.extend((0..13).map(|_| (0..width).map(|_| rng.random_range(-4.0..4.0)).collect()));
    rows.iter()
        .map(|row| {
            let row: Vec<N::Scalar> = row.iter().map(|&v| N::Scalar::from_f64(v)).collect();
            N::Input::try_from(&row[..]).unwrap_or_else(|_| unreachable!("the width"))
        })
        .collect()
}

/// `ours` against `tract`'s outputs, row by row: every value finite, and within `tolerance`
/// of tract's relative to the row's largest magnitude, or absolutely where that is below 1
/// (tract computes `f32` sigmoid and tanh with rational approximations, whose error near 0 is
/// absolute).
fn compare<T: Float>(name: &str, ours: &[Vec<T>], theirs: &[T], tolerance: f64) {
    let width = ours[0].len();
    assert_eq!(ours.len() * width, theirs.len(), "{name}");
    for (row, (ours, theirs)) in ours.iter().zip(theirs.chunks(width)).enumerate() {
        let (ours, theirs): (Vec<f64>, Vec<f64>) = (
            ours.iter().map(|v| v.to_f64()).collect(),
            theirs.iter().map(|v| v.to_f64()).collect(),
        );
        assert!(
            ours.iter().chain(&theirs).all(|v| v.is_finite()),
            "{name}: row {row}: ours {ours:?}, tract {theirs:?}"
        );
        let scale = theirs.iter().fold(1.0, |m: f64, v| m.max(v.abs()));
        for (a, b) in ours.iter().zip(&theirs) {
            assert!(
                (a - b).abs() <= tolerance * scale,
                "{name}: row {row}: ours {ours:?}, tract {theirs:?}"
            );
        }
    }
}

fn batch<T: Copy>(rows: &[impl AsRef<[T]>]) -> Input<T> {
    let width = rows[0].as_ref().len();
    (
        vec![rows.len(), width],
        rows.iter().flat_map(|r| r.as_ref().to_vec()).collect(),
    )
}

/// `net` against tract on `file` (if the network was imported from one), on `to_onnx`'s model
/// and on `to_onnx_masked`'s model under masks drawn from a fixed seed.
fn check<N: Network>(name: &str, net: &N, file: Option<&str>, tolerance: f64)
where
    N::Scalar: Datum,
{
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let rows = rows::<N>(&mut rng);
    let x = batch(&rows);
    let eval: Vec<Vec<N::Scalar>> = rows
        .iter()
        .map(|row| net.forward(row).as_ref().to_vec())
        .collect();
    if let Some(file) = file {
        let path = format!("{}/../../models/onnx/{file}", env!("CARGO_MANIFEST_DIR"));
        let model = tract_onnx::onnx()
            .model_for_path(&path)
            .expect("tract reads the file")
            .into_optimized()
            .expect("tract optimizes the file")
            .into_runnable()
            .expect("tract plans the file");
        let (shape, values) = &x;
        let input: TValue = Tensor::from_shape(shape, values).unwrap().into();
        let outputs = model.run(tvec![input]).expect("tract runs the file");
        let theirs = outputs[0].try_as_plain_ram().unwrap();
        let theirs = theirs.as_slice::<N::Scalar>().unwrap();
        compare(&format!("{name} ({file})"), &eval, theirs, tolerance);
    }
    let exported = to_onnx(net).unwrap();
    compare(
        &format!("{name} (to_onnx)"),
        &eval,
        &tract(&exported, std::slice::from_ref(&x)),
        tolerance,
    );
    let masks: Vec<N::Masks> = rows.iter().map(|_| net.sample_masks(&mut rng)).collect();
    let masked: Vec<Vec<N::Scalar>> = rows
        .iter()
        .zip(&masks)
        .map(|(row, m)| net.forward_masked(row, m).as_ref().to_vec())
        .collect();
    let mut inputs = vec![x];
    inputs.extend(
        onnx_mask_inputs::<N>(&masks)
            .into_iter()
            .map(|input| (input.shape, input.values)),
    );
    let exported = to_onnx_masked(net).unwrap();
    compare(
        &format!("{name} (to_onnx_masked)"),
        &masked,
        &tract(&exported, &inputs),
        tolerance,
    );
    if N::SPEC.sites().next().is_some() {
        assert_ne!(masked, eval, "{name}: the masks drop something");
    }
}

#[test]
fn pytorch_files_and_their_exports_agree_with_forward() {
    check(
        "classifier",
        &Classifier::new(),
        Some("classifier_torchscript.onnx"),
        1e-5,
    );
    check(
        "classifier_dynamo",
        &ClassifierDynamo::new(),
        Some("classifier_dynamo.onnx"),
        1e-5,
    );
    check(
        "classifier_external",
        &ClassifierExternal::new(),
        Some("classifier_external.onnx"),
        1e-5,
    );
    check("matmul", &MatMul::new(), Some("matmul.onnx"), 1e-5);
    // tract 0.23 does not run PyTorch's `double` file: optimizing its `Gemm` multiplies the
    // `f64` bias by `beta` as an `f32` constant and fails ("tensor is F32, accessed as F64").
    // `to_onnx`'s `double` models write no `beta` and run.
    check("regressor_f64", &RegressorF64::new(), None, 1e-12);
}

#[test]
fn every_activation_agrees_with_forward() {
    check(
        "zoo_torchscript",
        &ZooTorchScript::new(),
        Some("zoo_torchscript.onnx"),
        1e-5,
    );
    check(
        "zoo_dynamo",
        &ZooDynamo::new(),
        Some("zoo_dynamo.onnx"),
        1e-5,
    );
}

#[test]
fn every_kind_of_site_agrees_with_forward_and_forward_masked() {
    check("toy", &dropout::toy::Toy::new(), None, 1e-5);
    let sites = Sites::init(&mut ChaCha8Rng::seed_from_u64(5));
    check("sites", &sites, None, 1e-5);
    let sites = SitesF64::init(&mut ChaCha8Rng::seed_from_u64(6));
    check("sites_f64", &sites, None, 1e-12);
}

network! {
    struct Sine<i8> {
        input: 1, dense 16 relu, dense 16 relu, dense 1 identity,
        from: tflite("../../models/sine.tflite"),
    }
}

network! {
    struct PerTensor<i8> {
        input: 3, dense 8 relu, dense 6 relu6, dense 2 identity,
        from: tflite("../../models/per_tensor.tflite"),
    }
}

/// `pass` against tract on `to_onnx_quantized`'s QDQ model for int8 rows over the whole range:
/// every output within one int8 step (tract requantizes in floating point); returns how many
/// are equal and how many there are.
fn check_int8<const IN: usize, const OUT: usize>(
    name: &str,
    model: &[u8],
    pass: impl Fn(&[i8; IN]) -> [i8; OUT],
    tolerance: i16,
) -> (usize, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(29);
    let mut rows: Vec<[i8; IN]> = vec![[i8::MIN; IN], [i8::MAX; IN], [0; IN]];
    rows.extend((0..200).map(|_| std::array::from_fn(|_| rng.random())));
    let theirs = tract(model, &[batch(&rows)]);
    let ours: Vec<i8> = rows.iter().flat_map(&pass).collect();
    assert_eq!(ours.len(), theirs.len(), "{name}");
    for (row, (a, b)) in ours.chunks(OUT).zip(theirs.chunks(OUT)).enumerate() {
        assert!(
            a.iter()
                .zip(b)
                .all(|(a, b)| (i16::from(*a) - i16::from(*b)).abs() <= tolerance),
            "{name}: row {row} {:?}: ours {a:?}, tract {b:?}",
            rows[row]
        );
    }
    let equal = ours.iter().zip(&theirs).filter(|(a, b)| a == b).count();
    (equal, ours.len())
}

#[test]
fn int8_networks_agree_with_forward_quantized_within_one_step() {
    let net = Sine::new();
    let (sine_equal, sine_all) = check_int8(
        "sine",
        &dropout::io::to_onnx_quantized(&net).unwrap(),
        |x| net.forward_quantized(x),
        1,
    );
    let net = PerTensor::new();
    let (equal, all) = check_int8(
        "per_tensor",
        &dropout::io::to_onnx_quantized(&net).unwrap(),
        |x| net.forward_quantized(x),
        1,
    );
    let (equal, all) = (equal + sine_equal, all + sine_all);
    eprintln!("{equal} of {all} int8 outputs equal tract's");
    assert!(equal * 10 >= all * 9, "{equal} of {all}");
}

#[test]
fn table_twins_agree_with_forward_quantized() {
    let mut rng = ChaCha8Rng::seed_from_u64(30);
    let float = Tables::init(&mut rng);
    let rows: Vec<[f32; 3]> = (0..300)
        .map(|_| std::array::from_fn(|_| rng.random_range(-2.0..2.0)))
        .collect();
    let twin = TablesI8::quantize(&float, &rows).unwrap();
    let (equal, all) = check_int8(
        "tables",
        &dropout::io::to_onnx_quantized(&twin).unwrap(),
        |x| twin.forward_quantized(x),
        1,
    );
    eprintln!("{equal} of {all} int8 outputs of the table twin equal tract's");
    assert!(equal * 10 >= all * 9, "{equal} of {all}");
}
