//! What the benchmarks share: the networks of the workloads, the toy network written out by
//! hand, and the streaming probe that measures the limit of a single-sample pass.

use dropout::toy::Toy;
use dropout::train::{Loss, Optimizer, OptimizerState, Workspace};
use dropout::{Network, network};
use ndarray::Array2;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt as _, SeedableRng as _};

network! {
    /// 784-128-10 with dropout on the input and the hidden layer.
    pub struct Mnist<f32> {
        input: 784, dropout(p = 0.5),
        dense 128 relu, dropout(p = 0.5),
        dense 10 identity,
        // Its int8 twin, quantized in the benchmarks (Q2, QB).
        quantize: int8 as MnistI8,
    }
}

network! {
    /// 64-256-256-10 with dropout on both hidden layers.
    pub struct Mlp<f32> {
        input: 64,
        dense 256 relu, dropout(p = 0.5),
        dense 256 relu, dropout(p = 0.5),
        dense 10 identity,
    }
}

/// TR's batch: 64 random rows of 64 inputs, and one-hot targets over the 10 outputs.
pub fn tr_batch() -> (Array2<f32>, Array2<f32>) {
    let targets = Array2::from_shape_fn((64, 10), |(r, c)| f32::from(u8::from(r % 10 == c)));
    (random_rows(64, 64, 6), targets)
}

/// TR's training step on the current rayon pool: a step of SGD with momentum on [`tr_batch`]
/// under fresh masks, with the masks (`parallel::sample_masks`), the gradients of the batch's
/// chunks (`Workspace::gradients_batch_parallel`) and the optimizer's blocks of parameters
/// (`step_parallel`) on the pool's threads, the step's buffers kept in a workspace as the
/// trainer keeps them. `benches/workloads.rs` times it on every core (`TR/threads`),
/// `benches/ratios.rs` against one thread (P4).
pub struct ParallelStep {
    net: Box<Mlp>,
    state: OptimizerState<Mlp>,
    workspace: Workspace<Mlp>,
    rng: ChaCha8Rng,
    rows: Array2<f32>,
    targets: Array2<f32>,
}

impl ParallelStep {
    pub fn new() -> Self {
        let (rows, targets) = tr_batch();
        Self {
            net: Box::new(Mlp::init(&mut ChaCha8Rng::seed_from_u64(5))),
            state: OptimizerState::new(Optimizer::sgd(0.01).with_momentum(0.9))
                .expect("valid hyperparameters"),
            workspace: Workspace::new(),
            rng: ChaCha8Rng::seed_from_u64(7),
            rows,
            targets,
        }
    }

    /// One step; its loss.
    pub fn run(&mut self) -> f64 {
        let masks = dropout::parallel::sample_masks(&*self.net, 64, &mut self.rng);
        let (loss, grads) = self
            .workspace
            .gradients_batch_parallel(
                &*self.net,
                &self.rows,
                &masks,
                &self.targets,
                Loss::SoftmaxCrossEntropy,
            )
            .expect("shapes fit");
        self.state
            .step_parallel(&mut *self.net, grads)
            .expect("a finite step");
        loss
    }
}

pub fn random_rows(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, cols), |_| rng.random_range(-1.0..1.0))
}

pub fn single<const N: usize>(rows: &Array2<f32>) -> [f32; N] {
    std::array::from_fn(|i| rows[[0, i]])
}

/// The toy network's evaluation pass written out by hand, as its author might without a
/// library: straight-line code with the weights as literals, the same operations in the same
/// order (bias first, then inputs; kept units scaled by keep = 0.5 at each site).
#[expect(
    clippy::neg_multiply,
    clippy::trivially_copy_pass_by_ref,
    reason = "written as the declaration reads, one product per weight, with the signature of the generated `forward`"
)]
pub fn toy_by_hand(x: &[f32; 2]) -> [f32; 1] {
    let relu = |v: f32| if v < 0.0 { 0.0 } else { v };
    let [x0, x1] = *x;
    let h1 = [
        relu(0.5 + x0 * 1.0 + x1 * -1.0),
        relu(-1.0 + x0 * 2.0 + x1 * 1.0),
        relu(0.0 + x0 * -1.0 + x1 * 3.0),
    ];
    let a = h1.map(|v| v * 0.5);
    let h2 = [
        relu(0.0 + a[0] * 1.0 + a[1] * 1.0 + a[2] * -1.0),
        relu(0.5 + a[0] * 0.5 + a[1] * -2.0 + a[2] * 1.0),
        relu(-1.0 + a[0] * -1.0 + a[1] * 1.0 + a[2] * 2.0),
    ];
    let a = h2.map(|v| v * 0.5);
    let h3 = [
        relu(1.0 + a[0] * 2.0 + a[1] * -1.0 + a[2] * 1.0),
        relu(0.0 + a[0] * 1.0 + a[1] * 1.0 + a[2] * -1.0),
    ];
    let a = h3.map(|v| v * 0.5);
    [0.5 + a[0] * 1.0 + a[1] * -2.0]
}

/// The toy network as a program would hold a network whose weights it declares: in a `static`.
pub static TOY: Toy = Toy::new();

/// Asserts that [`toy_by_hand`] computes what the declared toy network does, bit for bit, on
/// inputs that exercise every branch of its ReLUs and NaN: the comparison is only fair if they
/// do the same work.
pub fn check_toy_by_hand() {
    for probe in [[1.0, 1.0], [0.3, -2.0], [-1.5, 0.25], [f32::NAN, 1.0]] {
        assert_eq!(
            toy_by_hand(&probe).map(f32::to_bits),
            TOY.forward(&probe).map(f32::to_bits),
            "the hand-written toy computes what the declared one does"
        );
    }
}

/// The number of bytes of a network's parameters (weights and biases).
pub fn parameter_bytes<N: Network>() -> usize {
    N::SPEC
        .layers
        .iter()
        .map(|l| (l.fan_in + 1) * l.size * std::mem::size_of::<N::Scalar>())
        .sum()
}

/// The limit of a single-sample pass: reading as many bytes as the network's parameters, from
/// a buffer that stays in the L2 cache between calls, and summing them on the widest vectors
/// the CPU has, in eight independent sums.
pub mod stream {
    /// The sum of `data`.
    pub fn sum(data: &[f32]) -> f32 {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                #[expect(
                    unsafe_code,
                    reason = "calling a target_feature function after checking the CPU"
                )]
                // SAFETY: the CPU has AVX-512F, checked above.
                return unsafe { sum_avx512(data) };
            }
            if std::is_x86_feature_detected!("avx2") {
                #[expect(
                    unsafe_code,
                    reason = "calling a target_feature function after checking the CPU"
                )]
                // SAFETY: the CPU has AVX2, checked above.
                return unsafe { sum_avx2(data) };
            }
        }
        sum_portable(data)
    }

    #[expect(
        clippy::inline_always,
        reason = "inlined into each `target_feature` function, which is what compiles it for that set"
    )]
    #[inline(always)]
    fn sum_portable(data: &[f32]) -> f32 {
        // Eight vectors of sixteen lanes: eight independent chains of adds.
        let mut acc = [0.0_f32; 128];
        let mut chunks = data.chunks_exact(128);
        for chunk in &mut chunks {
            for (a, &v) in acc.iter_mut().zip(chunk) {
                *a += v;
            }
        }
        acc.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn sum_avx512(data: &[f32]) -> f32 {
        sum_portable(data)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn sum_avx2(data: &[f32]) -> f32 {
        sum_portable(data)
    }
}
