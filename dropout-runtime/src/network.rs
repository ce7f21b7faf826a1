//! The traits every network declared with `network!` implements, for code that works with any
//! of them: exact dropout moments ([`stats`](crate::stats)), reference passes and property
//! checks ([`reference`](crate::reference), [`testing`](crate::testing)), saving
//! ([`io`](crate::io)) and training ([`train`](crate::train)).

use core::fmt::Debug;

use crate::{Float, Layer, NetworkSpec};

/// A network declared with `network!`.
///
/// The generated struct implements this trait by delegating to its inherent methods, so generic
/// code can evaluate, mask and inspect any declared network.
///
/// # Example
/// ```
/// use dropout::{Network, network};
///
/// network! {
///     struct Tiny<f64> { input: 1, dropout(p = 0.5), dense 1 identity { weights: [[2.0]], bias: [1.0] } }
/// }
///
/// fn output_count<N: Network>() -> usize {
///     N::SPEC.n_outputs()
/// }
/// assert_eq!(output_count::<Tiny>(), 1);
/// let tiny = Tiny::new();
/// assert_eq!(Network::forward(&tiny, &[3.0]), [7.0]);
/// assert_eq!(tiny.layer(0).map(|l| l.fan_in()), Some(1));
/// ```
pub trait Network {
    /// `f32` or `f64`.
    type Scalar: Float;
    /// `[Scalar; N_INPUTS]`.
    type Input: Copy
        + Debug
        + AsRef<[Self::Scalar]>
        + AsMut<[Self::Scalar]>
        + for<'a> TryFrom<&'a [Self::Scalar]>;
    /// `[Scalar; N_OUTPUTS]`.
    type Output: Copy + Debug + AsRef<[Self::Scalar]> + AsMut<[Self::Scalar]>;
    /// The struct with one mask per dropout site (and one per layer with DropConnect).
    type Masks: Masks<Scalar = Self::Scalar>;

    /// The architecture as declared.
    const SPEC: NetworkSpec;

    /// Evaluation-mode forward pass.
    fn forward(&self, x: &Self::Input) -> Self::Output;

    /// Training-mode forward pass under `masks`.
    fn forward_masked(&self, x: &Self::Input, masks: &Self::Masks) -> Self::Output;

    /// The network with every weight and bias zero, e.g. to load saved parameters into. The
    /// value passes through the stack: for large networks use [`Network::zeros_boxed`].
    fn zeros() -> Self
    where
        Self: Sized;

    /// [`Network::zeros`] on the heap, built there directly: it uses no more stack than a small
    /// network, however large this one is.
    #[cfg(feature = "alloc")]
    fn zeros_boxed() -> alloc::boxed::Box<Self>
    where
        Self: Sized;

    /// Layer `idx` (0 is the first dense layer), as a view of its parameters.
    fn layer(&self, idx: usize) -> Option<&dyn Layer<Self::Scalar>>;

    /// Layer `idx`, mutably.
    fn layer_mut(&mut self, idx: usize) -> Option<&mut dyn Layer<Self::Scalar>>;

    /// Draws masks: each unit of each site kept independently with the site's keep
    /// probability (or its Gaussian noise drawn), sites in order μ⁰, μ¹, …, units in order;
    /// then each weight of each layer with DropConnect, layers in order, neuron by neuron.
    #[cfg(feature = "rand")]
    fn sample_masks<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Self::Masks {
        sample_masks(&Self::SPEC, rng)
    }
}

/// Masks for the network `spec` describes, drawn as [`Network::sample_masks`] draws them (for
/// networks that are not a [`Network`], such as int8 ones).
#[cfg(feature = "rand")]
pub fn sample_masks<M: Masks, R: rand::Rng + ?Sized>(spec: &NetworkSpec, rng: &mut R) -> M {
    let mut masks = M::ALL_KEPT;
    sample_masks_into(spec, rng, &mut masks);
    masks
}

/// Draws every mask of `masks` for the network `spec` describes: each site in order (its bits,
/// or a Gaussian site's noise), units in order, then the weight mask of each layer with
/// DropConnect. The one sampler behind [`sample_masks`] and the explorer page.
#[cfg(feature = "rand")]
pub(crate) fn sample_masks_into<T: crate::Float, R: rand::Rng + ?Sized>(
    spec: &NetworkSpec,
    rng: &mut R,
    masks: &mut (impl MaskView<T> + ?Sized),
) {
    for (idx, (_, _, dropout)) in spec.sites().enumerate() {
        let site = crate::Site::new(spec.scaling, dropout);
        if let Some(bits) = masks.site_bits_mut(idx) {
            site.sample_into(rng, bits);
        } else if let Some(noise) = masks.site_noise_mut(idx) {
            site.sample_noise_into(rng, noise);
        }
    }
    for (idx, (_, _, _, dropout)) in spec.connections().enumerate() {
        let site = crate::Site::new(spec.scaling, dropout);
        if let Some(bits) = masks.weight_bits_mut(idx) {
            site.sample_into(rng, bits);
        }
    }
}

/// The masks of one pass as slices, whatever holds them: the typed [`Masks`] of a declared
/// network (every `Masks` is one) and the masks sized at run time of the explorer page. The
/// passes that walk [`NetworkSpec`] — [`Trace`](crate::Trace), the sampler, the enumeration of
/// every mask — read and write masks through it, so that both kinds share them.
#[doc(hidden)]
#[cfg_attr(
    not(all(feature = "alloc", feature = "rand")),
    allow(
        dead_code,
        reason = "the trace and the enumeration (alloc) read masks, the sampler (rand) writes them"
    )
)]
pub trait MaskView<T> {
    /// The bits of site `idx`; `None` for a Gaussian-dropout site or beyond the last site.
    fn site_bits(&self, idx: usize) -> Option<&[bool]>;
    /// The bits of site `idx`, mutably.
    fn site_bits_mut(&mut self, idx: usize) -> Option<&mut [bool]>;
    /// The noise of site `idx` if it is a Gaussian-dropout site.
    fn site_noise(&self, idx: usize) -> Option<&[T]>;
    /// The noise of site `idx`, mutably.
    fn site_noise_mut(&mut self, idx: usize) -> Option<&mut [T]>;
    /// The weight mask of the `idx`-th layer with DropConnect.
    fn weight_bits(&self, idx: usize) -> Option<&[bool]>;
    /// The weight mask of the `idx`-th layer with DropConnect, mutably.
    fn weight_bits_mut(&mut self, idx: usize) -> Option<&mut [bool]>;
}

impl<M: Masks> MaskView<M::Scalar> for M {
    fn site_bits(&self, idx: usize) -> Option<&[bool]> {
        self.site(idx)
    }
    fn site_bits_mut(&mut self, idx: usize) -> Option<&mut [bool]> {
        self.site_mut(idx)
    }
    fn site_noise(&self, idx: usize) -> Option<&[M::Scalar]> {
        self.noise(idx)
    }
    fn site_noise_mut(&mut self, idx: usize) -> Option<&mut [M::Scalar]> {
        self.noise_mut(idx)
    }
    fn weight_bits(&self, idx: usize) -> Option<&[bool]> {
        self.connections(idx)
    }
    fn weight_bits_mut(&mut self, idx: usize) -> Option<&mut [bool]> {
        self.connections_mut(idx)
    }
}

/// The mask bits of every dropout site of one network (the noise of Gaussian-dropout sites, and
/// the weight masks of layers with DropConnect).
pub trait Masks: Copy + Debug + PartialEq {
    /// The network's scalar type, which Gaussian noise has.
    type Scalar: Float;
    /// Masks that keep every unit and weight (and Gaussian noise of all ones).
    const ALL_KEPT: Self;
    /// The number of sites.
    const N_SITES: usize;

    /// The bits of site `idx` (in order μ⁰, μ¹, …); `None` for a Gaussian-dropout site.
    fn site(&self, idx: usize) -> Option<&[bool]>;

    /// The bits of site `idx`, mutably.
    fn site_mut(&mut self, idx: usize) -> Option<&mut [bool]>;

    /// The noise of site `idx` if it is a Gaussian-dropout site, one multiplier per unit.
    fn noise(&self, idx: usize) -> Option<&[Self::Scalar]>;

    /// The noise of site `idx`, mutably.
    fn noise_mut(&mut self, idx: usize) -> Option<&mut [Self::Scalar]>;

    /// The weight mask of the `idx`-th layer with DropConnect (in the order of
    /// [`NetworkSpec::connections`](crate::NetworkSpec::connections)), neuron by neuron: bit
    /// `neuron · fan_in + input` keeps the weight from `input` to `neuron`.
    fn connections(&self, idx: usize) -> Option<&[bool]>;

    /// The weight mask of the `idx`-th layer with DropConnect, mutably.
    fn connections_mut(&mut self, idx: usize) -> Option<&mut [bool]>;

    /// Masks that drop every unit of site `idx` (a Gaussian site's noise all 0) and keep all
    /// others; `None` if the network has no site `idx`.
    #[must_use]
    fn dropping_site(idx: usize) -> Option<Self> {
        let mut masks = Self::ALL_KEPT;
        match masks.site_mut(idx) {
            Some(bits) => bits.fill(false),
            None => masks.noise_mut(idx)?.fill(Self::Scalar::ZERO),
        }
        Some(masks)
    }
}

/// [`Error::NotFinite`](crate::Error::NotFinite) naming the first layer of `net` with a NaN or
/// infinite weight or bias: what cannot be saved or drawn.
#[cfg(feature = "alloc")]
pub(crate) fn refuse_non_finite<N: crate::Network>(net: &N) -> Result<(), crate::Error> {
    for (idx, spec) in N::SPEC.layers.iter().enumerate() {
        let Some(layer) = net.layer(idx) else {
            continue;
        };
        if layer
            .storage()
            .iter()
            .chain(layer.biases())
            .any(|v| !v.is_finite())
        {
            return Err(crate::Error::NotFinite {
                layer: alloc::string::ToString::to_string(spec.name),
            });
        }
    }
    Ok(())
}
