//! Gradients of a loss with respect to every weight and bias, by backpropagation through the
//! layers and the dropout masks of a batch.
//!
//! A dropout site multiplies unit u of sample r by m[r, u] = μ[r, u] · train_factor, so the
//! gradient flowing back through it is multiplied by the same m: a dropped unit passes zero
//! gradient. Biases are never masked, so a layer's bias gets its gradient even when every unit
//! feeding the layer is dropped.

use alloc::vec::Vec;

use ndarray::{Array1, Array2, ArrayRef2, Axis, LinalgScalar};

use crate::kernel::gemm::{bias_rows, gemm_forward, gemm_input_gradient, gemm_weight_gradient};
use crate::kernel::offset;
use crate::{Activation, Error, Float, Masks, Network, Scaling};

/// The gradient of a loss with respect to every parameter of a network, in its shapes.
///
/// # Example
/// ```
/// use dropout::train::{Loss, gradients};
/// use dropout::network;
///
/// network! {
///     struct Line<f64> { input: 1, dense 1 identity { weights: [[2.0]], bias: [1.0] } }
/// }
/// // y = 2·3 + 1 = 7, target 5: loss (7 − 5)² = 4, dL/dy = 4, dL/dw = 4·3, dL/db = 4.
/// let (loss, grads) = gradients(&Line::new(), &[3.0], &LineMasks {}, &[5.0], Loss::MeanSquaredError);
/// assert_eq!(loss, 4.0);
/// assert_eq!(grads.weight(0, 0, 0), Some(12.0));
/// assert_eq!(grads.bias(0, 0), Some(4.0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T> {
    layers: Vec<LayerGradient<T>>,
}

/// The gradient of one layer, its weights in the layer's storage order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LayerGradient<T> {
    pub(crate) fan_in: usize,
    pub(crate) weights: Vec<T>,
    pub(crate) bias: Array1<T>,
}

impl<T: Float> Gradients<T> {
    /// Zero gradients with the shapes of `net`.
    pub fn zeros_like<N: Network<Scalar = T>>(net: &N) -> Self {
        let layers = (0..N::SPEC.layers.len())
            .filter_map(|idx| net.layer(idx))
            .map(|layer| LayerGradient {
                fan_in: layer.fan_in(),
                weights: alloc::vec![T::ZERO; layer.fan_in() * layer.size()],
                bias: Array1::from_elem(layer.size(), T::ZERO),
            })
            .collect();
        Gradients { layers }
    }

    /// The number of layers.
    pub fn n_layers(&self) -> usize {
        self.layers.len()
    }

    /// ∂L/∂W of the weight from `input` to `neuron` in layer `layer` (0 is the first layer).
    pub fn weight(&self, layer: usize, neuron: usize, input: usize) -> Option<T> {
        let layer = self.layers.get(layer)?;
        if neuron >= layer.bias.len() || input >= layer.fan_in {
            return None;
        }
        layer
            .weights
            .get(offset(layer.fan_in, layer.bias.len(), neuron, input))
            .copied()
    }

    /// ∂L/∂b of `neuron` in layer `layer`.
    pub fn bias(&self, layer: usize, neuron: usize) -> Option<T> {
        self.layers.get(layer)?.bias.get(neuron).copied()
    }

    /// The largest absolute component, e.g. to watch for exploding gradients.
    pub fn max_abs(&self) -> f64 {
        self.layers
            .iter()
            .flat_map(|l| l.weights.iter().chain(l.bias.iter()))
            .fold(0.0, |m, v| m.max(v.to_f64().abs()))
    }

    pub(crate) fn layers(&self) -> &[LayerGradient<T>] {
        &self.layers
    }
}

/// What each dropout site does in a training pass: its keep probability and the factor that
/// multiplies kept units.
#[derive(Clone, Debug)]
pub(crate) struct SiteParams {
    pub keep: Vec<f64>,
    pub train_factor: Vec<f64>,
    pub eval_factor: Vec<f64>,
}

impl SiteParams {
    /// As declared, or with every site's drop probability replaced by `p_override`.
    pub fn of<N: Network>(p_override: Option<f64>) -> Self {
        let scaling = N::SPEC.scaling;
        let keep: Vec<f64> = N::SPEC
            .sites()
            .map(|(_, _, d)| p_override.map_or(d.keep(), |p| 1.0 - p))
            .collect();
        let train_factor = keep
            .iter()
            .map(|&k| {
                if scaling == Scaling::Inverted {
                    1.0 / k
                } else {
                    1.0
                }
            })
            .collect();
        let eval_factor = keep
            .iter()
            .map(|&k| if scaling == Scaling::Classic { k } else { 1.0 })
            .collect();
        SiteParams {
            keep,
            train_factor,
            eval_factor,
        }
    }
}

/// How the sites act in a pass: by a scalar (evaluation) or by one multiplier matrix per site
/// (training: mask bit × train factor, one row per sample).
pub(crate) enum SiteMode<'a, T> {
    Eval(&'a SiteParams),
    Train(&'a [Array2<T>]),
}

/// The per-site multiplier matrices of a batch of masks.
pub(crate) fn multipliers<N: Network>(
    masks: &[N::Masks],
    params: &SiteParams,
) -> Vec<Array2<N::Scalar>> {
    N::SPEC
        .sites()
        .enumerate()
        .map(|(site, (_, size, _))| {
            let factor = N::Scalar::from_f64(params.train_factor[site]);
            let mut m = Array2::from_elem((masks.len(), size), N::Scalar::ZERO);
            for (mut row, set) in m.rows_mut().into_iter().zip(masks) {
                for (slot, &kept) in row.iter_mut().zip(set.site(site).unwrap_or(&[])) {
                    if kept {
                        *slot = factor;
                    }
                }
            }
            m
        })
        .collect()
}

/// What the backward pass needs from the forward pass.
pub(crate) struct Tape<T> {
    /// The input of each layer, after the site before it.
    inputs: Vec<Array2<T>>,
    z: Vec<Array2<T>>,
    g: Vec<Array2<T>>,
    pub output: Array2<T>,
}

fn apply_site<T: Float + LinalgScalar>(a: &mut Array2<T>, mode: &SiteMode<'_, T>, site: usize) {
    match mode {
        SiteMode::Eval(params) => {
            let factor = params.eval_factor[site];
            if factor != 1.0 {
                a.mapv_inplace(|v| v * T::from_f64(factor));
            }
        }
        SiteMode::Train(multipliers) => *a *= &multipliers[site],
    }
}

/// The forward pass of a batch through `net` (rows are samples), recording every layer.
/// The caller has checked that `x` has the network's input width.
pub(crate) fn forward_tape<N: Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    mode: &SiteMode<'_, N::Scalar>,
) -> Tape<N::Scalar>
where
    N::Scalar: LinalgScalar,
{
    let spec = N::SPEC;
    let mut a = x.to_owned();
    let mut site = 0;
    if spec.input_dropout.is_some() {
        apply_site(&mut a, mode, site);
        site += 1;
    }
    let mut tape = Tape {
        inputs: Vec::new(),
        z: Vec::new(),
        g: Vec::new(),
        output: Array2::zeros((0, 0)),
    };
    for (idx, layer_spec) in spec.layers.iter().enumerate() {
        let Some(layer) = net.layer(idx) else { break };
        let mut z = bias_rows(layer.biases(), a.nrows());
        gemm_forward(
            layer.storage(),
            layer.fan_in(),
            layer.size(),
            N::Scalar::ONE,
            &a,
            &mut z,
        );
        let mut g = z.clone();
        layer_spec.activation.apply_batch(&mut g);
        let mut out = g.clone();
        if layer_spec.dropout.is_some() {
            apply_site(&mut out, mode, site);
            site += 1;
        }
        tape.inputs.push(core::mem::replace(&mut a, out));
        tape.z.push(z);
        tape.g.push(g);
    }
    tape.output = a;
    tape
}

/// ∂L/∂z from ∂L/∂g for one layer's activation.
fn activation_backward<T: Float>(
    activation: Activation,
    z: &Array2<T>,
    g: &Array2<T>,
    dg: &mut Array2<T>,
) {
    match activation {
        Activation::Softmax => {
            // dz = s ⊙ (dg − ⟨dg, s⟩) per row.
            for (mut d_row, s_row) in dg.rows_mut().into_iter().zip(g.rows()) {
                let dot = d_row
                    .iter()
                    .zip(s_row)
                    .fold(T::ZERO, |acc, (&d, &s)| acc + d * s);
                for (d, &s) in d_row.iter_mut().zip(s_row) {
                    *d = s * (*d - dot);
                }
            }
        }
        other => ndarray::Zip::from(dg).and(z).and(g).for_each(|d, &z, &g| {
            let slope = match other {
                Activation::Relu => {
                    if z > T::ZERO {
                        T::ONE
                    } else {
                        T::ZERO
                    }
                }
                Activation::LeakyRelu(alpha) => {
                    if z > T::ZERO {
                        T::ONE
                    } else {
                        T::from_f64(alpha)
                    }
                }
                Activation::Sigmoid => g * (T::ONE - g),
                Activation::Tanh => T::ONE - g * g,
                _ => T::ONE,
            };
            *d *= slope;
        }),
    }
}

/// Backpropagates ∂L/∂output through the recorded pass.
pub(crate) fn backward<N: Network>(
    net: &N,
    tape: &Tape<N::Scalar>,
    d_output: Array2<N::Scalar>,
    multipliers: &[Array2<N::Scalar>],
) -> Gradients<N::Scalar>
where
    N::Scalar: LinalgScalar,
{
    let spec = N::SPEC;
    let mut grads = Gradients::zeros_like(net);
    let mut site = multipliers.len();
    let mut d = d_output;
    for (idx, layer_spec) in spec.layers.iter().enumerate().rev() {
        let Some(layer) = net.layer(idx) else {
            continue;
        };
        if layer_spec.dropout.is_some() {
            site -= 1;
            d *= &multipliers[site];
        }
        activation_backward(layer_spec.activation, &tape.z[idx], &tape.g[idx], &mut d);
        let grad = &mut grads.layers[idx];
        gemm_weight_gradient(
            &mut grad.weights,
            layer.fan_in(),
            layer.size(),
            &tape.inputs[idx],
            &d,
        );
        grad.bias = d.sum_axis(Axis(0));
        if idx > 0 {
            let mut d_in = Array2::zeros((d.nrows(), layer.fan_in()));
            gemm_input_gradient(layer.storage(), layer.fan_in(), layer.size(), &d, &mut d_in);
            d = d_in;
        }
    }
    grads
}

/// Checks a batch and its targets against the network's sizes.
pub(crate) fn check_batch<N: Network>(
    x: &ArrayRef2<N::Scalar>,
    targets: &ArrayRef2<N::Scalar>,
) -> Result<(), Error> {
    crate::batch::check_width(x, N::SPEC.n_inputs)?;
    if targets.dim() != (x.nrows(), N::SPEC.n_outputs()) {
        return Err(Error::TargetShape {
            expected: (x.nrows(), N::SPEC.n_outputs()),
            found: targets.dim(),
        });
    }
    Ok(())
}

/// The loss of a batch under the given masks (one set per row) and the gradient of every
/// parameter.
///
/// # Errors
/// If `x` does not have the network's input width, `targets` is not one row of outputs per
/// sample, or `masks` is not one set per sample.
pub fn gradients_batch<N: Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    masks: &[N::Masks],
    targets: &ArrayRef2<N::Scalar>,
    loss: super::Loss,
) -> Result<(f64, Gradients<N::Scalar>), Error>
where
    N::Scalar: LinalgScalar,
{
    check_batch::<N>(x, targets)?;
    crate::batch::check_mask_count(x, masks)?;
    let multipliers = multipliers::<N>(masks, &SiteParams::of::<N>(None));
    let tape = forward_tape(net, x, &SiteMode::Train(&multipliers));
    let (value, d_output) = loss.value_and_gradient(&tape.output, targets);
    Ok((value, backward(net, &tape, d_output, &multipliers)))
}

/// The loss of one sample under `masks` and the gradient of every parameter.
pub fn gradients<N: Network>(
    net: &N,
    x: &N::Input,
    masks: &N::Masks,
    target: &N::Output,
    loss: super::Loss,
) -> (f64, Gradients<N::Scalar>)
where
    N::Scalar: LinalgScalar,
{
    let x = Array2::from_shape_fn((1, x.as_ref().len()), |(_, i)| x.as_ref()[i]);
    let target = Array2::from_shape_fn((1, target.as_ref().len()), |(_, k)| target.as_ref()[k]);
    let multipliers = multipliers::<N>(core::slice::from_ref(masks), &SiteParams::of::<N>(None));
    let tape = forward_tape(net, &x, &SiteMode::Train(&multipliers));
    let (value, d_output) = loss.value_and_gradient(&tape.output, &target);
    (value, backward(net, &tape, d_output, &multipliers))
}
