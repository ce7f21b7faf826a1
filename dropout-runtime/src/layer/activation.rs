//! Activations over batches. The activations themselves — names, parameters, forward
//! functions and derivatives — are [`Activation`], defined once in `dropout-shared` for the
//! macro and the runtime.

#[cfg(feature = "ndarray")]
use crate::{Activation, Float};

/// Applies `activation` to every row of a batch (rows are samples).
#[cfg(feature = "ndarray")]
pub fn apply_rows<T: Float>(activation: Activation, z: &mut ndarray::ArrayRef2<T>) {
    for mut row in z.rows_mut() {
        if let Some(values) = row.as_slice_mut() {
            activation.apply_in_place(values);
        } else {
            let mut values: alloc::vec::Vec<T> = row.to_vec();
            activation.apply_in_place(&mut values);
            row.iter_mut().zip(values).for_each(|(slot, v)| *slot = v);
        }
    }
}

#[cfg(all(test, feature = "ndarray"))]
mod tests {
    use super::apply_rows;
    use crate::Activation;

    #[test]
    fn softmax_applies_per_row_even_on_strided_views() {
        let mut z = ndarray::array![[0.0_f64, 0.0, 9.0], [1.0, 1.0, 9.0]];
        let mut view = z.slice_mut(ndarray::s![.., ..2]);
        apply_rows(Activation::Softmax, &mut view);
        assert_eq!(z, ndarray::array![[0.5, 0.5, 9.0], [0.5, 0.5, 9.0]]);
    }
}
