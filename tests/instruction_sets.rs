//! Every instruction set this CPU has gives the same bits in single-sample, masked, traced and
//! lane-parallel passes (evaluation and masked), and batched matrix products that agree with them to rounding.
//!
//! On a CPU with AVX-512 this compares the AVX-512, AVX2 and portable kernels; on one with AVX2
//! only, the last two. The sets a CPU lacks are reported, not skipped silently.

use dropout::ndarray::Array2;
use dropout::rand::SeedableRng as _;
use dropout::rand::rngs::ChaCha8Rng;
use dropout::toy::{Toy, ToyMasks};
use dropout::{InstructionSet, network};

network! {
    /// Two full panels (interleaved on AVX-512), a narrow one of 10, and an output layer
    /// narrower than a vector: every path of the single-sample kernel.
    struct Wide<f32> {
        input: 300, dropout(p = 0.5),
        dense 138 relu, dropout(p = 0.3),
        dense 10 tanh,
    }
}

network! {
    /// The same shapes in `f64`, whose vectors hold half as many values.
    struct WideF64<f64> {
        input: 300, dropout(p = 0.5),
        dense 138 leaky_relu(0.1), dropout(p = 0.3),
        dense 10 identity,
    }
}

/// The sets this CPU has; prints the others so that a run on a narrower CPU says what it did
/// not compare.
fn available() -> Vec<InstructionSet> {
    let (have, lack): (Vec<_>, Vec<_>) = InstructionSet::ALL
        .into_iter()
        .partition(|set| set.is_available());
    if !lack.is_empty() {
        eprintln!("this CPU cannot run {lack:?}: compared {have:?} only");
    }
    assert!(have.contains(&InstructionSet::Portable));
    have
}

/// `pass` on every available set, each result's bits equal to the portable kernel's.
fn same_bits_everywhere<R: PartialEq + std::fmt::Debug>(what: &str, pass: impl Fn() -> R) {
    let portable = InstructionSet::Portable.run(&pass).unwrap();
    for set in available() {
        assert_eq!(set.run(&pass).unwrap(), portable, "{what} on {set}");
    }
}

fn bits32(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn bits64(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn single_masked_and_traced_passes_are_bit_identical() {
    let net = Wide::init_boxed(&mut ChaCha8Rng::seed_from_u64(1));
    let net64 = WideF64::init_boxed(&mut ChaCha8Rng::seed_from_u64(1));
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    for round in 0..8 {
        let x: [f32; 300] =
            std::array::from_fn(|i| ((i * 37 + round * 11) % 101) as f32 / 25.0 - 2.0);
        let x64: [f64; 300] = x.map(f64::from);
        let masks = net.sample_masks(&mut rng);
        let masks64 = net64.sample_masks(&mut rng);
        same_bits_everywhere("forward", || bits32(&net.forward(&x)));
        same_bits_everywhere("forward_masked", || bits32(&net.forward_masked(&x, &masks)));
        same_bits_everywhere("trace", || {
            let trace = net.trace(&x, &masks);
            trace
                .rows()
                .iter()
                .flat_map(|row| bits32(&row.output))
                .collect::<Vec<_>>()
        });
        same_bits_everywhere("forward f64", || bits64(&net64.forward(&x64)));
        same_bits_everywhere("forward_masked f64", || {
            bits64(&net64.forward_masked(&x64, &masks64))
        });
    }
}

#[test]
fn non_finite_inputs_give_the_same_bits_everywhere() {
    let net = Wide::init_boxed(&mut ChaCha8Rng::seed_from_u64(3));
    let mut x = [0.5_f32; 300];
    x[7] = f32::INFINITY;
    x[200] = f32::NAN;
    let mut masks = net.sample_masks(&mut ChaCha8Rng::seed_from_u64(4));
    masks.input[7] = true;
    masks.input[200] = true;
    same_bits_everywhere("forward, non-finite", || bits32(&net.forward(&x)));
    same_bits_everywhere("forward_masked, non-finite kept", || {
        bits32(&net.forward_masked(&x, &masks))
    });
    masks.input[200] = false;
    let dropped = InstructionSet::Portable
        .run(|| net.forward_masked(&x, &masks))
        .unwrap();
    assert!(dropped.iter().all(|v| v.is_nan()), "{dropped:?}");
    same_bits_everywhere("forward_masked, non-finite dropped", || {
        bits32(&net.forward_masked(&x, &masks))
    });
}

#[test]
fn lane_parallel_batches_are_bit_identical_and_equal_single_passes() {
    let net = Toy::new();
    let batch = Array2::from_shape_fn((37, 2), |(r, c)| (r * 2 + c) as f32 / 9.0 - 2.0);
    same_bits_everywhere("toy forward_batch", || {
        bits32(net.forward_batch(batch.view()).unwrap().as_slice().unwrap())
    });
    let out = net.forward_batch(batch.view()).unwrap();
    for (row, y) in batch.rows().into_iter().zip(out.rows()) {
        assert_eq!(net.forward(&[row[0], row[1]])[0].to_bits(), y[0].to_bits());
    }
    let masks = ToyMasks::ALL_KEPT;
    same_bits_everywhere("toy forward_masked", || {
        bits32(&net.forward_masked(&[1.0, 1.0], &masks))
    });
    // The masked batch runs in lanes too, each row under its own masks.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let all: Vec<ToyMasks> = (0..37).map(|_| net.sample_masks(&mut rng)).collect();
    same_bits_everywhere("toy forward_batch_masked", || {
        bits32(
            net.forward_batch_masked(batch.view(), &all)
                .unwrap()
                .as_slice()
                .unwrap(),
        )
    });
    let out = net.forward_batch_masked(batch.view(), &all).unwrap();
    for ((row, y), masks) in batch.rows().into_iter().zip(out.rows()).zip(&all) {
        let want = net.forward_masked(&[row[0], row[1]], masks)[0];
        assert_eq!(want.to_bits(), y[0].to_bits());
    }
}

#[test]
fn batched_products_agree_with_single_passes_on_every_set() {
    let net = Wide::init_boxed(&mut ChaCha8Rng::seed_from_u64(5));
    let batch = Array2::from_shape_fn((45, 300), |(r, c)| {
        ((r * 31 + c * 7) % 53) as f32 / 13.0 - 2.0
    });
    for set in available() {
        let out = set
            .run(|| net.forward_batch(batch.view()))
            .unwrap()
            .unwrap();
        for (row, y) in batch.rows().into_iter().zip(out.rows()) {
            let x: [f32; 300] = std::array::from_fn(|i| row[i]);
            let single = net.forward(&x);
            for (a, b) in single.iter().zip(y) {
                // Fused multiply-adds round each term once instead of twice.
                assert!((a - b).abs() <= 1e-5 * (1.0 + a.abs()), "{set}: {a} vs {b}");
            }
        }
    }
}
