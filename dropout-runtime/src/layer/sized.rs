//! A dense layer whose sizes are known at run time only: what the explorer page's WebAssembly
//! module builds from the network a page embeds. Its weights sit in the storage order of
//! [`Dense`](crate::Dense) and its sums go through the same kernel, so that its pre-activations
//! are [`Dense`]'s bit for bit.

use alloc::vec::Vec;
use core::ops::Index;

use crate::kernel::{self, offset};
use crate::{Float, Layer};

/// A dense layer of `size` neurons over `fan_in` inputs, sized at run time.
#[doc(hidden)]
#[derive(Clone, Debug, PartialEq)]
pub struct DenseVec<T> {
    fan_in: usize,
    size: usize,
    /// The weights in storage order ([`offset`]).
    weights: Vec<T>,
    bias: Vec<T>,
}

impl<T: Float> DenseVec<T> {
    /// The layer with these weights, neuron by neuron (`rows[neuron · fan_in + input]`), and
    /// biases; `None` unless `rows` has `fan_in · bias.len()` values.
    pub fn from_rows(fan_in: usize, rows: &[T], bias: Vec<T>) -> Option<Self> {
        let size = bias.len();
        if fan_in.checked_mul(size)? != rows.len() {
            return None;
        }
        let mut weights = alloc::vec![T::ZERO; rows.len()];
        for neuron in 0..size {
            for input in 0..fan_in {
                weights[offset(fan_in, size, neuron, input)] = rows[neuron * fan_in + input];
            }
        }
        Some(DenseVec {
            fan_in,
            size,
            weights,
            bias,
        })
    }

    /// `z = bias`, then the kernel's sums over the kept weights of `bits`, inputs × `scale`.
    fn sums<M: Index<usize, Output = bool> + ?Sized>(
        &self,
        a: &[T],
        bits: &M,
        scale: T,
        z: &mut [T],
    ) -> bool {
        if a.len() != self.fan_in || z.len() != self.size {
            return false;
        }
        z.copy_from_slice(&self.bias);
        kernel::connected((self.fan_in, self.size), z, a, bits, scale, &self.weights);
        true
    }
}

/// Every weight kept: the mask of a pass without DropConnect.
struct AllKept;

impl Index<usize> for AllKept {
    type Output = bool;
    fn index(&self, _: usize) -> &bool {
        &true
    }
}

impl<T: Float> Layer<T> for DenseVec<T> {
    fn fan_in(&self) -> usize {
        self.fan_in
    }
    fn size(&self) -> usize {
        self.size
    }
    fn weight(&self, neuron: usize, input: usize) -> Option<T> {
        (neuron < self.size && input < self.fan_in)
            .then(|| self.weights[offset(self.fan_in, self.size, neuron, input)])
    }
    fn weight_mut(&mut self, neuron: usize, input: usize) -> Option<&mut T> {
        if neuron < self.size && input < self.fan_in {
            self.weights
                .get_mut(offset(self.fan_in, self.size, neuron, input))
        } else {
            None
        }
    }
    fn biases(&self) -> &[T] {
        &self.bias
    }
    fn biases_mut(&mut self) -> &mut [T] {
        &mut self.bias
    }
    fn storage(&self) -> &[T] {
        &self.weights
    }
    fn storage_mut(&mut self) -> &mut [T] {
        &mut self.weights
    }
    /// `(a · 1) · w` is `a · w` exactly (NaN and −0 included), so these sums are
    /// [`Dense::affine`](crate::Dense::affine)'s: bias first, then the inputs in order.
    fn affine_into(&self, a: &[T], z: &mut [T]) -> bool {
        self.sums(a, &AllKept, T::ONE, z)
    }
    fn affine_connected_into(&self, a: &[T], mask: &[bool], scale: T, z: &mut [T]) -> bool {
        mask.len() == self.fan_in * self.size && self.sums(a, mask, scale, z)
    }
}

#[cfg(test)]
mod tests {
    use super::DenseVec;
    use crate::{Dense, Layer};

    /// Bit for bit the fixed-size layer, in both storage paths (one small panel; several
    /// panels), on finite inputs with −0 among them, and with NaN and infinities among them.
    #[test]
    fn sums_are_the_fixed_size_layers() {
        fn check<const IN: usize, const OUT: usize>() {
            let value = |k: usize| ((k * 37 % 23) as f32 - 11.0) * 0.37;
            let dense = Dense::<f32, IN, OUT>::from_fn(|o, i| value(o * IN + i), |o| value(o + 5));
            let rows: Vec<f32> = (0..OUT * IN).map(value).collect();
            let bias: Vec<f32> = (0..OUT).map(|o| value(o + 5)).collect();
            let layer = DenseVec::from_rows(IN, &rows, bias).expect("sizes fit");
            let mut finite: [f32; IN] = core::array::from_fn(|i| value(i + 3) * 3.1);
            finite[0] = -0.0;
            let mut non_finite = finite;
            non_finite[IN - 1] = f32::NAN;
            non_finite[IN / 2] = f32::INFINITY;
            let mask: Vec<bool> = (0..OUT * IN).map(|k| k % 3 != 1).collect();
            // The bits of each sum; every NaN alike (NaN stays NaN, its sign and payload are
            // not a promise: which operand of an addition the compiler puts first decides
            // them).
            let bits = |z: [f32; OUT]| z.map(|v| if v.is_nan() { f32::NAN } else { v }.to_bits());
            for (a, nan) in [(finite, false), (non_finite, true)] {
                let mut z = [0.0_f32; OUT];
                let mut fixed = [0.0_f32; OUT];
                assert!(layer.affine_into(&a, &mut z));
                assert!(Layer::affine_into(&dense, &a, &mut fixed));
                assert_eq!(bits(z), bits(fixed));
                assert!(z.iter().all(|v| v.is_nan() == nan));
                assert!(layer.affine_connected_into(&a, &mask, 1.5, &mut z));
                assert!(Layer::affine_connected_into(
                    &dense, &a, &mask, 1.5, &mut fixed
                ));
                assert_eq!(bits(z), bits(fixed));
                assert!(z.iter().all(|v| v.is_nan() == nan));
                // Wrong lengths are refused.
                assert!(!layer.affine_into(&a[1..], &mut z));
                assert!(!layer.affine_connected_into(&a, &mask[1..], 1.0, &mut z));
            }
            assert_eq!(layer.storage(), Layer::storage(&dense));
        }
        check::<5, 3>();
        check::<7, 130>();
    }

    #[test]
    fn rows_must_fill_the_layer() {
        assert!(DenseVec::<f64>::from_rows(2, &[1.0; 5], vec![0.0; 3]).is_none());
        assert!(DenseVec::<f64>::from_rows(usize::MAX, &[1.0], vec![0.0; 3]).is_none());
    }
}
