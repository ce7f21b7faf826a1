//! The checks of a batch's shape that every batched pass makes, layers included: the lowest
//! stage beside [`Error`], so that nothing below [`batch`](crate::batch) imports it.

use ndarray::ArrayRef2;

use crate::Error;

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
