//! Passes and training spread over threads (feature `parallel`, through rayon's thread pool),
//! with results that do not depend on the number of threads.
//!
//! A batch is cut into chunks of [`CHUNK`] rows, whatever the number of threads, and each
//! chunk runs the pass given to [`rows`] (or [`rows_masked`]); the chunks' outputs are put
//! back in order. Monte Carlo dropout ([`predict_mc`]) seeds each pass's generator from the
//! caller's, in order, [`CHUNK`] passes at a time, draws their masks and runs them on the
//! threads and adds their outputs in order: its moments are bit for bit those of
//! [`stats::predict_mc`](crate::stats::predict_mc) with the same generator. Training on the
//! threads is [`Trainer::fit_parallel`](crate::train::Trainer::fit_parallel) (with the `train`
//! feature). The passes run on
//! rayon's global pool (one thread per core unless configured), or on a pool of a chosen size
//! inside [`with_threads`].
//!
//! ```
//! use dropout::{ndarray::Array2, network, parallel};
//!
//! network! {
//!     struct Tiny<f32> {
//!         input: 2,
//!         dense 3 relu { weights: [[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]], bias: [0.0, 0.1, 0.2] },
//!         dense 1 identity { weights: [[1.0, -2.0, 0.5]], bias: [0.3] },
//!     }
//! }
//! let net = Tiny::new();
//! let x = Array2::from_shape_fn((1000, 2), |(r, c)| (r * 2 + c) as f32 / 1000.0);
//! let one = parallel::with_threads(1, || parallel::rows(&x, |rows| net.forward_batch(rows)))??;
//! let three = parallel::with_threads(3, || parallel::rows(&x, |rows| net.forward_batch(rows)))??;
//! assert_eq!(one, three);
//! assert_eq!(one, net.forward_batch(x.view())?);
//! # Ok::<(), dropout::Error>(())
//! ```

use alloc::vec::Vec;

use ndarray::{Array2, ArrayRef2, ArrayView2, Axis};
use rayon::prelude::*;

use crate::Error;

/// The rows of a batch, or the Monte Carlo passes, given to one task: fixed, so that the work
/// is cut the same way for any number of threads.
pub const CHUNK: usize = 256;

/// A pool of threads that the parallel passes inside [`Pool::install`] run on (rayon's
/// `ThreadPool`).
#[derive(Debug)]
pub struct Pool(rayon::ThreadPool);

impl Pool {
    /// A pool of `threads` threads.
    ///
    /// # Errors
    /// [`Error::Threads`] if `threads` is 0 or the threads cannot be started.
    pub fn new(threads: usize) -> Result<Self, Error> {
        if threads == 0 {
            return Err(Error::Threads(alloc::string::String::from(
                "a pool needs at least one thread",
            )));
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map(Pool)
            .map_err(|err| Error::Threads(alloc::string::ToString::to_string(&err)))
    }

    /// The number of threads.
    pub fn threads(&self) -> usize {
        self.0.current_num_threads()
    }

    /// Runs `f` with every parallel pass inside it on this pool's threads.
    pub fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        self.0.install(f)
    }
}

/// Runs `f` with every parallel pass inside it on a new pool of `threads` threads
/// ([`Pool::new`] and [`Pool::install`]).
///
/// # Errors
/// [`Error::Threads`] if `threads` is 0 or the pool cannot be started.
pub fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> Result<R, Error> {
    Ok(Pool::new(threads)?.install(f))
}

/// `pass` over the rows of `x`, [`CHUNK`] rows at a time on the pool's threads, its outputs
/// stacked in order: say `|rows| net.forward_batch(rows)`.
///
/// # Errors
/// The first error of `pass`, in the order of the chunks.
pub fn rows<T, F>(x: &ArrayRef2<T>, pass: F) -> Result<Array2<T>, Error>
where
    T: Clone + Send + Sync,
    F: Fn(ArrayView2<'_, T>) -> Result<Array2<T>, Error> + Sync,
{
    if x.nrows() <= CHUNK {
        return pass(x.view());
    }
    let chunks: Vec<ArrayView2<'_, T>> = x.axis_chunks_iter(Axis(0), CHUNK).collect();
    let outputs: Vec<Result<Array2<T>, Error>> = chunks.into_par_iter().map(&pass).collect();
    stack(outputs)
}

/// `pass` over the rows of `x` and their masks (`masks[r]` for row `r`), [`CHUNK`] rows at a
/// time: say `|rows, masks| net.forward_batch_masked(rows, masks)`.
///
/// # Errors
/// [`Error::MaskCount`] unless there is one set of masks per row; else the first error of
/// `pass`.
pub fn rows_masked<T, M, F>(x: &ArrayRef2<T>, masks: &[M], pass: F) -> Result<Array2<T>, Error>
where
    T: Clone + Send + Sync,
    M: Sync,
    F: Fn(ArrayView2<'_, T>, &[M]) -> Result<Array2<T>, Error> + Sync,
{
    if masks.len() != x.nrows() {
        return Err(Error::MaskCount {
            expected: x.nrows(),
            found: masks.len(),
        });
    }
    if x.nrows() <= CHUNK {
        return pass(x.view(), masks);
    }
    let chunks: Vec<(ArrayView2<'_, T>, &[M])> = x
        .axis_chunks_iter(Axis(0), CHUNK)
        .zip(masks.chunks(CHUNK))
        .collect();
    let outputs: Vec<Result<Array2<T>, Error>> = chunks
        .into_par_iter()
        .map(|(rows, masks)| pass(rows, masks))
        .collect();
    stack(outputs)
}

/// `pass` on each [`CHUNK`] rows of `x` into the same rows of `y`, on the pool's threads: for
/// passes over slices of rows, say `|x, y| net.forward_quantized_batch(x, y)` of an int8
/// network, as [`rows`] is for matrices.
///
/// # Errors
/// [`Error::OutputRows`] if `y` is not as long as `x` (`y` is then left as it was); else the
/// first error of `pass`, in the order of the chunks.
///
/// ```
/// use dropout::{network, parallel};
///
/// network! {
///     struct Sine<i8> {
///         input: 1, dense 16 relu, dense 16 relu, dense 1 identity,
///         from: tflite("../models/sine.tflite"),
///     }
/// }
/// let net = Sine::new();
/// let x: Vec<[i8; 1]> = (0..1000_u32).map(|k| [(k as u8).cast_signed()]).collect();
/// let mut y = vec![[0i8; 1]; x.len()];
/// parallel::slices(&x, &mut y, |x, y| net.forward_quantized_batch(x, y))?;
/// assert_eq!(y[300], net.forward_quantized(&x[300]));
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn slices<X, Y, F>(x: &[X], y: &mut [Y], pass: F) -> Result<(), Error>
where
    X: Sync,
    Y: Send,
    F: Fn(&[X], &mut [Y]) -> Result<(), Error> + Sync,
{
    if x.len() != y.len() {
        return Err(Error::OutputRows {
            expected: x.len(),
            found: y.len(),
        });
    }
    let results: Vec<Result<(), Error>> = x
        .par_chunks(CHUNK)
        .zip(y.par_chunks_mut(CHUNK))
        .map(|(x, y)| pass(x, y))
        .collect();
    results.into_iter().collect()
}

fn stack<T: Clone>(outputs: Vec<Result<Array2<T>, Error>>) -> Result<Array2<T>, Error> {
    let outputs = outputs.into_iter().collect::<Result<Vec<_>, _>>()?;
    let views: Vec<_> = outputs.iter().map(|output| output.view()).collect();
    ndarray::concatenate(Axis(0), &views).map_err(|err| {
        Error::Threads(alloc::format!(
            "the chunks' outputs do not stack: {err} (a pass gave another width)"
        ))
    })
}

/// Masks for a batch of `rows` samples, drawn on the pool's threads: row `r`'s masks are
/// `net.sample_masks(&mut stats::pass_rng(rng))` of the `r`-th call of
/// [`stats::pass_rng`](crate::stats::pass_rng), whatever the number of threads. For a training
/// loop of one's own ([`train::Workspace`](crate::train::Workspace)), where drawing a batch's
/// masks one bit at a time from `rng` would stay on one thread while the gradients run on all.
///
/// ```
/// use dropout::rand::{SeedableRng, rngs::ChaCha8Rng};
/// use dropout::{Network, parallel, stats, toy::Toy};
///
/// let net = Toy::new();
/// let drawn = parallel::with_threads(3, || {
///     parallel::sample_masks(&net, 100, &mut ChaCha8Rng::seed_from_u64(1))
/// })?;
/// let mut rng = ChaCha8Rng::seed_from_u64(1);
/// let one_by_one: Vec<_> = (0..100).map(|_| net.sample_masks(&mut stats::pass_rng(&mut rng))).collect();
/// assert_eq!(drawn, one_by_one);
/// # Ok::<(), dropout::Error>(())
/// ```
#[cfg(feature = "rand")]
pub fn sample_masks<N, R>(net: &N, rows: usize, rng: &mut R) -> Vec<N::Masks>
where
    N: crate::Network + Sync,
    N::Masks: Send,
    R: rand::Rng + ?Sized,
{
    let seeds: Vec<u64> = crate::stats::pass_seeds(rng, rows).collect();
    seeds
        .par_iter()
        .with_min_len(8)
        .map(|&seed| net.sample_masks(&mut crate::stats::seeded(seed)))
        .collect()
}

/// Monte Carlo dropout as [`stats::predict_mc`](crate::stats::predict_mc), its passes on the
/// pool's threads: each pass's generator is seeded from `rng` in the same order
/// ([`stats::pass_rng`](crate::stats::pass_rng)), a chunk of passes at a time, and the pass
/// draws its masks from it on whichever thread runs it; the outputs are summed in order, so the
/// moments are the same bits for any number of threads.
///
/// # Errors
/// [`Error::NoSamples`] if `samples` is zero.
///
/// ```
/// use dropout::rand::{SeedableRng, rngs::ChaCha8Rng};
/// use dropout::{parallel, stats, toy::Toy};
///
/// let net = Toy::new();
/// let serial = stats::predict_mc(&net, &[1.0, 1.0], 1000, &mut ChaCha8Rng::seed_from_u64(3))?;
/// let threaded = parallel::with_threads(2, || {
///     parallel::predict_mc(&net, &[1.0, 1.0], 1000, &mut ChaCha8Rng::seed_from_u64(3))
/// })??;
/// assert_eq!(serial, threaded);
/// # Ok::<(), dropout::Error>(())
/// ```
#[cfg(feature = "rand")]
pub fn predict_mc<N, R>(
    net: &N,
    x: &N::Input,
    samples: usize,
    rng: &mut R,
) -> Result<crate::stats::Moments<N::Output>, Error>
where
    N: crate::Network + Sync,
    N::Input: Sync,
    N::Output: Send,
    R: rand::Rng + ?Sized,
{
    let like = net.forward(x);
    let mut seeds = Vec::with_capacity(samples.min(CHUNK));
    let (mut outputs, mut next): (Vec<N::Output>, usize) = (Vec::new(), 0);
    let mut remaining = samples;
    crate::stats::monte_carlo(like, samples, || {
        if next == outputs.len() {
            let n = remaining.min(CHUNK);
            remaining -= n;
            seeds.clear();
            seeds.extend(crate::stats::pass_seeds(rng, n));
            outputs = seeds
                .par_iter()
                .map(|&seed| {
                    let masks = net.sample_masks(&mut crate::stats::seeded(seed));
                    net.forward_masked(x, &masks)
                })
                .collect();
            next = 0;
        }
        next += 1;
        outputs.get(next - 1).copied().unwrap_or(like)
    })
}
