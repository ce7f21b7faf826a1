//! The storage order of a dense layer's weights, and the inner loops over it.
//!
//! A layer stores Wᵀ cut into panels of [`PANEL`] neurons: panel p holds, input after input,
//! the weights from that input to neurons p·PANEL … p·PANEL + PANEL − 1, so that a pass over one
//! panel reads one contiguous stretch of memory. The last panel is narrower when the layer's
//! size is not a multiple of `PANEL`. Batched passes multiply by one panel at a time.
//!
//! Every kernel sums each output in the same order — bias first, then inputs in increasing
//! index — with separate multiplies and adds (never fused), so results are bit-identical
//! whichever instruction set runs them and whether dropped inputs are skipped or multiplied by
//! zero. Speed comes from the layout, register blocking and wide vectors, not from reordering.

use core::ops::Range;

use crate::Float;

/// Neurons per panel.
pub(crate) const PANEL: usize = 64;

/// Layers with fewer weights run without checking the CPU: the check would cost more than it
/// saves.
pub(crate) const DISPATCH_THRESHOLD: usize = 1024;

/// Where the weight from `input` to `neuron` lives in the storage of a layer with `fan_in`
/// inputs and `size` neurons.
pub(crate) const fn offset(fan_in: usize, size: usize, neuron: usize, input: usize) -> usize {
    let panel = neuron / PANEL;
    let full_panels = size / PANEL;
    let width = if panel < full_panels {
        PANEL
    } else {
        size - full_panels * PANEL
    };
    panel * PANEL * fan_in + input * width + neuron % PANEL
}

/// One panel: neurons `first .. first + width`, stored from `start` on, `width` values per input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Panel {
    pub first: usize,
    pub width: usize,
    pub start: usize,
}

impl Panel {
    /// The panel's neurons.
    pub fn neurons(self) -> Range<usize> {
        self.first..self.first + self.width
    }

    /// The panel's stretch of storage.
    pub fn storage(self, fan_in: usize) -> Range<usize> {
        self.start..self.start + fan_in * self.width
    }
}

/// The panels of a layer with `fan_in` inputs and `size` neurons, in storage order.
pub(crate) fn panels(fan_in: usize, size: usize) -> impl Iterator<Item = Panel> {
    (0..size.div_ceil(PANEL)).map(move |p| {
        let first = p * PANEL;
        Panel {
            first,
            width: PANEL.min(size - first),
            start: first * fan_in,
        }
    })
}

/// Work that runs on the widest vectors the CPU offers, through [`dispatch`].
pub trait Kernel {
    /// What the work produces.
    type Output;

    /// Does the work; `wide` says whether 32-byte vectors (AVX2) are available. Implementations
    /// must be `#[inline(always)]`: that is what compiles them once per instruction set.
    fn run(self, wide: bool) -> Self::Output;
}

/// Runs `kernel` compiled for AVX2 when the CPU has it (checked once and cached by the
/// standard library), and as plain code otherwise.
#[inline]
pub fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            return x86::with_avx2(kernel);
        }
    }
    kernel.run(false)
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[allow(unsafe_code)]
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

/// [`accumulate`] as a [`Kernel`].
pub(crate) struct Accumulate<'a, T, E> {
    pub z: &'a mut [T],
    pub count: usize,
    pub entry: E,
    pub weights: &'a [T],
    pub fan_in: usize,
}

impl<T: Float, E: Fn(usize) -> (usize, T) + Copy> Kernel for Accumulate<'_, T, E> {
    type Output = ();

    #[inline(always)]
    fn run(self, wide: bool) {
        accumulate(
            self.z,
            self.count,
            self.entry,
            self.weights,
            self.fan_in,
            wide,
        );
    }
}

/// `z += Σₖ vₖ · W[iₖ]` for the `count` entries `(iₖ, vₖ) = entry(k)` (an input's index and
/// value, indices increasing), over a layer's storage, `z` holding one value per neuron.
/// `wide` says whether 32-byte vectors are available, which sets how many outputs are
/// accumulated in registers at once (eight vectors' worth).
#[inline(always)]
pub(crate) fn accumulate<T: Float>(
    z: &mut [T],
    count: usize,
    entry: impl Fn(usize) -> (usize, T) + Copy,
    weights: &[T],
    fan_in: usize,
    wide: bool,
) {
    let single = core::mem::size_of::<T>() == 4;
    for panel in panels(fan_in, z.len()) {
        let (Some(out), Some(data)) = (
            z.get_mut(panel.neurons()),
            weights.get(panel.storage(fan_in)),
        ) else {
            continue;
        };
        match (wide, single) {
            (true, true) => accumulate_panel::<T, 64>(out, count, entry, data),
            (true, false) | (false, true) => accumulate_panel::<T, 32>(out, count, entry, data),
            (false, false) => accumulate_panel::<T, 16>(out, count, entry, data),
        }
    }
}

/// One panel: `out` has the panel's width; `data` holds `out.len()` weights per input.
#[inline(always)]
fn accumulate_panel<T: Float, const BLOCK: usize>(
    out: &mut [T],
    count: usize,
    entry: impl Fn(usize) -> (usize, T) + Copy,
    data: &[T],
) {
    let width = out.len();
    let mut start = 0;
    while start + BLOCK <= width {
        let mut acc = [T::ZERO; BLOCK];
        acc.copy_from_slice(&out[start..start + BLOCK]);
        for k in 0..count {
            let (input, value) = entry(k);
            let from = input * width + start;
            let Some(row) = data.get(from..from + BLOCK) else {
                continue;
            };
            for (a, &w) in acc.iter_mut().zip(row) {
                *a += value * w;
            }
        }
        out[start..start + BLOCK].copy_from_slice(&acc);
        start += BLOCK;
    }
    if start < width {
        let tail = &mut out[start..];
        for k in 0..count {
            let (input, value) = entry(k);
            let from = input * width + start;
            let Some(row) = data.get(from..from + tail.len()) else {
                continue;
            };
            for (a, &w) in tail.iter_mut().zip(row) {
                *a += value * w;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Accumulate, PANEL, accumulate, dispatch, offset, panels};

    #[test]
    fn offsets_enumerate_the_storage_once() {
        for (fan_in, size) in [(3, 2), (5, PANEL), (4, PANEL + 9), (2, 3 * PANEL + 1)] {
            let mut seen = vec![false; fan_in * size];
            for n in 0..size {
                for i in 0..fan_in {
                    let at = offset(fan_in, size, n, i);
                    assert!(!seen[at], "({n}, {i}) of {fan_in}×{size}");
                    seen[at] = true;
                }
            }
            assert!(seen.iter().all(|&s| s));
            let covered: usize = panels(fan_in, size).map(|p| p.storage(fan_in).len()).sum();
            assert_eq!(covered, fan_in * size);
        }
    }

    #[test]
    fn panel_sums_equal_plain_sums_bit_for_bit() {
        const OUT: usize = PANEL + 40;
        const IN: usize = 7;
        let w = |n: usize, i: usize| ((i * 31 + n * 17) % 13) as f32 * 0.37 - 2.0;
        let mut weights = vec![0.0_f32; IN * OUT];
        for n in 0..OUT {
            for i in 0..IN {
                weights[offset(IN, OUT, n, i)] = w(n, i);
            }
        }
        let values: Vec<f32> = (0..IN).map(|i| i as f32 * 0.61 - 1.3).collect();
        for wide in [false, true] {
            let mut z = [0.25_f32; OUT];
            if wide {
                dispatch(Accumulate {
                    z: &mut z,
                    count: IN,
                    entry: |k| (k, values[k]),
                    weights: &weights,
                    fan_in: IN,
                });
            } else {
                accumulate(&mut z, IN, |k| (k, values[k]), &weights, IN, false);
            }
            for (n, z_n) in z.iter().enumerate() {
                let mut want = 0.25_f32;
                for (i, v) in values.iter().enumerate() {
                    want += v * w(n, i);
                }
                assert_eq!(z_n.to_bits(), want.to_bits(), "neuron {n}, wide {wide}");
            }
        }
    }

    #[test]
    fn rows_can_be_a_subset() {
        let weights = [1.0_f64, 1.0, 1.0, 10.0, 10.0, 10.0, 100.0, 100.0, 100.0];
        let mut z = [0.0; 3];
        let entries = [(0_usize, 1.0), (2, 2.0)];
        accumulate(&mut z, 2, |k| entries[k], &weights, 3, false);
        assert_eq!(z, [201.0; 3]);
    }
}
