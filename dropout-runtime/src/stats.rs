//! The output distribution under training-mode dropout: exactly, by enumerating every mask, or
//! estimated by Monte Carlo dropout.
//!
//! A dropout network in training mode is an ensemble of 2ⁿ thinned networks, one per mask over
//! its n droppable units, each weighted by the probability of its mask. Evaluation mode
//! approximates the ensemble mean with a single pass (Srivastava's weight scaling); with ReLUs
//! in between the two differ. [`exact_moments`] computes the ensemble's mean and standard
//! deviation exactly for small networks, which shows how far the evaluation pass is from the
//! mean and checks Monte Carlo estimates ([`predict_mc`]).

use alloc::vec;
use alloc::vec::Vec;

use crate::network::MaskView;
use crate::{DropoutKind, Error, Float, Masks, Network, NetworkSpec};

/// The largest number of droppable units and weights [`exact_moments`] enumerates (2²⁴ passes).
pub const MAX_EXACT_UNITS: usize = 24;

/// The mean and spread of each output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments<O> {
    /// The mean of each output.
    pub mean: O,
    /// The standard deviation of each output.
    pub std_dev: O,
    /// How many passes were combined: masks enumerated, or samples drawn.
    pub passes: usize,
}

/// Running weighted mean and variance per output (West 1979), in `f64`.
struct Accumulator {
    weight: f64,
    outputs: Vec<Running>,
}

/// The running moments of one output. Values are kept divided by `scale`, the largest magnitude
/// seen so far, so that squared deviations cannot overflow however large the outputs are (the
/// way BLAS's `nrm2` avoids overflow); non-finite values are counted apart, as IEEE arithmetic
/// on the whole sum would treat them.
#[derive(Clone, Copy, Default)]
struct Running {
    scale: f64,
    mean: f64,
    sum_sq: f64,
    nan: bool,
    positive_infinity: bool,
    negative_infinity: bool,
}

impl Running {
    fn add(&mut self, weight: f64, share: f64, value: f64) {
        if value.is_nan() {
            self.nan = true;
            return;
        }
        if value.is_infinite() {
            if value > 0.0 {
                self.positive_infinity = true;
            } else {
                self.negative_infinity = true;
            }
            return;
        }
        let magnitude = value.abs();
        if magnitude > self.scale {
            let shrink = self.scale / magnitude;
            self.mean *= shrink;
            self.sum_sq *= shrink * shrink;
            self.scale = magnitude;
        }
        let value = if self.scale > 0.0 {
            value / self.scale
        } else {
            0.0
        };
        let delta = value - self.mean;
        self.mean += share * delta;
        self.sum_sq += weight * delta * (value - self.mean);
    }

    /// The mean and standard deviation (variance = sum_sq / denominator).
    fn finish(self, denominator: f64) -> (f64, f64) {
        if self.nan || (self.positive_infinity && self.negative_infinity) {
            return (f64::NAN, f64::NAN);
        }
        if self.positive_infinity || self.negative_infinity {
            let mean = if self.positive_infinity {
                f64::INFINITY
            } else {
                f64::NEG_INFINITY
            };
            // ∞ − ∞ in the deviations.
            return (mean, f64::NAN);
        }
        let std_dev = if denominator > 0.0 {
            // Rounding can leave a tiny negative variance where the true one is 0.
            let variance = self.sum_sq / denominator;
            libm::sqrt(if variance < 0.0 { 0.0 } else { variance }) * self.scale
        } else {
            // One sample has no spread to estimate.
            f64::NAN
        };
        (self.mean * self.scale, std_dev)
    }
}

impl Accumulator {
    fn new(n: usize) -> Self {
        Accumulator {
            weight: 0.0,
            outputs: vec![Running::default(); n],
        }
    }

    fn add<T: Float>(&mut self, weight: f64, values: &[T]) {
        if weight == 0.0 {
            return;
        }
        self.weight += weight;
        let share = weight / self.weight;
        for (running, value) in self.outputs.iter_mut().zip(values) {
            running.add(weight, share, value.to_f64());
        }
    }

    /// Writes the mean and the standard deviation (variance = sum_sq / (weight − correction)).
    fn finish<T: Float>(&self, mean: &mut [T], std_dev: &mut [T], correction: f64) {
        let denominator = self.weight - correction;
        for ((mean, std_dev), running) in mean.iter_mut().zip(std_dev).zip(&self.outputs) {
            let (m, s) = running.finish(denominator);
            *mean = T::from_f64(m);
            *std_dev = T::from_f64(s);
        }
    }
}

/// The exact mean and standard deviation of `net`'s training-mode output at `x`, over every
/// mask of its droppable units (units of sites with keep < 1, and weights of layers with
/// DropConnect with keep < 1), each weighted by its probability.
///
/// The cost is 2ⁿ forward passes for n droppable units and weights.
///
/// # Errors
/// [`Error::TooManyUnits`] if n exceeds [`MAX_EXACT_UNITS`]; [`Error::ContinuousNoise`] if a
/// Gaussian-dropout site has p > 0 (its noise has no finite set of values to enumerate:
/// [`predict_mc`] estimates the moments).
///
/// # Example
/// ```
/// use dropout::{Network, network};
///
/// network! {
///     struct Half<f64> { input: 2, dropout(p = 0.5), dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] } }
/// }
/// // Inverted scaling: each input survives with probability ½ and is then doubled, so the output
/// // is 0, 2 or 4 with probabilities ¼, ½, ¼ for x = (1, 1): mean 2, standard deviation √2.
/// let moments = Half::new().exact_moments(&[1.0, 1.0])?;
/// assert_eq!(moments.mean, [2.0]);
/// assert!((moments.std_dev[0] - 2.0_f64.sqrt()).abs() < 1e-12);
/// assert_eq!(moments.passes, 4);
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn exact_moments<N: Network>(net: &N, x: &N::Input) -> Result<Moments<N::Output>, Error> {
    let mut first = net.forward_masked(x, &N::Masks::ALL_KEPT);
    let mut accumulator = Accumulator::new(first.as_ref().len());
    let units = for_each_mask(net, x, MAX_EXACT_UNITS, |probability, y| {
        accumulator.add(probability, y);
    })?;
    let mut std_dev = first;
    accumulator.finish(first.as_mut(), std_dev.as_mut(), 0.0);
    Ok(Moments {
        mean: first,
        std_dev,
        passes: 1 << units,
    })
}

/// Calls `visit(probability, output)` for the training-mode pass of `net` at `x` under every
/// mask of its droppable units and weights (those with keep < 1), and returns how many there
/// are.
///
/// # Errors
/// [`Error::TooManyUnits`] if there are more than `max_units`, [`Error::ContinuousNoise`] if a
/// Gaussian-dropout site has p > 0 (nothing is visited).
pub(crate) fn for_each_mask<N: Network>(
    net: &N,
    x: &N::Input,
    max_units: usize,
    mut visit: impl FnMut(f64, &[N::Scalar]),
) -> Result<usize, Error> {
    let mut masks = N::Masks::ALL_KEPT;
    enumerate_masks(&N::SPEC, &mut masks, max_units, |probability, masks| {
        visit(probability, net.forward_masked(x, masks).as_ref());
    })
}

/// Sets `masks` (every unit and weight kept on entry) to every combination of the droppable
/// units and weights of the network `spec` describes, and calls `visit` with each one's
/// probability: the enumeration behind [`for_each_mask`] and the explorer page's exact
/// distribution. Returns the number of droppable units and weights.
///
/// # Errors
/// As [`for_each_mask`].
pub(crate) fn enumerate_masks<T, M: MaskView<T> + ?Sized>(
    spec: &NetworkSpec,
    masks: &mut M,
    max_units: usize,
    mut visit: impl FnMut(f64, &M),
) -> Result<usize, Error> {
    let gaussian = spec
        .sites()
        .find(|(_, _, d)| d.kind() == DropoutKind::Gaussian && d.keep() < 1.0);
    if let Some((site, _, _)) = gaussian {
        return Err(Error::ContinuousNoise { site });
    }
    // (mask, bit, keep) of every unit and weight that can be dropped; the masks of layers with
    // DropConnect follow the sites.
    let n_sites = spec.sites().count();
    let droppable: Vec<(usize, usize, f64)> = spec
        .sites()
        .map(|(_, size, dropout)| (size, dropout))
        .chain(
            spec.connections()
                .map(|(_, _, size, dropout)| (size, dropout)),
        )
        .enumerate()
        .filter(|(_, (_, dropout))| dropout.keep() < 1.0 && dropout.kind() != DropoutKind::Gaussian)
        .flat_map(|(mask, (size, dropout))| (0..size).map(move |bit| (mask, bit, dropout.keep())))
        .collect();
    if droppable.len() > max_units {
        return Err(Error::TooManyUnits {
            found: droppable.len(),
            max: max_units,
        });
    }
    for pattern in 0..1_usize << droppable.len() {
        let mut probability = 1.0;
        for (position, &(mask, bit, keep)) in droppable.iter().enumerate() {
            let kept = pattern >> position & 1 == 1;
            probability *= if kept { keep } else { 1.0 - keep };
            let bits = if mask < n_sites {
                masks.site_bits_mut(mask)
            } else {
                masks.weight_bits_mut(mask - n_sites)
            };
            if let Some(slot) = bits.and_then(|bits| bits.get_mut(bit)) {
                *slot = kept;
            }
        }
        visit(probability, masks);
    }
    Ok(droppable.len())
}

/// Monte Carlo dropout (Gal & Ghahramani 2016): the mean and sample standard deviation of
/// `net`'s training-mode output at `x` over `samples` passes under masks drawn from `rng`.
///
/// Nothing about the network changes: the passes are ordinary [`Network::forward_masked`] calls.
/// Pass `i` runs under `net.sample_masks(&mut pass_rng(rng))`, the `i`-th call of
/// [`pass_rng`]: each pass's masks hang on one draw of `rng`, which is what lets
/// [`parallel::predict_mc`](crate::parallel::predict_mc) draw them on its threads and give these
/// moments bit for bit.
///
/// The sample standard deviation divides by `samples − 1`, so one sample gives NaN: there is no
/// spread to estimate from it (NumPy's `std(ddof=1)` and PyTorch's `std` agree).
///
/// # Errors
/// [`Error::NoSamples`] if `samples` is zero.
///
/// # Example
/// ```
/// use dropout::{Network, network};
/// use dropout::rand::SeedableRng as _;
///
/// network! {
///     struct Half<f64> { input: 2, dropout(p = 0.5), dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] } }
/// }
/// let mut rng = dropout::rand::rngs::ChaCha8Rng::seed_from_u64(0);
/// let mc = Half::new().predict_mc(&[1.0, 1.0], 20_000, &mut rng)?;
/// assert!((mc.mean[0] - 2.0).abs() < 0.05);
/// assert!((mc.std_dev[0] - 2.0_f64.sqrt()).abs() < 0.05);
/// assert_eq!(mc.passes, 20_000);
/// # Ok::<(), dropout::Error>(())
/// ```
#[cfg(feature = "rand")]
pub fn predict_mc<N: Network, R: rand::Rng + ?Sized>(
    net: &N,
    x: &N::Input,
    samples: usize,
    rng: &mut R,
) -> Result<Moments<N::Output>, Error> {
    monte_carlo(net.forward(x), samples, || {
        let masks = net.sample_masks(&mut pass_rng(rng));
        net.forward_masked(x, &masks)
    })
}

/// The generator of one Monte Carlo pass's masks: a Xoshiro256++ seeded with the next `u64` of
/// `rng`. [`predict_mc`] (of float and int8 networks alike) draws each pass's masks from one.
///
/// A caller's generator may be slow (ChaCha8 takes about twice Xoshiro256++'s time per draw),
/// and drawing every mask bit from it, in order, would leave the draws on one thread however
/// many run the passes: with this, the caller's generator is drawn from once per pass.
///
/// # Example
/// The masks of the second pass of a `predict_mc`, drawn again:
/// ```
/// use dropout::{Network, network, stats::pass_rng};
/// use dropout::rand::{Rng as _, SeedableRng as _};
///
/// network! {
///     struct Half<f64> { input: 2, dropout(p = 0.5), dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] } }
/// }
/// let mut rng = dropout::rand::rngs::ChaCha8Rng::seed_from_u64(0);
/// rng.next_u64(); // the first pass's seed
/// let second = Half::new().sample_masks(&mut pass_rng(&mut rng));
///
/// let mut rng = dropout::rand::rngs::ChaCha8Rng::seed_from_u64(0);
/// let mut passes = Vec::new();
/// dropout::stats::monte_carlo([0.0], 2, || {
///     let masks = Half::new().sample_masks(&mut pass_rng(&mut rng));
///     passes.push(masks.clone());
///     Half::new().forward_masked(&[1.0, 1.0], &masks)
/// })?;
/// assert_eq!(passes[1], second);
/// # Ok::<(), dropout::Error>(())
/// ```
#[cfg(feature = "rand")]
pub fn pass_rng<R: rand::Rng + ?Sized>(rng: &mut R) -> rand::rngs::Xoshiro256PlusPlus {
    seeded(rng.next_u64())
}

/// The seeds that the next `n` calls of [`pass_rng`] would draw from `rng`, in their order: how
/// `parallel` hands passes to its threads.
#[cfg(all(feature = "rand", feature = "parallel"))]
pub(crate) fn pass_seeds<R: rand::Rng + ?Sized>(
    rng: &mut R,
    n: usize,
) -> impl Iterator<Item = u64> + '_ {
    (0..n).map(|_| rng.next_u64())
}

/// [`pass_rng`] for the seed it draws.
#[cfg(feature = "rand")]
pub(crate) fn seeded(seed: u64) -> rand::rngs::Xoshiro256PlusPlus {
    use rand::SeedableRng as _;
    rand::rngs::Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// The mean and sample standard deviation of `samples` outputs of `pass` (each called once, in
/// order); `like` gives the output's type and length. [`predict_mc`] is this over a network's
/// masked passes; int8 networks' `predict_mc` is this over their dequantized ones.
///
/// # Errors
/// [`Error::NoSamples`] if `samples` is zero.
pub fn monte_carlo<T: Float, O: Copy + AsRef<[T]> + AsMut<[T]>>(
    like: O,
    samples: usize,
    mut pass: impl FnMut() -> O,
) -> Result<Moments<O>, Error> {
    if samples == 0 {
        return Err(Error::NoSamples);
    }
    let mut mean = like;
    let mut accumulator = Accumulator::new(mean.as_ref().len());
    for _ in 0..samples {
        accumulator.add(1.0, pass().as_ref());
    }
    let mut std_dev = mean;
    accumulator.finish(mean.as_mut(), std_dev.as_mut(), 1.0);
    Ok(Moments {
        mean,
        std_dev,
        passes: samples,
    })
}

#[cfg(test)]
mod tests {
    use super::Accumulator;

    #[test]
    fn weighted_accumulator_matches_two_pass_formula() {
        let values = [1.0_f64, 4.0, -2.0, 7.5];
        let weights = [0.1, 0.4, 0.3, 0.2];
        let mut acc = Accumulator::new(1);
        for (v, w) in values.iter().zip(weights) {
            acc.add(w, &[*v]);
        }
        let mean: f64 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
        let var: f64 = values
            .iter()
            .zip(weights)
            .map(|(v, w)| w * (v - mean).powi(2))
            .sum();
        let (mut m, mut s) = ([0.0_f64], [0.0_f64]);
        acc.finish(&mut m, &mut s, 0.0);
        assert!((m[0] - mean).abs() < 1e-12);
        assert!((s[0] - var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn zero_weights_are_ignored_and_sample_correction_applies() {
        let mut acc = Accumulator::new(1);
        acc.add(0.0, &[1e9_f32]);
        for v in [1.0_f32, 2.0, 3.0] {
            acc.add(1.0, &[v]);
        }
        let (mut m, mut s) = ([0.0_f32], [0.0_f32]);
        acc.finish(&mut m, &mut s, 1.0);
        assert_eq!(m, [2.0]);
        assert_eq!(s, [1.0]);
    }

    /// Mean and standard deviation of `values`, equally weighted, with `correction`.
    fn moments(values: &[f64], correction: f64) -> (f64, f64) {
        let mut acc = Accumulator::new(1);
        for v in values {
            acc.add(1.0, &[*v]);
        }
        let (mut m, mut s) = ([0.0_f64], [0.0_f64]);
        acc.finish(&mut m, &mut s, correction);
        (m[0], s[0])
    }

    #[test]
    fn huge_outputs_do_not_overflow_the_spread() {
        // Deviations of 1e200 square to 1e400, beyond f64: the scaled sums stay finite.
        let (mean, std_dev) = moments(&[1e200, -1e200], 0.0);
        assert_eq!(mean, 0.0);
        assert!((std_dev - 1e200).abs() <= 1e186, "{std_dev}");
        let (mean, std_dev) = moments(&[1.0, 3.0, 1e300], 0.0);
        assert!((mean - 1e300 / 3.0).abs() <= 1e286, "{mean}");
        assert!(
            (std_dev - 1e300 * 2.0_f64.sqrt() / 3.0).abs() <= 1e286,
            "{std_dev}"
        );
    }

    #[test]
    fn non_finite_outputs_propagate() {
        let (mean, std_dev) = moments(&[1.0, f64::NAN, 2.0], 0.0);
        assert!(mean.is_nan() && std_dev.is_nan());
        let (mean, std_dev) = moments(&[1.0, f64::INFINITY], 0.0);
        assert_eq!(mean, f64::INFINITY);
        assert!(std_dev.is_nan());
        let (mean, std_dev) = moments(&[f64::NEG_INFINITY, 1.0], 0.0);
        assert_eq!(mean, f64::NEG_INFINITY);
        assert!(std_dev.is_nan());
        let (mean, _) = moments(&[f64::INFINITY, f64::NEG_INFINITY], 0.0);
        assert!(mean.is_nan());
    }

    #[test]
    fn one_sample_has_no_sample_spread() {
        let (mean, std_dev) = moments(&[4.0], 1.0);
        assert_eq!(mean, 4.0);
        assert!(std_dev.is_nan());
        // Over the population (no correction) one value has spread 0.
        assert_eq!(moments(&[4.0], 0.0), (4.0, 0.0));
    }
}
