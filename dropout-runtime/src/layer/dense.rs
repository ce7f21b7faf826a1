//! The fully connected layer z = W·a + b with fixed sizes.

use core::fmt;

use crate::{Activation, Float, kernel};

/// A fully connected layer with `IN` inputs (its fan-in) and `OUT` neurons.
///
/// It computes the pre-activation `z = W·a + b`, where `W` has one row per neuron and one column
/// per input, exactly as weights are written in a `network!` declaration. The storage layout is
/// private (it is chosen for speed, not for reading); use [`Dense::weight`], [`Dense::row`] and
/// [`Dense::bias`] to read the parameters in the declared orientation.
///
/// # Example
/// ```
/// use dropout::Dense;
///
/// // Two neurons over three inputs.
/// let layer = Dense::<f32, 3, 2>::from_rows(&[[1.0, 0.0, -1.0], [2.0, 2.0, 2.0]], &[0.5, 0.0]);
/// assert_eq!(layer.affine(&[1.0, 2.0, 3.0]), [-1.5, 12.0]);
/// assert_eq!(layer.weight(1, 2), Some(2.0));
/// assert_eq!(layer.row(0), Some([1.0, 0.0, -1.0]));
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct Dense<T, const IN: usize, const OUT: usize> {
    /// The `IN · OUT` weights in the panel order of [`kernel`] (Wᵀ in panels of neurons, so that
    /// passes read contiguous memory and skip the rows of dropped inputs); the array's shape
    /// only fixes the number of values.
    weights: [[T; OUT]; IN],
    bias: [T; OUT],
}

impl<T: Float, const IN: usize, const OUT: usize> Dense<T, IN, OUT> {
    /// The number of inputs of each neuron.
    pub const FAN_IN: usize = IN;
    /// The number of neurons.
    pub const SIZE: usize = OUT;

    /// Builds a layer from `W` (one row per neuron) and `b`; usable in `const` items.
    pub const fn from_rows(weights: &[[T; IN]; OUT], bias: &[T; OUT]) -> Self {
        let mut storage = [[T::ZERO; OUT]; IN];
        let mut neuron = 0;
        while neuron < OUT {
            let mut input = 0;
            while input < IN {
                let at = kernel::offset(IN, OUT, neuron, input);
                storage[at / OUT][at % OUT] = weights[neuron][input];
                input += 1;
            }
            neuron += 1;
        }
        Dense {
            weights: storage,
            bias: *bias,
        }
    }

    /// A layer whose weights and biases are all zero.
    pub const fn zeros() -> Self {
        Dense {
            weights: [[T::ZERO; OUT]; IN],
            bias: [T::ZERO; OUT],
        }
    }

    /// Builds a layer from a function of `(neuron, input)` for weights and of `neuron` for biases.
    ///
    /// ```
    /// use dropout::Dense;
    ///
    /// let layer = Dense::<f64, 2, 2>::from_fn(|neuron, input| (neuron * 10 + input) as f64, |_| 1.0);
    /// assert_eq!(layer.row(1), Some([10.0, 11.0]));
    /// ```
    pub fn from_fn(
        mut weight: impl FnMut(usize, usize) -> T,
        bias: impl FnMut(usize) -> T,
    ) -> Self {
        let mut layer = Self::zeros();
        let storage = layer.weights.as_flattened_mut();
        for neuron in 0..OUT {
            for input in 0..IN {
                storage[kernel::offset(IN, OUT, neuron, input)] = weight(neuron, input);
            }
        }
        layer.bias = core::array::from_fn(bias);
        layer
    }

    /// The weight from `input` to `neuron`, or `None` if either index is out of range.
    pub fn weight(&self, neuron: usize, input: usize) -> Option<T> {
        if neuron < OUT && input < IN {
            self.weights
                .as_flattened()
                .get(kernel::offset(IN, OUT, neuron, input))
                .copied()
        } else {
            None
        }
    }

    /// A mutable reference to the weight from `input` to `neuron`, or `None` if out of range.
    pub fn weight_mut(&mut self, neuron: usize, input: usize) -> Option<&mut T> {
        if neuron < OUT && input < IN {
            self.weights
                .as_flattened_mut()
                .get_mut(kernel::offset(IN, OUT, neuron, input))
        } else {
            None
        }
    }

    /// Row `neuron` of `W`: the weights of one neuron over all inputs.
    pub fn row(&self, neuron: usize) -> Option<[T; IN]> {
        let storage = self.weights.as_flattened();
        (neuron < OUT)
            .then(|| core::array::from_fn(|input| storage[kernel::offset(IN, OUT, neuron, input)]))
    }

    /// The biases, one per neuron.
    pub fn bias(&self) -> &[T; OUT] {
        &self.bias
    }

    /// The biases, mutably.
    pub fn bias_mut(&mut self) -> &mut [T; OUT] {
        &mut self.bias
    }

    /// The pre-activation `z = W·a + b`.
    #[inline]
    pub fn affine(&self, a: &[T; IN]) -> [T; OUT] {
        let mut z = self.bias;
        self.accumulate(
            &mut z,
            kernel::AllRows {
                values: a,
                scale: None,
            },
        );
        z
    }

    /// `z = W·(a · scale) + b`: every input scaled by the same factor.
    #[inline]
    pub fn affine_scaled(&self, a: &[T; IN], scale: T) -> [T; OUT] {
        let mut z = self.bias;
        self.accumulate(
            &mut z,
            kernel::AllRows {
                values: a,
                scale: Some(scale),
            },
        );
        z
    }

    /// `z = W·(a ⊙ μ · scale) + b`: inputs with a `false` mask bit are skipped entirely, kept
    /// inputs are scaled by `scale`. The bias is never masked.
    ///
    /// A dropped input that is NaN or infinite makes every output NaN, as the product
    /// `a · 0` it stands for is NaN (and as PyTorch's dropout computes it); its weights are still
    /// not read.
    ///
    /// ```
    /// use dropout::Dense;
    ///
    /// let layer = Dense::<f32, 2, 1>::from_rows(&[[1.0, 10.0]], &[0.5]);
    /// assert_eq!(layer.affine_masked(&[3.0, 4.0], &[true, false], 2.0), [6.5]);
    /// assert!(layer.affine_masked(&[3.0, f32::NAN], &[true, false], 2.0)[0].is_nan());
    /// ```
    #[inline]
    pub fn affine_masked(&self, a: &[T; IN], mask: &[bool; IN], scale: T) -> [T; OUT] {
        let mut z = self.bias;
        if IN * OUT >= kernel::DISPATCH_THRESHOLD {
            kernel::dispatch(kernel::Masked {
                z: &mut z,
                values: a,
                mask,
                scale,
                weights: &self.weights,
            });
        } else {
            let isa = kernel::InstructionSet::Portable;
            kernel::masked(&mut z, a, mask, scale, &self.weights, isa);
        }
        z
    }

    /// `zₒ = Σᵢ wₒᵢ · (aᵢ · μₒᵢ · scale) + bₒ`: DropConnect, a mask bit per weight
    /// (`mask[neuron][input]`). The bias is never masked. Each sum is formed in the order of
    /// [`Dense::affine_masked`], so a mask whose rows all equal one unit mask gives the same
    /// bits as that unit mask (for finite weights).
    ///
    /// A dropped weight stands for the product `(w · 0) · a`: it adds nothing, unless the
    /// weight or its input is NaN or infinite, which makes that neuron NaN (as PyTorch would
    /// compute the masked product).
    ///
    /// ```
    /// use dropout::Dense;
    ///
    /// let layer = Dense::<f32, 2, 2>::from_rows(&[[1.0, 10.0], [2.0, 20.0]], &[0.5, 0.0]);
    /// // Neuron 0 keeps only its first weight, neuron 1 only its second; kept inputs × 2.
    /// let mask = [[true, false], [false, true]];
    /// assert_eq!(layer.affine_connected(&[3.0, 4.0], &mask, 2.0), [6.5, 160.0]);
    /// let z = layer.affine_connected(&[3.0, f32::INFINITY], &mask, 2.0);
    /// assert!(z[0].is_nan() && z[1] == f32::INFINITY);
    /// ```
    pub fn affine_connected(&self, a: &[T; IN], mask: &[[bool; IN]; OUT], scale: T) -> [T; OUT] {
        let mut z = self.bias;
        let weights = self.weights.as_flattened();
        kernel::connected((IN, OUT), &mut z, a, mask.as_flattened(), scale, weights);
        z
    }

    /// The pre-activations of `B` samples at once, stored lane-wise: `a[i][s]` is input `i` of
    /// sample `s`. Each sample's sums are formed in the same order as by [`Dense::affine`], so
    /// the results are identical; the lanes let one vector instruction serve `B` samples.
    ///
    /// ```
    /// use dropout::Dense;
    ///
    /// let layer = Dense::<f32, 2, 1>::from_rows(&[[1.0, -1.0]], &[0.5]);
    /// let z = layer.affine_lanes(&[[3.0, 0.0], [1.0, 2.0]]);
    /// assert_eq!(z, [[2.5, -1.5]]);
    /// assert_eq!(z[0][0], layer.affine(&[3.0, 1.0])[0]);
    /// ```
    #[inline(always)]
    pub fn affine_lanes<const B: usize>(&self, a: &[[T; B]; IN]) -> [[T; B]; OUT] {
        self.activated_lanes(a, None, Activation::Identity)
    }

    /// The layer's outputs `g(W·(a · scale) + b)` for `B` samples stored lane-wise, as
    /// [`Dense::affine_scaled`] (or [`Dense::affine`] without `scale`) followed by
    /// [`Activation::apply`] on each sample, with the same bits. An elementwise activation is
    /// applied to each neuron's sums as they are formed, while they are in registers.
    ///
    /// ```
    /// use dropout::{Activation, Dense};
    ///
    /// let layer = Dense::<f64, 2, 2>::from_rows(&[[1.0, -1.0], [2.0, 0.0]], &[0.5, -1.0]);
    /// let a = [[3.0, 0.0], [1.0, 2.0]]; // samples (3, 1) and (0, 2)
    /// let g = layer.activated_lanes(&a, Some(2.0), Activation::Relu);
    /// assert_eq!(g, [[4.5, 0.0], [11.0, 0.0]]);
    /// assert_eq!([g[0][1], g[1][1]], Activation::Relu.apply(layer.affine_scaled(&[0.0, 2.0], 2.0)));
    /// ```
    #[expect(
        clippy::needless_range_loop,
        reason = "with index loops the compiler vectorises across the lanes (measured: 19 against 42 instructions per sample for the toy network with iterator chains)"
    )]
    #[inline(always)]
    pub fn activated_lanes<const B: usize>(
        &self,
        a: &[[T; B]; IN],
        scale: Option<T>,
        activation: Activation,
    ) -> [[T; B]; OUT] {
        let storage = self.weights.as_flattened();
        let mut scaled = *a;
        if let Some(scale) = scale {
            for input in 0..IN {
                for lane in 0..B {
                    scaled[input][lane] *= scale;
                }
            }
        }
        // Neurons outer, inputs inner, lanes innermost: every step is one vector multiply-add
        // over the `B` samples, and only one neuron's sums are live at a time (with every
        // neuron's sums live, a 16-unit layer of eight `f64` lanes spilled to the stack). Each
        // sum still runs bias first, then the inputs in order, as the single pass's.
        let elementwise = activation.is_elementwise();
        let mut z = [[T::ZERO; B]; OUT];
        for neuron in 0..OUT {
            let mut sum = [self.bias[neuron]; B];
            for input in 0..IN {
                let w = storage[kernel::offset(IN, OUT, neuron, input)];
                for lane in 0..B {
                    sum[lane] += scaled[input][lane] * w;
                }
            }
            if elementwise {
                activation.apply_in_place(&mut sum);
            }
            z[neuron] = sum;
        }
        if elementwise {
            z
        } else {
            activation.apply_lanes(z)
        }
    }

    /// The layer's outputs for `B` samples stored lane-wise, sample `s` under `mask[s]`:
    /// [`Dense::affine_masked`] followed by [`Activation::apply`] on each sample, with the same
    /// bits. Each sum runs bias first, then the kept inputs in order (a dropped input's product
    /// is never added: its lane adds −0.0, which changes no sum), and a dropped input that is NaN
    /// or infinite makes every pre-activation of its sample NaN, as in
    /// [`Dense::affine_masked`].
    ///
    /// ```
    /// use dropout::{Activation, Dense};
    ///
    /// let layer = Dense::<f32, 2, 1>::from_rows(&[[1.0, 10.0]], &[0.5]);
    /// let a = [[3.0, 3.0], [4.0, f32::NAN]];
    /// let z = layer.activated_lanes_masked(&a, [&[true, false], &[true, false]], 2.0, Activation::Identity);
    /// assert_eq!(z[0][0], layer.affine_masked(&[3.0, 4.0], &[true, false], 2.0)[0]);
    /// assert!(z[0][1].is_nan());
    /// ```
    #[inline(always)]
    pub fn activated_lanes_masked<const B: usize>(
        &self,
        a: &[[T; B]; IN],
        mask: [&[bool; IN]; B],
        scale: T,
        activation: Activation,
    ) -> [[T; B]; OUT] {
        let storage = self.weights.as_flattened();
        let mut scaled = *a;
        let mut kept = [[false; B]; IN];
        let mut poisoned = [false; B];
        for input in 0..IN {
            for lane in 0..B {
                let bit = mask[lane][input];
                kept[input][lane] = bit;
                poisoned[lane] |= !bit & !a[input][lane].is_finite();
                scaled[input][lane] *= scale;
            }
        }
        // A dropped input adds −0.0, which leaves every sum as it was (−0.0 and NaN included),
        // as skipping it does; its weight's product is never added, whatever the weight.
        // A lane whose dropped input is not finite starts its sums at NaN, which every addition
        // keeps.
        let nothing = -T::ZERO;
        let elementwise = activation.is_elementwise();
        let mut z = [[T::ZERO; B]; OUT];
        for (neuron, z) in z.iter_mut().enumerate() {
            let bias = self.bias[neuron];
            let mut sum: [T; B] =
                core::array::from_fn(|lane| if poisoned[lane] { T::NAN } else { bias });
            for input in 0..IN {
                let w = storage[kernel::offset(IN, OUT, neuron, input)];
                for lane in 0..B {
                    let product = scaled[input][lane] * w;
                    sum[lane] += if kept[input][lane] { product } else { nothing };
                }
            }
            if elementwise {
                activation.apply_in_place(&mut sum);
            }
            *z = sum;
        }
        if elementwise {
            z
        } else {
            activation.apply_lanes(z)
        }
    }

    /// `z += Σₖ vₖ · W[iₖ]` for the rows `(iₖ, vₖ)` of `rows`, on the widest vectors the CPU
    /// offers for big layers.
    #[inline(always)]
    fn accumulate(&self, z: &mut [T; OUT], rows: impl kernel::Rows<T>) {
        if IN * OUT >= kernel::DISPATCH_THRESHOLD {
            kernel::dispatch(kernel::Accumulate {
                z,
                rows,
                weights: &self.weights,
            });
        } else {
            kernel::accumulate(z, rows, &self.weights, kernel::InstructionSet::Portable);
        }
    }

    /// Makes this layer a copy of `other` without a temporary of the layer's size (a plain
    /// assignment may pass a large layer through the stack in unoptimised builds).
    pub fn copy_from(&mut self, other: &Self) {
        self.weights
            .as_flattened_mut()
            .copy_from_slice(other.weights.as_flattened());
        self.bias.copy_from_slice(&other.bias);
    }

    /// The weights in storage order, for the batched and training kernels.
    pub(crate) fn storage(&self) -> &[T] {
        self.weights.as_flattened()
    }

    /// The weights in storage order, mutably.
    pub(crate) fn storage_mut(&mut self) -> &mut [T] {
        self.weights.as_flattened_mut()
    }
}

#[cfg(feature = "ndarray")]
impl<T: Float + ndarray::LinalgScalar, const IN: usize, const OUT: usize> Dense<T, IN, OUT> {
    /// The pre-activations of a batch, `Z = A·Wᵀ + 1·bᵀ`, one row per sample.
    ///
    /// # Errors
    /// [`Error::BatchWidth`](crate::Error::BatchWidth) if `a` does not have `IN` columns.
    ///
    /// # Example
    /// ```
    /// use dropout::Dense;
    /// use dropout::ndarray::array;
    ///
    /// let layer = Dense::<f64, 2, 1>::from_rows(&[[1.0, -1.0]], &[0.5]);
    /// let z = layer.affine_batch(&array![[3.0, 1.0], [0.0, 2.0]])?;
    /// assert_eq!(z, array![[2.5], [-1.5]]);
    /// # Ok::<(), dropout::Error>(())
    /// ```
    pub fn affine_batch(
        &self,
        a: &ndarray::ArrayRef2<T>,
    ) -> Result<ndarray::Array2<T>, crate::Error> {
        self.affine_batch_scaled(a, T::ONE)
    }

    /// `Z = scale · A·Wᵀ + 1·bᵀ`.
    ///
    /// # Errors
    /// [`Error::BatchWidth`](crate::Error::BatchWidth) if `a` does not have `IN` columns.
    pub fn affine_batch_scaled(
        &self,
        a: &ndarray::ArrayRef2<T>,
        scale: T,
    ) -> Result<ndarray::Array2<T>, crate::Error> {
        crate::shape::check_width(a, IN)?;
        let mut z = kernel::gemm::bias_rows(self.bias(), a.nrows());
        kernel::gemm::gemm_forward(self.storage(), IN, OUT, scale, a, &mut z);
        Ok(z)
    }
}

macro_rules! from_storage_bytes {
    ($name:ident, $t:ty) => {
        /// A layer from little-endian bytes: `IN × OUT` weights already in storage order (as laid
        /// out for panels of `panel` neurons), then `OUT` biases. `network!` calls it in `const`
        /// items for weights read from safetensors files; on little-endian targets it is one copy,
        /// so even millions of weights take no time to evaluate while compiling.
        ///
        /// A `panel` other than the runtime's own, or byte counts that do not match the layer,
        /// fail the constant's evaluation (a compile error), never silently.
        #[must_use]
        #[expect(unsafe_code, reason = "one unaligned read of bytes whose length is checked")]
        pub const fn $name<const IN: usize, const OUT: usize>(
            weights: &[u8],
            bias: &[u8],
            panel: usize,
        ) -> Dense<$t, IN, OUT> {
            const WIDTH: usize = core::mem::size_of::<$t>();
            assert!(
                panel == kernel::PANEL,
                "`dropout-macros` and `dropout-runtime` disagree on the weight layout: use matching versions"
            );
            assert!(
                weights.len() == IN * OUT * WIDTH && bias.len() == OUT * WIDTH,
                "wrong number of bytes for the layer"
            );
            if cfg!(target_endian = "little") {
                // SAFETY: the lengths match the arrays (checked above), every bit pattern is a
                // valid float, and `read_unaligned` has no alignment requirement.
                unsafe {
                    Dense {
                        weights: weights.as_ptr().cast::<[[$t; OUT]; IN]>().read_unaligned(),
                        bias: bias.as_ptr().cast::<[$t; OUT]>().read_unaligned(),
                    }
                }
            } else {
                let mut layer = Dense::zeros();
                let mut slot = 0;
                while slot < IN * OUT {
                    layer.weights[slot / OUT][slot % OUT] =
                        <$t>::from_le_bytes(read_bytes(weights, slot * WIDTH));
                    slot += 1;
                }
                let mut neuron = 0;
                while neuron < OUT {
                    layer.bias[neuron] = <$t>::from_le_bytes(read_bytes(bias, neuron * WIDTH));
                    neuron += 1;
                }
                layer
            }
        }
    };
}

from_storage_bytes!(f32_layer_from_bytes, f32);
from_storage_bytes!(f64_layer_from_bytes, f64);

/// `N` bytes from `at` on.
const fn read_bytes<const N: usize>(bytes: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    let mut k = 0;
    while k < N {
        out[k] = bytes[at + k];
        k += 1;
    }
    out
}

impl<T: Float, const IN: usize, const OUT: usize> Default for Dense<T, IN, OUT> {
    /// All weights and biases zero, like [`Dense::zeros`].
    fn default() -> Self {
        Self::zeros()
    }
}

#[cfg(feature = "rand")]
impl<T: Float, const IN: usize, const OUT: usize> Dense<T, IN, OUT> {
    /// Draws weights uniformly for the given activation and sets biases to zero.
    ///
    /// ReLU-family layers use He initialisation, U(−g·√(3/fan_in), +g·√(3/fan_in)) with gain
    /// g = √(2/(1+α²)); the others use Xavier/Glorot, U(−√(6/(fan_in+fan_out)), +…).
    ///
    /// ```
    /// use dropout::{Activation, Dense};
    /// use dropout::rand::SeedableRng as _;
    ///
    /// let mut rng = dropout::rand::rngs::ChaCha8Rng::seed_from_u64(1);
    /// let layer = Dense::<f32, 8, 4>::init(&mut rng, Activation::Relu);
    /// let bound = (6.0_f32 / 8.0).sqrt();
    /// assert!((0..4).all(|n| layer.row(n).unwrap().iter().all(|w| w.abs() <= bound)));
    /// assert_eq!(layer.bias(), &[0.0; 4]);
    /// ```
    pub fn init<R: rand::Rng + ?Sized>(rng: &mut R, activation: crate::Activation) -> Self {
        let mut layer = Self::zeros();
        layer.init_in_place(rng, activation);
        layer
    }

    /// [`Dense::init`] in place: the same weights for the same generator, drawn neuron by
    /// neuron, without building a second layer (for layers on the heap, too large for the
    /// stack).
    pub fn init_in_place<R: rand::Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        activation: crate::Activation,
    ) {
        use rand::RngExt as _;
        let bound = crate::init::uniform_bound(activation, IN, OUT);
        let storage = self.weights.as_flattened_mut();
        if bound > 0.0 {
            for neuron in 0..OUT {
                for input in 0..IN {
                    if let Some(w) = storage.get_mut(kernel::offset(IN, OUT, neuron, input)) {
                        *w = T::from_f64(rng.random_range(-bound..bound));
                    }
                }
            }
        } else {
            storage.fill(T::ZERO);
        }
        self.bias = [T::ZERO; OUT];
    }
}

impl<T: Float, const IN: usize, const OUT: usize> fmt::Debug for Dense<T, IN, OUT> {
    /// Shows `W` in the declared orientation (one row per neuron) and `b`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Rows<'a, T, const IN: usize, const OUT: usize>(&'a Dense<T, IN, OUT>);
        impl<T: Float, const IN: usize, const OUT: usize> fmt::Debug for Rows<'_, T, IN, OUT> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries((0..OUT).filter_map(|n| self.0.row(n)))
                    .finish()
            }
        }
        let Dense { weights: _, bias } = self;
        f.debug_struct("Dense")
            .field("weights", &Rows(self))
            .field("bias", bias)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::Dense;
    use crate::kernel;

    fn layer() -> Dense<f64, 3, 2> {
        Dense::from_rows(&[[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]], &[1.0, -1.0])
    }

    #[test]
    fn accessors_use_declared_orientation() {
        let l = layer();
        assert_eq!(l.weight(0, 2), Some(2.0));
        assert_eq!(l.weight(1, 0), Some(0.5));
        assert_eq!(l.weight(2, 0), None);
        assert_eq!(l.weight(0, 3), None);
        assert_eq!(l.row(1), Some([0.5, 3.0, -2.0]));
        assert_eq!(l.row(2), None);
        assert_eq!(l.bias(), &[1.0, -1.0]);
        assert_eq!(Dense::<f64, 3, 2>::FAN_IN, 3);
        assert_eq!(Dense::<f64, 3, 2>::SIZE, 2);
    }

    #[test]
    fn mutation_goes_through_accessors() {
        let mut l = layer();
        *l.weight_mut(1, 1).unwrap() = 7.0;
        l.bias_mut()[0] = 0.0;
        assert_eq!(l.row(1), Some([0.5, 7.0, -2.0]));
        assert_eq!(l.affine(&[0.0, 1.0, 0.0]), [-1.0, 6.0]);
    }

    #[test]
    fn affine_matches_hand_computation() {
        // z0 = 1·2 − 1·3 + 2·4 + 1 = 8, z1 = 0.5·2 + 3·3 − 2·4 − 1 = 1
        assert_eq!(layer().affine(&[2.0, 3.0, 4.0]), [8.0, 1.0]);
        assert_eq!(layer().affine_scaled(&[2.0, 3.0, 4.0], 0.5), [4.5, 0.0]);
    }

    #[test]
    fn masked_affine_skips_inputs_but_keeps_bias() {
        let l = layer();
        assert_eq!(
            l.affine_masked(&[2.0, 3.0, 4.0], &[false; 3], 2.0),
            [1.0, -1.0]
        );
        // Only input 1 kept, scaled by 2: z0 = −1·6 + 1, z1 = 3·6 − 1.
        assert_eq!(
            l.affine_masked(&[2.0, 3.0, 4.0], &[false, true, false], 2.0),
            [-5.0, 17.0]
        );
        assert_eq!(
            l.affine_masked(&[2.0, 3.0, 4.0], &[true; 3], 1.0),
            l.affine(&[2.0, 3.0, 4.0])
        );
    }

    /// `rows` (one per neuron) as little-endian bytes in storage order, the way `network!`
    /// writes them.
    fn storage_bytes<const IN: usize, const OUT: usize>(rows: &[[f64; IN]; OUT]) -> Vec<u8> {
        let mut slots = vec![0.0; IN * OUT];
        for (neuron, row) in rows.iter().enumerate() {
            for (input, &w) in row.iter().enumerate() {
                slots[kernel::offset(IN, OUT, neuron, input)] = w;
            }
        }
        slots.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    #[test]
    fn storage_bytes_decode_to_the_same_layer_as_rows() {
        // 70 neurons: one full panel and a partial one.
        let rows: [[f64; 5]; 70] =
            core::array::from_fn(|n| core::array::from_fn(|i| (n * 5 + i) as f64 * 0.25 - 40.0));
        let bias: [f64; 70] = core::array::from_fn(|n| n as f64);
        let bias_bytes: Vec<u8> = bias.iter().flat_map(|b| b.to_le_bytes()).collect();
        let decoded =
            super::f64_layer_from_bytes::<5, 70>(&storage_bytes(&rows), &bias_bytes, kernel::PANEL);
        assert_eq!(decoded, Dense::from_rows(&rows, &bias));
    }

    #[test]
    fn storage_bytes_decode_in_constants() {
        // 1.0 and −2.0 as little-endian f32.
        const BYTES: &[u8] = &[0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0];
        const TWO: Dense<f32, 1, 2> =
            super::f32_layer_from_bytes::<1, 2>(BYTES, BYTES, kernel::PANEL);
        assert_eq!(TWO, Dense::from_rows(&[[1.0], [-2.0]], &[1.0, -2.0]));
    }

    #[test]
    #[should_panic(expected = "disagree on the weight layout")]
    fn storage_bytes_refuse_another_layout() {
        let _ = super::f32_layer_from_bytes::<1, 2>(&[0; 8], &[0; 8], kernel::PANEL * 2);
    }

    #[test]
    fn default_is_zeros_for_any_size() {
        let l = Dense::<f32, 40, 50>::default();
        assert_eq!(l, Dense::zeros());
        assert_eq!(l.affine(&[1.0; 40]), [0.0; 50]);
    }

    #[test]
    fn from_fn_and_debug_agree_with_rows() {
        let l = Dense::<f32, 2, 3>::from_fn(|n, i| (n * 2 + i) as f32, |n| n as f32);
        assert_eq!(l.row(2), Some([4.0, 5.0]));
        assert_eq!(
            format!("{l:?}"),
            "Dense { weights: [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]], bias: [0.0, 1.0, 2.0] }"
        );
    }

    #[cfg(feature = "rand")]
    #[test]
    fn init_respects_bounds_and_seed() {
        use crate::Activation;
        use rand::SeedableRng as _;
        use rand::rngs::ChaCha8Rng;
        let a = Dense::<f64, 50, 20>::init(&mut ChaCha8Rng::seed_from_u64(3), Activation::Tanh);
        let b = Dense::<f64, 50, 20>::init(&mut ChaCha8Rng::seed_from_u64(3), Activation::Tanh);
        assert_eq!(a, b);
        let bound = (6.0_f64 / 70.0).sqrt();
        let weights: Vec<f64> = (0..20).flat_map(|n| a.row(n).unwrap()).collect();
        assert!(weights.iter().all(|w| w.abs() < bound));
        // A uniform sample of 1000 over (−bound, bound) reaches beyond half the bound on both sides.
        assert!(
            weights.iter().any(|&w| w > bound / 2.0) && weights.iter().any(|&w| w < -bound / 2.0)
        );
    }

    #[cfg(feature = "ndarray")]
    mod batch {
        use ndarray::{Array2, array};

        use super::layer;
        use crate::Error;

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
    }
}
