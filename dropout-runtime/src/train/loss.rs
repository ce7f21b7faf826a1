//! Loss functions on a batch of outputs, with their gradients.

use alloc::format;
use core::fmt;

use ndarray::{Array2, ArrayRef2, Zip};

use crate::{Activation, Error, Float};

/// A loss between the network's outputs `y` and the targets `t`, averaged as PyTorch does.
///
/// The cross-entropy losses take logits, like PyTorch's `BCEWithLogitsLoss` and
/// `CrossEntropyLoss`, and apply the sigmoid or softmax themselves in a numerically stable way.
/// Declare the output layer either `identity` (its outputs are the logits) or with the loss's own
/// link — `sigmoid` for [`Loss::BinaryCrossEntropyWithLogits`], `softmax` for
/// [`Loss::SoftmaxCrossEntropy`] — and the trainer computes the loss on that layer's
/// pre-activation, so the link is applied once, exactly as PyTorch's loss on the logits. An
/// output with the other link (a softmax output with binary cross-entropy, say) is refused.
///
/// # Example
/// ```
/// use dropout::train::Loss;
/// use dropout::ndarray::array;
///
/// let (value, grad) = Loss::MeanSquaredError.value_and_gradient(&array![[1.0_f64, 3.0]], &array![[0.0, 1.0]])?;
/// assert_eq!(value, (1.0 + 4.0) / 2.0);
/// assert_eq!(grad, array![[1.0, 2.0]]);
/// // Softmax cross-entropy targets are distributions.
/// assert!(Loss::SoftmaxCrossEntropy.value(&array![[1.0_f64, 0.0]], &array![[5.0, -4.0]]).is_err());
/// # Ok::<(), dropout::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Loss {
    /// mean over all elements of (y − t)².
    MeanSquaredError,
    /// mean over all elements of −[t·ln σ(y) + (1 − t)·ln(1 − σ(y))], y being logits and t in
    /// [0, 1].
    BinaryCrossEntropyWithLogits,
    /// mean over rows of −Σₖ tₖ·ln softmax(y)ₖ, y being logits and each row of t a distribution
    /// (non-negative, summing to 1; one-hot for a class label). As with PyTorch's
    /// `CrossEntropyLoss`, the targets may instead be one column of class indices 0, 1, …, k − 1
    /// for k > 1 outputs, which stand for those one-hot rows (see [`Loss::class_targets`]).
    SoftmaxCrossEntropy,
}

/// How far a softmax cross-entropy target row may sum from 1, relative to its size.
const DISTRIBUTION_TOLERANCE: f64 = 1e-6;

impl Loss {
    /// For [`Loss::SoftmaxCrossEntropy`] over `n_outputs` > 1 classes and targets of one column,
    /// the one-hot rows the column's class indices stand for; `None` for targets to use as they
    /// are (any other loss or shape).
    ///
    /// # Errors
    /// [`Error::Target`] naming the row of a class index that is not a whole number in
    /// 0..`n_outputs`.
    ///
    /// ```
    /// use dropout::train::Loss;
    /// use dropout::ndarray::array;
    ///
    /// let one_hot = Loss::SoftmaxCrossEntropy.class_targets(&array![[2.0_f32], [0.0]], 3, "targets")?;
    /// assert_eq!(one_hot, Some(array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]));
    /// assert!(Loss::SoftmaxCrossEntropy.class_targets(&array![[3.0_f32]], 3, "targets").is_err());
    /// assert_eq!(Loss::MeanSquaredError.class_targets(&array![[3.0_f32]], 3, "targets")?, None);
    /// # Ok::<(), dropout::Error>(())
    /// ```
    pub fn class_targets<T: Float>(
        self,
        t: &ArrayRef2<T>,
        n_outputs: usize,
        what: &'static str,
    ) -> Result<Option<Array2<T>>, Error> {
        if self != Loss::SoftmaxCrossEntropy || t.ncols() != 1 || n_outputs < 2 {
            return Ok(None);
        }
        let mut one_hot = Array2::from_elem((t.nrows(), n_outputs), T::ZERO);
        for (row, value) in t.iter().enumerate() {
            let value = value.to_f64();
            let Some(class) = (0..n_outputs).find(|&k| k as f64 == value) else {
                return Err(Error::Target {
                    what,
                    row,
                    problem: format!(
                        "a class index must be a whole number in 0..{n_outputs}, found {value}"
                    ),
                });
            };
            one_hot[(row, class)] = T::ONE;
        }
        Ok(Some(one_hot))
    }

    /// The loss of a batch (rows are samples) and its gradient with respect to `y`.
    ///
    /// # Errors
    /// [`Error::TargetShape`] if `y` and `t` differ in shape; [`Error::Target`] if a target is
    /// not what the loss needs (see [`Loss::check_targets`]).
    pub fn value_and_gradient<T: Float>(
        self,
        y: &ArrayRef2<T>,
        t: &ArrayRef2<T>,
    ) -> Result<(f64, Array2<T>), Error> {
        let classes = self.class_targets(t, y.ncols(), "targets")?;
        let t = classes.as_ref().map_or(t, |one_hot| &**one_hot);
        if y.dim() != t.dim() {
            return Err(Error::TargetShape {
                expected: y.dim(),
                found: t.dim(),
            });
        }
        self.check_targets(t, "targets")?;
        Ok(self.unchecked(y, t))
    }

    /// The loss of a batch, without the gradient.
    ///
    /// # Errors
    /// As [`Loss::value_and_gradient`].
    pub fn value<T: Float>(self, y: &ArrayRef2<T>, t: &ArrayRef2<T>) -> Result<f64, Error> {
        self.value_and_gradient(y, t).map(|(value, _)| value)
    }

    /// Checks that every target is one this loss can learn from: finite for mean squared error,
    /// in [0, 1] for binary cross-entropy, rows that are distributions (entries ≥ 0 summing to
    /// 1 within 1e-6 per entry) for softmax cross-entropy. `what` names the data in errors.
    ///
    /// # Errors
    /// [`Error::NonFiniteData`] or [`Error::Target`] naming the row.
    pub fn check_targets<T: Float>(
        self,
        t: &ArrayRef2<T>,
        what: &'static str,
    ) -> Result<(), Error> {
        for (row, values) in t.rows().into_iter().enumerate() {
            for (column, value) in values.iter().enumerate() {
                let value = value.to_f64();
                if !value.is_finite() {
                    return Err(Error::NonFiniteData {
                        what,
                        row,
                        column,
                        value,
                    });
                }
                let in_range = match self {
                    Loss::MeanSquaredError => true,
                    Loss::BinaryCrossEntropyWithLogits => (0.0..=1.0).contains(&value),
                    Loss::SoftmaxCrossEntropy => value >= 0.0,
                };
                if !in_range {
                    let needs = match self {
                        Loss::SoftmaxCrossEntropy => {
                            "softmax cross-entropy needs probabilities ≥ 0"
                        }
                        _ => "binary cross-entropy needs probabilities in [0, 1]",
                    };
                    return Err(Error::Target {
                        what,
                        row,
                        problem: format!("{needs}, found {value} in column {column}"),
                    });
                }
            }
            if self == Loss::SoftmaxCrossEntropy {
                let sum: f64 = values.iter().map(|v| v.to_f64()).sum();
                if (sum - 1.0).abs() > DISTRIBUTION_TOLERANCE * values.len().max(1) as f64 {
                    return Err(Error::Target {
                        what,
                        row,
                        problem: format!(
                            "softmax cross-entropy needs a distribution, but the row sums to {sum}"
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether the loss takes the output layer's pre-activation rather than its output: when
    /// that layer applies the loss's own link (softmax, sigmoid), which the loss applies again.
    ///
    /// # Errors
    /// [`Error::LossOutput`] when the output applies the other cross-entropy's link.
    pub(crate) fn on_logits(self, output: Activation) -> Result<bool, Error> {
        match (self, output) {
            (Loss::SoftmaxCrossEntropy, Activation::Softmax)
            | (Loss::BinaryCrossEntropyWithLogits, Activation::Sigmoid) => Ok(true),
            (Loss::SoftmaxCrossEntropy, Activation::Sigmoid)
            | (Loss::BinaryCrossEntropyWithLogits, Activation::Softmax) => Err(Error::LossOutput {
                loss: self.name(),
                activation: output.name(),
            }),
            _ => Ok(false),
        }
    }

    /// The loss and gradient of shapes and targets already checked.
    pub(crate) fn unchecked<T: Float>(
        self,
        y: &ArrayRef2<T>,
        t: &ArrayRef2<T>,
    ) -> (f64, Array2<T>) {
        let (total, grad) = self.unchecked_part(y, t, y.nrows());
        (total / self.divisor(y.nrows(), y.ncols()), grad)
    }

    /// What the mean loss of a batch of `rows` rows and `cols` outputs divides its sum by.
    pub(crate) fn divisor(self, rows: usize, cols: usize) -> f64 {
        match self {
            Loss::MeanSquaredError | Loss::BinaryCrossEntropyWithLogits => {
                (rows * cols).max(1) as f64
            }
            Loss::SoftmaxCrossEntropy => rows.max(1) as f64,
        }
    }

    /// The loss of some rows of a batch of `batch_rows` rows, as a sum (the batch's mean loss
    /// is the sum of its parts' over [`Loss::divisor`]), and the gradient of the batch's mean
    /// loss with respect to these rows: row for row the bits [`Loss::unchecked`] gives for the
    /// whole batch.
    pub(crate) fn unchecked_part<T: Float>(
        self,
        y: &ArrayRef2<T>,
        t: &ArrayRef2<T>,
        batch_rows: usize,
    ) -> (f64, Array2<T>) {
        let mut grad = Array2::from_elem(y.dim(), T::ZERO);
        let mut total = 0.0;
        let count = self.divisor(batch_rows, y.ncols());
        match self {
            Loss::MeanSquaredError => {
                Zip::from(&mut grad).and(y).and(t).for_each(|g, &y, &t| {
                    let diff = y.to_f64() - t.to_f64();
                    total += diff * diff;
                    *g = T::from_f64(2.0 * diff / count);
                });
                (total, grad)
            }
            Loss::BinaryCrossEntropyWithLogits => {
                Zip::from(&mut grad).and(y).and(t).for_each(|g, &y, &t| {
                    let (y, t) = (y.to_f64(), t.to_f64());
                    // max(y, 0) − y·t + ln(1 + e^(−|y|)) is the stable form of the loss.
                    total += positive_part(y) - y * t + libm::log1p(libm::exp(-y.abs()));
                    *g = T::from_f64((sigmoid(y) - t) / count);
                });
                (total, grad)
            }
            Loss::SoftmaxCrossEntropy => {
                for ((y_row, t_row), mut g_row) in
                    y.rows().into_iter().zip(t.rows()).zip(grad.rows_mut())
                {
                    // NaN-aware maximum: a NaN logit makes the whole row NaN, not ignored.
                    let max = y_row.iter().fold(f64::NEG_INFINITY, |m, v| {
                        let v = v.to_f64();
                        if v > m || v.is_nan() { v } else { m }
                    });
                    let log_sum = max
                        + libm::log(
                            y_row
                                .iter()
                                .map(|v| libm::exp(v.to_f64() - max))
                                .sum::<f64>(),
                        );
                    for ((g, &y), &t) in g_row.iter_mut().zip(y_row).zip(t_row) {
                        let (y, t) = (y.to_f64(), t.to_f64());
                        total -= t * (y - log_sum);
                        *g = T::from_f64((libm::exp(y - log_sum) - t) / count);
                    }
                }
                (total, grad)
            }
        }
    }

    /// The name used in messages.
    pub const fn name(self) -> &'static str {
        match self {
            Loss::MeanSquaredError => "mean squared error",
            Loss::BinaryCrossEntropyWithLogits => "binary cross-entropy on logits",
            Loss::SoftmaxCrossEntropy => "softmax cross-entropy",
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// max(x, 0), NaN staying NaN.
fn positive_part(x: f64) -> f64 {
    if x < 0.0 { 0.0 } else { x }
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::Loss;
    use crate::{Activation, Error};

    #[test]
    fn binary_cross_entropy_matches_the_naive_formula_and_stays_finite() {
        let y = array![[0.3_f64, -2.0]];
        let t = array![[1.0, 0.0]];
        let (value, grad) = Loss::BinaryCrossEntropyWithLogits
            .value_and_gradient(&y, &t)
            .unwrap();
        let s = |v: f64| 1.0 / (1.0 + (-v).exp());
        let naive = (-(s(0.3)).ln() - (1.0 - s(-2.0)).ln()) / 2.0;
        assert!((value - naive).abs() < 1e-12);
        assert!((grad[[0, 0]] - (s(0.3) - 1.0) / 2.0).abs() < 1e-15);
        let (extreme, _) = Loss::BinaryCrossEntropyWithLogits
            .value_and_gradient(&array![[1000.0_f32]], &array![[0.0_f32]])
            .unwrap();
        assert!((extreme - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn softmax_cross_entropy_of_a_one_hot_target() {
        let y = array![[0.0_f64, 2.0_f64.ln()], [5.0, 5.0]];
        let t = array![[0.0, 1.0], [1.0, 0.0]];
        let (value, grad) = Loss::SoftmaxCrossEntropy
            .value_and_gradient(&y, &t)
            .unwrap();
        let expected = (-(2.0_f64 / 3.0).ln() - 0.5_f64.ln()) / 2.0;
        assert!((value - expected).abs() < 1e-12);
        // softmax − target, averaged over the 2 rows.
        assert!((grad[[0, 0]] - (1.0 / 3.0) / 2.0).abs() < 1e-15);
        assert!((grad[[1, 0]] - (0.5 - 1.0) / 2.0).abs() < 1e-15);
        let (big, _) = Loss::SoftmaxCrossEntropy
            .value_and_gradient(&array![[1000.0_f32, 0.0]], &array![[1.0_f32, 0.0]])
            .unwrap();
        assert!(big.abs() < 1e-9);
    }

    #[test]
    fn shapes_and_targets_are_checked() {
        let y = array![[0.0_f64, 1.0]];
        assert_eq!(
            Loss::MeanSquaredError.value(&y, &array![[0.0, 1.0, 2.0]]),
            Err(Error::TargetShape {
                expected: (1, 2),
                found: (1, 3)
            })
        );
        // Softmax cross-entropy rows of [5, −3, 0] once trained to a loss of −6.2.
        let err = Loss::SoftmaxCrossEntropy
            .value(&array![[0.0_f64, 1.0, 2.0]], &array![[5.0, -3.0, 0.0]])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "targets, row 0: softmax cross-entropy needs probabilities ≥ 0, found -3 in column 1"
        );
        let err = Loss::SoftmaxCrossEntropy
            .value(&array![[0.0_f64, 1.0]], &array![[0.5, 0.6]])
            .unwrap_err();
        assert!(err.to_string().contains("the row sums to 1.1"), "{err}");
        let err = Loss::BinaryCrossEntropyWithLogits
            .value(&y, &array![[0.0, 2.0]])
            .unwrap_err();
        assert!(
            err.to_string().contains("in [0, 1], found 2 in column 1"),
            "{err}"
        );
        let err = Loss::MeanSquaredError
            .value(&y, &array![[f64::NAN, 1.0]])
            .unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFiniteData {
                    row: 0,
                    column: 0,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_nan_logit_makes_the_loss_nan() {
        let (value, _) = Loss::SoftmaxCrossEntropy
            .value_and_gradient(&array![[f64::NAN, 0.0]], &array![[1.0, 0.0]])
            .unwrap();
        assert!(value.is_nan());
        let (value, _) = Loss::BinaryCrossEntropyWithLogits
            .value_and_gradient(&array![[f64::NAN]], &array![[1.0]])
            .unwrap();
        assert!(value.is_nan());
    }

    #[test]
    fn links_are_applied_once() {
        assert_eq!(
            Loss::SoftmaxCrossEntropy.on_logits(Activation::Softmax),
            Ok(true)
        );
        assert_eq!(
            Loss::BinaryCrossEntropyWithLogits.on_logits(Activation::Sigmoid),
            Ok(true)
        );
        assert_eq!(
            Loss::SoftmaxCrossEntropy.on_logits(Activation::Identity),
            Ok(false)
        );
        assert_eq!(
            Loss::MeanSquaredError.on_logits(Activation::Softmax),
            Ok(false)
        );
        assert!(
            Loss::BinaryCrossEntropyWithLogits
                .on_logits(Activation::Softmax)
                .is_err()
        );
    }
}
