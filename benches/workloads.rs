//! The workloads of BENCHMARKS.md, each beside a plain-ndarray baseline with the same weights.
//!
//! ```text
//! cargo bench --bench workloads                 # all of them
//! cargo bench --bench workloads -- M2           # one workload
//! cargo bench --bench workloads -- --test       # run each once (what CI does)
//! ```
//!
//! Ids: T1 toy eval, T2 toy batch of 4096, M2 784-128-10 eval, M3 64-256-256-10 eval, B1
//! 784-128-10 batch of 1024, D1 784-128-10 masked pass at p = 0.5 and p = 0, TR training step
//! of 64-256-256-10 on a batch of 64; `B1/threads` and `TR/threads` run B1 and TR on every
//! core (`dropout::parallel`). `benches/run.py` turns the results into BENCHMARKS.md.
//! `D1/half_in_one_block` drops as many units as p = 0.5 does, each site's upper half.
//! `T1/by_hand` is the toy network written out by hand; `L2/M2` and `L2/M3` stream as many
//! bytes as those networks' parameters (`benches/common`). The ratios BENCHMARKS.md states as
//! goals come from `benches/ratios.rs`, which alternates the two sides of each ratio.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use dropout::toy::Toy;
use dropout::train::{Loss, Optimizer, OptimizerState, gradients_batch};
use dropout::{Layer, Network};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2};
use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

mod common;
use common::{
    Mlp, MlpMasks, Mnist, MnistMasks, ParallelStep, TOY, parameter_bytes, random_rows, single,
    stream, toy_by_hand, tr_batch,
};

/// The same computation over `Array2` with shapes known only at run time: `a ← relu(W·a + b)`.
struct DynamicMlp {
    layers: Vec<(Array2<f32>, Array1<f32>, bool)>,
}

impl DynamicMlp {
    fn of<N: Network<Scalar = f32>>(net: &N) -> Self {
        let layers = N::SPEC
            .layers
            .iter()
            .enumerate()
            .map(|(idx, spec)| {
                let layer: &dyn Layer<f32> = net.layer(idx).expect("declared layer");
                let w = Array2::from_shape_fn((spec.size, spec.fan_in), |(n, i)| {
                    layer.weight(n, i).unwrap_or(0.0)
                });
                let b = Array1::from(layer.biases().to_vec());
                (w, b, spec.activation == dropout::Activation::Relu)
            })
            .collect();
        DynamicMlp { layers }
    }

    fn forward(&self, x: &ArrayView1<'_, f32>) -> Array1<f32> {
        let mut a = x.to_owned();
        for (w, b, relu) in &self.layers {
            a = w.dot(&a) + b;
            if *relu {
                a.mapv_inplace(|v| v.max(0.0));
            }
        }
        a
    }

    fn forward_batch(&self, x: &ArrayView2<'_, f32>) -> Array2<f32> {
        let mut a = x.to_owned();
        for (w, b, relu) in &self.layers {
            a = a.dot(&w.t()) + b;
            if *relu {
                a.mapv_inplace(|v| v.max(0.0));
            }
        }
        a
    }
}

fn toy(c: &mut Criterion) {
    let net = Toy::new();
    let baseline = DynamicMlp::of(&net);
    let x = [1.0_f32, 1.0];
    common::check_toy_by_hand();
    c.bench_function("T1/dropout", |b| b.iter(|| TOY.forward(black_box(&x))));
    c.bench_function("T1/by_hand", |b| b.iter(|| toy_by_hand(black_box(&x))));
    c.bench_function("T1/ndarray", |b| {
        b.iter(|| baseline.forward(&black_box(ArrayView1::from(&x))));
    });
    let batch = random_rows(4096, 2, 1);
    c.bench_function("T2/dropout", |b| {
        b.iter(|| net.forward_batch(black_box(batch.view())));
    });
    c.bench_function("T2/ndarray", |b| {
        b.iter(|| baseline.forward_batch(&black_box(batch.view())));
    });
}

fn mnist(c: &mut Criterion) {
    let net = Mnist::init(&mut ChaCha8Rng::seed_from_u64(2));
    let baseline = DynamicMlp::of(&net);
    let rows = random_rows(1024, 784, 3);
    let x: [f32; 784] = single(&rows);
    c.bench_function("M2/dropout", |b| b.iter(|| net.forward(black_box(&x))));
    c.bench_function("M2/ndarray", |b| {
        b.iter(|| baseline.forward(&black_box(rows.row(0))));
    });
    c.bench_function("B1/dropout", |b| {
        b.iter(|| net.forward_batch(black_box(rows.view())));
    });
    c.bench_function("B1/ndarray", |b| {
        b.iter(|| baseline.forward_batch(&black_box(rows.view())));
    });
    // B1 on every core: `parallel::rows` on rayon's global pool, one thread per core.
    c.bench_function("B1/threads", |b| {
        b.iter(|| dropout::parallel::rows(black_box(&rows), |rows| net.forward_batch(rows)));
    });

    // D1: the same masked pass under masks drawn at p = 0.5 and under all-ones masks (p = 0).
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let masks: Vec<MnistMasks> = (0..64).map(|_| net.sample_masks(&mut rng)).collect();
    let mut k = 0;
    c.bench_function("D1/p0.5", |b| {
        b.iter(|| {
            k = (k + 1) % masks.len();
            net.forward_masked(black_box(&x), black_box(&masks[k]))
        });
    });
    c.bench_function("D1/p0", |b| {
        b.iter(|| net.forward_masked(black_box(&x), black_box(&MnistMasks::ALL_KEPT)));
    });
    // As many units dropped as at p = 0.5, each site's upper half: the kept rows are contiguous.
    let block = MnistMasks {
        input: std::array::from_fn(|i| i < 392),
        h1: std::array::from_fn(|n| n < 64),
    };
    c.bench_function("D1/half_in_one_block", |b| {
        b.iter(|| net.forward_masked(black_box(&x), black_box(&block)));
    });
}

fn mlp(c: &mut Criterion) {
    let net = Mlp::init(&mut ChaCha8Rng::seed_from_u64(5));
    let baseline = DynamicMlp::of(&net);
    // M3's input is TR's first row.
    let (rows, targets) = tr_batch();
    let x: [f32; 64] = single(&rows);
    c.bench_function("M3/dropout", |b| b.iter(|| net.forward(black_box(&x))));
    c.bench_function("M3/ndarray", |b| {
        b.iter(|| baseline.forward(&black_box(rows.row(0))));
    });

    // TR: one SGD step on a batch of 64 under fresh masks.
    let mut trained = net;
    let mut state = OptimizerState::<Mlp>::new(Optimizer::sgd(0.01).with_momentum(0.9))
        .expect("valid hyperparameters");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    c.bench_function("TR/dropout", |b| {
        b.iter(|| {
            let masks: Vec<MlpMasks> = (0..64).map(|_| trained.sample_masks(&mut rng)).collect();
            let (loss, grads) =
                gradients_batch(&trained, &rows, &masks, &targets, Loss::SoftmaxCrossEntropy)
                    .expect("shapes fit");
            state.step(&mut trained, &grads).expect("a finite step");
            loss
        });
    });
    // TR on every core.
    let mut step = ParallelStep::new();
    c.bench_function("TR/threads", |b| b.iter(|| step.run()));
}

/// `L2/<id>`: [`stream::sum`] over as many bytes as workload `<id>`'s parameters.
fn limits(c: &mut Criterion) {
    for (id, bytes) in [
        ("M2", parameter_bytes::<Mnist>()),
        ("M3", parameter_bytes::<Mlp>()),
    ] {
        let data: Vec<f32> = (0..bytes / 4).map(|i| (i % 7) as f32).collect();
        c.bench_function(&format!("L2/{id}"), |b| {
            b.iter(|| stream::sum(black_box(&data)));
        });
    }
}

criterion_group!(benches, toy, mnist, mlp, limits);
criterion_main!(benches);
