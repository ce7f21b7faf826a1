//! Optimizers: SGD with momentum and weight decay, and Adam, with PyTorch's update rules.

use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use super::backprop::Gradients;
use crate::{Error, Float, Network, kernel};

/// An optimizer and its hyperparameters. Its running state lives in [`OptimizerState`].
///
/// # Example
/// ```
/// use dropout::train::Optimizer;
///
/// let sgd = Optimizer::sgd(0.1).with_momentum(0.9).with_weight_decay(1e-4);
/// let adam = Optimizer::adam(1e-3);
/// assert_eq!(sgd.learning_rate(), 0.1);
/// assert_eq!(adam.learning_rate(), 1e-3);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Optimizer {
    /// v ← μ·v + (g + λ·w); w ← w − lr·v (PyTorch's `SGD` without dampening or Nesterov).
    Sgd {
        /// The step size lr.
        learning_rate: f64,
        /// The momentum μ (0 for plain SGD).
        momentum: f64,
        /// The L2 penalty λ added to the gradient.
        weight_decay: f64,
    },
    /// Adam (Kingma & Ba 2015) with bias correction, as PyTorch's `Adam`; the L2 penalty λ is
    /// added to the gradient.
    Adam {
        /// The step size lr.
        learning_rate: f64,
        /// The decay of the first moment, β₁.
        beta1: f64,
        /// The decay of the second moment, β₂.
        beta2: f64,
        /// ε in the denominator.
        epsilon: f64,
        /// The L2 penalty λ added to the gradient.
        weight_decay: f64,
    },
}

impl Optimizer {
    /// Plain SGD with the given learning rate.
    pub const fn sgd(learning_rate: f64) -> Self {
        Optimizer::Sgd {
            learning_rate,
            momentum: 0.0,
            weight_decay: 0.0,
        }
    }

    /// Adam with PyTorch's defaults (β₁ = 0.9, β₂ = 0.999, ε = 1e-8).
    pub const fn adam(learning_rate: f64) -> Self {
        Optimizer::Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
        }
    }

    /// Sets SGD's momentum; no effect on Adam.
    #[must_use]
    pub const fn with_momentum(self, value: f64) -> Self {
        match self {
            Optimizer::Sgd {
                learning_rate,
                weight_decay,
                ..
            } => Optimizer::Sgd {
                learning_rate,
                momentum: value,
                weight_decay,
            },
            other => other,
        }
    }

    /// Sets the L2 penalty λ.
    #[must_use]
    pub const fn with_weight_decay(self, value: f64) -> Self {
        match self {
            Optimizer::Sgd {
                learning_rate,
                momentum,
                ..
            } => Optimizer::Sgd {
                learning_rate,
                momentum,
                weight_decay: value,
            },
            Optimizer::Adam {
                learning_rate,
                beta1,
                beta2,
                epsilon,
                ..
            } => Optimizer::Adam {
                learning_rate,
                beta1,
                beta2,
                epsilon,
                weight_decay: value,
            },
        }
    }

    /// Checks every hyperparameter: the learning rate finite and > 0; momentum, β₁ and β₂ in
    /// [0, 1); ε finite and > 0; the weight decay finite and ≥ 0.
    ///
    /// # Errors
    /// [`Error::Hyperparameter`] naming the first one out of range.
    pub fn check(&self) -> Result<(), Error> {
        let (learning_rate, weight_decay) = match *self {
            Optimizer::Sgd {
                learning_rate,
                momentum,
                weight_decay,
            } => {
                in_range(
                    "momentum",
                    momentum,
                    "[0, 1)",
                    (0.0..1.0).contains(&momentum),
                )?;
                (learning_rate, weight_decay)
            }
            Optimizer::Adam {
                learning_rate,
                beta1,
                beta2,
                epsilon,
                weight_decay,
            } => {
                in_range("beta1", beta1, "[0, 1)", (0.0..1.0).contains(&beta1))?;
                in_range("beta2", beta2, "[0, 1)", (0.0..1.0).contains(&beta2))?;
                in_range(
                    "epsilon",
                    epsilon,
                    "(0, ∞)",
                    epsilon > 0.0 && epsilon.is_finite(),
                )?;
                (learning_rate, weight_decay)
            }
        };
        in_range(
            "learning rate",
            learning_rate,
            "(0, ∞)",
            learning_rate > 0.0 && learning_rate.is_finite(),
        )?;
        in_range(
            "weight decay",
            weight_decay,
            "[0, ∞)",
            weight_decay >= 0.0 && weight_decay.is_finite(),
        )
    }

    /// The step size.
    pub const fn learning_rate(&self) -> f64 {
        match *self {
            Optimizer::Sgd { learning_rate, .. } | Optimizer::Adam { learning_rate, .. } => {
                learning_rate
            }
        }
    }
}

/// The running state of an optimizer for one network of type `N`: momentum buffers, Adam's
/// moments and step count.
///
/// # Example
/// ```
/// use dropout::train::{Loss, Optimizer, OptimizerState, gradients};
/// use dropout::network;
///
/// network! {
///     struct Line<f64> { input: 1, dense 1 identity { weights: [[2.0]], bias: [1.0] } }
/// }
/// let mut line = Line::new();
/// let mut state = OptimizerState::new(Optimizer::sgd(0.05))?;
/// let (_, grads) = gradients(&line, &[3.0], &LineMasks {}, &[5.0], Loss::MeanSquaredError)?;
/// state.step(&mut line, &grads)?;
/// // w ← 2 − 0.05·12, b ← 1 − 0.05·4
/// assert!((line.output.weight(0, 0).unwrap() - 1.4).abs() < 1e-12);
/// assert!((line.output.bias()[0] - 0.8).abs() < 1e-12);
/// // A learning rate must be positive and finite.
/// assert!(OptimizerState::<Line>::new(Optimizer::sgd(f64::NAN)).is_err());
/// # Ok::<(), dropout::Error>(())
/// ```
pub struct OptimizerState<N: Network> {
    optimizer: Optimizer,
    moments: Moments,
    steps: i32,
    network: PhantomData<fn() -> N>,
}

/// Per layer, per parameter (weights in storage order, then biases): what the optimizer's rule
/// reads and writes, and nothing more. A step streams every parameter's state twice, so on
/// networks larger than the caches its size is the step's time (docs/DESIGN.md, "Matrix
/// products": SGD's one `f64` a parameter instead of two).
#[derive(Clone)]
enum Moments {
    /// SGD's momentum buffer.
    Sgd(Vec<Vec<f64>>),
    /// Adam's first and second moments.
    Adam(Vec<Vec<(f64, f64)>>),
}

impl<N: Network> OptimizerState<N> {
    /// A fresh state for networks of type `N`.
    ///
    /// # Errors
    /// [`Error::Hyperparameter`] if a hyperparameter is out of its range (see
    /// [`Optimizer::check`]).
    pub fn new(optimizer: Optimizer) -> Result<Self, Error> {
        optimizer.check()?;
        let sizes = N::SPEC.layers.iter().map(|l| (l.fan_in + 1) * l.size);
        let moments = match optimizer {
            Optimizer::Sgd { .. } => Moments::Sgd(sizes.map(|n| alloc::vec![0.0; n]).collect()),
            Optimizer::Adam { .. } => {
                Moments::Adam(sizes.map(|n| alloc::vec![(0.0, 0.0); n]).collect())
            }
        };
        Ok(OptimizerState {
            optimizer,
            moments,
            steps: 0,
            network: PhantomData,
        })
    }

    /// The optimizer this state belongs to.
    pub fn optimizer(&self) -> Optimizer {
        self.optimizer
    }

    /// Updates `net`'s parameters with one step against `grads`.
    ///
    /// Nothing changes, neither `net` nor this state, if the step would make a parameter NaN
    /// or infinite: the step is computed once without writing, and written only if every new
    /// value is finite.
    ///
    /// # Errors
    /// [`Error::Diverged`] (epoch and step 0) if a gradient or a new parameter is not finite.
    pub fn step(&mut self, net: &mut N, grads: &Gradients<N>) -> Result<(), Error> {
        self.step_on(net, grads, Threads::One)
    }

    /// [`OptimizerState::step`] on rayon's threads (feature `parallel`), blocks of parameters
    /// at a time: every parameter's update is computed by itself, so the new values are the
    /// bits `step` writes, on any number of threads. Worth it for networks of many parameters:
    /// a step reads every parameter, its gradient and its optimizer state twice (once to check
    /// that every gradient and new value is finite, once to write them).
    ///
    /// # Errors
    /// As [`OptimizerState::step`].
    ///
    /// ```
    /// use dropout::rand::{SeedableRng as _, rngs::ChaCha8Rng};
    /// use dropout::train::{Loss, Optimizer, OptimizerState, gradients};
    /// use dropout::{Network as _, network, parallel};
    ///
    /// network! {
    ///     #[derive(Clone, Debug, PartialEq)]
    ///     struct Wide<f32> { input: 4, dense 200 relu, dense 200 relu, dense 1 identity }
    /// }
    /// let start = Wide::init(&mut ChaCha8Rng::seed_from_u64(2));
    /// let (_, grads) = gradients(&start, &[1.0, 2.0, 3.0, 4.0], &WideMasks {}, &[1.0], Loss::MeanSquaredError)?;
    /// let adam = Optimizer::adam(0.01);
    /// let (mut serial, mut threaded) = (start.clone(), start.clone());
    /// OptimizerState::new(adam)?.step(&mut serial, &grads)?;
    /// parallel::with_threads(3, || OptimizerState::new(adam)?.step_parallel(&mut threaded, &grads))??;
    /// assert_eq!(serial, threaded);
    /// assert_ne!(serial, start);
    /// # Ok::<(), dropout::Error>(())
    /// ```
    #[cfg(feature = "parallel")]
    pub fn step_parallel(&mut self, net: &mut N, grads: &Gradients<N>) -> Result<(), Error> {
        self.step_on(net, grads, Threads::Pool)
    }

    fn step_on(
        &mut self,
        net: &mut N,
        grads: &Gradients<N>,
        threads: Threads,
    ) -> Result<(), Error> {
        let steps = self.steps.saturating_add(1);
        let rule = Rule::new(self.optimizer, steps);
        // The pass that checks the new values checks the gradients too.
        let finite = self.visit(net, grads, rule, false, threads);
        if !finite.gradients {
            return Err(diverged("gradient"));
        }
        if !finite.parameters {
            return Err(diverged("parameter"));
        }
        self.visit(net, grads, rule, true, threads);
        self.steps = steps;
        Ok(())
    }

    /// Goes over every parameter with its gradient and state: with `write`, updates them;
    /// without, only computes the new values and tells whether they and the gradients are
    /// all finite.
    fn visit(
        &mut self,
        net: &mut N,
        grads: &Gradients<N>,
        rule: Rule,
        write: bool,
        threads: Threads,
    ) -> Finite {
        // One loop per optimizer and mode, each free of branches on them, so that it runs on
        // vectors.
        match (&mut self.moments, write) {
            (Moments::Sgd(states), true) => {
                visit_with::<N, _, true>(net, grads, states, rule.sgd(), threads)
            }
            (Moments::Sgd(states), false) => {
                visit_with::<N, _, false>(net, grads, states, rule.sgd(), threads)
            }
            (Moments::Adam(states), true) => {
                visit_with::<N, _, true>(net, grads, states, rule.adam(), threads)
            }
            (Moments::Adam(states), false) => {
                visit_with::<N, _, false>(net, grads, states, rule.adam(), threads)
            }
        }
    }
}

/// [`OptimizerState::visit`] with the states `states` and the rule
/// `update(w, g, state) → new w`.
fn visit_with<N: Network, S: Copy + Send, const WRITE: bool>(
    net: &mut N,
    grads: &Gradients<N>,
    states: &mut [Vec<S>],
    update: impl Fn(f64, f64, &mut S) -> f64 + Copy + Send + Sync,
    threads: Threads,
) -> Finite {
    let mut finite = Finite::ALL;
    for ((idx, grad), states) in grads.layers().iter().enumerate().zip(states) {
        let Some(layer) = net.layer_mut(idx) else {
            continue;
        };
        let (weight_states, bias_states) = states.split_at_mut(grad.weights.len());
        finite = finite.and(threads.update::<_, _, _, WRITE>(Update {
            values: layer.storage_mut(),
            gradient: &grad.weights,
            states: weight_states,
            rule: update,
        }));
        if let Some(bias) = grad.bias.as_slice() {
            finite = finite.and(threads.update::<_, _, _, WRITE>(Update {
                values: layer.biases_mut(),
                gradient: bias,
                states: bias_states,
                rule: update,
            }));
        }
    }
    finite
}

/// What a pass that does not write found.
#[derive(Clone, Copy)]
struct Finite {
    /// Every gradient is finite.
    gradients: bool,
    /// Every new value is finite.
    parameters: bool,
}

impl Finite {
    const ALL: Finite = Finite {
        gradients: true,
        parameters: true,
    };

    fn and(self, other: Finite) -> Finite {
        Finite {
            gradients: self.gradients & other.gradients,
            parameters: self.parameters & other.parameters,
        }
    }
}

/// Where an optimizer step runs.
#[derive(Clone, Copy)]
enum Threads {
    /// On the calling thread.
    One,
    /// On rayon's threads, in blocks of parameters.
    #[cfg(feature = "parallel")]
    Pool,
}

impl Threads {
    /// Runs `update`, whole or in blocks; tells whether every gradient and new value is
    /// finite.
    fn update<T, S, U, const WRITE: bool>(self, update: Update<'_, T, S, U, WRITE>) -> Finite
    where
        T: Float,
        S: Copy + Send,
        U: Fn(f64, f64, &mut S) -> f64 + Copy + Send + Sync,
    {
        match self {
            Threads::One => kernel::dispatch(update),
            #[cfg(feature = "parallel")]
            Threads::Pool => {
                use rayon::prelude::*;
                /// Parameters per task.
                const BLOCK: usize = 8192;
                let Update {
                    values,
                    gradient,
                    states,
                    rule,
                } = update;
                values
                    .par_chunks_mut(BLOCK)
                    .zip(gradient.par_chunks(BLOCK))
                    .zip(states.par_chunks_mut(BLOCK))
                    .map(|((values, gradient), states)| {
                        kernel::dispatch(Update::<_, _, _, WRITE> {
                            values,
                            gradient,
                            states,
                            rule,
                        })
                    })
                    .reduce(|| Finite::ALL, Finite::and)
            }
        }
    }
}

/// One optimizer step over a slice of parameters, as a [`Kernel`](kernel::Kernel): it runs on
/// the CPU's widest vectors (the arithmetic is plain `f64`, so the results do not depend on
/// which). Tells whether every gradient and new value is finite; writes the new values and
/// states only with `WRITE`.
struct Update<'a, T, S, U, const WRITE: bool> {
    values: &'a mut [T],
    gradient: &'a [T],
    states: &'a mut [S],
    rule: U,
}

impl<T, S, U, const WRITE: bool> kernel::Kernel for Update<'_, T, S, U, WRITE>
where
    T: Float,
    S: Copy,
    U: Fn(f64, f64, &mut S) -> f64 + Copy,
{
    type Output = Finite;

    #[inline(always)]
    fn run(self, _isa: kernel::InstructionSet) -> Finite {
        let (mut gradients, mut parameters) = (true, true);
        for ((w, &g), state) in self.values.iter_mut().zip(self.gradient).zip(self.states) {
            let mut new_state = *state;
            let new = T::from_f64((self.rule)(w.to_f64(), g.to_f64(), &mut new_state));
            gradients &= g.is_finite();
            parameters &= new.is_finite();
            if WRITE {
                *w = new;
                *state = new_state;
            }
        }
        Finite {
            gradients,
            parameters,
        }
    }
}

impl<N: Network> Clone for OptimizerState<N> {
    fn clone(&self) -> Self {
        OptimizerState {
            optimizer: self.optimizer,
            moments: self.moments.clone(),
            steps: self.steps,
            network: PhantomData,
        }
    }
}

impl<N: Network> fmt::Debug for OptimizerState<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OptimizerState")
            .field("network", &N::SPEC.name)
            .field("optimizer", &self.optimizer)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

/// A step that would leave `what` non-finite; the trainer fills in where it happened.
fn diverged(what: &'static str) -> Error {
    Error::Diverged {
        epoch: 0,
        step: 0,
        what,
    }
}

fn in_range(name: &'static str, value: f64, range: &'static str, ok: bool) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::Hyperparameter { name, value, range })
    }
}

/// The update rule of one step, with everything that depends only on the step count computed
/// once.
#[derive(Clone, Copy)]
struct Rule {
    optimizer: Optimizer,
    /// Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ.
    corrections: (f64, f64),
}

impl Rule {
    fn new(optimizer: Optimizer, steps: i32) -> Self {
        let corrections = match optimizer {
            Optimizer::Adam { beta1, beta2, .. } => (
                1.0 - libm::pow(beta1, f64::from(steps)),
                1.0 - libm::pow(beta2, f64::from(steps)),
            ),
            Optimizer::Sgd { .. } => (1.0, 1.0),
        };
        Rule {
            optimizer,
            corrections,
        }
    }

    /// SGD's update `(w, g, buffer) → new w` (PyTorch's `SGD`).
    #[inline]
    fn sgd(self) -> impl Fn(f64, f64, &mut f64) -> f64 + Copy {
        let (learning_rate, momentum, weight_decay) = match self.optimizer {
            Optimizer::Sgd {
                learning_rate,
                momentum,
                weight_decay,
            } => (learning_rate, momentum, weight_decay),
            Optimizer::Adam { .. } => (0.0, 0.0, 0.0),
        };
        move |w, g, m| {
            // The buffer starts at zero, so the first step's buffer is the gradient itself.
            *m = momentum * *m + g + weight_decay * w;
            w - learning_rate * *m
        }
    }

    /// Adam's update `(w, g, (m, v)) → new w` (PyTorch's `Adam`, L2 weight decay).
    #[inline]
    fn adam(self) -> impl Fn(f64, f64, &mut (f64, f64)) -> f64 + Copy {
        let (learning_rate, beta1, beta2, epsilon, weight_decay) = match self.optimizer {
            Optimizer::Adam {
                learning_rate,
                beta1,
                beta2,
                epsilon,
                weight_decay,
            } => (learning_rate, beta1, beta2, epsilon, weight_decay),
            Optimizer::Sgd { .. } => (0.0, 0.0, 0.0, 1.0, 0.0),
        };
        let corrections = self.corrections;
        move |w, g, (m, v)| {
            let g = g + weight_decay * w;
            *m = beta1 * *m + (1.0 - beta1) * g;
            *v = beta2 * *v + (1.0 - beta2) * g * g;
            let m_hat = *m / corrections.0;
            let v_hat = *v / corrections.1;
            w - learning_rate * m_hat / (libm::sqrt(v_hat) + epsilon)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Optimizer, Rule};

    #[test]
    fn sgd_momentum_follows_pytorch() {
        let sgd = Optimizer::sgd(0.1)
            .with_momentum(0.9)
            .with_weight_decay(0.5);
        let mut state = 0.0;
        // Step 1: buffer = g + λw = 1 + 0.5·2 = 2; w = 2 − 0.1·2.
        let w = Rule::new(sgd, 1).sgd()(2.0, 1.0, &mut state);
        assert!((w - 1.8).abs() < 1e-15, "{w}");
        // Step 2: buffer = 0.9·2 + (1 + 0.5·1.8) = 3.7; w = 1.8 − 0.1·3.7.
        let w = Rule::new(sgd, 2).sgd()(w, 1.0, &mut state);
        assert!((w - 1.43).abs() < 1e-15, "{w}");
        assert!((state - 3.7).abs() < 1e-15);
    }

    #[test]
    fn adam_first_step_is_the_learning_rate_times_the_sign() {
        let adam = Optimizer::adam(0.01);
        let w = Rule::new(adam, 1).adam()(0.0, -3.0, &mut (0.0, 0.0));
        assert!((w - 0.01).abs() < 1e-9, "{w}");
        assert_eq!(
            Optimizer::adam(0.5).with_momentum(0.9),
            Optimizer::adam(0.5)
        );
    }
}
