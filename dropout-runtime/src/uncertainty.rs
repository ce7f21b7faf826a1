//! Measures of predictive uncertainty and of how good it is, for the outputs of Monte Carlo
//! dropout (T sampled masked passes) or of a deterministic pass (T = 1).
//!
//! **Classifiers.** For one input, `passes` holds the T probability vectors (each over K
//! classes); `p̄ = (1/T) Σₜ pₜ` is the predictive mean ([`mean_probabilities`]).
//!
//! | measure | formula |
//! |---|---|
//! | [`predictive_entropy`] | `H[p̄] = −Σₖ p̄ₖ ln p̄ₖ` (nats) |
//! | [`mutual_information`] (BALD) | `H[p̄] − (1/T) Σₜ H[pₜ]` |
//! | [`variation_ratio`] | `1 − (number of passes whose argmax is the modal class) / T` |
//!
//! Over a data set of N inputs with labels yᵢ and predictive means p̄ᵢ:
//!
//! | measure | formula |
//! |---|---|
//! | [`accuracy`] | `(1/N) Σᵢ [argmax p̄ᵢ = yᵢ]` |
//! | [`negative_log_likelihood`] | `−(1/N) Σᵢ ln p̄ᵢ,yᵢ` |
//! | [`brier_score`] | `(1/N) Σᵢ Σₖ (p̄ᵢₖ − [k = yᵢ])²` |
//! | [`auroc`] | `P(score(out of distribution) > score(in distribution))`, ties ½ |
//! | [`expected_calibration_error`] | `Σ_b (n_b/N) · |acc_b − conf_b|` over equal-width bins of confidence `maxₖ p̄ᵢₖ` (Guo et al. 2017 use 15) |
//!
//! [`reliability`] gives each bin's count, mean confidence and accuracy: the data of a
//! reliability diagram, which [`reliability_diagram`] draws as SVG (feature `diagram`). [`auroc`] measures how well a score (entropy, mutual information)
//! separates in-distribution inputs from out-of-distribution ones: the probability that a
//! random out-of-distribution input scores higher than a random in-distribution one, ties
//! counting one half (the Mann–Whitney statistic).
//!
//! **Regression** (Gal & Ghahramani 2016). For one input, `samples` holds the T outputs ŷₜ:
//!
//! | measure | formula |
//! |---|---|
//! | [`predictive_moments`] | mean `(1/T) Σₜ ŷₜ`; variance `1/τ + (1/T) Σₜ ŷₜ² − mean²` |
//! | [`root_mean_squared_error`] | `√((1/N) Σᵢ (yᵢ − meanᵢ)²)` |
//! | [`test_log_likelihood`] | `(1/N) Σᵢ [logsumexp_t(−τ/2 · (yᵢ − ŷᵢₜ)²) − ln T − ½ ln 2π + ½ ln τ]` |
//!
//! Every function checks its arguments: lengths that do not fit, probabilities that are not
//! finite, a label outside the classes, no bins or no samples are an [`Error`], never a panic
//! or a number that looks right. NaN in the data gives NaN.
//!
//! ```
//! use dropout::uncertainty::{expected_calibration_error, mutual_information};
//!
//! // Two passes that disagree completely carry a full bit (ln 2 nats) of model uncertainty.
//! let mi = mutual_information(&[&[1.0, 0.0][..], &[0.0, 1.0][..]])?;
//! assert!((mi - 2f64.ln()).abs() < 1e-12);
//!
//! // Predictions at confidence 0.8 that are right 4 times in 5: perfectly calibrated.
//! let probs = [[0.8, 0.2]; 5];
//! let rows: Vec<&[f64]> = probs.iter().map(|p| &p[..]).collect();
//! let ece = expected_calibration_error(&rows, &[0, 0, 0, 0, 1], 15)?;
//! assert!(ece.abs() < 1e-12);
//! # Ok::<(), dropout::Error>(())
//! ```

use alloc::vec;
use alloc::vec::Vec;

use crate::Error;

/// One bin of a reliability diagram.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bin {
    /// The bin's lower edge; it spans `[lower, lower + 1/bins)` (the last one includes 1).
    pub lower: f64,
    /// How many predictions fall in it.
    pub count: usize,
    /// Their mean confidence (`maxₖ p̄ₖ`); NaN for an empty bin.
    pub confidence: f64,
    /// The fraction of them that are right; NaN for an empty bin.
    pub accuracy: f64,
}

/// The reliability diagram of one or more predictors as an SVG document: each one's accuracy
/// against its mean confidence, bin by bin (the empty bins left out), beside the diagonal of
/// perfect calibration, with `title` above and each series' name in the legend.
///
/// # Errors
/// [`Error::Uncertainty`] without a series or with a bin whose confidence or accuracy is
/// outside [0, 1]; [`Error::Drawing`] if plotters fails.
///
/// # Example
/// ```
/// use dropout::uncertainty::{reliability, reliability_diagram};
///
/// let probs = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]];
/// let rows: Vec<&[f64]> = probs.iter().map(|p| &p[..]).collect();
/// let bins = reliability(&rows, &[0, 1, 1], 10)?;
/// let svg = reliability_diagram("Three predictions", &[("model", &bins)])?;
/// assert!(svg.starts_with("<svg") && svg.contains("model"));
/// # Ok::<(), dropout::Error>(())
/// ```
#[cfg(feature = "diagram")]
pub fn reliability_diagram(
    title: &str,
    series: &[(&str, &[Bin])],
) -> Result<alloc::string::String, Error> {
    use plotters::prelude::*;

    if series.is_empty() {
        return Err(invalid("a reliability diagram needs at least one series"));
    }
    let in_unit = |v: f64| (0.0..=1.0).contains(&v);
    if series
        .iter()
        .flat_map(|(_, bins)| bins.iter())
        .any(|b| b.count > 0 && !(in_unit(b.confidence) && in_unit(b.accuracy)))
    {
        return Err(invalid(
            "a bin's confidence and accuracy lie in [0, 1]: these bins are not reliability's",
        ));
    }
    let drawing = |err: &dyn core::fmt::Display| Error::Drawing(alloc::format!("{err}"));
    let colors = [RED, BLUE, GREEN, MAGENTA, CYAN, BLACK];
    let mut svg = alloc::string::String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (640, 480)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| drawing(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(44)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(|e| drawing(&e))?;
        chart
            .configure_mesh()
            .x_desc("confidence")
            .y_desc("accuracy")
            .draw()
            .map_err(|e| drawing(&e))?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.4)))
            .map_err(|e| drawing(&e))?;
        for (idx, (name, bins)) in series.iter().enumerate() {
            let color = colors[idx % colors.len()];
            let points: Vec<(f64, f64)> = bins
                .iter()
                .filter(|b| b.count > 0)
                .map(|b| (b.confidence, b.accuracy))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color))
                .map_err(|e| drawing(&e))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(|e| drawing(&e))?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()
            .map_err(|e| drawing(&e))?;
        root.present().map_err(|e| drawing(&e))?;
    }
    Ok(svg)
}

/// `x²`. (Float functions come from `libm`: the module works without `std`.)
fn square(x: f64) -> f64 {
    x * x
}

fn invalid(what: &'static str) -> Error {
    Error::Uncertainty(what)
}

/// `p̄ = (1/T) Σₜ pₜ`.
///
/// # Errors
/// [`Error::NoSamples`] without passes; [`Error::Uncertainty`] if the passes have different
/// lengths or none has a class.
pub fn mean_probabilities(passes: &[&[f64]]) -> Result<Vec<f64>, Error> {
    let first = passes.first().ok_or(Error::NoSamples)?;
    if first.is_empty() {
        return Err(invalid("a probability vector has no classes"));
    }
    if passes.iter().any(|p| p.len() != first.len()) {
        return Err(invalid("the passes have different numbers of classes"));
    }
    let mut mean = vec![0.0; first.len()];
    for pass in passes {
        for (m, &p) in mean.iter_mut().zip(*pass) {
            *m += p;
        }
    }
    let t = passes.len() as f64;
    for m in &mut mean {
        *m /= t;
    }
    Ok(mean)
}

/// `−Σₖ pₖ ln pₖ`, with `0 ln 0 = 0`.
fn entropy(p: &[f64]) -> f64 {
    p.iter()
        .map(|&v| if v == 0.0 { 0.0 } else { -v * libm::log(v) })
        .sum()
}

/// `H[p̄]`, in nats.
///
/// # Errors
/// As [`mean_probabilities`].
pub fn predictive_entropy(passes: &[&[f64]]) -> Result<f64, Error> {
    Ok(entropy(&mean_probabilities(passes)?))
}

/// `H[p̄] − (1/T) Σₜ H[pₜ]`, in nats: the part of the predictive entropy that comes from
/// disagreement between the passes (BALD).
///
/// # Errors
/// As [`mean_probabilities`].
pub fn mutual_information(passes: &[&[f64]]) -> Result<f64, Error> {
    let total = predictive_entropy(passes)?;
    let expected = passes.iter().map(|p| entropy(p)).sum::<f64>() / passes.len() as f64;
    Ok(total - expected)
}

/// The index of the largest value, the first among equals; `None` if one is NaN.
fn argmax(p: &[f64]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (k, &v) in p.iter().enumerate() {
        if v.is_nan() {
            return None;
        }
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((k, v));
        }
    }
    best.map(|(k, _)| k)
}

/// `1 − (passes whose argmax is the modal class) / T`; NaN if a pass has a NaN.
///
/// # Errors
/// As [`mean_probabilities`].
pub fn variation_ratio(passes: &[&[f64]]) -> Result<f64, Error> {
    let classes = mean_probabilities(passes)?.len();
    let mut votes = vec![0usize; classes];
    for pass in passes {
        match argmax(pass) {
            Some(k) => votes[k] += 1,
            None => return Ok(f64::NAN),
        }
    }
    let modal = votes.iter().copied().max().unwrap_or(0);
    Ok(1.0 - modal as f64 / passes.len() as f64)
}

/// Checks a data set of predictive means against its labels.
fn data_set(probs: &[&[f64]], labels: &[usize]) -> Result<(), Error> {
    if probs.is_empty() {
        return Err(Error::NoSamples);
    }
    if probs.len() != labels.len() {
        return Err(invalid("there is not one label per prediction"));
    }
    let classes = probs[0].len();
    if classes == 0 || probs.iter().any(|p| p.len() != classes) {
        return Err(invalid(
            "the predictions have no classes or different numbers of them",
        ));
    }
    if labels.iter().any(|&y| y >= classes) {
        return Err(invalid("a label is not one of the classes"));
    }
    Ok(())
}

/// `(1/N) Σᵢ [argmax p̄ᵢ = yᵢ]`; NaN if a prediction has a NaN.
///
/// # Errors
/// [`Error::NoSamples`] without predictions; [`Error::Uncertainty`] if the labels do not
/// match the predictions.
pub fn accuracy(probs: &[&[f64]], labels: &[usize]) -> Result<f64, Error> {
    data_set(probs, labels)?;
    let mut right = 0usize;
    for (p, &y) in probs.iter().zip(labels) {
        match argmax(p) {
            Some(k) => right += usize::from(k == y),
            None => return Ok(f64::NAN),
        }
    }
    Ok(right as f64 / probs.len() as f64)
}

/// `−(1/N) Σᵢ ln p̄ᵢ,yᵢ` (∞ if a label has probability 0).
///
/// # Errors
/// As [`accuracy`].
pub fn negative_log_likelihood(probs: &[&[f64]], labels: &[usize]) -> Result<f64, Error> {
    data_set(probs, labels)?;
    let sum: f64 = probs
        .iter()
        .zip(labels)
        .map(|(p, &y)| -libm::log(p[y]))
        .sum();
    Ok(sum / probs.len() as f64)
}

/// `(1/N) Σᵢ Σₖ (p̄ᵢₖ − [k = yᵢ])²`.
///
/// # Errors
/// As [`accuracy`].
pub fn brier_score(probs: &[&[f64]], labels: &[usize]) -> Result<f64, Error> {
    data_set(probs, labels)?;
    let sum: f64 = probs
        .iter()
        .zip(labels)
        .map(|(p, &y)| {
            p.iter()
                .enumerate()
                .map(|(k, &v)| square(v - f64::from(u8::from(k == y))))
                .sum::<f64>()
        })
        .sum();
    Ok(sum / probs.len() as f64)
}

/// Each of `bins` equal-width bins of confidence `maxₖ p̄ₖ` in `[0, 1]`: how many predictions,
/// their mean confidence and accuracy. A confidence of exactly 1 falls in the last bin.
///
/// # Errors
/// As [`accuracy`], and [`Error::Uncertainty`] for zero bins or a confidence that is not a
/// number in `[0, 1]`.
pub fn reliability(probs: &[&[f64]], labels: &[usize], bins: usize) -> Result<Vec<Bin>, Error> {
    data_set(probs, labels)?;
    if bins == 0 {
        return Err(invalid("a reliability diagram needs at least one bin"));
    }
    let mut sums = vec![(0usize, 0.0f64, 0usize); bins];
    for (p, &y) in probs.iter().zip(labels) {
        let k = argmax(p).ok_or(invalid("a prediction is NaN"))?;
        let confidence = p[k];
        if !(0.0..=1.0).contains(&confidence) {
            return Err(invalid("a confidence is not a probability in [0, 1]"));
        }
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "confidence · bins lies in [0, bins]"
        )]
        let b = ((confidence * bins as f64) as usize).min(bins - 1);
        sums[b].0 += 1;
        sums[b].1 += confidence;
        sums[b].2 += usize::from(k == y);
    }
    Ok(sums
        .iter()
        .enumerate()
        .map(|(b, &(count, confidence, right))| Bin {
            lower: b as f64 / bins as f64,
            count,
            confidence: confidence / count as f64,
            accuracy: right as f64 / count as f64,
        })
        .collect())
}

/// `Σ_b (n_b/N) · |acc_b − conf_b|` over `bins` equal-width bins ([`reliability`]).
///
/// # Errors
/// As [`reliability`].
pub fn expected_calibration_error(
    probs: &[&[f64]],
    labels: &[usize],
    bins: usize,
) -> Result<f64, Error> {
    let n = probs.len() as f64;
    Ok(reliability(probs, labels, bins)?
        .iter()
        .filter(|bin| bin.count > 0)
        .map(|bin| bin.count as f64 / n * (bin.accuracy - bin.confidence).abs())
        .sum())
}

/// The area under the ROC curve of `positive` scores against `negative` ones: the fraction of
/// (positive, negative) pairs in which the positive scores higher, ties counting ½.
///
/// # Errors
/// [`Error::NoSamples`] if either side is empty; [`Error::Uncertainty`] for a NaN score.
pub fn auroc(negative: &[f64], positive: &[f64]) -> Result<f64, Error> {
    if negative.is_empty() || positive.is_empty() {
        return Err(Error::NoSamples);
    }
    if negative.iter().chain(positive).any(|v| v.is_nan()) {
        return Err(invalid("a score is NaN"));
    }
    let mut sorted = negative.to_vec();
    sorted.sort_by(f64::total_cmp);
    // For each positive score: the negatives below it, and half of those equal to it.
    let mut wins = 0.0;
    for &p in positive {
        let below = sorted.partition_point(|&n| n < p);
        let equal = sorted[below..].partition_point(|&n| n <= p);
        wins += below as f64 + 0.5 * equal as f64;
    }
    Ok(wins / (negative.len() as f64 * positive.len() as f64))
}

/// The predictive mean and variance of T regression samples under model precision `tau`:
/// `mean = (1/T) Σ ŷₜ`, `variance = 1/τ + (1/T) Σ ŷₜ² − mean²`.
///
/// # Errors
/// [`Error::NoSamples`] without samples; [`Error::Uncertainty`] unless `tau` is positive and
/// finite.
pub fn predictive_moments(samples: &[f64], tau: f64) -> Result<(f64, f64), Error> {
    if samples.is_empty() {
        return Err(Error::NoSamples);
    }
    if !(tau.is_finite() && tau > 0.0) {
        return Err(invalid("the model precision τ must be positive and finite"));
    }
    let t = samples.len() as f64;
    let mean = samples.iter().sum::<f64>() / t;
    let second = samples.iter().map(|y| y * y).sum::<f64>() / t;
    Ok((mean, 1.0 / tau + second - mean * mean))
}

/// `√((1/N) Σᵢ (yᵢ − ŷᵢ)²)` of predictions against targets.
///
/// # Errors
/// [`Error::NoSamples`] without predictions; [`Error::Uncertainty`] if the lengths differ.
pub fn root_mean_squared_error(predictions: &[f64], targets: &[f64]) -> Result<f64, Error> {
    if predictions.is_empty() {
        return Err(Error::NoSamples);
    }
    if predictions.len() != targets.len() {
        return Err(invalid("there is not one target per prediction"));
    }
    let sum: f64 = predictions
        .iter()
        .zip(targets)
        .map(|(p, y)| square(p - y))
        .sum();
    Ok(libm::sqrt(sum / predictions.len() as f64))
}

/// Gal's test log-likelihood: for each target `yᵢ` with T samples `ŷᵢₜ`,
/// `logsumexp_t(−τ/2 · (yᵢ − ŷᵢₜ)²) − ln T − ½ ln 2π + ½ ln τ`, averaged over the targets.
///
/// # Errors
/// [`Error::NoSamples`] without targets or samples; [`Error::Uncertainty`] if there is not one
/// sample set per target, the sets have different sizes, or `tau` is not positive and finite.
pub fn test_log_likelihood(samples: &[&[f64]], targets: &[f64], tau: f64) -> Result<f64, Error> {
    let first = samples.first().ok_or(Error::NoSamples)?;
    if first.is_empty() {
        return Err(Error::NoSamples);
    }
    if samples.len() != targets.len() {
        return Err(invalid("there is not one sample set per target"));
    }
    if samples.iter().any(|s| s.len() != first.len()) {
        return Err(invalid("the sample sets have different sizes"));
    }
    if !(tau.is_finite() && tau > 0.0) {
        return Err(invalid("the model precision τ must be positive and finite"));
    }
    let t = first.len() as f64;
    let constant =
        -libm::log(t) - 0.5 * libm::log(2.0 * core::f64::consts::PI) + 0.5 * libm::log(tau);
    let mut total = 0.0;
    for (s, &y) in samples.iter().zip(targets) {
        let terms = s.iter().map(|&yhat| -0.5 * tau * square(y - yhat));
        // logsumexp, shifted by the largest term; NaN stays NaN (`fold` with `max` would
        // drop it).
        let top = terms.clone().fold(
            f64::NEG_INFINITY,
            |m, v| if v.is_nan() || v > m { v } else { m },
        );
        let lse = if top.is_nan() {
            f64::NAN
        } else if top == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            top + libm::log(terms.map(|v| libm::exp(v - top)).sum::<f64>())
        };
        total += lse + constant;
    }
    Ok(total / targets.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(v: &[[f64; 2]]) -> Vec<&[f64]> {
        v.iter().map(|p| &p[..]).collect()
    }

    #[test]
    fn agreeing_passes_have_no_model_uncertainty() {
        let passes = [[0.7, 0.3]; 4];
        let mi = mutual_information(&rows(&passes)).unwrap();
        assert!(mi.abs() < 1e-15, "{mi}");
        let h = predictive_entropy(&rows(&passes)).unwrap();
        assert!((h - (-(0.7f64 * 0.7f64.ln()) - 0.3 * 0.3f64.ln())).abs() < 1e-15);
        assert_eq!(variation_ratio(&rows(&passes)).unwrap(), 0.0);
    }

    #[test]
    fn variation_ratio_counts_the_minority() {
        let passes = [[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.6, 0.4]];
        assert_eq!(variation_ratio(&rows(&passes)).unwrap(), 0.25);
    }

    #[test]
    fn a_confident_wrong_classifier_is_badly_calibrated() {
        // Always 0.9 sure and always wrong: accuracy 0, ECE 0.9, Brier 2 · 0.81.
        let probs = [[0.9, 0.1]; 10];
        let labels = [1; 10];
        let p = rows(&probs);
        assert_eq!(accuracy(&p, &labels).unwrap(), 0.0);
        let ece = expected_calibration_error(&p, &labels, 15).unwrap();
        assert!((ece - 0.9).abs() < 1e-12, "{ece}");
        let brier = brier_score(&p, &labels).unwrap();
        assert!((brier - 1.62).abs() < 1e-12, "{brier}");
        let nll = negative_log_likelihood(&p, &labels).unwrap();
        assert!((nll - -(0.1f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn reliability_bins_hold_their_predictions() {
        let probs = [[1.0, 0.0], [0.55, 0.45], [0.5, 0.5]];
        let bins = reliability(&rows(&probs), &[0, 1, 0], 2).unwrap();
        // 0.5 and 0.55 in [0.5, 1) with 1.0 (the last bin includes 1); nothing below 0.5.
        assert_eq!(bins[0].count, 0);
        assert!(bins[0].accuracy.is_nan());
        assert_eq!(bins[1].count, 3);
        assert!((bins[1].confidence - (1.0 + 0.55 + 0.5) / 3.0).abs() < 1e-15);
        assert!((bins[1].accuracy - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn bad_arguments_are_errors() {
        let probs = [[0.5, 0.5]];
        let p = rows(&probs);
        assert!(matches!(accuracy(&[], &[]), Err(Error::NoSamples)));
        assert!(accuracy(&p, &[0, 1]).is_err());
        assert!(accuracy(&p, &[2]).is_err());
        assert!(reliability(&p, &[0], 0).is_err());
        assert!(mean_probabilities(&[&[0.5][..], &[0.5, 0.5][..]]).is_err());
        assert!(predictive_moments(&[1.0], 0.0).is_err());
        assert!(predictive_moments(&[], 1.0).is_err());
        assert!(test_log_likelihood(&[&[1.0][..]], &[1.0, 2.0], 1.0).is_err());
        assert!(test_log_likelihood(&[&[1.0][..]], &[1.0], f64::NAN).is_err());
        assert!(root_mean_squared_error(&[1.0], &[]).is_err());
        assert!(reliability(&rows(&[[1.5, -0.5]]), &[0], 10).is_err());
    }

    #[test]
    fn auroc_counts_ordered_pairs() {
        assert_eq!(auroc(&[0.1, 0.2], &[0.3, 0.4]).unwrap(), 1.0);
        assert_eq!(auroc(&[0.3, 0.4], &[0.1, 0.2]).unwrap(), 0.0);
        assert_eq!(auroc(&[0.5, 0.5], &[0.5]).unwrap(), 0.5);
        // Pairs: (0.2 > 0.1) (0.2 < 0.3) (0.3 = 0.3): 1 + 0 + ½ + 1 over 4.
        assert_eq!(auroc(&[0.1, 0.3], &[0.2, 0.3]).unwrap(), 0.625);
        assert!(auroc(&[], &[1.0]).is_err());
        assert!(auroc(&[f64::NAN], &[1.0]).is_err());
    }

    #[test]
    fn nan_stays_nan() {
        let probs = [[f64::NAN, 0.5], [0.5, 0.5]];
        let p = rows(&probs);
        assert!(accuracy(&p, &[0, 0]).unwrap().is_nan());
        assert!(variation_ratio(&p).unwrap().is_nan());
        assert!(negative_log_likelihood(&p, &[0, 0]).unwrap().is_nan());
        assert!(
            test_log_likelihood(&[&[f64::NAN, 1.0][..]], &[1.0], 1.0)
                .unwrap()
                .is_nan()
        );
        assert!(reliability(&p, &[0, 0], 5).is_err());
    }

    #[test]
    fn one_exact_sample_has_the_gaussian_density_at_its_mean() {
        // T = 1, ŷ = y: ln N(0; 0, 1/τ) = −½ ln 2π + ½ ln τ.
        let ll = test_log_likelihood(&[&[3.0][..]], &[3.0], 4.0).unwrap();
        let expected = -0.5 * (2.0 * core::f64::consts::PI).ln() + 0.5 * 4.0f64.ln();
        assert!((ll - expected).abs() < 1e-15);
        let (mean, var) = predictive_moments(&[1.0, 3.0], 2.0).unwrap();
        assert_eq!((mean, var), (2.0, 0.5 + 1.0));
    }

    #[cfg(feature = "diagram")]
    #[test]
    fn the_reliability_diagram_draws_each_nonempty_bin() {
        let probs = [[0.95, 0.05], [0.9, 0.1], [0.55, 0.45], [0.2, 0.8]];
        let bins = reliability(&rows(&probs), &[0, 1, 0, 1], 10).unwrap();
        let occupied = bins.iter().filter(|b| b.count > 0).count();
        assert_eq!(occupied, 3);
        let svg = reliability_diagram("calibration", &[("a", &bins), ("b", &bins[..5])]).unwrap();
        let first_five = bins[..5].iter().filter(|b| b.count > 0).count();
        assert_eq!(svg.matches("<circle").count(), occupied + first_five);
        let texts: Vec<&str> = svg.lines().map(str::trim).collect();
        for text in ["calibration", "a", "b", "confidence", "accuracy"] {
            assert!(texts.contains(&text), "{text} in {svg}");
        }

        assert!(matches!(
            reliability_diagram("none", &[]),
            Err(Error::Uncertainty(_))
        ));
        let mut wrong = bins.clone();
        wrong[9].accuracy = f64::NAN;
        assert!(matches!(
            reliability_diagram("nan", &[("a", &wrong)]),
            Err(Error::Uncertainty(_))
        ));
    }
}
