//! The inner loops of every pass, over the weight layout of [`dropout_shared::layout`], and the
//! choice of instruction set they run on.
//!
//! Every kernel sums each output in the same order — bias first, then inputs in increasing
//! index — with separate multiplies and adds (never fused), so results are bit-identical
//! whichever instruction set runs them and whether dropped inputs are skipped or multiplied by
//! zero. Speed comes from the layout, register blocking and wide vectors, not from reordering.
//!
//! - [`accumulate`](accumulate::accumulate): `z += Σ vₖ · W[iₖ]` for one sample, the single,
//!   masked and traced passes.
//! - `gemm`: the matrix products of batches, shared by batched inference and training.

pub(crate) mod accumulate;
pub(crate) use accumulate::{Accumulate, accumulate};
#[cfg(feature = "ndarray")]
pub(crate) mod gemm;

pub(crate) use dropout_shared::layout::{PANEL, offset, panels};

/// Layers with fewer weights run without checking the CPU: the check would cost more than it
/// saves.
pub(crate) const DISPATCH_THRESHOLD: usize = 1024;

/// Work that runs on the widest vectors the CPU offers, through [`dispatch`].
pub(crate) trait Kernel {
    /// What the work produces.
    type Output;

    /// Does the work; `wide` says whether 32-byte vectors (AVX2) are available. Implementations
    /// must be `#[inline(always)]`: that is what compiles them once per instruction set.
    fn run(self, wide: bool) -> Self::Output;
}

/// Runs `kernel` compiled for AVX2 when the CPU has it (checked once and cached by the
/// standard library), and as plain code otherwise.
#[inline]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return x86::with_avx2(kernel);
        }
    }
    kernel.run(false)
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[expect(
    unsafe_code,
    reason = "calling a `target_feature` function after checking the CPU has the feature"
)]
mod x86 {
    use super::Kernel;

    /// `kernel`, inlined into a function compiled with AVX2 enabled.
    #[inline]
    pub(super) fn with_avx2<K: Kernel>(kernel: K) -> K::Output {
        // SAFETY: the caller has checked that the CPU supports AVX2, the only requirement of a
        // function compiled with `target_feature(enable = "avx2")`.
        unsafe { run(kernel) }
    }

    #[target_feature(enable = "avx2")]
    fn run<K: Kernel>(kernel: K) -> K::Output {
        kernel.run(true)
    }
}
