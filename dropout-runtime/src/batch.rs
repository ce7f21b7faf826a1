//! Batched passes over `ndarray` matrices, one sample per row: the checks every batched pass
//! makes (defined in the crate's lowest stage, for layers to use too), and the sample-parallel evaluation of small networks.
//!
//! A dense layer over a batch is a matrix product, `Z = A·Wᵀ + 1·bᵀ`
//! ([`Dense::affine_batch`](crate::Dense::affine_batch)); a network whose layers are all small
//! evaluates [`LANES`] samples at a time instead, one per vector lane.

use ndarray::{Array2, ArrayRef2};

use crate::{Error, Float};

pub use crate::shape::{check_mask_count, check_width};

#[doc(hidden)]
/// Samples per lane group in [`by_lanes`]: one AVX vector of `f32`.
pub const LANES: usize = 8;

#[doc(hidden)]
/// Whether a network's batched evaluation should run sample-parallel ([`by_lanes`]) rather
/// than as matrix products: true when every layer is small enough that a matrix product would
/// spend more on setting up than on arithmetic.
pub const fn prefers_lanes(spec: &crate::NetworkSpec) -> bool {
    let mut idx = 0;
    while idx < spec.layers.len() {
        if spec.layers[idx].fan_in * spec.layers[idx].size > 256 {
            return false;
        }
        idx += 1;
    }
    true
}

#[doc(hidden)]
/// The training pass of a batch of a small network, row by row: row `r` through the network's
/// own `forward_masked` under `masks[r]`, so each row's output is bit for bit the single pass's.
/// For networks that [`prefer lanes`](prefers_lanes) but whose masks hold Gaussian noise or
/// DropConnect bits, which [`by_lanes_masked`] does not take; matrices cost more than they save
/// there.
///
/// # Errors
/// [`Error::BatchWidth`] if `x` does not have the network's input width, [`Error::MaskCount`]
/// unless there is one set of masks per row.
pub fn by_rows_masked<N: crate::Network>(
    net: &N,
    x: &ArrayRef2<N::Scalar>,
    masks: &[N::Masks],
) -> Result<Array2<N::Scalar>, Error> {
    let (n_in, n_out) = (N::SPEC.n_inputs, N::SPEC.n_outputs());
    check_width(x, n_in)?;
    check_mask_count(x, masks)?;
    let mut out = Array2::from_elem((x.nrows(), n_out), N::Scalar::ZERO);
    // `Input` is `[T; n_inputs]`, so this conversion succeeds; were a hand-written `Network`
    // to disagree with its own `SPEC`, that is a width mismatch.
    let mut input = N::Input::try_from(&alloc::vec![N::Scalar::ZERO; n_in][..]).map_err(|_| {
        Error::BatchWidth {
            expected: n_in,
            found: n_in,
        }
    })?;
    for ((row, mut target), row_masks) in x.rows().into_iter().zip(out.rows_mut()).zip(masks) {
        for (slot, &v) in input.as_mut().iter_mut().zip(row.iter()) {
            *slot = v;
        }
        let y = net.forward_masked(&input, row_masks);
        for (slot, &v) in target.iter_mut().zip(y.as_ref()) {
            *slot = v;
        }
    }
    Ok(out)
}

#[doc(hidden)]
/// A network's evaluation pass over [`LANES`] samples stored lane-wise (`x[i][s]` is input `i`
/// of sample `s`). `network!` implements it for small networks, always inlined, so that
/// [`by_lanes`] compiles it for the instruction set chosen at run time.
pub trait ForwardLanes<T, const IN: usize, const OUT: usize> {
    /// The outputs of the `LANES` samples, lane-wise.
    fn forward_lanes(&self, x: &[[T; LANES]; IN]) -> [[T; LANES]; OUT];
}

#[doc(hidden)]
/// Evaluates `net` on every row of `x`, [`LANES`] rows at a time stored lane-wise, on the
/// widest vectors the CPU offers; the last group is padded with zeros.
///
/// # Errors
/// [`Error::BatchWidth`] if `x` does not have `IN` columns.
pub fn by_lanes<T: Float, N: ForwardLanes<T, IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    x: &ArrayRef2<T>,
) -> Result<Array2<T>, Error> {
    check_width(x, IN)?;
    let mut out = alloc::vec![[T::ZERO; OUT]; x.nrows()];
    crate::kernel::dispatch(Lanes::<T, N, IN, OUT> {
        net,
        x,
        out: &mut out,
    });
    Ok(Array2::from(out))
}

#[doc(hidden)]
/// A network's training pass over [`LANES`] samples stored lane-wise, sample `s` under
/// `masks[s]`. `network!` implements it for small networks whose sites all draw bits (no
/// Gaussian noise, no DropConnect), always inlined, as [`ForwardLanes`].
pub trait ForwardLanesMasked<T, const IN: usize, const OUT: usize> {
    /// The masks of one sample.
    type Masks;
    /// The outputs of the `LANES` samples, lane-wise.
    fn forward_lanes_masked(
        &self,
        x: &[[T; LANES]; IN],
        masks: [&Self::Masks; LANES],
    ) -> [[T; LANES]; OUT];
}

#[doc(hidden)]
/// The training pass of every row of `x` under its masks, [`LANES`] rows at a time stored
/// lane-wise, on the widest vectors the CPU offers: each row's output is bit for bit the
/// network's `forward_masked` under that row's masks. The last group is padded with zeros
/// (under the first row's masks).
///
/// # Errors
/// [`Error::BatchWidth`] if `x` does not have `IN` columns, [`Error::MaskCount`] unless there
/// is one set of masks per row.
pub fn by_lanes_masked<T, N, const IN: usize, const OUT: usize>(
    net: &N,
    x: &ArrayRef2<T>,
    masks: &[N::Masks],
) -> Result<Array2<T>, Error>
where
    T: Float,
    N: ForwardLanesMasked<T, IN, OUT>,
{
    check_width(x, IN)?;
    check_mask_count(x, masks)?;
    let mut out = alloc::vec![[T::ZERO; OUT]; x.nrows()];
    crate::kernel::dispatch(LanesMasked::<T, N, IN, OUT> {
        net,
        x,
        masks,
        out: &mut out,
    });
    Ok(Array2::from(out))
}

/// The loop of [`by_lanes_masked`] as a kernel.
struct LanesMasked<'a, T, N: ForwardLanesMasked<T, IN, OUT>, const IN: usize, const OUT: usize> {
    net: &'a N,
    x: &'a ArrayRef2<T>,
    masks: &'a [N::Masks],
    out: &'a mut [[T; OUT]],
}

impl<T: Float, N: ForwardLanesMasked<T, IN, OUT>, const IN: usize, const OUT: usize>
    crate::kernel::Kernel for LanesMasked<'_, T, N, IN, OUT>
{
    type Output = ();

    #[inline(always)]
    fn run(self, _isa: crate::kernel::InstructionSet) {
        let LanesMasked { net, x, masks, out } = self;
        let Some(first) = masks.first() else {
            return;
        };
        let standard = x.as_standard_layout();
        let values = standard.as_slice().unwrap_or(&[]);
        let mut full_groups = out.chunks_exact_mut(LANES);
        let mut inputs = values.chunks_exact(LANES * IN);
        let mut groups_masks = masks.chunks_exact(LANES);
        for ((outputs, group), group_masks) in
            (&mut full_groups).zip(&mut inputs).zip(&mut groups_masks)
        {
            let lane_masks = core::array::from_fn(|s| group_masks.get(s).unwrap_or(first));
            lane_group_masked(net, group, lane_masks, outputs);
        }
        let (rest_out, rest_in) = (full_groups.into_remainder(), inputs.remainder());
        if !rest_out.is_empty() {
            let rest_masks = groups_masks.remainder();
            let mut padded = [[T::ZERO; IN]; LANES];
            for (row, chunk) in padded.iter_mut().zip(rest_in.chunks_exact(IN)) {
                row.copy_from_slice(chunk);
            }
            let lane_masks = core::array::from_fn(|s| rest_masks.get(s).unwrap_or(first));
            let mut results = [[T::ZERO; OUT]; LANES];
            lane_group_masked(net, padded.as_flattened(), lane_masks, &mut results);
            rest_out.copy_from_slice(&results[..rest_out.len()]);
        }
    }
}

/// The loop of [`by_lanes`] as a kernel.
struct Lanes<'a, T, N, const IN: usize, const OUT: usize> {
    net: &'a N,
    x: &'a ArrayRef2<T>,
    out: &'a mut [[T; OUT]],
}

impl<T: Float, N: ForwardLanes<T, IN, OUT>, const IN: usize, const OUT: usize> crate::kernel::Kernel
    for Lanes<'_, T, N, IN, OUT>
{
    type Output = ();

    #[inline(always)]
    fn run(self, _isa: crate::kernel::InstructionSet) {
        let Lanes { net, x, out } = self;
        // Rows in one contiguous slice (copied first only if `x` is not in standard layout).
        let standard = x.as_standard_layout();
        let values = standard.as_slice().unwrap_or(&[]);
        // Full groups have a fixed trip count, which is what lets the compiler keep the lanes
        // in vector registers; the last, partial group goes through a zero-padded copy.
        let mut full_groups = out.chunks_exact_mut(LANES);
        let mut inputs = values.chunks_exact(LANES * IN);
        for (outputs, group) in (&mut full_groups).zip(&mut inputs) {
            lane_group(net, group, outputs);
        }
        let (rest_out, rest_in) = (full_groups.into_remainder(), inputs.remainder());
        if !rest_out.is_empty() {
            let mut padded = [[T::ZERO; IN]; LANES];
            for (row, chunk) in padded.iter_mut().zip(rest_in.chunks_exact(IN)) {
                row.copy_from_slice(chunk);
            }
            let mut results = [[T::ZERO; OUT]; LANES];
            lane_group(net, padded.as_flattened(), &mut results);
            rest_out.copy_from_slice(&results[..rest_out.len()]);
        }
    }
}

/// One group of `LANES` rows: `inputs` holds them row after row, `outputs` receives them.
#[inline(always)]
fn lane_group<T: Float, N: ForwardLanes<T, IN, OUT>, const IN: usize, const OUT: usize>(
    net: &N,
    inputs: &[T],
    outputs: &mut [[T; OUT]],
) {
    let result = net.forward_lanes(&to_lanes(inputs));
    from_lanes(&result, outputs);
}

/// [`lane_group`] for the training pass, sample `s` under `masks[s]`.
#[inline(always)]
fn lane_group_masked<T, N, const IN: usize, const OUT: usize>(
    net: &N,
    inputs: &[T],
    masks: [&N::Masks; LANES],
    outputs: &mut [[T; OUT]],
) where
    T: Float,
    N: ForwardLanesMasked<T, IN, OUT>,
{
    let result = net.forward_lanes_masked(&to_lanes(inputs), masks);
    from_lanes(&result, outputs);
}

/// `LANES` rows, stored row after row, stored lane-wise.
#[inline(always)]
fn to_lanes<T: Float, const IN: usize>(inputs: &[T]) -> [[T; LANES]; IN] {
    let mut lanes = [[T::ZERO; LANES]; IN];
    for s in 0..LANES {
        for (i, lane) in lanes.iter_mut().enumerate() {
            lane[s] = inputs[s * IN + i];
        }
    }
    lanes
}

/// The rows of `outputs` from results stored lane-wise.
#[inline(always)]
fn from_lanes<T: Float, const OUT: usize>(result: &[[T; LANES]; OUT], outputs: &mut [[T; OUT]]) {
    for (s, row) in outputs.iter_mut().enumerate().take(LANES) {
        for (slot, unit) in row.iter_mut().zip(result) {
            *slot = unit[s];
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::{check_mask_count, check_width};
    use crate::Error;

    #[test]
    fn checks_name_both_numbers() {
        let x = Array2::<f32>::zeros((3, 2));
        assert_eq!(check_width(&x, 2), Ok(()));
        let err = check_width(&x, 4).unwrap_err();
        assert_eq!(
            err,
            Error::BatchWidth {
                expected: 4,
                found: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "expected batch rows of 4 inputs (the network's input size), found 2 columns"
        );
        assert_eq!(check_mask_count(&x, &[(); 3]), Ok(()));
        assert_eq!(
            check_mask_count(&x, &[(); 1]),
            Err(Error::MaskCount {
                expected: 3,
                found: 1
            })
        );
    }
}
