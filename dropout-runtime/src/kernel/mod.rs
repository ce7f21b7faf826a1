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
pub(crate) mod int8;
mod isa;
mod mask;
pub(crate) use accumulate::{Accumulate, AllRows, ListedRows, Rows, accumulate};
pub use isa::InstructionSet;
pub(crate) use mask::{Masked, connected, masked};
#[cfg(feature = "ndarray")]
pub(crate) mod gemm;

#[cfg(feature = "train")]
use dropout_shared::layout::panels;
pub(crate) use dropout_shared::layout::{PANEL, offset};

/// Layers with fewer weights run without checking the CPU: the check would cost more than it
/// saves.
pub(crate) const DISPATCH_THRESHOLD: usize = 1024;

/// Work that runs on the widest vectors the CPU offers, through [`dispatch`].
pub(crate) trait Kernel {
    /// What the work produces.
    type Output;

    /// Does the work, compiled for `isa`. Implementations must be `#[inline(always)]`: that is
    /// what compiles them once per instruction set.
    fn run(self, isa: InstructionSet) -> Self::Output;
}

/// Runs `kernel` compiled for [`InstructionSet::current`].
#[inline]
pub(crate) fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    match InstructionSet::current() {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        InstructionSet::Avx512 => x86::with_avx512(kernel),
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        InstructionSet::Avx2 => x86::with_avx2(kernel),
        _ => kernel.run(InstructionSet::Portable),
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[expect(
    unsafe_code,
    reason = "calling a `target_feature` function after checking the CPU has the features"
)]
mod x86 {
    use super::{InstructionSet, Kernel};

    /// `kernel`, inlined into a function compiled with AVX2 and FMA enabled.
    #[inline]
    pub(super) fn with_avx2<K: Kernel>(kernel: K) -> K::Output {
        // SAFETY: `InstructionSet::current` returns `Avx2` only when
        // `InstructionSet::Avx2.is_available()`, which checks both features the function is
        // compiled with.
        unsafe { avx2(kernel) }
    }

    /// `kernel`, inlined into a function compiled with AVX-512F, AVX2 and FMA enabled.
    #[inline]
    pub(super) fn with_avx512<K: Kernel>(kernel: K) -> K::Output {
        // SAFETY: `InstructionSet::current` returns `Avx512` only when
        // `InstructionSet::Avx512.is_available()`, which checks the three features the
        // function is compiled with.
        unsafe { avx512(kernel) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn avx2<K: Kernel>(kernel: K) -> K::Output {
        kernel.run(InstructionSet::Avx2)
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    fn avx512<K: Kernel>(kernel: K) -> K::Output {
        kernel.run(InstructionSet::Avx512)
    }
}
