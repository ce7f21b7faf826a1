//! The goals of BENCHMARKS.md that are ratios between two passes in the same process: each
//! single-sample pass against streaming its parameters' bytes from the L2 cache (M2, M3), the
//! masked pass at p = 0.5 against p = 0 (D1), the declared toy against the same network written
//! out by hand (T1), and batches of small networks against a loop of single passes over the same
//! 100,000 rows (S1–S5, evaluation; S6, masked), and the `parallel` passes on every core against
//! one thread (P1 and P3, batches; P2, Monte Carlo dropout; P4, a training step; P5, an int8
//! batch). Where the int8 kernels run on AVX2, `QB/peak` is not a goal but the ceiling of QB:
//! the instructions of an exact int8 product against those of an `f32` one, in registers.
//!
//! ```text
//! cargo bench --bench ratios              # a table
//! cargo bench --bench ratios -- --json    # JSON, for benches/run.py
//! cargo bench --bench ratios -- --test    # one short round (what CI does)
//! cargo bench --bench ratios -- --threads # only the passes on every core (P1–P5)
//! cargo bench --bench ratios -- --one-thread # all but those
//! ```
//!
//! The two sides of a ratio are timed alternately, round after round (the median over many
//! timed blocks of calls each time), and the ratio reported is the median of the rounds'
//! ratios. On a shared machine whose speed drifts by 10–30 % from one second to the next, this
//! is what keeps a ratio stable: both sides of a round see the same machine.

use std::hint::black_box;
use std::time::Instant;

use dropout::{InstructionSet, Network, network};
use ndarray::{Array2, ArrayView2};
use rand::rngs::ChaCha8Rng;
use rand::{RngExt as _, SeedableRng as _};

mod common;
use common::{
    Mlp, Mnist, MnistI8, MnistMasks, ParallelStep, TOY, parameter_bytes, random_rows, single,
    stream,
};

network! {
    /// 4-16-3, f32.
    struct Small32<f32> { input: 4, dense 16 relu, dropout(p = 0.5), dense 3 identity }
}
network! {
    /// 4-16-3, f64.
    struct Small64<f64> { input: 4, dense 16 relu, dropout(p = 0.5), dense 3 identity }
}
network! {
    /// 4-16-3 with softmax, f32.
    struct Soft32<f32> { input: 4, dense 16 relu, dropout(p = 0.5), dense 3 softmax }
}
network! {
    /// 4-16-3 with softmax, f64.
    struct Soft64<f64> { input: 4, dense 16 relu, dropout(p = 0.5), dense 3 softmax }
}
network! {
    /// 2-8-1, f32.
    struct Tiny<f32> { input: 2, dense 8 relu, dropout(p = 0.5), dense 1 identity }
}

/// Rows of a small batch benchmark.
const ROWS: usize = 100_000;

/// A loop of `forward` over the rows of `x`, into a preallocated matrix: what a user writes
/// without the batch pass.
fn forward_loop<N, T, const IN: usize, const OUT: usize>(
    net: &N,
    x: &Array2<T>,
    out: &mut Array2<T>,
) where
    N: Network<Scalar = T, Input = [T; IN], Output = [T; OUT]>,
    T: Copy,
{
    for (row, mut target) in x.rows().into_iter().zip(out.rows_mut()) {
        let input: [T; IN] = std::array::from_fn(|i| row[i]);
        let y = net.forward(&input);
        for (slot, v) in target.iter_mut().zip(y) {
            *slot = v;
        }
    }
}

/// The rows of a batch benchmark, in the scalar type `T`.
fn rows<T: dropout::Float>(cols: usize) -> Array2<T> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    Array2::from_shape_fn((ROWS, cols), |_| T::from_f64(rng.random_range(-1.0..1.0)))
}

/// Batch against loop for one small network.
macro_rules! batch_goal {
    ($id:literal, $net:ident, $t:ty, $in:literal, $out:literal, $what:literal, $rounds:expr, $blocks:expr) => {{
        let net = $net::init(&mut ChaCha8Rng::seed_from_u64(12));
        let x: Array2<$t> = rows($in);
        let mut out = Array2::<$t>::zeros((ROWS, $out));
        ratio(
            $id,
            format!(
                "{}, forward_batch of {ROWS} rows against a loop of forward",
                $what
            ),
            1.0 / 1.5,
            $rounds,
            $blocks,
            &mut || {
                black_box(net.forward_batch(black_box(x.view())).ok());
            },
            &mut || {
                forward_loop::<_, $t, $in, $out>(&net, black_box(&x), &mut out);
                black_box(&out);
            },
        )
    }};
}

/// How long a timed block of calls lasts, at least.
const BLOCK_NS: u128 = 20_000;

/// The median time of one call of `f`, over `blocks` blocks of `calls` calls.
fn median_ns(f: &mut dyn FnMut(), calls: usize, blocks: usize) -> f64 {
    let mut times: Vec<f64> = (0..blocks)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..calls {
                f();
            }
            start.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// How many calls of `f` make a block of at least [`BLOCK_NS`].
fn calls_per_block(f: &mut dyn FnMut()) -> usize {
    let mut calls = 1;
    loop {
        let start = Instant::now();
        for _ in 0..calls {
            f();
        }
        if start.elapsed().as_nanos() >= BLOCK_NS || calls >= 1 << 24 {
            return calls;
        }
        calls *= 2;
    }
}

/// One ratio goal: `ours / reference`, with its limit (none for a ceiling, which is measured, not
/// aimed at).
struct Goal {
    id: &'static str,
    ours: f64,
    reference: f64,
    ratio: f64,
    limit: Option<f64>,
    what: String,
}

/// Times `ours` and `reference` alternately for `rounds` rounds.
fn ratio(
    id: &'static str,
    what: String,
    limit: f64,
    rounds: usize,
    blocks: usize,
    ours: &mut dyn FnMut(),
    reference: &mut dyn FnMut(),
) -> Goal {
    let (ours_calls, reference_calls) = (calls_per_block(ours), calls_per_block(reference));
    let mut times = Vec::new();
    for _ in 0..rounds {
        let a = median_ns(ours, ours_calls, blocks);
        let b = median_ns(reference, reference_calls, blocks);
        times.push((a, b, a / b));
    }
    let median = |pick: fn(&(f64, f64, f64)) -> f64| {
        let mut values: Vec<f64> = times.iter().map(pick).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    Goal {
        id,
        ours: median(|t| t.0),
        reference: median(|t| t.1),
        ratio: median(|t| t.2),
        limit: Some(limit),
        what,
    }
}

/// S1–S6: batches of small networks against loops of single passes.
fn batch_goals(test: bool) -> Vec<Goal> {
    let mut goals = Vec::new();
    // Each call takes milliseconds: fewer blocks.
    let (batch_rounds, batch_blocks) = if test { (1, 1) } else { (7, 5) };
    goals.push(batch_goal!(
        "S1",
        Small32,
        f32,
        4,
        3,
        "4-16-3 f32 identity",
        batch_rounds,
        batch_blocks
    ));
    goals.push(batch_goal!(
        "S2",
        Small64,
        f64,
        4,
        3,
        "4-16-3 f64 identity",
        batch_rounds,
        batch_blocks
    ));
    goals.push(batch_goal!(
        "S3",
        Soft32,
        f32,
        4,
        3,
        "4-16-3 f32 softmax",
        batch_rounds,
        batch_blocks
    ));
    goals.push(batch_goal!(
        "S4",
        Soft64,
        f64,
        4,
        3,
        "4-16-3 f64 softmax",
        batch_rounds,
        batch_blocks
    ));
    goals.push(batch_goal!(
        "S5",
        Tiny,
        f32,
        2,
        1,
        "2-8-1 f32 identity",
        batch_rounds,
        batch_blocks
    ));
    {
        let net = Small32::init(&mut ChaCha8Rng::seed_from_u64(12));
        let x: Array2<f32> = rows(4);
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let masks: Vec<Small32Masks> = (0..ROWS).map(|_| net.sample_masks(&mut rng)).collect();
        let mut out = Array2::<f32>::zeros((ROWS, 3));
        goals.push(ratio(
            "S6",
            format!(
                "4-16-3 f32, forward_batch_masked of {ROWS} rows against a loop of forward_masked"
            ),
            1.0 / 1.5,
            batch_rounds,
            batch_blocks,
            &mut || {
                black_box(net.forward_batch_masked(black_box(x.view()), &masks).ok());
            },
            &mut || {
                let view: ArrayView2<'_, f32> = x.view();
                for ((row, mut target), m) in
                    view.rows().into_iter().zip(out.rows_mut()).zip(&masks)
                {
                    let input: [f32; 4] = std::array::from_fn(|i| row[i]);
                    let y = net.forward_masked(&input, m);
                    for (slot, v) in target.iter_mut().zip(y) {
                        *slot = v;
                    }
                }
                black_box(&out);
            },
        ));
    }

    goals
}

/// The int8 twin of 784-128-10 against the f32 network: one sample (Q2) and a batch of 1024
/// rows (QB; the twin's rows one after another, the f32 network's `forward_batch`).
fn int8_goals(mnist: &Mnist, rounds: usize, blocks: usize) -> Vec<Goal> {
    let batch = random_rows(1024, 784, 3);
    let rows: Vec<[f32; 784]> = batch
        .rows()
        .into_iter()
        .map(|row| std::array::from_fn(|i| row[i]))
        .collect();
    let twin = Box::new(MnistI8::quantize(mnist, &rows).expect("finite rows"));
    let input = twin.h1.frame().input;
    let quantized: Vec<[i8; 784]> = rows.iter().map(|r| r.map(|v| input.quantize(v))).collect();
    let mut out = vec![[0i8; 10]; quantized.len()];
    let x784 = rows[0];
    vec![
        ratio(
            "Q2",
            "784-128-10 int8 twin, one forward_quantized, against the f32 forward".into(),
            0.4,
            rounds,
            blocks,
            &mut || {
                black_box(twin.forward_quantized(black_box(&quantized[0])));
            },
            &mut || {
                black_box(mnist.forward(black_box(&x784)));
            },
        ),
        ratio(
            "QB",
            "784-128-10 int8 twin, 1024 rows of forward_quantized, against the f32 forward_batch"
                .into(),
            0.5,
            rounds,
            blocks.min(31),
            &mut || {
                twin.forward_quantized_batch(black_box(&quantized), &mut out)
                    .ok();
                black_box(&out);
            },
            &mut || {
                black_box(mnist.forward_batch(black_box(batch.view())).ok());
            },
        ),
    ]
}

/// `QB/peak`: the most that AVX2's instructions allow the int8 batch (QB) against the `f32` one
/// on this CPU, where the int8 kernels run on AVX2 (no AVX-512 VNNI). 32 exact int8 products
/// take two `vpmaddwd` (16-bit pairs multiplied and summed into 32 bits) and two `vpaddd` (into
/// the sums); 32 `f32` products take four 8-lane FMAs, which add as they multiply. Each side is
/// a loop of eight independent chains in registers, without memory, so neither waits on
/// anything but its own instructions: the ratio of their times per product is the fastest the
/// int8 batch can be against the `f32` batch, were both kernels to run at their instructions'
/// peak. `vpmaddubsw`, which multiplies bytes directly, needs a further instruction per 32
/// products to stay exact (docs/DESIGN.md, "Int8 kernels").
#[cfg(target_arch = "x86_64")]
fn int8_peak(rounds: usize, blocks: usize) -> Option<Goal> {
    use std::arch::asm;

    /// Loop iterations per call: 128 products each (int8), 64 (f32, run twice as many).
    const STEPS: usize = 1000;
    if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
        || (is_x86_feature_detected!("avx512vnni") && is_x86_feature_detected!("avx512bw"))
    {
        return None;
    }
    // Not a goal: measured like one, then given no limit.
    let ceiling = ratio(
        "QB/peak",
        "32 int8 products as 2 vpmaddwd + 2 vpaddd against 32 f32 products as 4 FMAs, in registers"
            .into(),
        f64::NAN,
        rounds,
        blocks,
        &mut || {
            #[expect(unsafe_code, reason = "the instructions under test, in assembly")]
            // SAFETY: AVX2 was detected above; the loop touches only the registers it names.
            unsafe {
                asm!(
                    "vpxor ymm14, ymm14, ymm14",
                    "vpxor ymm15, ymm15, ymm15",
                    "2:",
                    "vpmaddwd ymm8, ymm14, ymm15", "vpaddd ymm0, ymm0, ymm8",
                    "vpmaddwd ymm9, ymm14, ymm15", "vpaddd ymm1, ymm1, ymm9",
                    "vpmaddwd ymm10, ymm14, ymm15", "vpaddd ymm2, ymm2, ymm10",
                    "vpmaddwd ymm11, ymm14, ymm15", "vpaddd ymm3, ymm3, ymm11",
                    "vpmaddwd ymm8, ymm14, ymm15", "vpaddd ymm4, ymm4, ymm8",
                    "vpmaddwd ymm9, ymm14, ymm15", "vpaddd ymm5, ymm5, ymm9",
                    "vpmaddwd ymm10, ymm14, ymm15", "vpaddd ymm6, ymm6, ymm10",
                    "vpmaddwd ymm11, ymm14, ymm15", "vpaddd ymm7, ymm7, ymm11",
                    "dec {n}",
                    "jnz 2b",
                    n = inout(reg) black_box(STEPS) => _,
                    out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
                    out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _,
                    out("ymm8") _, out("ymm9") _, out("ymm10") _, out("ymm11") _,
                    out("ymm14") _, out("ymm15") _,
                    options(nomem, nostack),
                );
            }
        },
        &mut || {
            #[expect(unsafe_code, reason = "the instructions under test, in assembly")]
            // SAFETY: FMA (and AVX) was detected above; as for the int8 loop.
            unsafe {
                asm!(
                    // Zeros throughout: no subnormal operand, which some CPUs take slowly.
                    "vxorps ymm0, ymm0, ymm0", "vxorps ymm1, ymm1, ymm1",
                    "vxorps ymm2, ymm2, ymm2", "vxorps ymm3, ymm3, ymm3",
                    "vxorps ymm4, ymm4, ymm4", "vxorps ymm5, ymm5, ymm5",
                    "vxorps ymm6, ymm6, ymm6", "vxorps ymm7, ymm7, ymm7",
                    "vxorps ymm14, ymm14, ymm14", "vxorps ymm15, ymm15, ymm15",
                    "2:",
                    "vfmadd231ps ymm0, ymm14, ymm15", "vfmadd231ps ymm1, ymm14, ymm15",
                    "vfmadd231ps ymm2, ymm14, ymm15", "vfmadd231ps ymm3, ymm14, ymm15",
                    "vfmadd231ps ymm4, ymm14, ymm15", "vfmadd231ps ymm5, ymm14, ymm15",
                    "vfmadd231ps ymm6, ymm14, ymm15", "vfmadd231ps ymm7, ymm14, ymm15",
                    "dec {n}",
                    "jnz 2b",
                    n = inout(reg) black_box(2 * STEPS) => _,
                    out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
                    out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _,
                    out("ymm14") _, out("ymm15") _,
                    options(nomem, nostack),
                );
            }
        },
    );
    Some(Goal {
        limit: None,
        ..ceiling
    })
}

/// P1–P5: the `parallel` passes on every core of the machine against the same passes on a pool
/// of one thread (the same bits: `tests/parallel.rs`). P3 is B1 and P4 TR of BENCHMARKS.md
/// (`benches/workloads.rs`) on the threads, P5 the int8 batch of QB; their times on every core
/// are what `benches/run.py` compares with the peers at their default thread counts.
fn parallel_goals(mnist: &Mnist, rounds: usize, blocks: usize) -> Vec<Goal> {
    use dropout::parallel::{self, Pool};

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let (all, one) = (
        Pool::new(cores).expect("a pool of every core"),
        Pool::new(1).expect("a pool of one thread"),
    );
    // The goal: ≥ 0.85 × cores the speed of one thread, ≥ 1.8× on two cores.
    let speed_up = if cores == 2 { 1.8 } else { 0.85 * cores as f64 };
    let limit = 1.0 / speed_up.max(1.0);
    let blocks = blocks.min(11);
    let mut goals = Vec::new();
    let batch = random_rows(8192, 784, 7);
    let pass = |pool: &Pool| {
        let y = pool.install(|| parallel::rows(&batch, |rows| mnist.forward_batch(rows)));
        black_box(y.ok());
    };
    goals.push(ratio(
        "P1",
        format!(
            "784-128-10, forward_batch of 8192 rows in parallel::rows on {cores} threads, against 1"
        ),
        limit,
        rounds,
        blocks,
        &mut || pass(&all),
        &mut || pass(&one),
    ));
    let x: [f32; 784] = single(&random_rows(1, 784, 8));
    let mc = |pool: &Pool| {
        let moments = pool
            .install(|| parallel::predict_mc(mnist, &x, 1000, &mut ChaCha8Rng::seed_from_u64(9)));
        black_box(moments.ok());
    };
    goals.push(ratio(
        "P2",
        format!("784-128-10, parallel::predict_mc with T = 1000 on {cores} threads, against 1"),
        limit,
        rounds,
        blocks,
        &mut || mc(&all),
        &mut || mc(&one),
    ));
    let b1 = random_rows(1024, 784, 3);
    let pass = |pool: &Pool| {
        let y = pool.install(|| parallel::rows(&b1, |rows| mnist.forward_batch(rows)));
        black_box(y.ok());
    };
    goals.push(ratio(
        "P3",
        format!("B1 (784-128-10, forward_batch of 1024 rows) in parallel::rows on {cores} threads, against 1"),
        limit,
        rounds,
        blocks,
        &mut || pass(&all),
        &mut || pass(&one),
    ));
    goals.extend(training_and_int8_goals(
        mnist,
        (&all, &one),
        limit,
        rounds,
        blocks,
    ));
    goals
}

/// P4 and P5 of [`parallel_goals`]: a training step and an int8 batch, on the pools `all` and
/// `one`.
fn training_and_int8_goals(
    mnist: &Mnist,
    (all, one): (&dropout::parallel::Pool, &dropout::parallel::Pool),
    limit: f64,
    rounds: usize,
    blocks: usize,
) -> Vec<Goal> {
    use dropout::parallel::{self, Pool};

    let cores = all.threads();
    let mut goals = Vec::new();
    // TR's step on the threads (`common::ParallelStep`).
    let mut parallel_step = ParallelStep::new();
    let mut step = |pool: &Pool| {
        black_box(pool.install(|| parallel_step.run()));
    };
    let step = std::cell::RefCell::new(&mut step);
    goals.push(ratio(
        "P4",
        format!("TR (64-256-256-10, a training step on a batch of 64) with parallel::sample_masks, Workspace::gradients_batch_parallel and step_parallel on {cores} threads, against 1"),
        limit,
        rounds,
        blocks,
        &mut || (step.borrow_mut())(all),
        &mut || (step.borrow_mut())(one),
    ));
    let b1 = random_rows(1024, 784, 3);
    let twin = Box::new(MnistI8::quantize(mnist, &rows_of(&b1)).expect("finite rows"));
    let input = twin.h1.frame().input;
    let quantized: Vec<[i8; 784]> = rows_of(&b1)
        .iter()
        .map(|r| r.map(|v| input.quantize(v)))
        .collect();
    let out = std::cell::RefCell::new(vec![[0i8; 10]; quantized.len()]);
    let int8 = |pool: &Pool| {
        let mut out = out.borrow_mut();
        let y: &mut [[i8; 10]] = &mut out;
        pool.install(|| parallel::slices(&quantized, y, |x, y| twin.forward_quantized_batch(x, y)))
            .ok();
        black_box(&out);
    };
    goals.push(ratio(
        "P5",
        format!(
            "QB (784-128-10 int8 twin, 1024 rows) in parallel::slices on {cores} threads, against 1"
        ),
        limit,
        rounds,
        blocks,
        &mut || int8(all),
        &mut || int8(one),
    ));
    goals
}

/// The rows of a matrix as arrays.
fn rows_of<const N: usize>(x: &Array2<f32>) -> Vec<[f32; N]> {
    x.rows()
        .into_iter()
        .map(|row| std::array::from_fn(|i| row[i]))
        .collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let test = args.iter().any(|a| a == "--test");
    let json = args.iter().any(|a| a == "--json");
    // `--threads`: only P1–P5, the passes on every core; `--one-thread`: everything else.
    // `benches/run.py` runs the second pinned to one CPU and the first on the whole machine.
    let (threads, one_thread) = (
        args.iter().any(|a| a == "--threads"),
        args.iter().any(|a| a == "--one-thread"),
    );
    let (rounds, blocks) = if test { (1, 3) } else { (15, 101) };
    common::check_toy_by_hand();

    let mnist = Box::new(Mnist::init(&mut ChaCha8Rng::seed_from_u64(2)));
    let mlp = Box::new(Mlp::init(&mut ChaCha8Rng::seed_from_u64(5)));
    let x784: [f32; 784] = single(&random_rows(1, 784, 3));
    let x64: [f32; 64] = single(&random_rows(1, 64, 6));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let masks: Vec<MnistMasks> = (0..64).map(|_| mnist.sample_masks(&mut rng)).collect();
    let x2 = [1.0_f32, 1.0];

    let mut results = Vec::new();
    if threads {
        results.extend(parallel_goals(&mnist, rounds, blocks));
        return report(&results, rounds, json);
    }
    for (id, network, bytes) in [
        ("M2", "784-128-10", parameter_bytes::<Mnist>()),
        ("M3", "64-256-256-10", parameter_bytes::<Mlp>()),
    ] {
        let data: Vec<f32> = (0..bytes / 4).map(|i| (i % 7) as f32).collect();
        let mut ours: Box<dyn FnMut()> = if id == "M2" {
            Box::new(|| {
                black_box(mnist.forward(black_box(&x784)));
            })
        } else {
            Box::new(|| {
                black_box(mlp.forward(black_box(&x64)));
            })
        };
        results.push(ratio(
            id,
            format!("{network}, one evaluation, against streaming its {bytes} bytes of parameters"),
            1.3,
            rounds,
            blocks,
            &mut ours,
            &mut || {
                black_box(stream::sum(black_box(&data)));
            },
        ));
    }
    let mut k = 0;
    results.push(ratio(
        "D1",
        "784-128-10 masked pass, random masks at p = 0.5 against all kept".into(),
        0.6,
        rounds,
        blocks,
        &mut || {
            k = (k + 1) % masks.len();
            black_box(mnist.forward_masked(black_box(&x784), black_box(&masks[k])));
        },
        &mut || {
            black_box(mnist.forward_masked(black_box(&x784), black_box(&MnistMasks::ALL_KEPT)));
        },
    ));
    results.push(ratio(
        "T1",
        "toy 2-3-3-2-1 in a `static`, one evaluation, against the same network written by hand"
            .into(),
        1.1,
        rounds,
        blocks,
        &mut || {
            black_box(TOY.forward(black_box(&x2)));
        },
        &mut || {
            black_box(common::toy_by_hand(black_box(&x2)));
        },
    ));

    results.extend(int8_goals(&mnist, rounds, blocks));
    #[cfg(target_arch = "x86_64")]
    results.extend(int8_peak(rounds, blocks));
    if !one_thread {
        results.extend(parallel_goals(&mnist, rounds, blocks));
    }
    results.extend(batch_goals(test));
    report(&results, rounds, json);
}

/// Prints the results as a table, or as JSON for `benches/run.py`.
fn report(results: &[Goal], rounds: usize, json: bool) {
    let isa = InstructionSet::detected();
    if json {
        let entries: Vec<String> = results
            .iter()
            .map(|r| {
                let goal = r.limit.map_or_else(|| "null".to_owned(), |limit| limit.to_string());
                format!(
                    "    \"{}\": {{\"ours_ns\": {:.3}, \"reference_ns\": {:.3}, \"ratio\": {:.4}, \"goal\": {goal}, \"what\": \"{}\"}}",
                    r.id, r.ours, r.reference, r.ratio, r.what
                )
            })
            .collect();
        println!(
            "{{\n  \"instruction_set\": \"{isa}\",\n  \"rounds\": {rounds},\n  \"ratios\": {{\n{}\n  }}\n}}",
            entries.join(",\n")
        );
    } else {
        println!("kernels on {isa}; median of {rounds} alternating rounds");
        for r in results {
            let goal = r.limit.map_or_else(
                || "a ceiling".to_owned(),
                |limit| format!("goal ≤ {limit}×"),
            );
            println!(
                "{}  {:>10.1} ns vs {:>10.1} ns = {:.2}× ({goal})  {}",
                r.id, r.ours, r.reference, r.ratio, r.what
            );
        }
    }
}
