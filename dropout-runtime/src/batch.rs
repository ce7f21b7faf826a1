//! Batched passes over `ndarray` matrices: one sample per row.
//!
//! A dense layer over a batch is a matrix product, `Z = A·Wᵀ + 1·bᵀ`, computed by ndarray's
//! `general_mat_mul` one panel of neurons at a time: each panel of a [`Dense`] layer's storage
//! is a row-major `fan_in × width` block of `Wᵀ`, so no copy or transpose is needed.

use ndarray::{Array2, ArrayRef2, ArrayView2, LinalgScalar, linalg::general_mat_mul, s};

use crate::kernel::{Panel, panels};
use crate::{Activation, Dense, Error, Float, Site};

/// Checks that a batch has `n_inputs` columns.
///
/// # Errors
/// [`Error::BatchWidth`] otherwise.
pub fn check_width<T>(batch: &ArrayRef2<T>, n_inputs: usize) -> Result<(), Error> {
    if batch.ncols() == n_inputs {
        Ok(())
    } else {
        Err(Error::BatchWidth {
            expected: n_inputs,
            found: batch.ncols(),
        })
    }
}

/// Checks that a batched masked pass has one set of masks per row.
///
/// # Errors
/// [`Error::MaskCount`] otherwise.
pub fn check_mask_count<T, M>(batch: &ArrayRef2<T>, masks: &[M]) -> Result<(), Error> {
    if batch.nrows() == masks.len() {
        Ok(())
    } else {
        Err(Error::MaskCount {
            expected: batch.nrows(),
            found: masks.len(),
        })
    }
}

/// Samples per lane group in [`by_lanes`]: one AVX vector of `f32`.
pub const LANES: usize = 8;

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

/// A network's evaluation pass over [`LANES`] samples stored lane-wise (`x[i][s]` is input `i`
/// of sample `s`). `network!` implements it for small networks, always inlined, so that
/// [`by_lanes`] compiles it for the instruction set chosen at run time.
pub trait ForwardLanes<T, const IN: usize, const OUT: usize> {
    /// The outputs of the `LANES` samples, lane-wise.
    fn forward_lanes(&self, x: &[[T; LANES]; IN]) -> [[T; LANES]; OUT];
}

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
    fn run(self, _wide: bool) {
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
    let mut lanes = [[T::ZERO; LANES]; IN];
    for s in 0..LANES {
        for (i, lane) in lanes.iter_mut().enumerate() {
            lane[s] = inputs[s * IN + i];
        }
    }
    let result = net.forward_lanes(&lanes);
    for (s, row) in outputs.iter_mut().enumerate().take(LANES) {
        for (slot, unit) in row.iter_mut().zip(&result) {
            *slot = unit[s];
        }
    }
}

impl<T: Float + LinalgScalar, const IN: usize, const OUT: usize> Dense<T, IN, OUT> {
    /// The pre-activations of a batch, `Z = A·Wᵀ + 1·bᵀ`, one row per sample.
    ///
    /// # Errors
    /// [`Error::BatchWidth`] if `a` does not have `IN` columns.
    ///
    /// # Example
    /// ```
    /// use dropout_runtime::Dense;
    /// use ndarray::array;
    ///
    /// let layer = Dense::<f64, 2, 1>::from_rows(&[[1.0, -1.0]], &[0.5]);
    /// let z = layer.affine_batch(&array![[3.0, 1.0], [0.0, 2.0]])?;
    /// assert_eq!(z, array![[2.5], [-1.5]]);
    /// # Ok::<(), dropout_runtime::Error>(())
    /// ```
    pub fn affine_batch(&self, a: &ArrayRef2<T>) -> Result<Array2<T>, Error> {
        self.affine_batch_scaled(a, T::ONE)
    }

    /// `Z = scale · A·Wᵀ + 1·bᵀ`.
    ///
    /// # Errors
    /// [`Error::BatchWidth`] if `a` does not have `IN` columns.
    pub fn affine_batch_scaled(&self, a: &ArrayRef2<T>, scale: T) -> Result<Array2<T>, Error> {
        check_width(a, IN)?;
        let mut z = bias_rows(self.bias(), a.nrows());
        gemm_forward(self.storage(), IN, OUT, scale, a, &mut z);
        Ok(z)
    }
}

/// A `rows × bias.len()` matrix whose every row is `bias`.
pub(crate) fn bias_rows<T: Float>(bias: &[T], rows: usize) -> Array2<T> {
    let mut z = Array2::from_elem((rows, bias.len()), T::ZERO);
    for mut row in z.rows_mut() {
        if let Some(values) = row.as_slice_mut() {
            values.copy_from_slice(bias);
        }
    }
    z
}

/// `z += scale · a·Wᵀ` for weights in storage order (`a` is `rows × fan_in`, `z` is
/// `rows × size`).
pub(crate) fn gemm_forward<T: Float + LinalgScalar>(
    storage: &[T],
    fan_in: usize,
    size: usize,
    scale: T,
    a: &ArrayRef2<T>,
    z: &mut ArrayRef2<T>,
) {
    if fan_in == 0 {
        return;
    }
    for (panel, w) in panel_views(storage, fan_in, size) {
        general_mat_mul(
            scale,
            a,
            &w,
            T::ONE,
            &mut z.slice_mut(s![.., panel.neurons()]),
        );
    }
}

/// `d_in = dz·W` for weights in storage order (`dz` is `rows × size`, `d_in` is
/// `rows × fan_in`): the gradient with respect to a layer's inputs.
#[cfg(feature = "train")]
pub(crate) fn gemm_input_gradient<T: Float + LinalgScalar>(
    storage: &[T],
    fan_in: usize,
    size: usize,
    dz: &ArrayRef2<T>,
    d_in: &mut ArrayRef2<T>,
) {
    d_in.fill(T::ZERO);
    for (panel, w) in panel_views(storage, fan_in, size) {
        general_mat_mul(
            T::ONE,
            &dz.slice(s![.., panel.neurons()]),
            &w.t(),
            T::ONE,
            d_in,
        );
    }
}

/// Each panel of a layer's storage (`fan_in` inputs, `size` neurons) with its weights as a
/// row-major `fan_in × width` view of `Wᵀ`.
fn panel_views<T>(
    storage: &[T],
    fan_in: usize,
    size: usize,
) -> impl Iterator<Item = (Panel, ArrayView2<'_, T>)> {
    panels(fan_in, size).filter_map(move |panel| {
        let data = storage.get(panel.storage(fan_in))?;
        let view = ArrayView2::from_shape((fan_in, panel.width), data).ok()?;
        Some((panel, view))
    })
}

/// `gradient = aᵀ·dz` in storage order (`a` is `rows × fan_in`, `dz` is `rows × size`): the
/// gradient with respect to a layer's weights.
#[cfg(feature = "train")]
pub(crate) fn gemm_weight_gradient<T: Float + LinalgScalar>(
    gradient: &mut [T],
    fan_in: usize,
    size: usize,
    a: &ArrayRef2<T>,
    dz: &ArrayRef2<T>,
) {
    for panel in panels(fan_in, size) {
        let Some(Ok(mut g)) = gradient
            .get_mut(panel.storage(fan_in))
            .map(|data| ndarray::ArrayViewMut2::from_shape((fan_in, panel.width), data))
        else {
            continue;
        };
        general_mat_mul(
            T::ONE,
            &a.t(),
            &dz.slice(s![.., panel.neurons()]),
            T::ZERO,
            &mut g,
        );
    }
}

impl Activation {
    /// Applies the activation to every row of a batch.
    pub fn apply_batch<T: Float>(self, z: &mut ArrayRef2<T>) {
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

impl Site {
    /// The evaluation-mode pass of a batch through `next`.
    ///
    /// # Errors
    /// [`Error::BatchWidth`] if `a` does not have `IN` columns.
    pub fn eval_batch<T: Float + LinalgScalar, const IN: usize, const OUT: usize>(
        self,
        next: &Dense<T, IN, OUT>,
        a: &ArrayRef2<T>,
    ) -> Result<Array2<T>, Error> {
        next.affine_batch_scaled(a, T::from_f64(self.scaling.eval_factor(self.dropout)))
    }

    /// The training-mode pass of a batch through `next`; row `r` is masked by
    /// `select(&masks[r])`.
    ///
    /// # Errors
    /// [`Error::BatchWidth`] if `a` does not have `IN` columns, [`Error::MaskCount`] if there is
    /// not one set of masks per row.
    ///
    /// # Example
    /// ```
    /// use dropout_runtime::{Dense, Dropout, Scaling, Site};
    /// use ndarray::array;
    ///
    /// let site = Site::new(Scaling::Classic, Dropout::with_p(0.5)?);
    /// let next = Dense::<f64, 2, 1>::from_rows(&[[1.0, 1.0]], &[0.0]);
    /// let masks = [[true, false], [false, true]];
    /// let z = site.masked_batch(&next, &array![[1.0, 2.0], [1.0, 2.0]], &masks, |m| m)?;
    /// assert_eq!(z, array![[1.0], [2.0]]);
    /// # Ok::<(), dropout_runtime::Error>(())
    /// ```
    pub fn masked_batch<T: Float + LinalgScalar, M, const IN: usize, const OUT: usize>(
        self,
        next: &Dense<T, IN, OUT>,
        a: &ArrayRef2<T>,
        masks: &[M],
        select: impl Fn(&M) -> &[bool; IN],
    ) -> Result<Array2<T>, Error> {
        check_width(a, IN)?;
        check_mask_count(a, masks)?;
        let mut masked = a.to_owned();
        for (mut row, set) in masked.rows_mut().into_iter().zip(masks) {
            let mask = select(set);
            let factor = T::from_f64(self.scaling.train_factor(self.dropout));
            for (v, &kept) in row.iter_mut().zip(mask) {
                *v = if kept { *v * factor } else { T::ZERO };
            }
        }
        next.affine_batch(&masked)
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array, s};

    use crate::{Activation, Dense, Dropout, Error, Scaling, Site};

    fn layer() -> Dense<f64, 3, 2> {
        Dense::from_rows(&[[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]], &[1.0, -1.0])
    }

    #[test]
    fn batch_rows_equal_single_passes() {
        let x = array![[2.0, 3.0, 4.0], [0.0, -1.0, 0.5], [1.0, 1.0, 1.0]];
        let z = layer().affine_batch(&x).unwrap();
        for (row, out) in x.rows().into_iter().zip(z.rows()) {
            let single = layer().affine(&[row[0], row[1], row[2]]);
            assert_eq!(out.to_vec(), single.to_vec());
        }
    }

    #[test]
    fn wrong_width_is_an_error_not_a_panic() {
        let err = layer().affine_batch(&Array2::zeros((4, 2))).unwrap_err();
        assert_eq!(
            err,
            Error::BatchWidth {
                expected: 3,
                found: 2
            }
        );
        assert_eq!(
            err.to_string(),
            "expected batch rows of 3 inputs (the network's input size), found 2 columns"
        );
    }

    #[test]
    fn masked_batch_matches_single_masked_pass() {
        let site = Site::new(Scaling::Inverted, Dropout::with_p(0.25).unwrap());
        let x = array![[2.0, 3.0, 4.0], [0.0, -1.0, 0.5]];
        let masks = [[true, false, true], [false, true, true]];
        let z = site.masked_batch(&layer(), &x, &masks, |m| m).unwrap();
        for (r, mask) in masks.iter().enumerate() {
            let row = [x[[r, 0]], x[[r, 1]], x[[r, 2]]];
            let single = site.masked(&layer(), &row, mask);
            for (got, want) in z.row(r).iter().zip(single) {
                assert!((got - want).abs() < 1e-12);
            }
        }
        let err = site
            .masked_batch(&layer(), &x, &masks[..1], |m| m)
            .unwrap_err();
        assert_eq!(
            err,
            Error::MaskCount {
                expected: 2,
                found: 1
            }
        );
    }

    #[test]
    fn softmax_applies_per_row_even_on_strided_views() {
        let mut z = array![[0.0_f64, 0.0, 9.0], [1.0, 1.0, 9.0]];
        let mut view = z.slice_mut(s![.., ..2]);
        Activation::Softmax.apply_batch(&mut view);
        assert_eq!(z, array![[0.5, 0.5, 9.0], [0.5, 0.5, 9.0]]);
    }
}
