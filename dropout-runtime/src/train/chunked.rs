//! The trainer's steps and losses on rayon's pool (feature `parallel`): a batch cut into fixed
//! chunks of rows whatever the number of threads, each chunk's forward and backward pass on a
//! thread, and the chunks' losses and gradients added in the chunks' order, so that training
//! gives the same bits on any number of threads.

use alloc::vec::Vec;

use ndarray::{ArrayRef2, LinalgScalar, s};
use rayon::prelude::*;

use super::backprop::{Gradients, Objective, RowMajor, loss_part_and_gradients};
use super::{Data, Engine, OneThread, OptimizerState};
use crate::engine::{Effects, SiteMode, SiteParams, forward_tape};
use crate::parallel::CHUNK;
use crate::{Error, Network};

/// The rows of a training batch given to one task. A batch of at most this many rows is one
/// chunk, computed exactly as [`Trainer::fit`](super::Trainer::fit) computes it.
pub const STEP_CHUNK: usize = 32;

/// The chunks of `rows` rows, `chunk` at a time: their first rows and their ends.
fn chunks(rows: usize, chunk: usize) -> Vec<core::ops::Range<usize>> {
    (0..rows)
        .step_by(chunk)
        .map(|start| start..(start + chunk).min(rows))
        .collect()
}

/// Steps in chunks of [`STEP_CHUNK`] rows, losses of data sets in chunks of [`CHUNK`]; the
/// chunks' gradients in buffers kept from one step to the next.
pub(crate) struct Chunked<N: Network> {
    parts: Vec<Gradients<N>>,
}

impl<N: Network> Chunked<N> {
    pub(crate) fn new() -> Self {
        Chunked { parts: Vec::new() }
    }
}

impl<N> Engine<N> for Chunked<N>
where
    N: Network + Sync,
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
        let rows = x.nrows();
        if rows <= STEP_CHUNK {
            return OneThread.step(net, x, targets, objective, effects, weights, grads);
        }
        let ranges = chunks(rows, STEP_CHUNK);
        // Grown, never shrunk: an epoch's shorter last batch keeps the buffers of the others.
        if self.parts.len() < ranges.len() {
            self.parts.resize_with(ranges.len(), Gradients::zeros);
        }
        let parts = &mut self.parts[..ranges.len()];
        let totals: Vec<f64> = parts
            .par_iter_mut()
            .zip(ranges)
            .map(|(part_grads, range)| {
                let part = effects.rows(range.clone());
                let tape = forward_tape(
                    net,
                    &x.slice(s![range.clone(), ..]),
                    &SiteMode::Train(&part),
                );
                let targets = targets.slice(s![range, ..]);
                loss_part_and_gradients(
                    net, &tape, objective, &targets, &part, weights, rows, part_grads,
                )
            })
            .collect();
        grads.set_sum(parts);
        let total = totals.iter().fold(0.0, |total, part| total + part);
        total / objective.loss.divisor(rows, targets.ncols())
    }

    fn row_major<'w>(
        &self,
        weights: &'w mut RowMajor<N::Scalar>,
        net: &N,
    ) -> &'w RowMajor<N::Scalar> {
        weights.fill_parallel(net)
    }

    fn update(
        &self,
        state: &mut OptimizerState<N>,
        net: &mut N,
        grads: &Gradients<N>,
    ) -> Result<(), Error> {
        state.step_parallel(net, grads)
    }

    fn loss(
        &self,
        net: &N,
        (x, targets): Data<'_, N::Scalar>,
        objective: Objective,
        params: &SiteParams,
    ) -> f64 {
        let rows = x.nrows();
        if rows <= CHUNK {
            return OneThread.loss(net, (x, targets), objective, params);
        }
        let totals: Vec<f64> = chunks(rows, CHUNK)
            .into_par_iter()
            .map(|range| {
                let tape = forward_tape(
                    net,
                    &x.slice(s![range.clone(), ..]),
                    &SiteMode::Eval(params),
                );
                objective.value_part(&tape, &targets.slice(s![range, ..]))
            })
            .collect();
        totals.iter().sum::<f64>() / objective.loss.divisor(rows, targets.ncols())
    }
}
