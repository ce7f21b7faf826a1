//! Training with dropout: losses, gradients through the masks, optimizers and a small trainer.
//!
//! Everything works on any declared network through the [`Network`] trait, on `ndarray`
//! batches (rows are samples). A whole run is reproducible from one seed: the trainer shuffles
//! the training set and draws a fresh mask for every sample of every step from one seeded
//! generator (Xoshiro256++, whose stream is the same on every platform).
//!
//! # Example
//! ```
//! use dropout::ndarray::Array2;
//! use dropout::network;
//! use dropout::rand::SeedableRng as _;
//! use dropout::rand::rngs::ChaCha8Rng;
//! use dropout::train::{Loss, Optimizer, Trainer};
//!
//! network! {
//!     struct Fit<f64> { input: 1, dense 16 tanh, dropout(p = 0.1), dense 1 identity }
//! }
//! let mut net = Fit::init(&mut ChaCha8Rng::seed_from_u64(0));
//! // y = x² on [−1, 1].
//! let x = Array2::from_shape_fn((64, 1), |(i, _)| i as f64 / 32.0 - 1.0);
//! let y = x.mapv(|v| v * v);
//! let history = Trainer::new(Optimizer::adam(0.01), Loss::MeanSquaredError)
//!     .epochs(200)
//!     .batch_size(16)
//!     .progress(false)
//!     .fit(&mut net, (&x, &y), None, |_| {})?;
//! assert!(history.last().unwrap().train_eval_loss < history[0].train_eval_loss / 4.0);
//! # Ok::<(), dropout::Error>(())
//! ```

mod backprop;
#[cfg(feature = "parallel")]
mod chunked;

#[cfg(feature = "parallel")]
pub use chunked::STEP_CHUNK;
mod loss;
mod optim;

use alloc::format;
use alloc::vec::Vec;
use core::ops::ControlFlow;

use ndarray::{Array2, ArrayRef2, Axis, LinalgScalar};
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom as _;
use rand::{RngExt as _, SeedableRng as _};

#[cfg(feature = "parallel")]
pub use backprop::gradients_batch_parallel;
pub use backprop::{Gradients, Workspace, gradients, gradients_batch};
pub use loss::Loss;
pub use optim::{Optimizer, OptimizerState};

use crate::engine::{Effects, SiteEffect, SiteMode, SiteParams, forward_tape};
use crate::{Dropout, DropoutKind, Error, Float, Network, Scaling, Site};
use backprop::{Objective, RowMajor, check_batch, loss_and_gradients};

/// A data set: inputs and targets, one sample per row.
pub type Data<'a, T> = (&'a ArrayRef2<T>, &'a ArrayRef2<T>);

/// The losses after one epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// 1 for the first epoch.
    pub epoch: usize,
    /// The mean training loss of the epoch's steps, in training mode (under dropout).
    pub train_loss: f64,
    /// The loss on the whole training set in evaluation mode after the epoch.
    pub train_eval_loss: f64,
    /// The loss on the validation set in evaluation mode after the epoch, if one was given.
    pub validation_loss: Option<f64>,
}

/// Mini-batch training: epochs of seeded shuffles, one optimizer step per batch, fresh dropout
/// masks for every sample of every step.
///
/// A progress bar (epoch, losses, ETA) is drawn on standard error when it is a terminal and
/// [`Trainer::progress`] is on; otherwise nothing is printed.
#[derive(Clone, Debug)]
pub struct Trainer {
    optimizer: Optimizer,
    loss: Loss,
    epochs: usize,
    batch_size: usize,
    seed: u64,
    dropout: Option<f64>,
    progress: bool,
}

impl Trainer {
    /// A trainer with 10 epochs, batches of 32, seed 0, the declared dropout rates and a
    /// progress bar.
    pub fn new(optimizer: Optimizer, loss: Loss) -> Self {
        Trainer {
            optimizer,
            loss,
            epochs: 10,
            batch_size: 32,
            seed: 0,
            dropout: None,
            progress: true,
        }
    }

    /// The number of passes over the training set.
    #[must_use]
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// The number of samples per optimizer step (the last batch of an epoch may be smaller).
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// The seed of the shuffles and masks.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Trains with drop probability `p` at every dropout site instead of the declared ones:
    /// `dropout(0.0)` trains the same architecture without dropout. Only for `inverted`
    /// scaling, whose evaluation pass does not depend on p. DropConnect keeps its declared
    /// probability.
    #[must_use]
    pub fn dropout(mut self, p: f64) -> Self {
        self.dropout = Some(p);
        self
    }

    /// Whether to draw a progress bar on a terminal.
    #[must_use]
    pub fn progress(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Trains `net` on `train` (inputs, targets), calling `on_epoch` after every epoch, and
    /// returns every epoch's report. `on_epoch` returns `()` to go on, or a
    /// [`ControlFlow`]: `ControlFlow::Break(())` stops after that epoch.
    ///
    /// Everything is checked before the first step: shapes, that no data set is empty, that
    /// every input and target is finite, that the targets suit the loss and the loss the output
    /// layer (see [`Loss`]), and every hyperparameter. During training, a step that would make a
    /// loss, gradient or parameter NaN or infinite is not taken: `fit` returns
    /// [`Error::Diverged`] naming the epoch and step, and `net` keeps the parameters of the last
    /// finite step.
    ///
    /// # Errors
    /// As above; each error names the data, row and column, or the hyperparameter, or the
    /// epoch and step.
    pub fn fit<N: Network, C: EpochControl>(
        &self,
        net: &mut N,
        train: Data<'_, N::Scalar>,
        validation: Option<Data<'_, N::Scalar>>,
        on_epoch: impl FnMut(&EpochReport) -> C,
    ) -> Result<Vec<EpochReport>, Error>
    where
        N::Scalar: LinalgScalar,
    {
        self.fit_on(&mut OneThread, net, train, validation, on_epoch)
    }

    /// [`Trainer::fit`] on rayon's threads (feature `parallel`): each step's batch cut into
    /// chunks of [`STEP_CHUNK`] rows, their forward and backward passes on the pool's threads
    /// (rayon's global pool, or the one [`parallel::with_threads`](crate::parallel::with_threads)
    /// installs) and their gradients added in the chunks' order; the epochs' losses likewise,
    /// [`CHUNK`](crate::parallel::CHUNK) rows at a time. The shuffles and masks are drawn from
    /// the trainer's seed in the order `fit` draws them, so a run gives the same bits on any
    /// number of threads; with batches of at most [`STEP_CHUNK`] rows and data sets of at most
    /// [`CHUNK`](crate::parallel::CHUNK) rows, the bits of `fit` itself. Larger batches add
    /// their rows' gradients in another order than one matrix product does, so there the
    /// parameters agree with `fit`'s to rounding, not bit for bit.
    ///
    /// # Errors
    /// As [`Trainer::fit`].
    ///
    /// ```
    /// use dropout::ndarray::Array2;
    /// use dropout::rand::{SeedableRng as _, rngs::ChaCha8Rng};
    /// use dropout::train::{Loss, Optimizer, Trainer};
    /// use dropout::{network, parallel};
    ///
    /// network! {
    ///     #[derive(Debug, PartialEq)]
    ///     struct Fit<f64> { input: 1, dense 16 tanh, dropout(p = 0.1), dense 1 identity }
    /// }
    /// let x = Array2::from_shape_fn((512, 1), |(i, _)| i as f64 / 256.0 - 1.0);
    /// let y = x.mapv(|v| v * v);
    /// let trainer = Trainer::new(Optimizer::adam(0.01), Loss::MeanSquaredError)
    ///     .epochs(5)
    ///     .batch_size(128)
    ///     .progress(false);
    /// let train = |threads| {
    ///     let mut net = Fit::init(&mut ChaCha8Rng::seed_from_u64(0));
    ///     let history = parallel::with_threads(threads, || {
    ///         trainer.fit_parallel(&mut net, (&x, &y), None, |_| {})
    ///     })??;
    ///     Ok::<_, dropout::Error>((net, history))
    /// };
    /// assert_eq!(train(1)?, train(2)?);
    /// # Ok::<(), dropout::Error>(())
    /// ```
    #[cfg(feature = "parallel")]
    pub fn fit_parallel<N: Network + Sync, C: EpochControl>(
        &self,
        net: &mut N,
        train: Data<'_, N::Scalar>,
        validation: Option<Data<'_, N::Scalar>>,
        on_epoch: impl FnMut(&EpochReport) -> C,
    ) -> Result<Vec<EpochReport>, Error>
    where
        N::Scalar: LinalgScalar,
    {
        self.fit_on(
            &mut chunked::Chunked::new(),
            net,
            train,
            validation,
            on_epoch,
        )
    }

    /// [`Trainer::fit`], its steps' gradients and the epochs' losses computed by `engine`.
    pub(crate) fn fit_on<N: Network, C: EpochControl>(
        &self,
        engine: &mut impl Engine<N>,
        net: &mut N,
        train: Data<'_, N::Scalar>,
        validation: Option<Data<'_, N::Scalar>>,
        mut on_epoch: impl FnMut(&EpochReport) -> C,
    ) -> Result<Vec<EpochReport>, Error>
    where
        N::Scalar: LinalgScalar,
    {
        let n_outputs = N::SPEC.n_outputs();
        let train_classes = self
            .loss
            .class_targets(train.1, n_outputs, "training targets")?;
        let train = (train.0, train_classes.as_ref().map_or(train.1, |t| &**t));
        let validation_classes = match validation {
            Some((_, t)) => self
                .loss
                .class_targets(t, n_outputs, "validation targets")?,
            None => None,
        };
        let validation =
            validation.map(|(x, t)| (x, validation_classes.as_ref().map_or(t, |t| &**t)));
        let objective = self.check::<N>(train, validation)?;
        let (x, targets) = train;
        let params = SiteParams::of::<N>(self.dropout);
        let mut state = OptimizerState::<N>::new(self.optimizer)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let mut weights = RowMajor::new();
        let mut grads = Gradients::zeros();
        let mut order: Vec<usize> = (0..x.nrows()).collect();
        let bar = self.progress_bar();
        let mut history = Vec::new();
        for epoch in 1..=self.epochs {
            order.shuffle(&mut rng);
            let mut total = 0.0;
            for (step, batch) in order.chunks(self.batch_size).enumerate() {
                let at = |what| Error::Diverged {
                    epoch,
                    step: step + 1,
                    what,
                };
                let xb = x.select(Axis(0), batch);
                let yb = targets.select(Axis(0), batch);
                let multipliers = sample_multipliers::<N, _>(&mut rng, batch.len(), &params);
                let value = engine.step(
                    net,
                    &xb,
                    &yb,
                    objective,
                    &multipliers,
                    engine.row_major(&mut weights, net),
                    &mut grads,
                );
                if !value.is_finite() {
                    return Err(at("loss"));
                }
                engine
                    .update(&mut state, net, &grads)
                    .map_err(|err| match err {
                        Error::Diverged { what, .. } => at(what),
                        other => other,
                    })?;
                total += value * batch.len() as f64;
            }
            let report = EpochReport {
                epoch,
                train_loss: total / x.nrows() as f64,
                train_eval_loss: engine.loss(net, train, objective, &params),
                validation_loss: validation.map(|data| engine.loss(net, data, objective, &params)),
            };
            let finite = report.train_eval_loss.is_finite()
                && report.validation_loss.is_none_or(f64::is_finite);
            if !finite {
                return Err(Error::Diverged {
                    epoch,
                    step: 0,
                    what: "evaluation loss",
                });
            }
            let go_on = after_epoch(bar.as_ref(), &report, &mut on_epoch);
            history.push(report);
            if !go_on {
                break;
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        Ok(history)
    }

    /// Everything `fit` checks before the first step; returns how the loss meets the output.
    fn check<N: Network>(
        &self,
        train: Data<'_, N::Scalar>,
        validation: Option<Data<'_, N::Scalar>>,
    ) -> Result<Objective, Error> {
        check_data::<N>(
            train,
            self.loss,
            ["training", "training inputs", "training targets"],
        )?;
        if let Some(data) = validation {
            check_data::<N>(
                data,
                self.loss,
                ["validation", "validation inputs", "validation targets"],
            )?;
        }
        if self.batch_size == 0 {
            return Err(Error::BatchSize);
        }
        if let Some(p) = self.dropout {
            Dropout::with_p(p)?;
            if N::SPEC.scaling == Scaling::Classic {
                return Err(Error::OverrideNeedsInverted);
            }
        }
        self.optimizer.check()?;
        Objective::new::<N>(self.loss)
    }

    fn progress_bar(&self) -> Option<indicatif::ProgressBar> {
        if !self.progress {
            return None;
        }
        let bar = indicatif::ProgressBar::new(self.epochs as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "epoch {pos:>4}/{len} [{bar:30}] {msg}  ETA {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Some(bar)
    }
}

/// How [`Trainer::fit_on`] computes a step's loss and gradients, and a data set's loss.
pub(crate) trait Engine<N: Network> {
    /// The mean loss of a batch under the effects of its masks; its gradients written to
    /// `grads`. `weights` holds `net`'s weights row-major.
    #[expect(
        clippy::too_many_arguments,
        reason = "a step's inputs and its two kept buffers"
    )]
    fn step(
        &mut self,
        net: &N,
        x: &ArrayRef2<N::Scalar>,
        targets: &ArrayRef2<N::Scalar>,
        objective: Objective,
        effects: &Effects<N::Scalar>,
        weights: &RowMajor<N::Scalar>,
        grads: &mut Gradients<N>,
    ) -> f64;

    /// `net`'s weights row-major, in `weights`: [`RowMajor::fill`], or the same values copied
    /// on the engine's threads.
    fn row_major<'w>(
        &self,
        weights: &'w mut RowMajor<N::Scalar>,
        net: &N,
    ) -> &'w RowMajor<N::Scalar> {
        weights.fill(net)
    }

    /// One optimizer step: [`OptimizerState::step`], or its equal on the engine's threads.
    fn update(
        &self,
        state: &mut OptimizerState<N>,
        net: &mut N,
        grads: &Gradients<N>,
    ) -> Result<(), Error> {
        state.step(net, grads)
    }

    /// The evaluation-mode loss of a data set.
    fn loss(
        &self,
        net: &N,
        data: Data<'_, N::Scalar>,
        objective: Objective,
        params: &SiteParams,
    ) -> f64;
}

/// Everything on the calling thread, each batch as one matrix product per layer.
pub(crate) struct OneThread;

impl<N: Network> Engine<N> for OneThread
where
    N::Scalar: LinalgScalar,
{
    fn step(
        &mut self,
        net: &N,
        x: &ArrayRef2<N::Scalar>,
        targets: &ArrayRef2<N::Scalar>,
        objective: Objective,
        effects: &Effects<N::Scalar>,
        weights: &RowMajor<N::Scalar>,
        grads: &mut Gradients<N>,
    ) -> f64 {
        let tape = forward_tape(net, x, &SiteMode::Train(effects));
        loss_and_gradients(net, &tape, objective, targets, effects, weights, grads)
    }

    fn loss(
        &self,
        net: &N,
        data: Data<'_, N::Scalar>,
        objective: Objective,
        params: &SiteParams,
    ) -> f64 {
        evaluate_with(net, data, objective, params)
    }
}

/// Moves the progress bar on and calls the epoch callback with the bar taken off the terminal,
/// so that whatever the callback prints appears above the bar instead of glued to its line.
/// Returns whether training goes on.
fn after_epoch<C: EpochControl>(
    bar: Option<&indicatif::ProgressBar>,
    report: &EpochReport,
    on_epoch: &mut impl FnMut(&EpochReport) -> C,
) -> bool {
    let Some(bar) = bar else {
        return on_epoch(report).keep_going();
    };
    bar.set_message(match report.validation_loss {
        Some(v) => format!("train {:.4}  validation {v:.4}", report.train_eval_loss),
        None => format!("train {:.4}", report.train_eval_loss),
    });
    bar.inc(1);
    bar.suspend(|| on_epoch(report).keep_going())
}

/// What an epoch callback returns to say whether training goes on: `()` (always) or a
/// [`ControlFlow`] (`Break(())` stops).
pub trait EpochControl {
    /// Whether to train another epoch.
    fn keep_going(self) -> bool;
}

impl EpochControl for () {
    fn keep_going(self) -> bool {
        true
    }
}

impl EpochControl for ControlFlow<()> {
    fn keep_going(self) -> bool {
        self.is_continue()
    }
}

/// A data set's shapes, size, values and targets; `names` are the set, its inputs and its
/// targets as errors call them.
fn check_data<N: Network>(
    (x, targets): Data<'_, N::Scalar>,
    loss: Loss,
    [set, inputs, target_name]: [&'static str; 3],
) -> Result<(), Error> {
    check_batch::<N>(x, targets)?;
    if x.nrows() == 0 {
        return Err(Error::EmptyData { what: set });
    }
    check_finite(x, inputs)?;
    loss.check_targets(targets, target_name)
}

/// Every value of `data` is finite.
fn check_finite<T: Float>(data: &ArrayRef2<T>, what: &'static str) -> Result<(), Error> {
    for ((row, column), value) in data.indexed_iter() {
        if !value.is_finite() {
            return Err(Error::NonFiniteData {
                what,
                row,
                column,
                value: value.to_f64(),
            });
        }
    }
    Ok(())
}

/// The effects of masks for a batch of `rows` samples: each unit kept with its site's keep
/// probability, each weight of a layer with DropConnect with the layer's (sample by sample,
/// sites in order, units in order, then the weight masks in the order of `sample_masks`).
fn sample_multipliers<N: Network, R: rand::Rng>(
    rng: &mut R,
    rows: usize,
    params: &SiteParams,
) -> Effects<N::Scalar> {
    let sizes: Vec<usize> = N::SPEC.sites().map(|(_, size, _)| size).collect();
    let mut bits: Vec<Array2<bool>> = sizes
        .iter()
        .map(|&size| Array2::from_elem((rows, size), false))
        .collect();
    let mut weights: Vec<Option<Array2<bool>>> = alloc::vec![None; N::SPEC.layers.len()];
    for (_, layer, size, _) in N::SPEC.connections() {
        weights[layer] = Some(Array2::from_elem((rows, size), false));
    }
    let kinds: Vec<DropoutKind> = N::SPEC.sites().map(|(_, _, d)| d.kind()).collect();
    let mut noise: Vec<Option<Array2<N::Scalar>>> = kinds
        .iter()
        .zip(&sizes)
        .map(|(&kind, &size)| {
            (kind == DropoutKind::Gaussian).then(|| Array2::from_elem((rows, size), N::Scalar::ONE))
        })
        .collect();
    for r in 0..rows {
        for (site, m) in bits.iter_mut().enumerate() {
            match noise.get_mut(site) {
                Some(Some(noise)) => {
                    let site_params = Site::new(N::SPEC.scaling, params.sites[site]);
                    if let Some(row) = noise.row_mut(r).as_slice_mut() {
                        site_params.sample_noise_into(rng, row);
                    }
                }
                _ => {
                    let keep = params.keep(site);
                    for slot in m.row_mut(r) {
                        *slot = rng.random_bool(keep);
                    }
                }
            }
        }
        for (_, layer, _, dropout) in N::SPEC.connections() {
            if let Some(Some(m)) = weights.get_mut(layer) {
                for slot in m.row_mut(r) {
                    *slot = rng.random_bool(dropout.keep());
                }
            }
        }
    }
    let sites = bits
        .iter()
        .zip(noise)
        .enumerate()
        .map(|(site, (bits, noise))| match noise {
            Some(noise) => SiteEffect {
                scale: noise,
                shift: None,
            },
            None => params.effect::<N>(site, bits),
        })
        .collect();
    Effects { sites, weights }
}

fn evaluate_with<N: Network>(
    net: &N,
    (x, targets): Data<'_, N::Scalar>,
    objective: Objective,
    params: &SiteParams,
) -> f64
where
    N::Scalar: LinalgScalar,
{
    let tape = forward_tape(net, x, &SiteMode::Eval(params));
    objective.value(&tape, targets)
}

/// The evaluation-mode loss of `net` on a data set (inputs, targets), as [`Trainer::fit`]
/// reports it: a softmax or sigmoid output meets its cross-entropy loss on its pre-activation.
///
/// # Errors
/// If the data set's shapes do not fit the network, it is empty, a value is not finite, a
/// target does not suit the loss, or the loss does not fit the output layer.
pub fn evaluate<N: Network>(net: &N, data: Data<'_, N::Scalar>, loss: Loss) -> Result<f64, Error>
where
    N::Scalar: LinalgScalar,
{
    let classes = loss.class_targets(data.1, N::SPEC.n_outputs(), "targets")?;
    let data = (data.0, classes.as_ref().map_or(data.1, |t| &**t));
    check_data::<N>(data, loss, ["evaluation", "inputs", "targets"])?;
    let objective = Objective::new::<N>(loss)?;
    Ok(evaluate_with(
        net,
        data,
        objective,
        &SiteParams::of::<N>(None),
    ))
}

/// Evaluation-mode outputs of a batch computed by the training engine (the same pass as the
/// generated `forward_batch`), for generic code.
///
/// # Errors
/// If `x` does not have the network's input width.
pub fn predict<N: Network>(net: &N, x: &ArrayRef2<N::Scalar>) -> Result<Array2<N::Scalar>, Error>
where
    N::Scalar: LinalgScalar,
{
    crate::engine::forward_batch(net, x)
}

#[cfg(test)]
mod tests {
    use super::{Loss, Optimizer, Trainer};

    #[test]
    fn builder_sets_every_option() {
        let t = Trainer::new(Optimizer::sgd(0.1), Loss::MeanSquaredError)
            .epochs(3)
            .batch_size(7)
            .seed(9)
            .dropout(0.25)
            .progress(false);
        assert_eq!(
            (t.epochs, t.batch_size, t.seed, t.dropout, t.progress),
            (3, 7, 9, Some(0.25), false)
        );
        assert!(t.progress_bar().is_none());
    }

    #[test]
    fn what_the_callback_prints_appears_above_the_bar() {
        use indicatif::{InMemoryTerm, ProgressDrawTarget, TermLike as _};
        let term = InMemoryTerm::new(8, 100);
        let trainer = Trainer::new(Optimizer::sgd(0.1), Loss::MeanSquaredError).epochs(3);
        let bar = trainer.progress_bar().unwrap();
        bar.set_draw_target(ProgressDrawTarget::term_like(Box::new(term.clone())));
        for epoch in 1..=2 {
            let report = super::EpochReport {
                epoch,
                train_loss: 1.0,
                train_eval_loss: 0.5,
                validation_loss: None,
            };
            // The callback writes to the terminal the bar is drawn on, as `println!` does when
            // standard output and standard error are one terminal.
            let go_on =
                super::after_epoch(Some(&bar), &report, &mut |report: &super::EpochReport| {
                    term.write_line(&format!("epoch {} done", report.epoch))
                        .unwrap();
                });
            assert!(go_on);
        }
        bar.force_draw();
        let screen = term.contents();
        let lines: Vec<&str> = screen.lines().collect();
        assert_eq!(lines[..2], ["epoch 1 done", "epoch 2 done"], "{screen}");
        assert!(lines[2].starts_with("epoch    2/3 ["), "{screen}");
        assert!(lines[2].contains("train 0.5000"), "{screen}");
    }
}
