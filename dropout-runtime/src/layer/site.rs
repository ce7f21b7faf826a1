//! Dropout sites fused into the next layer's affine map.

use crate::{ALPHA_PRIME, Activation, Dense, Dropout, DropoutKind, Float, Scaling};

/// One unit after a training-mode site: `v · factor` if kept; if dropped 0, or NaN where
/// `v · 0` is NaN (v NaN or infinite).
#[inline]
fn masked<T: Float>(v: T, kept: bool, factor: T) -> T {
    if kept {
        v * factor
    } else if v.is_finite() {
        T::ZERO
    } else {
        T::NAN
    }
}

/// A dropout site: a probability together with the network's scaling convention.
///
/// A site transforms the activations of the layer it sits on before the next layer consumes
/// them; the methods that take a [`Dense`] fuse that transformation into the next layer's
/// affine map, so dropped units cost nothing.
///
/// # Example
/// ```
/// use dropout::{Dense, Dropout, Scaling, Site};
///
/// let site = Site::new(Scaling::Inverted, Dropout::with_p(0.5)?);
/// let layer = Dense::<f64, 2, 1>::from_rows(&[[1.0, 10.0]], &[0.0]);
/// // Unit 1 is dropped, unit 0 is kept and scaled by 1 / 0.5.
/// assert_eq!(site.masked(&layer, &[3.0, 4.0], &[true, false]), [6.0]);
/// // Evaluation under inverted scaling leaves activations alone.
/// assert_eq!(site.eval(&layer, &[3.0, 4.0]), [43.0]);
/// # Ok::<(), dropout::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Site {
    /// The scaling convention of the network the site belongs to.
    pub scaling: Scaling,
    /// The site's probability.
    pub dropout: Dropout,
}

impl Site {
    /// A site with the given convention and probability.
    pub const fn new(scaling: Scaling, dropout: Dropout) -> Self {
        Site { scaling, dropout }
    }

    /// The evaluation-mode pass through `next`: `W · (a · eval_factor) + b`.
    #[inline]
    pub fn eval<T: Float, const IN: usize, const OUT: usize>(
        self,
        next: &Dense<T, IN, OUT>,
        a: &[T; IN],
    ) -> [T; OUT] {
        let factor = self.scaling.eval_factor(self.dropout);
        if factor == 1.0 {
            next.affine(a)
        } else {
            next.affine_scaled(a, T::from_f64(factor))
        }
    }

    /// [`Site::eval`] for `B` samples stored lane-wise, followed by `next`'s `activation` (see
    /// [`Dense::activated_lanes`]).
    #[inline(always)]
    pub fn eval_lanes<T: Float, const B: usize, const IN: usize, const OUT: usize>(
        self,
        next: &Dense<T, IN, OUT>,
        a: &[[T; B]; IN],
        activation: Activation,
    ) -> [[T; B]; OUT] {
        let factor = self.scaling.eval_factor(self.dropout);
        let scale = (factor != 1.0).then(|| T::from_f64(factor));
        next.activated_lanes(a, scale, activation)
    }

    /// The training-mode pass through `next` under `mask`: `W · (a ⊙ μ · train_factor) + b`.
    /// Dropped units are skipped, not multiplied by zero. For alpha dropout, `W · a′ + b` with
    /// `a′` from [`Site::masked_values`]: its dropped units are not zero.
    #[inline]
    pub fn masked<T: Float, const IN: usize, const OUT: usize>(
        self,
        next: &Dense<T, IN, OUT>,
        a: &[T; IN],
        mask: &[bool; IN],
    ) -> [T; OUT] {
        match self.dropout.kind() {
            DropoutKind::Alpha => next.affine(&self.masked_values(*a, mask)),
            DropoutKind::Standard | DropoutKind::Connect | DropoutKind::Gaussian => next
                .affine_masked(
                    a,
                    mask,
                    T::from_f64(self.scaling.train_factor(self.dropout)),
                ),
        }
    }

    /// [`Site::masked`] for `B` samples stored lane-wise, sample `s` under `mask[s]`, followed
    /// by `next`'s `activation`: each sample's outputs are the bits of [`Site::masked`] and
    /// [`Activation::apply`].
    #[inline(always)]
    pub fn masked_lanes<T: Float, const B: usize, const IN: usize, const OUT: usize>(
        self,
        next: &Dense<T, IN, OUT>,
        a: &[[T; B]; IN],
        mask: [&[bool; IN]; B],
        activation: Activation,
    ) -> [[T; B]; OUT] {
        match self.dropout.kind() {
            DropoutKind::Alpha => {
                let mut values = *a;
                for (lane, mask) in mask.iter().enumerate() {
                    let sample = self.masked_values(core::array::from_fn(|i| a[i][lane]), mask);
                    for (unit, v) in values.iter_mut().zip(sample) {
                        unit[lane] = v;
                    }
                }
                next.activated_lanes(&values, None, activation)
            }
            DropoutKind::Standard | DropoutKind::Connect | DropoutKind::Gaussian => next
                .activated_lanes_masked(
                    a,
                    mask,
                    T::from_f64(self.scaling.train_factor(self.dropout)),
                    activation,
                ),
        }
    }

    /// The training-mode pass through `next` under DropConnect (this site's probability is
    /// the layer's `dropconnect(…)`): `(W ⊙ M · train_factor) · a + b`, one mask bit per weight
    /// (`mask[neuron][input]`), biases never masked. See [`Dense::affine_connected`].
    ///
    /// ```
    /// use dropout::{Dense, Dropout, Scaling, Site};
    ///
    /// let weights = Site::new(Scaling::Classic, Dropout::with_p(0.5)?.connect());
    /// let layer = Dense::<f64, 2, 1>::from_rows(&[[1.0, 10.0]], &[0.0]);
    /// assert_eq!(weights.connected(&layer, &[3.0, 4.0], &[[false, true]]), [40.0]);
    /// // Evaluation under classic scaling multiplies every weight by keep.
    /// assert_eq!(weights.eval(&layer, &[3.0, 4.0]), [21.5]);
    /// # Ok::<(), dropout::Error>(())
    /// ```
    #[inline]
    pub fn connected<T: Float, const IN: usize, const OUT: usize>(
        self,
        next: &Dense<T, IN, OUT>,
        a: &[T; IN],
        mask: &[[bool; IN]; OUT],
    ) -> [T; OUT] {
        next.affine_connected(
            a,
            mask,
            T::from_f64(self.scaling.train_factor(self.dropout)),
        )
    }

    /// The training-mode pass through `next` under Gaussian noise: `W · (a ⊙ ε) + b`, one
    /// multiplier per unit (see [`DropoutKind::Gaussian`]).
    ///
    /// ```
    /// use dropout::{Dense, Dropout, Scaling, Site};
    ///
    /// let site = Site::new(Scaling::Inverted, Dropout::with_p(0.5)?.gaussian());
    /// let layer = Dense::<f64, 2, 1>::from_rows(&[[1.0, 10.0]], &[0.0]);
    /// assert_eq!(site.noised(&layer, &[3.0, 4.0], &[0.5, 1.25]), [51.5]);
    /// // Noise of all ones is the evaluation pass.
    /// assert_eq!(site.noised(&layer, &[3.0, 4.0], &[1.0; 2]), site.eval(&layer, &[3.0, 4.0]));
    /// # Ok::<(), dropout::Error>(())
    /// ```
    #[inline]
    pub fn noised<T: Float, const IN: usize, const OUT: usize>(
        self,
        next: &Dense<T, IN, OUT>,
        a: &[T; IN],
        noise: &[T; IN],
    ) -> [T; OUT] {
        next.affine(&self.noised_values(*a, noise))
    }

    /// The activations the next layer sees under Gaussian noise: `a ⊙ ε`.
    #[must_use]
    pub fn noised_values<T: Float, const N: usize>(self, mut a: [T; N], noise: &[T; N]) -> [T; N] {
        self.noised_in_place(&mut a, noise);
        a
    }

    /// [`Site::noised_values`] on a slice.
    pub fn noised_in_place<T: Float>(self, a: &mut [T], noise: &[T]) {
        for (v, &e) in a.iter_mut().zip(noise) {
            *v *= e;
        }
    }

    /// The activations the next layer sees in evaluation mode: `a · eval_factor`.
    #[must_use]
    pub fn eval_values<T: Float, const N: usize>(self, mut a: [T; N]) -> [T; N] {
        self.eval_in_place(&mut a);
        a
    }

    /// [`Site::eval_values`] on a slice.
    pub fn eval_in_place<T: Float>(self, a: &mut [T]) {
        let factor = self.scaling.eval_factor(self.dropout);
        if factor != 1.0 {
            let factor = T::from_f64(factor);
            for v in a {
                *v *= factor;
            }
        }
    }

    /// [`Site::eval_values`] for `B` samples stored lane-wise.
    #[must_use]
    #[inline(always)]
    pub fn eval_values_lanes<T: Float, const B: usize, const N: usize>(
        self,
        mut a: [[T; B]; N],
    ) -> [[T; B]; N] {
        let factor = self.scaling.eval_factor(self.dropout);
        if factor != 1.0 {
            let factor = T::from_f64(factor);
            for v in a.as_flattened_mut() {
                *v *= factor;
            }
        }
        a
    }

    /// The activations the next layer sees in a training pass: `a ⊙ μ · train_factor`. A
    /// dropped unit becomes 0, or NaN if it was NaN or infinite (`a · 0`, as PyTorch computes it).
    /// Under alpha dropout a kept unit becomes A·a + B and a dropped one A·α′ + B (NaN if it was
    /// NaN or infinite).
    #[must_use]
    pub fn masked_values<T: Float, const N: usize>(
        self,
        mut a: [T; N],
        mask: &[bool; N],
    ) -> [T; N] {
        self.masked_in_place(&mut a, mask);
        a
    }

    /// [`Site::masked_values`] on a slice.
    pub fn masked_in_place<T: Float>(self, a: &mut [T], mask: &[bool]) {
        match self.dropout.kind() {
            DropoutKind::Alpha => {
                let (scale, shift) = self.dropout.alpha_affine();
                let (scale, kept_shift, dropped) = (
                    T::from_f64(scale),
                    T::from_f64(shift),
                    T::from_f64(scale * ALPHA_PRIME + shift),
                );
                for (v, &kept) in a.iter_mut().zip(mask) {
                    *v = if kept {
                        *v * scale + kept_shift
                    } else if v.is_finite() {
                        dropped
                    } else {
                        T::NAN
                    };
                }
            }
            DropoutKind::Standard | DropoutKind::Connect | DropoutKind::Gaussian => {
                let factor = T::from_f64(self.scaling.train_factor(self.dropout));
                for (v, &kept) in a.iter_mut().zip(mask) {
                    *v = masked(*v, kept, factor);
                }
            }
        }
    }

    /// Draws a mask: each unit is kept independently with the site's keep probability.
    #[cfg(feature = "rand")]
    pub fn sample<R: rand::Rng + ?Sized, const N: usize>(self, rng: &mut R) -> [bool; N] {
        let mut mask = [true; N];
        self.sample_into(rng, &mut mask);
        mask
    }

    /// Draws Gaussian noise: each multiplier from N(1, σ²), σ = [`Dropout::gaussian_std`].
    #[cfg(feature = "rand")]
    pub fn sample_noise_into<T: Float, R: rand::Rng + ?Sized>(self, rng: &mut R, noise: &mut [T]) {
        use rand::RngExt as _;
        let std_dev = self.dropout.gaussian_std();
        // σ is finite and non-negative for every probability a `Dropout` can hold, which is all
        // `Normal::new` asks for; σ = 0 (p = 0) gives exactly 1.
        match rand_distr::Normal::new(1.0, std_dev) {
            Ok(normal) => {
                for e in noise {
                    *e = T::from_f64(rng.sample(normal));
                }
            }
            Err(_) => noise.fill(T::NAN),
        }
    }

    /// Slice form of [`Site::sample`].
    #[cfg(feature = "rand")]
    pub fn sample_into<R: rand::Rng + ?Sized>(self, rng: &mut R, mask: &mut [bool]) {
        use rand::RngExt as _;
        // `keep` lies in (0, 1] by construction, which is all `random_bool` asks for.
        for bit in mask {
            *bit = rng.random_bool(self.dropout.keep());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Dropout, Scaling, Site};
    use crate::Dense;

    #[test]
    fn probabilities_are_validated() {
        assert!(Dropout::with_p(-0.1).is_err());
        assert!(Dropout::with_p(f64::NAN).is_err());
        assert!(Dropout::with_keep(0.0).is_err());
        assert!(Dropout::with_keep(1.5).is_err());
        assert_eq!(Dropout::with_p(0.0).unwrap(), Dropout::NONE);
        assert_eq!(Dropout::with_keep(0.2).unwrap().p(), 0.8);
        assert_eq!(
            Dropout::with_p(0.5).unwrap().to_string(),
            "dropout(p = 0.5)"
        );
        assert_eq!(
            Dropout::with_p(2.0).unwrap_err().to_string(),
            "p must lie in [0, 1), found 2"
        );
    }

    #[test]
    fn classic_and_inverted_transform_values() {
        let d = Dropout::with_keep(0.25).unwrap();
        let a = [4.0_f64, 8.0];
        let mask = [false, true];
        let inverted = Site::new(Scaling::Inverted, d);
        let classic = Site::new(Scaling::Classic, d);
        assert_eq!(inverted.masked_values(a, &mask), [0.0, 32.0]);
        assert_eq!(inverted.eval_values(a), a);
        assert_eq!(classic.masked_values(a, &mask), [0.0, 8.0]);
        assert_eq!(classic.eval_values(a), [1.0, 2.0]);
    }

    #[test]
    fn fused_passes_equal_transform_then_affine() {
        let layer =
            Dense::<f64, 3, 2>::from_rows(&[[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]], &[0.25, -0.5]);
        let a = [1.5, -2.0, 4.0];
        let mask = [true, false, true];
        for scaling in [Scaling::Inverted, Scaling::Classic] {
            let site = Site::new(scaling, Dropout::with_p(0.2).unwrap());
            assert_eq!(
                site.masked(&layer, &a, &mask),
                layer.affine(&site.masked_values(a, &mask))
            );
            assert_eq!(site.eval(&layer, &a), layer.affine(&site.eval_values(a)));
        }
    }

    #[cfg(feature = "rand")]
    #[test]
    fn sampling_is_seeded_and_respects_extremes() {
        use rand::SeedableRng as _;
        use rand::rngs::ChaCha8Rng;
        let site = Site::new(Scaling::Inverted, Dropout::with_p(0.5).unwrap());
        let a: [bool; 64] = site.sample(&mut ChaCha8Rng::seed_from_u64(7));
        let b: [bool; 64] = site.sample(&mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(a, b);
        assert!(a.iter().any(|&k| k) && a.iter().any(|&k| !k));
        let keep_all = Site::new(Scaling::Inverted, Dropout::NONE);
        let all: [bool; 64] = keep_all.sample(&mut ChaCha8Rng::seed_from_u64(7));
        assert!(all.iter().all(|&k| k));
    }
}
