//! Weight initialisation bounds.

use libm::sqrt;

use crate::{Activation, Init};

/// The half-width of the uniform distribution that weights are drawn from.
///
/// Which rule an activation takes is [`Activation::init`]: He for the ReLU family — ReLU, ReLU6,
/// leaky ReLU (gain √(2/(1+α²))), ELU, GELU, SiLU and softplus — with bound g·√(3/fan_in);
/// LeCun for SELU (bound √(3/fan_in), which keeps SELU's fixed point of mean 0 and variance 1);
/// Xavier/Glorot for the rest (bound √(6/(fan_in+fan_out))). Returns 0 for an empty layer.
///
/// ```
/// use dropout::{Activation, init::uniform_bound};
///
/// assert_eq!(uniform_bound(Activation::Relu, 6, 1), 1.0);
/// assert_eq!(uniform_bound(Activation::Sigmoid, 3, 3), 1.0);
/// ```
pub fn uniform_bound(activation: Activation, fan_in: usize, fan_out: usize) -> f64 {
    let (fan_in, fan_out) = (fan_in as f64, fan_out as f64);
    let bound = match activation.init() {
        Init::He => sqrt(6.0 / fan_in),
        Init::LeCun => sqrt(3.0 / fan_in),
        Init::LeakyHe(alpha) => sqrt(2.0 / (1.0 + alpha * alpha)) * sqrt(3.0 / fan_in),
        Init::Xavier => sqrt(6.0 / (fan_in + fan_out)),
    };
    if bound.is_finite() { bound } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::uniform_bound;
    use crate::Activation;

    #[test]
    fn he_and_xavier_bounds() {
        assert!((uniform_bound(Activation::LeakyRelu(0.0), 6, 9) - 1.0).abs() < 1e-15);
        assert!((uniform_bound(Activation::LeakyRelu(1.0), 3, 9) - 1.0).abs() < 1e-15);
        assert_eq!(uniform_bound(Activation::Identity, 1, 5), 1.0);
        assert_eq!(uniform_bound(Activation::Relu, 0, 5), 0.0);
    }
}
