//! The matrix products of batches, one panel of neurons at a time: each panel of a layer's
//! storage is a row-major `fan_in × width` block of Wᵀ, so no copy or transpose is needed.
//! Batched inference ([`Dense::affine_batch`](crate::Dense::affine_batch)) and training
//! (`train::backprop`) both multiply through here.

use ndarray::{Array2, ArrayRef2, ArrayView2, LinalgScalar, linalg::general_mat_mul, s};

use super::panels;
use crate::Float;
use dropout_shared::layout::Panel;

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
