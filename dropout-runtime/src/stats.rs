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

use crate::{Error, Float, Masks, Network};

/// The largest number of droppable units [`exact_moments`] enumerates (2²⁴ passes).
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
    mean: Vec<f64>,
    sum_sq: Vec<f64>,
}

impl Accumulator {
    fn new(n: usize) -> Self {
        Accumulator {
            weight: 0.0,
            mean: vec![0.0; n],
            sum_sq: vec![0.0; n],
        }
    }

    fn add<T: Float>(&mut self, weight: f64, values: &[T]) {
        if weight == 0.0 {
            return;
        }
        self.weight += weight;
        let share = weight / self.weight;
        for ((mean, sum_sq), value) in self.mean.iter_mut().zip(&mut self.sum_sq).zip(values) {
            let value = value.to_f64();
            let delta = value - *mean;
            *mean += share * delta;
            *sum_sq += weight * delta * (value - *mean);
        }
    }

    /// Writes the mean and the standard deviation (variance = sum_sq / (weight − correction)).
    fn finish<T: Float>(&self, mean: &mut [T], std_dev: &mut [T], correction: f64) {
        let denominator = self.weight - correction;
        for (slot, value) in mean.iter_mut().zip(&self.mean) {
            *slot = T::from_f64(*value);
        }
        for (slot, sum_sq) in std_dev.iter_mut().zip(&self.sum_sq) {
            let variance = if denominator > 0.0 {
                (sum_sq / denominator).max(0.0)
            } else {
                0.0
            };
            *slot = T::from_f64(libm::sqrt(variance));
        }
    }
}

/// The exact mean and standard deviation of `net`'s training-mode output at `x`, over every
/// mask of its droppable units (units of sites with keep < 1), each weighted by its probability.
///
/// The cost is 2ⁿ forward passes for n droppable units.
///
/// # Errors
/// [`Error::TooManyUnits`] if n exceeds [`MAX_EXACT_UNITS`].
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
    // (site, unit, keep) of every unit that can be dropped.
    let droppable: Vec<(usize, usize, f64)> = N::SPEC
        .sites()
        .enumerate()
        .filter(|(_, (_, _, dropout))| dropout.keep() < 1.0)
        .flat_map(|(site, (_, size, dropout))| {
            (0..size).map(move |unit| (site, unit, dropout.keep()))
        })
        .collect();
    if droppable.len() > MAX_EXACT_UNITS {
        return Err(Error::TooManyUnits {
            found: droppable.len(),
            max: MAX_EXACT_UNITS,
        });
    }
    let mut first = net.forward_masked(x, &N::Masks::ALL_KEPT);
    let n_outputs = first.as_ref().len();
    let mut accumulator = Accumulator::new(n_outputs);
    let n_masks = 1_usize << droppable.len();
    for pattern in 0..n_masks {
        let mut masks = N::Masks::ALL_KEPT;
        let mut probability = 1.0;
        for (bit, &(site, unit, keep)) in droppable.iter().enumerate() {
            let kept = pattern >> bit & 1 == 1;
            probability *= if kept { keep } else { 1.0 - keep };
            if let Some(slot) = masks.site_mut(site).and_then(|bits| bits.get_mut(unit)) {
                *slot = kept;
            }
        }
        accumulator.add(probability, net.forward_masked(x, &masks).as_ref());
    }
    let mut std_dev = first;
    accumulator.finish(first.as_mut(), std_dev.as_mut(), 0.0);
    Ok(Moments {
        mean: first,
        std_dev,
        passes: n_masks,
    })
}

/// Monte Carlo dropout (Gal & Ghahramani 2016): the mean and sample standard deviation of
/// `net`'s training-mode output at `x` over `samples` passes under masks drawn from `rng`.
///
/// Nothing about the network changes: the passes are ordinary [`Network::forward_masked`] calls.
///
/// # Errors
/// [`Error::NoSamples`] if `samples` is zero.
///
/// # Example
/// ```
/// use dropout::{Network, network};
/// use rand::SeedableRng;
///
/// network! {
///     struct Half<f64> { input: 2, dropout(p = 0.5), dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] } }
/// }
/// let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(0);
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
    if samples == 0 {
        return Err(Error::NoSamples);
    }
    let mut mean = net.forward(x);
    let mut accumulator = Accumulator::new(mean.as_ref().len());
    for _ in 0..samples {
        let masks = net.sample_masks(rng);
        accumulator.add(1.0, net.forward_masked(x, &masks).as_ref());
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
}
