//! A forward pass written with plain loops over `Vec<f64>`: slow, obviously correct, and
//! independent of the generated code and of the fast kernels in [`Dense`](crate::Dense). Tests
//! compare the generated passes against it.
//!
//! It reads the architecture from [`Network::SPEC`] and the parameters through
//! [`Network::layer`]. The activations are [`Activation::apply`](crate::Activation::apply) in
//! `f64`: what the reference checks is the layout, the kernels, the masks and the generated
//! code, while each activation's formula is checked where it is defined, against PyTorch
//! (`tests/torch_oracle.rs` and the unit tests of `dropout-shared`). What each dropout site (and
//! DropConnect on each weight) does is up to the caller, which makes the conventions explicit in
//! the tests that use it.

use alloc::vec;
use alloc::vec::Vec;

use crate::{
    ALPHA_PRIME, Activation, DropoutKind, Error, Float as _, Layer, Masks, Network, Scaling,
};

/// The output of `net` at `x`, where `site(k, values)` transforms the activations at dropout
/// site k (in order μ⁰, μ¹, …) before the next layer reads them. Every weight is used as
/// stored: for networks with DropConnect see [`forward_with_weights`].
///
/// # Errors
/// [`Error::InputLength`] if `x` does not have the network's number of inputs.
///
/// # Example
/// ```
/// use dropout::{network, reference};
///
/// network! {
///     struct Net<f64> { input: 2, dropout(p = 0.5), dense 1 identity { weights: [[1.0, -1.0]], bias: [0.5] } }
/// }
/// // No dropout at all: 3 − 1 + 0.5.
/// assert_eq!(reference::forward_with(&Net::new(), &[3.0, 1.0], |_, _| {})?, [2.5]);
/// // Drop the first input: −1 + 0.5.
/// let y = reference::forward_with(&Net::new(), &[3.0, 1.0], |_, a| a[0] = 0.0)?;
/// assert_eq!(y, [-0.5]);
/// // The input must have the network's width.
/// assert!(reference::forward_with(&Net::new(), &[3.0], |_, _| {}).is_err());
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn forward_with<N: Network>(
    net: &N,
    x: &[f64],
    site: impl FnMut(usize, &mut [f64]),
) -> Result<Vec<f64>, Error> {
    run_from(net, 0, x.to_vec(), site)
}

/// [`forward_with`] where `weight(layer, neuron, input, w)` gives the weight that layer `layer`
/// uses in place of the stored `w` (what DropConnect does to it).
///
/// # Errors
/// [`Error::InputLength`] if `x` does not have the network's number of inputs.
///
/// # Example
/// ```
/// use dropout::{network, reference};
///
/// network! {
///     struct Net<f64> { input: 2, dense 1 identity dropconnect(p = 0.5) { weights: [[1.0, -1.0]], bias: [0.5] } }
/// }
/// // Drop the second weight: 3 + 0.5.
/// let y = reference::forward_with_weights(&Net::new(), &[3.0, 1.0], |_, _| {}, |_, _, input, w| {
///     if input == 1 { 0.0 } else { w }
/// })?;
/// assert_eq!(y, [3.5]);
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn forward_with_weights<N: Network>(
    net: &N,
    x: &[f64],
    site: impl FnMut(usize, &mut [f64]),
    weight: impl FnMut(usize, usize, usize, f64) -> f64,
) -> Result<Vec<f64>, Error> {
    run_from_with_weights(net, 0, x.to_vec(), site, weight)
}

/// The output when layer `first` receives `input` (already past any site before it), the
/// layers before it skipped. Sites are numbered as in [`forward_with`].
///
/// # Errors
/// [`Error::InputLength`] if `input` does not have layer `first`'s fan-in, or `first` is not a
/// layer of the network.
pub fn run_from<N: Network>(
    net: &N,
    first: usize,
    input: Vec<f64>,
    site: impl FnMut(usize, &mut [f64]),
) -> Result<Vec<f64>, Error> {
    run_from_with_weights(net, first, input, site, |_, _, _, w| w)
}

/// [`run_from`] with the weights given by `weight`, as in [`forward_with_weights`].
///
/// # Errors
/// [`Error::InputLength`] if `input` does not have layer `first`'s fan-in, or `first` is not a
/// layer of the network.
pub fn run_from_with_weights<N: Network>(
    net: &N,
    first: usize,
    input: Vec<f64>,
    mut site: impl FnMut(usize, &mut [f64]),
    mut weight: impl FnMut(usize, usize, usize, f64) -> f64,
) -> Result<Vec<f64>, Error> {
    let spec = N::SPEC;
    let expected = spec.layers.get(first).map_or(0, |layer| layer.fan_in);
    if input.len() != expected || first >= spec.layers.len() {
        return Err(Error::InputLength {
            expected,
            found: input.len(),
        });
    }
    let input_sites = usize::from(spec.input_dropout.is_some());
    // The index of the next site: the one on layer `first`'s neurons, if it has one.
    let mut site_idx = input_sites
        + spec
            .layers
            .iter()
            .take(first)
            .filter(|l| l.dropout.is_some())
            .count();
    let mut a = input;
    if first == 0 && spec.input_dropout.is_some() {
        site(0, &mut a);
    }
    for (idx, layer_spec) in spec.layers.iter().enumerate().skip(first) {
        let Some(layer) = net.layer(idx) else {
            break;
        };
        let z = affine(layer, &a, |neuron, input, w| weight(idx, neuron, input, w));
        a = activate(layer_spec.activation, z);
        if layer_spec.dropout.is_some() {
            site(site_idx, &mut a);
            site_idx += 1;
        }
    }
    Ok(a)
}

/// What each site does in a training pass under `masks`, as the network's scaling convention
/// defines it: a dropped unit becomes 0, a kept one is multiplied by 1/keep under `inverted`
/// scaling and left alone under `classic`. For [`forward_with`].
///
/// An alpha-dropout site computes PyTorch's `AlphaDropout` as its paper writes it:
/// A·(x·μ + α′·(1 − μ)) + B; a Gaussian-dropout site multiplies each unit by its noise.
pub fn training_sites<N: Network>(masks: &N::Masks) -> impl FnMut(usize, &mut [f64]) + '_ {
    let sites: Vec<crate::Dropout> = N::SPEC.sites().map(|(_, _, d)| d).collect();
    move |site, a| {
        if sites[site].kind() == DropoutKind::Gaussian {
            let noise = masks.noise(site).unwrap_or(&[]);
            for (v, e) in a.iter_mut().zip(noise) {
                *v *= e.to_f64();
            }
            return;
        }
        let bits = masks.site(site).unwrap_or(&[]);
        if sites[site].kind() == DropoutKind::Alpha {
            let p = sites[site].p();
            let big_a = 1.0 / libm::sqrt((1.0 - p) * (1.0 + p * ALPHA_PRIME * ALPHA_PRIME));
            let big_b = -big_a * ALPHA_PRIME * p;
            for (v, &kept) in a.iter_mut().zip(bits) {
                let mu = if kept { 1.0 } else { 0.0 };
                *v = big_a * (*v * mu + ALPHA_PRIME * (1.0 - mu)) + big_b;
            }
            return;
        }
        let factor = match N::SPEC.scaling {
            Scaling::Inverted => 1.0 / sites[site].keep(),
            Scaling::Classic => 1.0,
        };
        // Multiplied, as the literature writes it: a dropped NaN or infinity stays NaN.
        for (v, &kept) in a.iter_mut().zip(bits) {
            *v *= if kept { factor } else { 0.0 };
        }
    }
}

/// What each site does in an evaluation pass: nothing under `inverted` scaling, × keep under
/// `classic`; nothing for alpha and Gaussian dropout. For [`forward_with`].
pub fn evaluation_sites<N: Network>() -> impl FnMut(usize, &mut [f64]) {
    let sites: Vec<crate::Dropout> = N::SPEC.sites().map(|(_, _, d)| d).collect();
    move |site, a| {
        if N::SPEC.scaling == Scaling::Classic && sites[site].kind() == DropoutKind::Standard {
            for v in a.iter_mut() {
                *v *= sites[site].keep();
            }
        }
    }
}

/// What DropConnect does to each weight in a training pass under `masks`, as the scaling
/// convention defines it: a dropped weight becomes 0 (NaN if it was NaN or infinite), a kept one
/// is multiplied by 1/keep under `inverted` scaling and left alone under `classic`. For
/// [`forward_with_weights`]; layers without DropConnect keep their weights.
pub fn training_weights<N: Network>(
    masks: &N::Masks,
) -> impl FnMut(usize, usize, usize, f64) -> f64 + '_ {
    // Per layer: the index of its mask and its factor for kept weights.
    let mut layers: Vec<Option<(usize, f64)>> = vec![None; N::SPEC.layers.len()];
    for (mask, (_, layer, _, dropout)) in N::SPEC.connections().enumerate() {
        let factor = match N::SPEC.scaling {
            Scaling::Inverted => 1.0 / dropout.keep(),
            Scaling::Classic => 1.0,
        };
        layers[layer] = Some((mask, factor));
    }
    move |layer, neuron, input, w| {
        let Some(&Some((mask, factor))) = layers.get(layer) else {
            return w;
        };
        let fan_in = N::SPEC.layers[layer].fan_in;
        let kept = masks
            .connections(mask)
            .and_then(|bits| bits.get(neuron * fan_in + input))
            .copied()
            .unwrap_or(true);
        // Multiplied, as the literature writes W ⊙ M: a dropped NaN or infinity stays NaN.
        w * if kept { factor } else { 0.0 }
    }
}

/// What DropConnect does to each weight in an evaluation pass: nothing under `inverted`
/// scaling, × keep under `classic`. For [`forward_with_weights`].
pub fn evaluation_weights<N: Network>() -> impl FnMut(usize, usize, usize, f64) -> f64 {
    move |layer, _, _, w| match N::SPEC.layers.get(layer).and_then(|l| l.dropconnect) {
        Some(d) if N::SPEC.scaling == Scaling::Classic => w * d.keep(),
        _ => w,
    }
}

fn affine<T: crate::Float>(
    layer: &dyn Layer<T>,
    a: &[f64],
    mut weight: impl FnMut(usize, usize, f64) -> f64,
) -> Vec<f64> {
    let mut z = vec![0.0; layer.size()];
    for (neuron, z_n) in z.iter_mut().enumerate() {
        let mut sum = layer.biases()[neuron].to_f64();
        for (input, a_i) in a.iter().enumerate().take(layer.fan_in()) {
            let w = layer.weight(neuron, input).map_or(0.0, T::to_f64);
            sum += weight(neuron, input, w) * a_i;
        }
        *z_n = sum;
    }
    z
}

fn activate(activation: Activation, mut z: Vec<f64>) -> Vec<f64> {
    activation.apply_in_place(&mut z);
    z
}

#[cfg(test)]
mod tests {
    use super::activate;
    use crate::Activation;

    #[test]
    fn activations_by_formula() {
        assert_eq!(activate(Activation::Relu, vec![-1.0, 2.0]), [0.0, 2.0]);
        assert_eq!(
            activate(Activation::LeakyRelu(0.5), vec![-1.0, 2.0]),
            [-0.5, 2.0]
        );
        assert_eq!(activate(Activation::Sigmoid, vec![0.0]), [0.5]);
        assert_eq!(activate(Activation::Identity, vec![-3.0]), [-3.0]);
        let p = activate(Activation::Softmax, vec![0.0, 2.0_f64.ln()]);
        assert!((p[0] - 1.0 / 3.0).abs() < 1e-15 && (p[1] - 2.0 / 3.0).abs() < 1e-15);
    }
}
