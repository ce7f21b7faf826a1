//! Loss functions on a batch of outputs, with their gradients.

use core::fmt;

use ndarray::{Array2, ArrayRef2, Zip};

use crate::Float;

/// A loss between the network's outputs `y` and the targets `t`, averaged as PyTorch does.
///
/// The cross-entropy losses take logits, like `BCEWithLogitsLoss` and `CrossEntropyLoss`:
/// declare the output layer `identity` and the loss applies the sigmoid or softmax itself, in a
/// numerically stable way.
///
/// # Example
/// ```
/// use dropout::train::Loss;
/// use ndarray::array;
///
/// let (value, grad) = Loss::MeanSquaredError.value_and_gradient(&array![[1.0_f64, 3.0]], &array![[0.0, 1.0]]);
/// assert_eq!(value, (1.0 + 4.0) / 2.0);
/// assert_eq!(grad, array![[1.0, 2.0]]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Loss {
    /// mean over all elements of (y − t)².
    MeanSquaredError,
    /// mean over all elements of −[t·ln σ(y) + (1 − t)·ln(1 − σ(y))], y being logits.
    BinaryCrossEntropyWithLogits,
    /// mean over rows of −Σₖ tₖ·ln softmax(y)ₖ, y being logits and t a distribution (one-hot for
    /// a class label).
    SoftmaxCrossEntropy,
}

impl Loss {
    /// The loss of a batch (rows are samples) and its gradient with respect to `y`.
    ///
    /// `y` and `t` must have the same shape; the caller checks it.
    pub fn value_and_gradient<T: Float>(
        self,
        y: &ArrayRef2<T>,
        t: &ArrayRef2<T>,
    ) -> (f64, Array2<T>) {
        let (rows, cols) = y.dim();
        let count = (rows * cols).max(1) as f64;
        let mut grad = Array2::from_elem(y.dim(), T::ZERO);
        let mut total = 0.0;
        match self {
            Loss::MeanSquaredError => {
                Zip::from(&mut grad).and(y).and(t).for_each(|g, &y, &t| {
                    let diff = y.to_f64() - t.to_f64();
                    total += diff * diff;
                    *g = T::from_f64(2.0 * diff / count);
                });
                (total / count, grad)
            }
            Loss::BinaryCrossEntropyWithLogits => {
                Zip::from(&mut grad).and(y).and(t).for_each(|g, &y, &t| {
                    let (y, t) = (y.to_f64(), t.to_f64());
                    // max(y, 0) − y·t + ln(1 + e^(−|y|)) is the stable form of the loss.
                    total += y.max(0.0) - y * t + libm::log1p(libm::exp(-y.abs()));
                    *g = T::from_f64((sigmoid(y) - t) / count);
                });
                (total / count, grad)
            }
            Loss::SoftmaxCrossEntropy => {
                let rows_f = rows.max(1) as f64;
                for ((y_row, t_row), mut g_row) in
                    y.rows().into_iter().zip(t.rows()).zip(grad.rows_mut())
                {
                    let max = y_row
                        .iter()
                        .fold(f64::NEG_INFINITY, |m, v| m.max(v.to_f64()));
                    let log_sum = max
                        + libm::log(
                            y_row
                                .iter()
                                .map(|v| libm::exp(v.to_f64() - max))
                                .sum::<f64>(),
                        );
                    let mass: f64 = t_row.iter().map(|v| v.to_f64()).sum();
                    for ((g, &y), &t) in g_row.iter_mut().zip(y_row).zip(t_row) {
                        let (y, t) = (y.to_f64(), t.to_f64());
                        total -= t * (y - log_sum);
                        *g = T::from_f64((libm::exp(y - log_sum) * mass - t) / rows_f);
                    }
                }
                (total / rows_f, grad)
            }
        }
    }

    /// The loss of a batch, without the gradient.
    pub fn value<T: Float>(self, y: &ArrayRef2<T>, t: &ArrayRef2<T>) -> f64 {
        self.value_and_gradient(y, t).0
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loss::MeanSquaredError => "mean squared error",
            Loss::BinaryCrossEntropyWithLogits => "binary cross-entropy on logits",
            Loss::SoftmaxCrossEntropy => "softmax cross-entropy",
        })
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

#[cfg(test)]
mod tests {
    use ndarray::array;

    use super::Loss;

    #[test]
    fn binary_cross_entropy_matches_the_naive_formula_and_stays_finite() {
        let y = array![[0.3_f64, -2.0]];
        let t = array![[1.0, 0.0]];
        let (value, grad) = Loss::BinaryCrossEntropyWithLogits.value_and_gradient(&y, &t);
        let s = |v: f64| 1.0 / (1.0 + (-v).exp());
        let naive = (-(s(0.3)).ln() - (1.0 - s(-2.0)).ln()) / 2.0;
        assert!((value - naive).abs() < 1e-12);
        assert!((grad[[0, 0]] - (s(0.3) - 1.0) / 2.0).abs() < 1e-15);
        let (extreme, _) = Loss::BinaryCrossEntropyWithLogits
            .value_and_gradient(&array![[1000.0_f32]], &array![[0.0_f32]]);
        assert!((extreme - 1000.0).abs() < 1e-9);
    }

    #[test]
    fn softmax_cross_entropy_of_a_one_hot_target() {
        let y = array![[0.0_f64, 2.0_f64.ln()], [5.0, 5.0]];
        let t = array![[0.0, 1.0], [1.0, 0.0]];
        let (value, grad) = Loss::SoftmaxCrossEntropy.value_and_gradient(&y, &t);
        let expected = (-(2.0_f64 / 3.0).ln() - 0.5_f64.ln()) / 2.0;
        assert!((value - expected).abs() < 1e-12);
        // softmax − target, averaged over the 2 rows.
        assert!((grad[[0, 0]] - (1.0 / 3.0) / 2.0).abs() < 1e-15);
        assert!((grad[[1, 0]] - (0.5 - 1.0) / 2.0).abs() < 1e-15);
        let (big, _) = Loss::SoftmaxCrossEntropy
            .value_and_gradient(&array![[1000.0_f32, 0.0]], &array![[1.0_f32, 0.0]]);
        assert!(big.abs() < 1e-9);
    }
}
