//! Batched passes over `ndarray` matrices: one sample per row.
//!
//! A dense layer over a batch is one matrix product, `Z = A·Wᵀ + 1·bᵀ`, computed by ndarray's
//! `general_mat_mul`. The weight storage of [`Dense`] is already `Wᵀ` in row-major order, so no
//! copy or transpose is needed.

use ndarray::{Array2, ArrayRef2, LinalgScalar, aview2, linalg::general_mat_mul};

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
        let weights_t = aview2(self.weights_t_rows());
        let bias = self.bias();
        let mut z = Array2::from_shape_fn((a.nrows(), OUT), |(_, neuron)| bias[neuron]);
        if IN > 0 {
            general_mat_mul(scale, a, &weights_t, T::ONE, &mut z);
        }
        Ok(z)
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
