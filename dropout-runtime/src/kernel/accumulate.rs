//! `z += Σₖ vₖ · W[iₖ]` over a layer's panels, with the panel's sums kept in registers.

use super::{Kernel, panels};
use crate::Float;

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
    use super::{Accumulate, accumulate};
    use crate::kernel::{PANEL, dispatch, offset};

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
