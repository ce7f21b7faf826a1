//! Activation functions g applied to a layer's pre-activation z.

use core::fmt;

use crate::Float;

/// The activation function of a dense layer.
///
/// Every activation except [`Softmax`](Activation::Softmax) acts on each unit alone; softmax
/// normalises the whole layer and is therefore only allowed on the output layer.
///
/// # Example
/// ```
/// use dropout::Activation;
///
/// assert_eq!(Activation::Relu.apply([-1.0_f32, 2.0]), [0.0, 2.0]);
/// assert_eq!(Activation::LeakyRelu(0.1).apply([-1.0_f64, 2.0]), [-0.1, 2.0]);
/// let p = Activation::Softmax.apply([0.0_f64, 0.0]);
/// assert_eq!(p, [0.5, 0.5]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Activation {
    /// g(z) = z.
    Identity,
    /// g(z) = max(z, 0); NaN stays NaN.
    Relu,
    /// g(z) = z for z > 0, α·z otherwise; the field is α.
    LeakyRelu(f64),
    /// g(z) = 1 / (1 + e^(−z)).
    Sigmoid,
    /// g(z) = tanh(z).
    Tanh,
    /// g(z)ᵢ = e^(zᵢ) / Σⱼ e^(zⱼ), computed as e^(zᵢ − max z) for stability.
    Softmax,
    /// SELU (Klambauer et al. 2017), PyTorch's `SELU`: g(z) = λ·z for z > 0, λ·α·(e^z − 1)
    /// otherwise, with λ = 1.0507009873554805 and α = 1.6732632423543772 (the fixed point
    /// of mean 0 and variance 1 that alpha dropout preserves).
    Selu,
    /// ELU, PyTorch's `ELU(α)`: g(z) = z for z > 0, α·(e^z − 1) otherwise; the field is α.
    Elu(f64),
    /// GELU in its exact form, PyTorch's default `GELU()`: g(z) = z·Φ(z) = z·½·(1 + erf(z/√2)).
    Gelu,
    /// Softplus, PyTorch's `Softplus()` (β = 1, threshold 20): g(z) = ln(1 + e^z), and z
    /// itself above 20.
    Softplus,
    /// SiLU (swish), PyTorch's `SiLU`: g(z) = z / (1 + e^(−z)).
    Silu,
}

/// SELU's scale λ (PyTorch's constant).
pub const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
/// SELU's α (PyTorch's constant).
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_2;
/// Above this, softplus returns its input (PyTorch's default threshold, with β = 1).
pub const SOFTPLUS_THRESHOLD: f64 = 20.0;

impl Activation {
    /// Applies the activation to a fixed-size vector of pre-activations.
    #[inline]
    #[must_use]
    pub fn apply<T: Float, const N: usize>(self, mut z: [T; N]) -> [T; N] {
        self.apply_in_place(&mut z);
        z
    }

    /// Applies the activation in place to a slice of pre-activations (one layer).
    #[inline]
    pub fn apply_in_place<T: Float>(self, z: &mut [T]) {
        match self {
            Activation::Identity => {}
            Activation::Relu => {
                // As PyTorch: NaN stays NaN and −0 stays −0 (`v > 0 ? v : 0` would turn NaN
                // into 0). Every value is stored, so that the loop runs on vectors without a
                // branch on the (random) signs: a conditional store measured 0.65 ms, a quarter
                // of B1 in `benches/`, against 0.03 ms for this form.
                for v in z {
                    *v = if *v < T::ZERO { T::ZERO } else { *v };
                }
            }
            Activation::LeakyRelu(alpha) => {
                let alpha = T::from_f64(alpha);
                for v in z {
                    *v = if *v > T::ZERO { *v } else { alpha * *v };
                }
            }
            Activation::Sigmoid => {
                for v in z {
                    *v = T::ONE / (T::ONE + (-*v).exp());
                }
            }
            Activation::Tanh => {
                for v in z {
                    *v = v.tanh();
                }
            }
            Activation::Softmax => softmax_in_place(z),
            Activation::Selu => {
                let (lambda, scale) = (
                    T::from_f64(SELU_LAMBDA),
                    T::from_f64(SELU_LAMBDA * SELU_ALPHA),
                );
                for v in z {
                    *v = if *v > T::ZERO {
                        lambda * *v
                    } else {
                        scale * v.exp_m1()
                    };
                }
            }
            Activation::Elu(alpha) => {
                let alpha = T::from_f64(alpha);
                for v in z {
                    *v = if *v > T::ZERO { *v } else { alpha * v.exp_m1() };
                }
            }
            Activation::Gelu => {
                let (half, root_half) = (
                    T::from_f64(0.5),
                    T::from_f64(core::f64::consts::FRAC_1_SQRT_2),
                );
                for v in z {
                    *v = *v * half * (T::ONE + (*v * root_half).erf());
                }
            }
            Activation::Softplus => {
                let threshold = T::from_f64(SOFTPLUS_THRESHOLD);
                for v in z {
                    *v = if *v > threshold { *v } else { v.exp().ln_1p() };
                }
            }
            Activation::Silu => {
                for v in z {
                    *v = *v / (T::ONE + (-*v).exp());
                }
            }
        }
    }

    /// Applies the activation to `B` samples stored lane-wise (`z[j][s]` is unit `j` of sample
    /// `s`), with the same results as [`Activation::apply`] on each sample.
    #[inline(always)]
    #[must_use]
    pub fn apply_lanes<T: Float, const B: usize, const N: usize>(
        self,
        mut z: [[T; B]; N],
    ) -> [[T; B]; N] {
        if self.is_elementwise() {
            for unit in &mut z {
                self.apply_in_place(unit);
            }
        } else {
            for sample in 0..B {
                let mut values = [T::ZERO; N];
                for (value, unit) in values.iter_mut().zip(&z) {
                    *value = unit[sample];
                }
                self.apply_in_place(&mut values);
                for (unit, value) in z.iter_mut().zip(values) {
                    unit[sample] = value;
                }
            }
        }
        z
    }

    /// Whether the activation acts on each unit independently (everything but softmax).
    pub const fn is_elementwise(self) -> bool {
        !matches!(self, Activation::Softmax)
    }

    /// The name used in `network!` declarations, e.g. `leaky_relu`.
    pub const fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
            Activation::Selu => "selu",
            Activation::Elu(_) => "elu",
            Activation::Gelu => "gelu",
            Activation::Softplus => "softplus",
            Activation::Silu => "silu",
        }
    }
}

#[cfg(feature = "ndarray")]
impl Activation {
    /// Applies the activation to every row of a batch.
    pub fn apply_batch<T: Float>(self, z: &mut ndarray::ArrayRef2<T>) {
        for mut row in z.rows_mut() {
            if let Some(values) = row.as_slice_mut() {
                self.apply_in_place(values);
            } else {
                let mut values: alloc::vec::Vec<T> = row.to_vec();
                self.apply_in_place(&mut values);
                row.iter_mut().zip(values).for_each(|(slot, v)| *slot = v);
            }
        }
    }
}

impl fmt::Display for Activation {
    /// Formats the activation as it is written in a declaration: `relu`, `leaky_relu(0.01)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Activation::LeakyRelu(alpha) => write!(f, "leaky_relu({alpha:?})"),
            Activation::Elu(alpha) => write!(f, "elu({alpha:?})"),
            other => f.write_str(other.name()),
        }
    }
}

fn softmax_in_place<T: Float>(z: &mut [T]) {
    let Some(&first) = z.first() else { return };
    let max = z.iter().fold(first, |m, &v| if v > m { v } else { m });
    let mut sum = T::ZERO;
    for v in z.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in z.iter_mut() {
        *v = *v / sum;
    }
}

#[cfg(test)]
mod tests {
    use super::Activation;

    #[test]
    fn elementwise_values() {
        let z = [-2.0_f64, 0.0, 3.0];
        assert_eq!(Activation::Identity.apply(z), z);
        assert_eq!(Activation::Relu.apply(z), [0.0, 0.0, 3.0]);
        assert_eq!(Activation::LeakyRelu(0.5).apply(z), [-1.0, 0.0, 3.0]);
        let s = Activation::Sigmoid.apply(z);
        assert!((s[0] - 1.0 / (1.0 + 2.0_f64.exp())).abs() < 1e-15);
        assert_eq!(s[1], 0.5);
        let t = Activation::Tanh.apply(z);
        assert_eq!(t[2], 3.0_f64.tanh());
    }

    /// Values PyTorch 2.15 gives (`torch.nn.functional`, float64), and NaN kept.
    #[test]
    fn the_smooth_activations_match_pytorch() {
        let close = |got: f64, want: f64| (got - want).abs() <= 1e-15 * want.abs().max(1.0);
        let cases: [(Activation, [f64; 4]); 5] = [
            // z = −2, −0.5, 0.5, 25
            (
                Activation::Selu,
                [
                    -1.520_166_468_595_694_8,
                    -0.691_758_187_802_871_3,
                    0.525_350_493_677_740_2,
                    26.267_524_683_887_01,
                ],
            ),
            (
                Activation::Elu(0.7),
                [
                    -0.605_265_301_734_371_1,
                    -0.275_428_538_201_156_6,
                    0.5,
                    25.0,
                ],
            ),
            (
                Activation::Gelu,
                [
                    -0.045_500_263_896_358_42,
                    -0.154_268_769_362_993_44,
                    0.345_731_230_637_006_56,
                    25.0,
                ],
            ),
            (
                Activation::Softplus,
                [
                    0.126_928_011_042_972_5,
                    0.474_076_984_180_106_7,
                    0.974_076_984_180_106_7,
                    25.0,
                ],
            ),
            (
                Activation::Silu,
                [
                    -0.238_405_844_044_235_1,
                    -0.188_770_334_399_072_7,
                    0.311_229_665_600_927_3,
                    24.999_999_999_652_8,
                ],
            ),
        ];
        for (activation, want) in cases {
            let got = activation.apply([-2.0, -0.5, 0.5, 25.0]);
            for (g, w) in got.iter().zip(want) {
                assert!(close(*g, w), "{activation}: {g} vs PyTorch's {w}");
            }
            assert!(activation.apply([f64::NAN])[0].is_nan(), "{activation}");
            assert!(activation.apply([f32::NAN])[0].is_nan(), "{activation}");
        }
        assert_eq!(Activation::Elu(0.7).to_string(), "elu(0.7)");
        assert_eq!(Activation::Gelu.name(), "gelu");
    }

    #[test]
    fn sigmoid_saturates_without_nan() {
        let s = Activation::Sigmoid.apply([-1000.0_f32, 1000.0]);
        assert_eq!(s, [0.0, 1.0]);
    }

    #[test]
    fn softmax_is_a_distribution_and_shift_invariant() {
        let p = Activation::Softmax.apply([1.0_f64, 2.0, 3.0]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-15);
        let q = Activation::Softmax.apply([1001.0_f64, 1002.0, 1003.0]);
        for (a, b) in p.iter().zip(&q) {
            assert!((a - b).abs() < 1e-15);
        }
        assert!(p[2] > p[1] && p[1] > p[0]);
        assert!(!Activation::Softmax.is_elementwise());
    }

    #[test]
    fn lanes_equal_samples() {
        let z = [[1.0_f64, -2.0], [3.0, 0.5], [-1.0, 4.0]];
        for activation in [Activation::Relu, Activation::Tanh, Activation::Softmax] {
            let lanes = activation.apply_lanes(z);
            for s in 0..2 {
                let sample = activation.apply([z[0][s], z[1][s], z[2][s]]);
                assert_eq!([lanes[0][s], lanes[1][s], lanes[2][s]], sample);
            }
        }
    }

    #[test]
    fn display_matches_declaration_syntax() {
        assert_eq!(Activation::LeakyRelu(0.01).to_string(), "leaky_relu(0.01)");
        assert_eq!(Activation::Tanh.to_string(), "tanh");
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn softmax_applies_per_row_even_on_strided_views() {
        let mut z = ndarray::array![[0.0_f64, 0.0, 9.0], [1.0, 1.0, 9.0]];
        let mut view = z.slice_mut(ndarray::s![.., ..2]);
        Activation::Softmax.apply_batch(&mut view);
        assert_eq!(z, ndarray::array![[0.5, 0.5, 9.0], [0.5, 0.5, 9.0]]);
    }
}
