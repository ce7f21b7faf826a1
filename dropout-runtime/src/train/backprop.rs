//! Gradients of a loss with respect to every weight and bias, by backpropagation through the
//! layers and the dropout masks of a batch.
//!
//! A dropout site multiplies unit u of sample r by m[r, u] = μ[r, u] · train_factor (alpha
//! dropout: by μ[r, u] · A, then adds its shift), so the gradient flowing back through it is
//! multiplied by the same m: a dropped unit passes zero gradient. Biases are never masked, so a layer's bias gets its gradient even when every unit
//! feeding the layer is dropped. Under DropConnect each sample uses its own masked weights
//! W ⊙ M · train_factor, so those layers are computed sample by sample: a dropped weight gets
//! no gradient from that sample and passes none back.

use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use ndarray::{Array1, Array2, ArrayRef2, Axis, LinalgScalar};

use super::Loss;

use crate::engine::{Effects, SiteParams, Tape, multipliers};
use crate::kernel::gemm::{gemm_input_gradient, gemm_weight_gradient, row_major};
use crate::kernel::offset;
use crate::{Activation, Error, Float, Network};

/// The gradient of a loss with respect to every parameter of a network of type `N`, in its
/// shapes. Gradients of one network type cannot be applied to another: the types differ.
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
/// let (loss, grads) = gradients(&Line::new(), &[3.0], &LineMasks {}, &[5.0], Loss::MeanSquaredError)?;
/// assert_eq!(loss, 4.0);
/// assert_eq!(grads.weight(0, 0, 0), Some(12.0));
/// assert_eq!(grads.bias(0, 0), Some(4.0));
/// assert_eq!(grads.max_abs(), 12.0);
/// # Ok::<(), dropout::Error>(())
/// ```
pub struct Gradients<N: Network> {
    layers: Vec<LayerGradient<N::Scalar>>,
    network: PhantomData<fn() -> N>,
}

/// The gradient of one layer, its weights in the layer's storage order.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LayerGradient<T> {
    pub(crate) fan_in: usize,
    pub(crate) weights: Vec<T>,
    pub(crate) bias: Array1<T>,
}

impl<N: Network> Gradients<N> {
    /// Zero gradients with the shapes of `N`.
    pub fn zeros() -> Self {
        let layers = N::SPEC
            .layers
            .iter()
            .map(|layer| LayerGradient {
                fan_in: layer.fan_in,
                weights: alloc::vec![N::Scalar::ZERO; layer.fan_in * layer.size],
                bias: Array1::from_elem(layer.size, N::Scalar::ZERO),
            })
            .collect();
        Gradients {
            layers,
            network: PhantomData,
        }
    }

    /// The number of layers.
    pub fn n_layers(&self) -> usize {
        self.layers.len()
    }

    /// ∂L/∂W of the weight from `input` to `neuron` in layer `layer` (0 is the first layer).
    pub fn weight(&self, layer: usize, neuron: usize, input: usize) -> Option<N::Scalar> {
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
    pub fn bias(&self, layer: usize, neuron: usize) -> Option<N::Scalar> {
        self.layers.get(layer)?.bias.get(neuron).copied()
    }

    /// The largest absolute component, e.g. to watch for exploding gradients; NaN if any
    /// component is NaN.
    pub fn max_abs(&self) -> f64 {
        self.values().fold(0.0, |m, v| {
            let v = v.to_f64().abs();
            if v > m || v.is_nan() { v } else { m }
        })
    }

    /// Whether every component is finite.
    pub fn is_finite(&self) -> bool {
        // `&` rather than `all`: no early exit, so that each layer's check runs on vectors.
        self.layers.iter().all(|l| {
            l.weights
                .iter()
                .chain(&l.bias)
                .fold(true, |finite, v| finite & v.is_finite())
        })
    }

    fn values(&self) -> impl Iterator<Item = N::Scalar> + '_ {
        self.layers
            .iter()
            .flat_map(|l| l.weights.iter().chain(l.bias.iter()))
            .copied()
    }

    pub(crate) fn layers(&self) -> &[LayerGradient<N::Scalar>] {
        &self.layers
    }

    /// Sets every parameter's gradient to the sum of `parts`' in the parts' order (starting
    /// from zero, as if each part were added in turn to zero gradients): how the gradients of a
    /// batch's chunks make the batch's. Blocks of parameters are summed on rayon's threads;
    /// each sum is the same whichever thread computes it.
    #[cfg(feature = "parallel")]
    pub(crate) fn set_sum(&mut self, parts: &[Self])
    where
        N::Scalar: Send + Sync,
    {
        use rayon::prelude::*;
        /// Parameters per task.
        const BLOCK: usize = 4096;
        for (idx, layer) in self.layers.iter_mut().enumerate() {
            layer
                .weights
                .par_chunks_mut(BLOCK)
                .enumerate()
                .for_each(|(block, out)| {
                    // Part by part over the block, each part's gradients added to the running
                    // sums in order: the same sums as adding each parameter's parts in turn,
                    // on vectors. Parameter by parameter with the parts inner, the sums took
                    // 13 % of a two-thread training step of 64-256-256-10 under `perf`; 3.5 %
                    // this way.
                    let range = block * BLOCK..block * BLOCK + out.len();
                    out.fill(N::Scalar::ZERO);
                    for part in parts {
                        for (sum, &g) in
                            out.iter_mut().zip(&part.layers[idx].weights[range.clone()])
                        {
                            *sum += g;
                        }
                    }
                });
            layer.bias.fill(N::Scalar::ZERO);
            for part in parts {
                layer.bias += &part.layers[idx].bias;
            }
        }
    }
}

impl<N: Network> Clone for Gradients<N> {
    fn clone(&self) -> Self {
        Gradients {
            layers: self.layers.clone(),
            network: PhantomData,
        }
    }
}

impl<N: Network> fmt::Debug for Gradients<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gradients")
            .field("network", &N::SPEC.name)
            .field("layers", &self.layers)
            .finish()
    }
}

impl<N: Network> PartialEq for Gradients<N> {
    fn eq(&self, other: &Self) -> bool {
        self.layers == other.layers
    }
}

/// How a loss meets a network's output: on its outputs, or on the output layer's
/// pre-activation when that layer applies the loss's own link (softmax, sigmoid).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Objective {
    pub loss: Loss,
    on_logits: bool,
}

impl Objective {
    /// # Errors
    /// [`Error::LossOutput`] if the output layer applies the other cross-entropy's link.
    pub fn new<N: Network>(loss: Loss) -> Result<Self, Error> {
        let on_logits = match N::SPEC.layers.last() {
            Some(output) => loss.on_logits(output.activation)?,
            None => false,
        };
        Ok(Objective { loss, on_logits })
    }

    /// What the loss compares with the targets.
    fn predictions<T>(self, tape: &Tape<T>) -> &Array2<T> {
        match tape.z.last() {
            Some(z) if self.on_logits => z,
            _ => &tape.output,
        }
    }

    /// The loss of a recorded pass, whose targets are checked.
    pub fn value<T: Float>(self, tape: &Tape<T>, targets: &ArrayRef2<T>) -> f64 {
        self.loss.unchecked(self.predictions(tape), targets).0
    }

    /// The loss of a recorded pass over some rows of a data set, as a sum
    /// ([`Loss::unchecked_part`]).
    #[cfg(feature = "parallel")]
    pub fn value_part<T: Float>(self, tape: &Tape<T>, targets: &ArrayRef2<T>) -> f64 {
        self.loss
            .unchecked_part(self.predictions(tape), targets, targets.nrows())
            .0
    }
}

/// The gradients of a DropConnect layer, sample by sample: ∂L/∂W gains dᵣ ⊗ aᵣ on the weights
/// sample r kept (× factor), and ∂L/∂aᵣ = (W ⊙ Mᵣ · factor)ᵀ · dᵣ is returned.
fn connected_backward<T: Float>(
    layer: &dyn crate::Layer<T>,
    factor: T,
    a: &Array2<T>,
    bits: &Array2<bool>,
    d: &Array2<T>,
    weight_grad: &mut [T],
) -> Array2<T> {
    let (fan_in, size, weights) = (layer.fan_in(), layer.size(), layer.storage());
    let mut d_in = Array2::from_elem((a.nrows(), fan_in), T::ZERO);
    for (((a, bits), d), mut d_in) in a
        .rows()
        .into_iter()
        .zip(bits.rows())
        .zip(d.rows())
        .zip(d_in.rows_mut())
    {
        for (neuron, &d) in d.iter().enumerate() {
            for (input, (&a, d_in)) in a.iter().zip(d_in.iter_mut()).enumerate() {
                if bits[neuron * fan_in + input] {
                    let at = offset(fan_in, size, neuron, input);
                    weight_grad[at] += d * (a * factor);
                    *d_in += d * (weights[at] * factor);
                }
            }
        }
    }
    d_in
}

/// ∂L/∂z from ∂L/∂g for one layer's activation.
/// `dg` ← ∂L/∂z from ∂L/∂g, through the layer's activation ([`Activation::backward_in_place`]).
fn activation_backward<T: Float>(
    activation: Activation,
    z: &Array2<T>,
    g: &Array2<T>,
    dg: &mut Array2<T>,
) {
    let width = dg.ncols();
    if let (Some(d), Some(z), Some(g)) = (dg.as_slice_mut(), z.as_slice(), g.as_slice()) {
        activation.backward_in_place(d, z, g, width);
        return;
    }
    // Arrays with other strides (the passes here make none): through standard-layout copies.
    let (z, g) = (z.as_standard_layout(), g.as_standard_layout());
    let mut d = dg.as_standard_layout().into_owned();
    if let (Some(d), Some(z), Some(g)) = (d.as_slice_mut(), z.as_slice(), g.as_slice()) {
        activation.backward_in_place(d, z, g, width);
    }
    dg.assign(&d);
}

/// Each layer's weights row-major, as the input gradients multiply by them: written once per
/// step and read by every chunk of the batch, in buffers kept from one step to the next (a
/// fresh copy of a 256 × 256 layer for every chunk and step cost a third of a training step in
/// page faults).
pub(crate) struct RowMajor<T> {
    layers: Vec<Vec<T>>,
}

impl<T: Float> RowMajor<T> {
    /// No buffers yet.
    pub(crate) fn new() -> Self {
        RowMajor { layers: Vec::new() }
    }

    /// `net`'s weights, for every layer whose input gradient is a product (after the first,
    /// without DropConnect).
    pub(crate) fn fill<N: Network<Scalar = T>>(&mut self, net: &N) -> &Self {
        self.fill_by(net, row_major)
    }

    /// [`RowMajor::fill`], each layer's panels on rayon's threads.
    #[cfg(feature = "parallel")]
    pub(crate) fn fill_parallel<N: Network<Scalar = T>>(&mut self, net: &N) -> &Self
    where
        T: Send + Sync,
    {
        self.fill_by(net, crate::kernel::gemm::row_major_parallel)
    }

    /// [`RowMajor::fill`], each layer copied by `copy(storage, fan_in, size, into)`.
    fn fill_by<N: Network<Scalar = T>>(
        &mut self,
        net: &N,
        copy: fn(&[T], usize, usize, &mut Vec<T>),
    ) -> &Self {
        let spec = N::SPEC;
        self.layers.resize_with(spec.layers.len(), Vec::new);
        for (idx, (layer_spec, w)) in spec.layers.iter().zip(&mut self.layers).enumerate() {
            match net.layer(idx) {
                Some(layer) if idx > 0 && layer_spec.dropconnect.is_none() => {
                    copy(layer.storage(), layer.fan_in(), layer.size(), w);
                }
                _ => w.clear(),
            }
        }
        self
    }

    fn layer(&self, idx: usize) -> &[T] {
        self.layers.get(idx).map_or(&[], Vec::as_slice)
    }
}

/// The loss of a recorded pass and its gradient, backpropagated to every parameter. The targets
/// have the outputs' shape and are checked.
pub(crate) fn loss_and_gradients<N: Network>(
    net: &N,
    tape: &Tape<N::Scalar>,
    objective: Objective,
    targets: &ArrayRef2<N::Scalar>,
    multipliers: &Effects<N::Scalar>,
    weights: &RowMajor<N::Scalar>,
    grads: &mut Gradients<N>,
) -> f64
where
    N::Scalar: LinalgScalar,
{
    let (value, d) = objective
        .loss
        .unchecked(objective.predictions(tape), targets);
    backward(net, tape, objective, d, multipliers, weights, grads);
    value
}

/// As [`loss_and_gradients`] for rows of a batch of `batch_rows` rows recorded on `tape`: the
/// loss as a sum ([`Loss::unchecked_part`]) and the gradient of the batch's mean loss through
/// these rows, so that the parts' gradients, added, are the batch's.
#[cfg(feature = "parallel")]
#[expect(
    clippy::too_many_arguments,
    reason = "loss_and_gradients' arguments and the batch's size"
)]
pub(crate) fn loss_part_and_gradients<N: Network>(
    net: &N,
    tape: &Tape<N::Scalar>,
    objective: Objective,
    targets: &ArrayRef2<N::Scalar>,
    multipliers: &Effects<N::Scalar>,
    weights: &RowMajor<N::Scalar>,
    batch_rows: usize,
    grads: &mut Gradients<N>,
) -> f64
where
    N::Scalar: LinalgScalar,
{
    let (total, d) =
        objective
            .loss
            .unchecked_part(objective.predictions(tape), targets, batch_rows);
    backward(net, tape, objective, d, multipliers, weights, grads);
    total
}

/// Backpropagates ∂L/∂(what the loss compared) through the recorded pass, overwriting every
/// gradient in `grads` (buffers kept from one step to the next: fresh ones for every step and
/// chunk cost their page faults again each time).
fn backward<N: Network>(
    net: &N,
    tape: &Tape<N::Scalar>,
    objective: Objective,
    d_loss: Array2<N::Scalar>,
    multipliers: &Effects<N::Scalar>,
    weights: &RowMajor<N::Scalar>,
    grads: &mut Gradients<N>,
) where
    N::Scalar: LinalgScalar,
{
    let spec = N::SPEC;
    let mut site = multipliers.sites.len();
    let mut d = d_loss;
    let last = spec.layers.len().saturating_sub(1);
    for (idx, layer_spec) in spec.layers.iter().enumerate().rev() {
        let grad = &mut grads.layers[idx];
        let Some(layer) = net.layer(idx) else {
            grad.weights.fill(N::Scalar::ZERO);
            grad.bias.fill(N::Scalar::ZERO);
            continue;
        };
        if layer_spec.dropout.is_some() {
            site -= 1;
            d *= &multipliers.sites[site].scale;
        }
        // A loss on the logits has its gradient with respect to z already.
        if !(idx == last && objective.on_logits) {
            activation_backward(layer_spec.activation, &tape.z[idx], &tape.g[idx], &mut d);
        }
        grad.bias.assign(&d.sum_axis(Axis(0)));
        match (layer_spec.dropconnect, multipliers.weights.get(idx)) {
            (Some(dropconnect), Some(Some(bits))) => {
                grad.weights.fill(N::Scalar::ZERO);
                let factor = N::Scalar::from_f64(spec.scaling.train_factor(dropconnect));
                let d_in = connected_backward(
                    layer,
                    factor,
                    &tape.inputs[idx],
                    bits,
                    &d,
                    &mut grad.weights,
                );
                d = d_in;
            }
            _ => {
                gemm_weight_gradient(
                    &mut grad.weights,
                    layer.fan_in(),
                    layer.size(),
                    &tape.inputs[idx],
                    &d,
                );
                if idx > 0 {
                    d = gemm_input_gradient(weights.layer(idx), layer.fan_in(), layer.size(), &d);
                }
            }
        }
    }
}

/// Checks a batch and its targets against the network's sizes.
pub(crate) fn check_batch<N: Network>(
    x: &ArrayRef2<N::Scalar>,
    targets: &ArrayRef2<N::Scalar>,
) -> Result<(), Error> {
    crate::shape::check_width(x, N::SPEC.n_inputs)?;
    if targets.dim() != (x.nrows(), N::SPEC.n_outputs()) {
        return Err(Error::TargetShape {
            expected: (x.nrows(), N::SPEC.n_outputs()),
            found: targets.dim(),
        });
    }
    Ok(())
}

/// The loss of a batch under the given masks (one set per row) and the gradient of every
/// parameter. A softmax or sigmoid output layer meets its cross-entropy loss on its
/// pre-activation, as described at [`Loss`].
///
/// # Errors
/// If `x` does not have the network's input width, `targets` is not one row of outputs per
/// sample or not what the loss needs, `masks` is not one set per sample, or the loss does not
/// fit the output layer.
pub fn gradients_batch<N: Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    masks: &[N::Masks],
    targets: &ArrayRef2<N::Scalar>,
    loss: Loss,
) -> Result<(f64, Gradients<N>), Error>
where
    N::Scalar: LinalgScalar,
{
    let mut workspace = Workspace::new();
    let (value, _) = workspace.gradients_batch(net, x, masks, targets, loss)?;
    Ok((value, workspace.grads))
}

/// [`gradients_batch`] on rayon's threads (feature `parallel`), as
/// [`Trainer::fit_parallel`](super::Trainer::fit_parallel) computes its steps: the batch cut
/// into chunks of [`STEP_CHUNK`](super::STEP_CHUNK) rows, their gradients added in the chunks'
/// order, so that any number of threads gives the same bits (those of [`gradients_batch`] for
/// a batch of one chunk; to rounding otherwise).
///
/// # Errors
/// As [`gradients_batch`].
///
/// ```
/// use dropout::ndarray::Array2;
/// use dropout::rand::{SeedableRng as _, rngs::ChaCha8Rng};
/// use dropout::train::{Loss, gradients_batch, gradients_batch_parallel};
/// use dropout::{Network as _, network, parallel};
///
/// network! { struct Net<f64> { input: 3, dense 8 relu, dropout(p = 0.5), dense 2 identity } }
/// let mut rng = ChaCha8Rng::seed_from_u64(1);
/// let net = Net::init(&mut rng);
/// let x = Array2::from_shape_fn((100, 3), |(r, c)| (r * 3 + c) as f64 / 300.0);
/// let y = Array2::from_shape_fn((100, 2), |(r, c)| ((r + c) % 2) as f64);
/// let masks: Vec<_> = (0..100).map(|_| net.sample_masks(&mut rng)).collect();
/// let grads = |threads| {
///     parallel::with_threads(threads, || {
///         gradients_batch_parallel(&net, &x, &masks, &y, Loss::MeanSquaredError)
///     })
/// };
/// let (loss, one) = grads(1)??;
/// assert_eq!(grads(2)??, (loss, one.clone()));
/// let (serial, all) = gradients_batch(&net, &x, &masks, &y, Loss::MeanSquaredError)?;
/// assert!((loss - serial).abs() < 1e-12);
/// assert!((one.weight(0, 0, 0).unwrap() - all.weight(0, 0, 0).unwrap()).abs() < 1e-12);
/// # Ok::<(), dropout::Error>(())
/// ```
#[cfg(feature = "parallel")]
pub fn gradients_batch_parallel<N: Network + Sync>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    masks: &[N::Masks],
    targets: &ArrayRef2<N::Scalar>,
    loss: Loss,
) -> Result<(f64, Gradients<N>), Error>
where
    N::Scalar: LinalgScalar,
{
    let mut workspace = Workspace::new();
    let (value, _) = workspace.gradients_batch_parallel(net, x, masks, targets, loss)?;
    Ok((value, workspace.grads))
}

/// [`gradients_batch`] with its loss and gradients computed by `engine`, into `grads`, with
/// `weights` as the buffer of the row-major weights.
fn gradients_batch_by<N: Network>(
    engine: &mut impl super::Engine<N>,
    (weights, grads): (&mut RowMajor<N::Scalar>, &mut Gradients<N>),
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    masks: &[N::Masks],
    (targets, loss): (&ArrayRef2<N::Scalar>, Loss),
) -> Result<f64, Error>
where
    N::Scalar: LinalgScalar,
{
    let classes = loss.class_targets(targets, N::SPEC.n_outputs(), "targets")?;
    let targets = classes.as_ref().map_or(targets, |t| &**t);
    check_batch::<N>(x, targets)?;
    crate::batch::check_mask_count(x, masks)?;
    loss.check_targets(targets, "targets")?;
    let objective = Objective::new::<N>(loss)?;
    let multipliers = multipliers::<N>(masks, &SiteParams::of::<N>(None));
    Ok(engine.step(
        net,
        x,
        targets,
        objective,
        &multipliers,
        engine.row_major(weights, net),
        grads,
    ))
}

/// The buffers of a training step, kept from one step to the next for a training loop of your
/// own: [`gradients_batch`] and [`gradients_batch_parallel`] without allocating a network's
/// worth of gradients (one per chunk of rows, on threads) at every call. Fresh buffers of that
/// size cost their page faults again at every step, and on threads the allocator may give them
/// back to the system between steps. [`Trainer`](super::Trainer) keeps its own.
///
/// ```
/// use dropout::ndarray::Array2;
/// use dropout::rand::{SeedableRng as _, rngs::ChaCha8Rng};
/// use dropout::train::{Loss, Optimizer, OptimizerState, Workspace, gradients_batch};
/// use dropout::{Network as _, network};
///
/// network! { struct Net<f32> { input: 3, dense 8 relu, dropout(p = 0.5), dense 2 identity } }
/// let mut rng = ChaCha8Rng::seed_from_u64(1);
/// let mut net = Net::init(&mut rng);
/// let x = Array2::from_shape_fn((40, 3), |(r, c)| (r * 3 + c) as f32 / 120.0);
/// let y = Array2::from_shape_fn((40, 2), |(r, c)| ((r + c) % 2) as f32);
/// let mut state = OptimizerState::new(Optimizer::sgd(0.1))?;
/// let mut workspace = Workspace::new();
/// for _ in 0..3 {
///     let masks: Vec<_> = (0..40).map(|_| net.sample_masks(&mut rng)).collect();
///     // The numbers of the function that allocates them.
///     let (want_loss, want) = gradients_batch(&net, &x, &masks, &y, Loss::MeanSquaredError)?;
///     let (loss, grads) = workspace.gradients_batch(&net, &x, &masks, &y, Loss::MeanSquaredError)?;
///     assert_eq!((loss, grads), (want_loss, &want));
///     state.step(&mut net, grads)?;
/// }
/// # Ok::<(), dropout::Error>(())
/// ```
pub struct Workspace<N: Network> {
    weights: RowMajor<N::Scalar>,
    grads: Gradients<N>,
    #[cfg(feature = "parallel")]
    chunked: super::chunked::Chunked<N>,
}

impl<N: Network> Workspace<N> {
    /// Buffers for networks of type `N`.
    pub fn new() -> Self {
        Workspace {
            weights: RowMajor::new(),
            grads: Gradients::zeros(),
            #[cfg(feature = "parallel")]
            chunked: super::chunked::Chunked::new(),
        }
    }

    /// [`gradients_batch`], its gradients in this workspace.
    ///
    /// # Errors
    /// As [`gradients_batch`].
    pub fn gradients_batch(
        &mut self,
        net: &N,
        x: &ArrayRef2<N::Scalar>,
        masks: &[N::Masks],
        targets: &ArrayRef2<N::Scalar>,
        loss: Loss,
    ) -> Result<(f64, &Gradients<N>), Error>
    where
        N::Scalar: LinalgScalar,
    {
        let buffers = (&mut self.weights, &mut self.grads);
        let value = gradients_batch_by(
            &mut super::OneThread,
            buffers,
            net,
            x,
            masks,
            (targets, loss),
        )?;
        Ok((value, &self.grads))
    }

    /// [`gradients_batch_parallel`], its gradients and its chunks' in this workspace: the same
    /// bits.
    ///
    /// # Errors
    /// As [`gradients_batch`].
    #[cfg(feature = "parallel")]
    pub fn gradients_batch_parallel(
        &mut self,
        net: &N,
        x: &ArrayRef2<N::Scalar>,
        masks: &[N::Masks],
        targets: &ArrayRef2<N::Scalar>,
        loss: Loss,
    ) -> Result<(f64, &Gradients<N>), Error>
    where
        N: Sync,
        N::Scalar: LinalgScalar,
    {
        let buffers = (&mut self.weights, &mut self.grads);
        let value = gradients_batch_by(&mut self.chunked, buffers, net, x, masks, (targets, loss))?;
        Ok((value, &self.grads))
    }
}

impl<N: Network> Default for Workspace<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<N: Network> fmt::Debug for Workspace<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workspace")
            .field("network", &N::SPEC.name)
            .finish_non_exhaustive()
    }
}

/// The loss of one sample under `masks` and the gradient of every parameter.
///
/// # Errors
/// If `target` is not what the loss needs, or the loss does not fit the output layer.
pub fn gradients<N: Network>(
    net: &N,
    x: &N::Input,
    masks: &N::Masks,
    target: &N::Output,
    loss: Loss,
) -> Result<(f64, Gradients<N>), Error>
where
    N::Scalar: LinalgScalar,
{
    let x = Array2::from_shape_fn((1, x.as_ref().len()), |(_, i)| x.as_ref()[i]);
    let target = Array2::from_shape_fn((1, target.as_ref().len()), |(_, k)| target.as_ref()[k]);
    gradients_batch(net, &x, core::slice::from_ref(masks), &target, loss)
}
