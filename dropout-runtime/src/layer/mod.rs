//! Dense layers: fixed-size weights and biases, the activations applied to them, and how their
//! weights are initialised.

pub(crate) mod activation;
pub(crate) mod dense;
pub mod init;
pub(crate) mod site;
#[cfg(all(feature = "alloc", feature = "rand"))]
pub(crate) mod sized;

use crate::Float;
use dense::Dense;

/// The parameters of one dense layer, read and written without knowing its sizes at compile
/// time. [`Dense`] implements it (and the explorer page's layers sized at run time); the trait
/// is sealed.
pub trait Layer<T>: sealed::Sealed {
    /// The number of inputs of each neuron.
    fn fan_in(&self) -> usize;
    /// The number of neurons.
    fn size(&self) -> usize;
    /// The weight from `input` to `neuron`.
    fn weight(&self, neuron: usize, input: usize) -> Option<T>;
    /// The weight from `input` to `neuron`, mutably.
    fn weight_mut(&mut self, neuron: usize, input: usize) -> Option<&mut T>;
    /// The biases.
    fn biases(&self) -> &[T];
    /// The biases, mutably.
    fn biases_mut(&mut self) -> &mut [T];
    /// The weights in the runtime's private storage order, for its batched kernels.
    #[doc(hidden)]
    fn storage(&self) -> &[T];
    /// The weights in storage order, mutably (optimizers update them in place).
    #[doc(hidden)]
    fn storage_mut(&mut self) -> &mut [T];
    /// [`Dense::affine`] on slices: `z = W·a + b`, with the same bits. `false` (and `z`
    /// untouched) unless `a` has `fan_in` values and `z` has `size`.
    #[doc(hidden)]
    fn affine_into(&self, a: &[T], z: &mut [T]) -> bool;
    /// [`Dense::affine_connected`] on slices, the mask neuron by neuron; `false` unless every
    /// length fits.
    #[doc(hidden)]
    fn affine_connected_into(&self, a: &[T], mask: &[bool], scale: T, z: &mut [T]) -> bool;
}

mod sealed {
    pub trait Sealed {}
    impl<T, const IN: usize, const OUT: usize> Sealed for crate::Dense<T, IN, OUT> {}
    #[cfg(all(feature = "alloc", feature = "rand"))]
    impl<T> Sealed for super::sized::DenseVec<T> {}
}

impl<T: Float, const IN: usize, const OUT: usize> Layer<T> for Dense<T, IN, OUT> {
    fn fan_in(&self) -> usize {
        IN
    }
    fn size(&self) -> usize {
        OUT
    }
    fn weight(&self, neuron: usize, input: usize) -> Option<T> {
        Dense::weight(self, neuron, input)
    }
    fn weight_mut(&mut self, neuron: usize, input: usize) -> Option<&mut T> {
        Dense::weight_mut(self, neuron, input)
    }
    fn biases(&self) -> &[T] {
        self.bias()
    }
    fn biases_mut(&mut self) -> &mut [T] {
        self.bias_mut()
    }
    fn affine_into(&self, a: &[T], z: &mut [T]) -> bool {
        match (<&[T; IN]>::try_from(a), <&mut [T; OUT]>::try_from(z)) {
            (Ok(a), Ok(z)) => {
                *z = self.affine(a);
                true
            }
            _ => false,
        }
    }
    fn affine_connected_into(&self, a: &[T], mask: &[bool], scale: T, z: &mut [T]) -> bool {
        let (rows, rest) = mask.as_chunks::<IN>();
        match (
            <&[T; IN]>::try_from(a),
            <&[[bool; IN]; OUT]>::try_from(rows),
            <&mut [T; OUT]>::try_from(z),
        ) {
            (Ok(a), Ok(mask), Ok(z)) if rest.is_empty() => {
                *z = self.affine_connected(a, mask, scale);
                true
            }
            _ => false,
        }
    }
    fn storage(&self) -> &[T] {
        Dense::storage(self)
    }
    fn storage_mut(&mut self) -> &mut [T] {
        Dense::storage_mut(self)
    }
}
