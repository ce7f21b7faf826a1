//! `z += Σₖ vₖ · W[iₖ]` over a layer's panels, with the panel's sums kept in registers.

use super::{DISPATCH_THRESHOLD, InstructionSet, Kernel, PANEL};
use crate::Float;

/// The rows of a layer's weights that a pass adds, and the value each is multiplied by.
pub(crate) trait Rows<T>: Copy {
    /// Whether rows may be skipped, leaving gaps that the hardware prefetcher does not
    /// foresee.
    const GAPS: bool;
    /// How many rows.
    fn count(self) -> usize;
    /// Row `k`: its input's index (increasing with `k`) and the value its weights are
    /// multiplied by.
    fn entry(self, k: usize) -> (usize, T);
}

/// Every input in order, each multiplied by `scale` when there is one.
#[derive(Clone, Copy)]
pub(crate) struct AllRows<'a, T, const IN: usize> {
    pub values: &'a [T; IN],
    pub scale: Option<T>,
}

impl<T: Float, const IN: usize> Rows<T> for AllRows<'_, T, IN> {
    const GAPS: bool = false;
    #[inline(always)]
    fn count(self) -> usize {
        IN
    }

    #[inline(always)]
    fn entry(self, k: usize) -> (usize, T) {
        let value = self.values.get(k).copied().unwrap_or(T::ZERO);
        (k, self.scale.map_or(value, |scale| value * scale))
    }
}

/// The `count` inputs listed in `inputs` (the kept units of a masked pass), each multiplied by
/// `scale`.
#[derive(Clone, Copy)]
pub(crate) struct ListedRows<'a, T, const IN: usize> {
    pub inputs: &'a [u32; IN],
    pub count: usize,
    pub values: &'a [T; IN],
    pub scale: T,
}

impl<T: Float, const IN: usize> Rows<T> for ListedRows<'_, T, IN> {
    const GAPS: bool = true;
    #[inline(always)]
    fn count(self) -> usize {
        self.count
    }

    #[inline(always)]
    fn entry(self, k: usize) -> (usize, T) {
        // `k < count ≤ IN` and every listed input is below `IN`. Clamping the index (a
        // conditional move, never taken) tells the compiler so: it then drops the bounds
        // checks of the row reads that follow, and leaves no panic path.
        let input = self
            .inputs
            .get(k)
            .map_or(0, |&i| (i as usize).min(IN.saturating_sub(1)));
        let value = self.values.get(input).copied().unwrap_or(T::ZERO);
        (input, value * self.scale)
    }
}

/// [`accumulate`] as a [`Kernel`].
pub(crate) struct Accumulate<'a, T, R, const IN: usize, const OUT: usize> {
    pub z: &'a mut [T; OUT],
    pub rows: R,
    pub weights: &'a [[T; OUT]; IN],
}

impl<T: Float, R: Rows<T>, const IN: usize, const OUT: usize> Kernel
    for Accumulate<'_, T, R, IN, OUT>
{
    type Output = ();

    #[inline(always)]
    fn run(self, isa: InstructionSet) {
        accumulate(self.z, self.rows, self.weights, isa);
    }
}

/// `z += Σₖ vₖ · W[iₖ]` over the rows `(iₖ, vₖ)` of `rows`, for a layer's weights in storage
/// order (`weights` has the layer's shape only to fix the number of values).
///
/// `isa` is the instruction set the caller is compiled for. It sets how many sums are kept in
/// registers: a panel's 64 on AVX2 (eight vectors) and AVX-512 (four vectors; two `f32` panels
/// are interleaved so that eight chains of adds are in flight), fewer in portable code. The
/// last, narrower panel has a width known when compiling, so its sums stay in registers too.
/// None of this changes the order in which any sum is formed.
#[inline(always)]
pub(crate) fn accumulate<T: Float, R: Rows<T>, const IN: usize, const OUT: usize>(
    z: &mut [T; OUT],
    rows: R,
    weights: &[[T; OUT]; IN],
    isa: InstructionSet,
) {
    if OUT <= PANEL && IN * OUT < DISPATCH_THRESHOLD {
        // One small panel: the storage is Wᵀ row-major, so the array's rows are the rows to
        // add, with sizes the compiler knows (it unrolls and vectorises such layers fully).
        for k in 0..rows.count() {
            let (input, value) = rows.entry(k);
            if let Some(row) = weights.get(input) {
                for (z_j, &w) in z.iter_mut().zip(row) {
                    *z_j += value * w;
                }
            }
        }
        return;
    }
    let storage = weights.as_flattened();
    let full = OUT / PANEL;
    let (Some((panels_z, tail_z)), Some((panels_w, tail_w))) = (
        z.split_at_mut_checked(full * PANEL),
        storage.split_at_checked(full * PANEL * IN),
    ) else {
        return;
    };
    let single = size_of::<T>() == 4;
    let mut panels = panels_z
        .chunks_exact_mut(PANEL)
        .zip(panels_w.chunks_exact(PANEL * IN));
    while let Some((out, data)) = panels.next() {
        if isa == InstructionSet::Avx512
            && single
            && let Some((out_b, data_b)) = panels.next()
        {
            two_panels(out, out_b, rows, data, data_b);
            continue;
        }
        match (isa, single) {
            (InstructionSet::Portable, true) => panel::<T, R, 32>(out, rows, data),
            (InstructionSet::Portable, false) => panel::<T, R, 16>(out, rows, data),
            (_, true) => panel::<T, R, 64>(out, rows, data),
            (_, false) => panel::<T, R, 32>(out, rows, data),
        }
    }
    if !tail_z.is_empty() {
        narrow_panel(tail_z, rows, tail_w);
    }
}

/// `acc += Σₖ vₖ · data[iₖ · width + start ..][..N]`: `N` sums of a panel `width` wide.
#[inline(always)]
fn add_rows<T: Float, R: Rows<T>, const N: usize>(
    acc: &mut [T; N],
    rows: R,
    data: &[T],
    width: usize,
    start: usize,
) {
    let count = rows.count();
    for k in 0..count {
        let (input, value) = rows.entry(k);
        let from = input * width + start;
        if R::GAPS && k + AHEAD < count {
            prefetch(data, rows.entry(k + AHEAD).0 * width + start, N);
        }
        let Some(row) = row::<T, N>(data, from) else {
            continue;
        };
        add_row(acc, value, row);
    }
}

/// `data[from..from + N]`, if it is inside `data`.
#[inline(always)]
fn row<T, const N: usize>(data: &[T], from: usize) -> Option<&[T; N]> {
    data.get(from..from + N)?.try_into().ok()
}

/// `acc += value · row`, lane by lane.
///
/// On x86-64 the sums are formed as a new array: updated in place through an iterator, the
/// compiler kept them in registers but also stored all of them to the stack for every row
/// (eight stores a row on AVX2; 64-256-256-10's pass measured 15–18 % slower). Elsewhere they
/// are updated in place: a Cortex-M has no registers to hold a panel's sums, and the new array
/// cost its size in stack (136 more bytes for a three-panel layer, `tests/firmware.rs`).
#[inline(always)]
fn add_row<T: Float, const N: usize>(acc: &mut [T; N], value: T, row: &[T; N]) {
    #[cfg(target_arch = "x86_64")]
    {
        *acc = core::array::from_fn(|j| acc[j] + value * row[j]);
    }
    #[cfg(not(target_arch = "x86_64"))]
    for (a, &w) in acc.iter_mut().zip(row) {
        *a += value * w;
    }
}

/// A full panel (`out` has `PANEL` values, `data` `PANEL` weights per input), `BLOCK` sums at
/// a time.
#[inline(always)]
fn panel<T: Float, R: Rows<T>, const BLOCK: usize>(out: &mut [T], rows: R, data: &[T]) {
    for (start, out) in (0..PANEL).step_by(BLOCK).zip(out.chunks_exact_mut(BLOCK)) {
        let mut acc = [T::ZERO; BLOCK];
        acc.copy_from_slice(out);
        add_rows(&mut acc, rows, data, PANEL, start);
        out.copy_from_slice(&acc);
    }
}

/// Two full panels at once, each row's weights for both read in the same step.
#[inline(always)]
fn two_panels<T: Float, R: Rows<T>>(
    out_a: &mut [T],
    out_b: &mut [T],
    rows: R,
    data_a: &[T],
    data_b: &[T],
) {
    let mut acc_a = [T::ZERO; PANEL];
    let mut acc_b = [T::ZERO; PANEL];
    acc_a.copy_from_slice(out_a);
    acc_b.copy_from_slice(out_b);
    let count = rows.count();
    for k in 0..count {
        let (input, value) = rows.entry(k);
        let from = input * PANEL;
        if R::GAPS && k + AHEAD < count {
            let ahead = rows.entry(k + AHEAD).0 * PANEL;
            prefetch(data_a, ahead, PANEL);
            prefetch(data_b, ahead, PANEL);
        }
        let (Some(row_a), Some(row_b)) = (row::<T, PANEL>(data_a, from), row(data_b, from)) else {
            continue;
        };
        add_row(&mut acc_a, value, row_a);
        add_row(&mut acc_b, value, row_b);
    }
    out_a.copy_from_slice(&acc_a);
    out_b.copy_from_slice(&acc_b);
}

/// How many listed rows ahead of the one being added a pass asks for: far enough for the
/// row to arrive from the L2 cache in time (measured on the 784-128 layer of `benches/`, at
/// p = 0.5: 0.63 of the unmasked time without prefetching, 0.59 with 2 rows ahead, 0.58 with
/// 4 or 6).
const AHEAD: usize = 4;

/// Asks the CPU to start loading `data[from..from + len]` into the L1 cache, one request per
/// 64-byte line: the rows of a masked pass are not contiguous, so the hardware's prefetcher
/// cannot guess them. Elsewhere than on x86-64 it does nothing.
#[inline(always)]
fn prefetch<T>(data: &[T], from: usize, len: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(row) = data.get(from..from + len) {
        let start = row.as_ptr().cast::<i8>();
        for line in (0..core::mem::size_of_val(row)).step_by(64) {
            #[expect(unsafe_code, reason = "`_mm_prefetch` takes a raw pointer")]
            // SAFETY: a prefetch never faults and reads nothing the program sees; the address
            // lies within `row` anyway.
            unsafe {
                core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
                    start.wrapping_add(line),
                );
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, from, len);
}

/// The last panel, narrower than `PANEL` (`out.len()` is known when compiling).
#[inline(always)]
fn narrow_panel<T: Float, R: Rows<T>>(out: &mut [T], rows: R, data: &[T]) {
    let width = out.len();
    let mut acc = [T::ZERO; PANEL];
    let Some(acc) = acc.get_mut(..width) else {
        return;
    };
    acc.copy_from_slice(out);
    for k in 0..rows.count() {
        let (input, value) = rows.entry(k);
        let from = input * width;
        let Some(row) = data.get(from..from + width) else {
            continue;
        };
        for (a, &w) in acc.iter_mut().zip(row) {
            *a += value * w;
        }
    }
    out.copy_from_slice(acc);
}

#[cfg(test)]
mod tests {
    use super::{Accumulate, AllRows, ListedRows, accumulate};
    use crate::Float;
    use crate::kernel::{InstructionSet, PANEL, dispatch, offset};

    /// Every available instruction set forms each sum exactly as a plain loop does: over two
    /// full panels (interleaved on AVX-512), a narrow one, all rows or a listed subset.
    fn sums_equal_plain_sums<T: Float>() {
        const OUT: usize = 2 * PANEL + 40;
        const IN: usize = 37;
        let w = |n: usize, i: usize| T::from_f64(((i * 31 + n * 17) % 13) as f64 * 0.37 - 2.0);
        let mut weights = [[T::ZERO; OUT]; IN];
        for n in 0..OUT {
            for i in 0..IN {
                let at = offset(IN, OUT, n, i);
                weights[at / OUT][at % OUT] = w(n, i);
            }
        }
        let values: [T; IN] =
            core::array::from_fn(|i| T::from_f64(i as f64 * 0.61 - 1.3) / T::from_f64(3.0));
        let scale = T::from_f64(1.0 / 0.7);
        // Every third input, the way a masked pass lists kept units.
        let mut inputs = [0_u32; IN];
        let listed: Vec<usize> = (0..IN).step_by(3).collect();
        for (slot, &i) in inputs.iter_mut().zip(&listed) {
            *slot = i as u32;
        }
        for set in InstructionSet::ALL.into_iter().filter(|s| s.is_available()) {
            let mut all = [T::from_f64(0.25); OUT];
            let mut some = [T::from_f64(0.25); OUT];
            set.run(|| {
                let rows = AllRows {
                    values: &values,
                    scale: None,
                };
                dispatch(Accumulate {
                    z: &mut all,
                    rows,
                    weights: &weights,
                });
                let rows = ListedRows {
                    inputs: &inputs,
                    count: listed.len(),
                    values: &values,
                    scale,
                };
                dispatch(Accumulate {
                    z: &mut some,
                    rows,
                    weights: &weights,
                });
            })
            .unwrap();
            for n in 0..OUT {
                let (mut want_all, mut want_some) = (T::from_f64(0.25), T::from_f64(0.25));
                for (i, &v) in values.iter().enumerate() {
                    want_all += v * w(n, i);
                }
                for &i in &listed {
                    want_some += values[i] * scale * w(n, i);
                }
                let bits = |v: T| v.to_f64().to_bits();
                assert_eq!(bits(all[n]), bits(want_all), "all rows, neuron {n}, {set}");
                assert_eq!(
                    bits(some[n]),
                    bits(want_some),
                    "listed rows, neuron {n}, {set}"
                );
            }
        }
    }

    #[test]
    fn sums_equal_plain_sums_bit_for_bit() {
        sums_equal_plain_sums::<f32>();
        sums_equal_plain_sums::<f64>();
    }

    #[test]
    fn rows_can_be_a_subset() {
        let weights = [[1.0_f64; 3], [10.0; 3], [100.0; 3]];
        let mut z = [0.0; 3];
        let rows = ListedRows {
            inputs: &[0, 2, 0],
            count: 2,
            values: &[1.0, 5.0, 2.0],
            scale: 1.0,
        };
        accumulate(&mut z, rows, &weights, InstructionSet::Portable);
        assert_eq!(z, [201.0; 3]);
    }
}
