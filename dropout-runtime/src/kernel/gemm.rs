//! The matrix products of batches, shared by batched inference
//! ([`Dense::affine_batch`](crate::Dense::affine_batch)) and training (`train::backprop`).
//!
//! One register-blocked micro-kernel computes an `MR × NR` tile of `C += α·A·B`, `NR` being
//! `NV` vectors wide, with the tile's sums in registers for a block of `KC` steps of the
//! inner dimension. `B` is read in place: a layer's weights are stored in panels of 64
//! neurons, each a row-major `fan_in × 64` block of Wᵀ (`dropout_shared::layout`), which is
//! already the order in which the kernel reads `B`, so unlike a BLAS nothing is packed per call.
//! `A` is read in place too, through its strides (the rows of a batch, or their transpose).
//!
//! | instruction set | vector | tile (`MR × NR`) for `f32` | for `f64` | multiply-add |
//! |---|---|---|---|---|
//! | AVX-512 | 512-bit | 6 × 64 (24 accumulators) | 6 × 32 | fused |
//! | AVX2 | 256-bit | 6 × 16 (12 accumulators) | 6 × 8 | fused |
//! | portable | 4 or 2 lanes | 4 × 8 | 4 × 4 | separate |
//!
//! Products therefore differ from the single-sample passes (which never fuse) in the last bits,
//! and from one instruction set to another. Why this design rather than a BLAS crate, and what
//! it measured, is in docs/DESIGN.md.

#![expect(
    unsafe_code,
    reason = "vector intrinsics and the raw pointers they take, within bounds checked once per product"
)]

use ndarray::{Array2, ArrayRef2};

#[cfg(feature = "train")]
use super::panels;
use super::{InstructionSet, Kernel, PANEL, dispatch};
use crate::{ByType, Float};

/// Steps of the inner dimension per block, at most: a block of `B` (`KC × NR`) stays in the L1
/// cache while the kernel sweeps the rows of `A`.
const KC: usize = 128;

/// The steps per block for tiles `width` elements of `T` wide over panels of `B` `row`
/// elements wide. A tile narrower than a panel reads a part of each of the panel's rows, and rows
/// `row · size_of::<T>()` bytes apart fall into only a fraction of the L1 cache's sets: for
/// `f32` on AVX2 (16 columns of a 64-wide panel, rows 256 bytes apart), a quarter of a 32 KB,
/// 8-way cache's sets, 128 lines, which a block of 128 steps fills on its own, evicting the rows
/// of `A` it is multiplied with. Such blocks take three quarters of those lines (96 steps for
/// `f32`, 48 for `f64`; measured in docs/DESIGN.md, "Matrix products").
const fn block_steps<T>(width: usize, row: usize) -> usize {
    /// Lines of 64 bytes in the smallest L1 data cache of the CPUs the kernels run on, times 3/4.
    const LINES: usize = 32 * 1024 / 64 * 3 / 4;
    let row_lines = (row * size_of::<T>()).div_ceil(64);
    if width >= row || row_lines == 0 {
        KC
    } else {
        let steps = LINES / row_lines;
        if steps < KC { steps } else { KC }
    }
}

/// A `rows × bias.len()` matrix whose every row is `bias`.
pub(crate) fn bias_rows<T: Float>(bias: &[T], rows: usize) -> Array2<T> {
    // Written once (no zeroing first).
    Array2::from_shape_fn((rows, bias.len()), |(_, j)| bias[j])
}

/// `z += scale · a·Wᵀ` for weights in storage order (`a` is `rows × fan_in`, `z` is
/// `rows × size` in standard layout).
pub(crate) fn gemm_forward<T: Float>(
    storage: &[T],
    fan_in: usize,
    size: usize,
    scale: T,
    a: &ArrayRef2<T>,
    z: &mut Array2<T>,
) {
    let a = a.as_standard_layout();
    let rows = z.nrows();
    let (Some(a_data), Some(z_data)) = (a.as_slice(), z.as_slice_mut()) else {
        return;
    };
    // One product over every panel, so that each block of the batch is read once for all of
    // them.
    dispatch(Product {
        c: ViewMut {
            data: z_data,
            rows,
            cols: size,
            row: size,
        },
        a: View {
            data: a_data,
            rows,
            cols: fan_in,
            row: fan_in,
            col: 1,
            panel: 0,
        },
        b: View {
            data: storage,
            rows: fan_in,
            cols: size,
            row: 0,
            col: 1,
            panel: PANEL,
        },
        alpha: scale,
    });
}

/// `d_in = dz·W` for weights in storage order (`dz` is `rows × size`): the gradient with
/// respect to a layer's inputs, `rows × fan_in`.
#[cfg(feature = "train")]
pub(crate) fn gemm_input_gradient<T: Float>(
    w: &[T],
    fan_in: usize,
    size: usize,
    dz: &ArrayRef2<T>,
) -> Array2<T> {
    let rows = dz.nrows();
    let mut d_in = Array2::from_elem((rows, fan_in), T::ZERO);
    let dz = dz.as_standard_layout();
    let (Some(dz_data), Some(out)) = (dz.as_slice(), d_in.as_slice_mut()) else {
        return d_in;
    };
    dispatch(Product {
        c: ViewMut {
            data: out,
            rows,
            cols: fan_in,
            row: fan_in,
        },
        a: View {
            data: dz_data,
            rows,
            cols: size,
            row: size,
            col: 1,
            panel: 0,
        },
        b: View {
            data: w,
            rows: size,
            cols: fan_in,
            row: fan_in,
            col: 1,
            panel: 0,
        },
        alpha: T::ONE,
    });
    d_in
}

/// W row-major (`size × fan_in`) from a layer's storage into `w`: the layout in which it is the
/// `B` of the input gradient's product ([`gemm_input_gradient`]). `w` keeps its allocation from
/// one call to the next.
#[cfg(feature = "train")]
pub(crate) fn row_major<T: Float>(
    storage: &[T],
    fan_in: usize,
    size: usize,
    w: &mut alloc::vec::Vec<T>,
) {
    // Every value is written below.
    w.resize(size * fan_in, T::ZERO);
    for (panel, rows) in panels(fan_in, size).zip(w.chunks_mut((PANEL * fan_in).max(1))) {
        panel_row_major(storage, fan_in, panel, rows);
    }
}

/// [`row_major`] with its panels on rayon's threads: the same values.
#[cfg(all(feature = "train", feature = "parallel"))]
pub(crate) fn row_major_parallel<T: Float>(
    storage: &[T],
    fan_in: usize,
    size: usize,
    w: &mut alloc::vec::Vec<T>,
) {
    use rayon::prelude::*;
    w.resize(size * fan_in, T::ZERO);
    let panels: alloc::vec::Vec<_> = panels(fan_in, size).collect();
    w.par_chunks_mut((PANEL * fan_in).max(1))
        .zip(panels)
        .for_each(|(rows, panel)| panel_row_major(storage, fan_in, panel, rows));
}

/// The rows of W (one per neuron, `fan_in` long) of one panel's neurons, into `w`.
#[cfg(feature = "train")]
fn panel_row_major<T: Float>(
    storage: &[T],
    fan_in: usize,
    panel: dropout_shared::layout::Panel,
    w: &mut [T],
) {
    /// Inputs per block: their rows stay in the L1 cache while each neuron's weights from
    /// them are written side by side.
    const BLOCK: usize = 8;
    let Some(weights) = storage.get(panel.storage(fan_in)) else {
        return;
    };
    for (block, rows) in weights.chunks(BLOCK * panel.width).enumerate() {
        for (neuron, out) in w.chunks_exact_mut(fan_in).take(panel.width).enumerate() {
            let Some(out) = out.get_mut(block * BLOCK..) else {
                continue;
            };
            for (slot, row) in out.iter_mut().zip(rows.chunks_exact(panel.width)) {
                if let Some(&weight) = row.get(neuron) {
                    *slot = weight;
                }
            }
        }
    }
}

/// `gradient = aᵀ·dz` in storage order (`a` is `rows × fan_in`, `dz` is `rows × size`): the
/// gradient with respect to a layer's weights.
#[cfg(feature = "train")]
pub(crate) fn gemm_weight_gradient<T: Float>(
    gradient: &mut [T],
    fan_in: usize,
    size: usize,
    a: &ArrayRef2<T>,
    dz: &ArrayRef2<T>,
) {
    gradient.fill(T::ZERO);
    let rows = a.nrows();
    let (a, dz) = (a.as_standard_layout(), dz.as_standard_layout());
    let (Some(a_data), Some(dz_data)) = (a.as_slice(), dz.as_slice()) else {
        return;
    };
    for panel in panels(fan_in, size) {
        let (Some(out), Some(dz_panel)) = (
            gradient.get_mut(panel.storage(fan_in)),
            dz_data.get(panel.first..),
        ) else {
            continue;
        };
        dispatch(Product {
            c: ViewMut {
                data: out,
                rows: fan_in,
                cols: panel.width,
                row: panel.width,
            },
            // Aᵀ: element (input, sample) is a[sample][input].
            a: View {
                data: a_data,
                rows: fan_in,
                cols: rows,
                row: 1,
                col: fan_in,
                panel: 0,
            },
            b: View {
                data: dz_panel,
                rows,
                cols: panel.width,
                row: size,
                col: 1,
                panel: 0,
            },
            alpha: T::ONE,
        });
    }
}

/// A matrix inside a slice: element `(i, j)` is `data[i * row + j * col]`; or, for the right
/// operand with `panel > 0`, stored in panels of `panel` columns, each a row-major
/// `rows × width` block (the last one narrower), one after another — a layer's weights in
/// their storage order.
#[derive(Clone, Copy)]
pub(crate) struct View<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub row: usize,
    pub col: usize,
    pub panel: usize,
}

/// A mutable matrix inside a slice with unit column stride: element `(i, j)` is
/// `data[i * row + j]`.
pub(crate) struct ViewMut<'a, T> {
    pub data: &'a mut [T],
    pub rows: usize,
    pub cols: usize,
    pub row: usize,
}

/// `c += alpha · a · b`, where `b` has unit column stride.
pub(crate) struct Product<'a, T> {
    pub c: ViewMut<'a, T>,
    pub a: View<'a, T>,
    pub b: View<'a, T>,
    pub alpha: T,
}

impl<T: Float> Product<'_, T> {
    /// Whether the shapes agree and every element the product touches lies within its slice.
    fn is_valid(&self) -> bool {
        /// The index of the last element of a `rows × cols` matrix, if it has one.
        fn last(rows: usize, cols: usize, row: usize, col: usize) -> Option<usize> {
            (rows - 1)
                .checked_mul(row)?
                .checked_add((cols - 1).checked_mul(col)?)
        }
        let (a, b, c) = (&self.a, &self.b, &self.c);
        let shapes =
            a.rows == c.rows && b.cols == c.cols && a.cols == b.rows && b.col == 1 && a.panel == 0;
        let empty = c.rows == 0 || c.cols == 0 || a.cols == 0;
        let b_fits = match b.panel {
            0 => last(b.rows, b.cols, b.row, 1).is_some_and(|i| i < b.data.len()),
            _ => b
                .rows
                .checked_mul(b.cols)
                .is_some_and(|n| n <= b.data.len()),
        };
        shapes
            && (empty
                || [
                    last(a.rows, a.cols, a.row, a.col).is_some_and(|i| i < a.data.len()),
                    b_fits,
                    last(c.rows, c.cols, c.row, 1).is_some_and(|i| i < c.data.len()),
                ]
                .iter()
                .all(|&fits| fits))
    }
}

impl<T: Float> Kernel for Product<'_, T> {
    type Output = ();

    #[inline(always)]
    fn run(self, isa: InstructionSet) {
        if !self.is_valid() || self.c.rows == 0 || self.c.cols == 0 || self.a.cols == 0 {
            return;
        }
        // `dispatch` only passes sets the CPU has; checking again (one load of a cached
        // flag per product) keeps the soundness of the `unsafe` calls below local.
        let isa = if isa.is_available() {
            isa
        } else {
            InstructionSet::Portable
        };
        T::by_type::<RunProduct<'_>>((self, isa));
    }
}

/// [`Product::run`] for each scalar type, reached through [`Float::by_type`].
struct RunProduct<'a>(core::marker::PhantomData<&'a ()>);

impl<'a> ByType for RunProduct<'a> {
    type Of<T: Float> = (Product<'a, T>, InstructionSet);
    type Output = ();

    #[inline(always)]
    fn f32((product, isa): (Product<'a, f32>, InstructionSet)) {
        product.run_f32(isa);
    }

    #[inline(always)]
    fn f64((product, isa): (Product<'a, f64>, InstructionSet)) {
        product.run_f64(isa);
    }
}

// In `run_f32` and `run_f64`, every `drive` is sound: the product is valid and not empty
// (checked in `run`), and `isa`, available on this CPU (checked in `run`), has the
// instructions of the arm's vector type.
impl Product<'_, f32> {
    #[inline(always)]
    fn run_f32(self, isa: InstructionSet) {
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: see above.
            InstructionSet::Avx512 => unsafe { self.drive::<x86::F32x16, 6, 4>() },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: see above.
            InstructionSet::Avx2 => unsafe { self.drive::<x86::F32x8, 6, 2>() },
            // SAFETY: see above.
            _ => unsafe { self.drive::<Plain<f32, 4>, 4, 2>() },
        }
    }
}

impl Product<'_, f64> {
    #[inline(always)]
    fn run_f64(self, isa: InstructionSet) {
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: see above.
            InstructionSet::Avx512 => unsafe { self.drive::<x86::F64x8, 6, 4>() },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: see above.
            InstructionSet::Avx2 => unsafe { self.drive::<x86::F64x4, 6, 2>() },
            // SAFETY: see above.
            _ => unsafe { self.drive::<Plain<f64, 2>, 4, 2>() },
        }
    }
}

/// A vector of [`Lanes::N`] elements and the operations the micro-kernel uses.
///
/// # Safety
/// The methods may only be called in code running on a CPU with the vector's instructions,
/// with pointers valid for the elements they read or write.
trait Lanes: Copy {
    type T: Float;
    /// Which lanes a partial load or store touches.
    type Mask: Copy;
    const N: usize;
    unsafe fn zero() -> Self;
    unsafe fn splat(value: Self::T) -> Self;
    /// The first `n` lanes (`n ≤ N`; 0 is allowed).
    unsafe fn mask(n: usize) -> Self::Mask;
    unsafe fn load(from: *const Self::T) -> Self;
    unsafe fn load_masked(from: *const Self::T, mask: Self::Mask) -> Self;
    unsafe fn store(self, to: *mut Self::T);
    unsafe fn store_masked(self, to: *mut Self::T, mask: Self::Mask);
    /// `a · b + c`, with one rounding where the instruction set fuses them.
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
}

/// Raw pointers and strides of a valid [`Product`].
struct Operands<T> {
    a: *const T,
    a_row: usize,
    a_col: usize,
    c: *mut T,
    c_row: usize,
    alpha: T,
}

/// Where a block of `B`'s columns starts (at step 0) and its row stride.
#[derive(Clone, Copy)]
struct Columns<T> {
    b: *const T,
    b_row: usize,
    /// The block's first column in `C`.
    first: usize,
}

/// Rows of `A` per block: a block of 96 rows and `KC` steps (48 KB of `f32`) stays in the L2
/// cache while the kernel sweeps every column block of `B` over it, so that `A` is read from
/// memory once per step block rather than once per column block.
const MC: usize = 96;

impl<T: Float> Product<'_, T> {
    /// Computes the product tile by tile.
    ///
    /// # Safety
    /// The product is valid ([`Product::is_valid`]) and not empty, and the CPU has `V`'s
    /// instructions.
    #[inline(always)]
    unsafe fn drive<V: Lanes<T = T>, const MR: usize, const NV: usize>(self) {
        let (m, n, k) = (self.c.rows, self.c.cols, self.a.cols);
        let ops = Operands {
            a: self.a.data.as_ptr(),
            a_row: self.a.row,
            a_col: self.a.col,
            c: self.c.data.as_mut_ptr(),
            c_row: self.c.row,
            alpha: self.alpha,
        };
        let b = self.b.data.as_ptr();
        // Column segments of `B`: its panels, or all of it.
        let (segment, segments) = match self.b.panel {
            0 => (n, 1),
            panel => (panel, n.div_ceil(panel)),
        };
        let nr = NV * V::N;
        let steps = match self.b.panel {
            0 => KC,
            panel => block_steps::<T>(nr, panel),
        };
        for k0 in (0..k).step_by(steps) {
            let kc = steps.min(k - k0);
            for rows in (0..m).step_by(MC) {
                let rows = rows..(rows + MC).min(m);
                for s in 0..segments {
                    let first = s * segment;
                    let width = segment.min(n - first);
                    let (base, b_row) = match self.b.panel {
                        0 => (b, self.b.row),
                        // SAFETY: panel `s` starts within the valid `B`, whose panels are stored
                        // one after another, `k` rows each.
                        _ => (unsafe { b.add(first * k) }, width),
                    };
                    for j0 in (0..width).step_by(nr) {
                        let cols = nr.min(width - j0);
                        // SAFETY: rows `rows`, columns `first + j0 .. first + j0 + cols` and steps
                        // `k0 .. k0 + kc` lie within the valid product; the CPU has `V`'s
                        // instructions (the caller's promise).
                        unsafe {
                            let block = Columns {
                                b: base.add(k0 * b_row + j0),
                                b_row,
                                first: first + j0,
                            };
                            if cols == nr {
                                let masks = [V::mask(V::N); NV];
                                tiles::<V, MR, NV, true>(&ops, rows.clone(), block, k0, kc, &masks);
                            } else {
                                edge::<V, MR, NV>(&ops, rows.clone(), block, k0, kc, cols);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The tiles of a block narrower than a whole tile (the last columns of a layer, or a layer
/// narrower than a tile): only as many vectors as the columns need, so that a layer of 10
/// outputs does one vector of work per row and step, not `NV`. Each column's sum is formed as
/// in a whole tile, so the results are the same bits.
#[inline(always)]
unsafe fn edge<V: Lanes, const MR: usize, const NV: usize>(
    ops: &Operands<V::T>,
    rows: core::ops::Range<usize>,
    block: Columns<V::T>,
    k0: usize,
    kc: usize,
    cols: usize,
) {
    // SAFETY: as for `tiles`, and `V::mask` needs only `V`'s instructions; the masks cover the
    // block's `cols` columns and no more.
    unsafe {
        let mask = |j: usize| V::mask(cols.saturating_sub(j * V::N).min(V::N));
        match cols.div_ceil(V::N) {
            1 if NV > 1 => tiles::<V, MR, 1, false>(ops, rows, block, k0, kc, &[mask(0)]),
            2 if NV > 2 => {
                tiles::<V, MR, 2, false>(ops, rows, block, k0, kc, &[mask(0), mask(1)]);
            }
            3 if NV > 3 => {
                let masks = [mask(0), mask(1), mask(2)];
                tiles::<V, MR, 3, false>(ops, rows, block, k0, kc, &masks);
            }
            _ => {
                let masks: [V::Mask; NV] = core::array::from_fn(mask);
                tiles::<V, MR, NV, false>(ops, rows, block, k0, kc, &masks);
            }
        }
    }
}

/// Every tile of `rows` for one block of columns (as wide as the masks say) and of steps.
#[inline(always)]
unsafe fn tiles<V: Lanes, const MR: usize, const NV: usize, const FULL: bool>(
    ops: &Operands<V::T>,
    rows: core::ops::Range<usize>,
    block: Columns<V::T>,
    k0: usize,
    kc: usize,
    masks: &[V::Mask; NV],
) {
    let mut i0 = rows.start;
    // SAFETY: as for `tiles`; each tile's rows lie within `rows`.
    unsafe {
        while i0 + MR <= rows.end {
            tile::<V, MR, NV, FULL>(ops, i0, block, k0, kc, masks);
            i0 += MR;
        }
        while i0 < rows.end {
            tile::<V, 1, NV, FULL>(ops, i0, block, k0, kc, masks);
            i0 += 1;
        }
    }
}

/// `C[i0 .. i0 + MR, first ..] += α · A[i0 .., k0 .. k0 + kc] · B[k0 .., first ..]`, the tile's
/// sums in `MR × NV` vector registers. With `FULL`, the tile is `NV` whole vectors wide;
/// otherwise `masks` say which lanes of each vector are columns of `C`.
#[inline(always)]
unsafe fn tile<V: Lanes, const MR: usize, const NV: usize, const FULL: bool>(
    ops: &Operands<V::T>,
    i0: usize,
    block: Columns<V::T>,
    k0: usize,
    kc: usize,
    masks: &[V::Mask; NV],
) {
    // SAFETY: every pointer below addresses an element of the valid product: rows
    // `i0 .. i0 + MR`, steps `k0 .. k0 + kc`, the block's columns as far as the masks (or, with
    // `FULL`, the `NV` whole vectors) reach.
    unsafe {
        let mut acc = [[V::zero(); NV]; MR];
        // One pointer per row of `A`, each stepping on its own: computing row `i`'s address
        // from row `i − 1`'s made the tile's loads wait on a chain of additions.
        let first = ops.a.add(i0 * ops.a_row + k0 * ops.a_col);
        let mut a: [*const V::T; MR] = core::array::from_fn(|i| first.add(i * ops.a_row));
        let mut b = block.b;
        for _ in 0..kc {
            let mut row = [V::zero(); NV];
            for (j, lanes) in row.iter_mut().enumerate() {
                *lanes = if FULL {
                    V::load(b.add(j * V::N))
                } else {
                    V::load_masked(b.add(j * V::N), masks[j])
                };
            }
            for (sums, a) in acc.iter_mut().zip(&mut a) {
                let value = V::splat(**a);
                for (sum, &lanes) in sums.iter_mut().zip(&row) {
                    *sum = V::mul_add(value, lanes, *sum);
                }
                *a = a.add(ops.a_col);
            }
            b = b.add(block.b_row);
        }
        let alpha = V::splat(ops.alpha);
        for (i, sums) in acc.iter().enumerate() {
            let c = ops.c.add((i0 + i) * ops.c_row + block.first);
            for (j, &sum) in sums.iter().enumerate() {
                let at = c.add(j * V::N);
                if FULL {
                    V::mul_add(alpha, sum, V::load(at)).store(at);
                } else {
                    V::mul_add(alpha, sum, V::load_masked(at, masks[j])).store_masked(at, masks[j]);
                }
            }
        }
    }
}

/// `N` lanes as a plain array, with separate multiply and add: the portable kernel, which the
/// compiler vectorises for the build's target.
#[derive(Clone, Copy)]
struct Plain<T, const N: usize>([T; N]);

impl<T: Float, const N: usize> Lanes for Plain<T, N> {
    type T = T;
    type Mask = usize;
    const N: usize = N;

    #[inline(always)]
    unsafe fn zero() -> Self {
        Plain([T::ZERO; N])
    }
    #[inline(always)]
    unsafe fn splat(value: T) -> Self {
        Plain([value; N])
    }
    #[inline(always)]
    unsafe fn mask(n: usize) -> usize {
        n
    }
    #[inline(always)]
    unsafe fn load(from: *const T) -> Self {
        // SAFETY: the caller guarantees `N` readable elements.
        Plain(core::array::from_fn(|i| unsafe { *from.add(i) }))
    }
    #[inline(always)]
    unsafe fn load_masked(from: *const T, n: usize) -> Self {
        // SAFETY: the caller guarantees `n` readable elements.
        Plain(core::array::from_fn(|i| {
            if i < n {
                // SAFETY: the caller guarantees `n` readable elements.
                unsafe { *from.add(i) }
            } else {
                T::ZERO
            }
        }))
    }
    #[inline(always)]
    unsafe fn store(self, to: *mut T) {
        for (i, &value) in self.0.iter().enumerate() {
            // SAFETY: the caller guarantees `N` writable elements.
            unsafe { *to.add(i) = value };
        }
    }
    #[inline(always)]
    unsafe fn store_masked(self, to: *mut T, n: usize) {
        for (i, &value) in self.0.iter().enumerate().take(n) {
            // SAFETY: the caller guarantees `n` writable elements.
            unsafe { *to.add(i) = value };
        }
    }
    #[inline(always)]
    unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
        Plain(core::array::from_fn(|i| a.0[i] * b.0[i] + c.0[i]))
    }
}

/// The AVX2 and AVX-512 vectors.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::{
        __m256, __m256d, __m256i, __m512, __m512d, __mmask8, __mmask16, _mm256_cmpgt_epi32,
        _mm256_cmpgt_epi64, _mm256_fmadd_pd, _mm256_fmadd_ps, _mm256_loadu_pd, _mm256_loadu_ps,
        _mm256_maskload_pd, _mm256_maskload_ps, _mm256_maskstore_pd, _mm256_maskstore_ps,
        _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_set1_ps, _mm256_setr_epi32,
        _mm256_setr_epi64x, _mm256_setzero_pd, _mm256_setzero_ps, _mm256_storeu_pd,
        _mm256_storeu_ps, _mm512_fmadd_pd, _mm512_fmadd_ps, _mm512_loadu_pd, _mm512_loadu_ps,
        _mm512_mask_storeu_pd, _mm512_mask_storeu_ps, _mm512_maskz_loadu_pd, _mm512_maskz_loadu_ps,
        _mm512_set1_pd, _mm512_set1_ps, _mm512_setzero_pd, _mm512_setzero_ps, _mm512_storeu_pd,
        _mm512_storeu_ps,
    };

    use super::Lanes;

    /// Implements [`Lanes`] for one vector type from its intrinsics.
    macro_rules! lanes {
        (
            $name:ident($vector:ty): $t:ty, $n:literal, mask $mask:ty = |$count:ident| $make_mask:expr;
            zero $zero:ident, splat $splat:ident, load $load:ident, load_masked $load_masked:expr,
            store $store:ident, store_masked $store_masked:expr, fmadd $fmadd:ident
        ) => {
            #[derive(Clone, Copy)]
            pub(super) struct $name($vector);

            // Every method is sound when, as `Lanes` requires, the caller runs on a CPU with the
            // vector's instructions and passes pointers valid for the lanes read or written.
            impl Lanes for $name {
                type T = $t;
                type Mask = $mask;
                const N: usize = $n;

                #[inline(always)]
                unsafe fn zero() -> Self {
                    // SAFETY: as for every method (above).
                    unsafe { $name($zero()) }
                }
                #[inline(always)]
                unsafe fn splat(value: $t) -> Self {
                    // SAFETY: as for every method (above).
                    unsafe { $name($splat(value)) }
                }
                #[inline(always)]
                unsafe fn mask($count: usize) -> $mask {
                    $make_mask
                }
                #[inline(always)]
                unsafe fn load(from: *const $t) -> Self {
                    // SAFETY: as for every method (above).
                    unsafe { $name($load(from)) }
                }
                #[inline(always)]
                unsafe fn load_masked(from: *const $t, mask: $mask) -> Self {
                    // SAFETY: as for every method (above).
                    unsafe { $name($load_masked(from, mask)) }
                }
                #[inline(always)]
                unsafe fn store(self, to: *mut $t) {
                    // SAFETY: as for every method (above).
                    unsafe { $store(to, self.0) }
                }
                #[inline(always)]
                unsafe fn store_masked(self, to: *mut $t, mask: $mask) {
                    // SAFETY: as for every method (above).
                    unsafe { $store_masked(to, mask, self.0) }
                }
                #[inline(always)]
                unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
                    // SAFETY: as for every method (above).
                    unsafe { $name($fmadd(a.0, b.0, c.0)) }
                }
            }
        };
    }

    lanes!(
        F32x16(__m512): f32, 16, mask __mmask16 = |n| ((1_u32 << n) - 1) as __mmask16;
        zero _mm512_setzero_ps, splat _mm512_set1_ps, load _mm512_loadu_ps,
        load_masked |from, mask| _mm512_maskz_loadu_ps(mask, from),
        store _mm512_storeu_ps, store_masked _mm512_mask_storeu_ps, fmadd _mm512_fmadd_ps
    );
    lanes!(
        F64x8(__m512d): f64, 8, mask __mmask8 = |n| ((1_u32 << n) - 1) as __mmask8;
        zero _mm512_setzero_pd, splat _mm512_set1_pd, load _mm512_loadu_pd,
        load_masked |from, mask| _mm512_maskz_loadu_pd(mask, from),
        store _mm512_storeu_pd, store_masked _mm512_mask_storeu_pd, fmadd _mm512_fmadd_pd
    );
    lanes!(
        F32x8(__m256): f32, 8, mask __m256i =
            |n| {
                let n = i32::try_from(n).unwrap_or(i32::MAX);
                // SAFETY: AVX2, which the caller's CPU has.
                unsafe {
                    _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
                }
            };
        zero _mm256_setzero_ps, splat _mm256_set1_ps, load _mm256_loadu_ps,
        load_masked |from, mask| _mm256_maskload_ps(from, mask),
        store _mm256_storeu_ps, store_masked _mm256_maskstore_ps, fmadd _mm256_fmadd_ps
    );
    lanes!(
        F64x4(__m256d): f64, 4, mask __m256i =
            |n| {
                let n = i64::try_from(n).unwrap_or(i64::MAX);
                // SAFETY: AVX2, which the caller's CPU has.
                unsafe { _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)) }
            };
        zero _mm256_setzero_pd, splat _mm256_set1_pd, load _mm256_loadu_pd,
        load_masked |from, mask| _mm256_maskload_pd(from, mask),
        store _mm256_storeu_pd, store_masked _mm256_maskstore_pd, fmadd _mm256_fmadd_pd
    );
}

#[cfg(test)]
mod tests {
    use ndarray::Array2;

    use super::{KC, Product, View, ViewMut, gemm_forward};
    use crate::Float;
    use crate::kernel::{InstructionSet, dispatch, offset};

    /// A deterministic value in [−1, 1) for index `i` of a test matrix.
    fn value<T: Float>(i: usize, salt: usize) -> T {
        T::from_f64(((i * 7919 + salt * 104_729) % 2001) as f64 / 1000.0 - 1.0)
    }

    /// `C += α·A·B` on every available instruction set against a plain triple loop in `f64`,
    /// for shapes with a remainder in every dimension (rows, columns, more steps than one block
    /// of `KC`), `A` given by its transpose's strides, and `C` wider than the product.
    fn products_agree_with_plain_loops<T: Float>(tolerance: f64) {
        for &(m, n, k, transposed) in &[
            (1, 1, 1, false),
            (7, 19, 5, false),
            (13, 70, KC + 3, true),
            (6, 64, 2 * KC, false),
            (25, 33, 40, true),
        ] {
            let a: Vec<T> = (0..m * k).map(|i| value(i, 1)).collect();
            let b: Vec<T> = (0..k * n).map(|i| value(i, 2)).collect();
            // A(i, p) = a[i * k + p], or through the strides of its transpose.
            let (a_row, a_col) = if transposed { (1, m) } else { (k, 1) };
            let a_at = |i: usize, p: usize| a[i * a_row + p * a_col].to_f64();
            let c_row = n + 3;
            let alpha = T::from_f64(-1.5);
            for set in InstructionSet::ALL.into_iter().filter(|s| s.is_available()) {
                let mut c: Vec<T> = (0..m * c_row).map(|i| value(i, 3)).collect();
                let before = c.clone();
                set.run(|| {
                    dispatch(Product {
                        c: ViewMut {
                            data: &mut c,
                            rows: m,
                            cols: n,
                            row: c_row,
                        },
                        a: View {
                            data: &a,
                            rows: m,
                            cols: k,
                            row: a_row,
                            col: a_col,
                            panel: 0,
                        },
                        b: View {
                            data: &b,
                            rows: k,
                            cols: n,
                            row: n,
                            col: 1,
                            panel: 0,
                        },
                        alpha,
                    });
                })
                .unwrap();
                for i in 0..m {
                    for j in 0..c_row {
                        let got = c[i * c_row + j].to_f64();
                        let mut want = before[i * c_row + j].to_f64();
                        if j < n {
                            let dot: f64 = (0..k).map(|p| a_at(i, p) * b[p * n + j].to_f64()).sum();
                            want += alpha.to_f64() * dot;
                        }
                        let scale = 1.0 + want.abs() + k as f64;
                        assert!(
                            (got - want).abs() <= tolerance * scale,
                            "{m}×{n}×{k} on {set}: C[{i}][{j}] = {got}, expected {want}"
                        );
                        if j >= n {
                            assert_eq!(got, want, "a column beyond the product was written");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn products_agree_with_plain_loops_f32() {
        products_agree_with_plain_loops::<f32>(1e-6);
    }

    #[test]
    fn products_agree_with_plain_loops_f64() {
        products_agree_with_plain_loops::<f64>(1e-14);
    }

    /// A layer's forward product reads its weights in their panels (two full ones and a
    /// narrow one, with more rows of the batch than one block of `MC`) on every set.
    #[test]
    fn products_over_stored_panels_agree_with_plain_loops() {
        // Over two blocks of steps, whether a tile spans a panel's width or not.
        let (fan_in, size, rows) = (super::KC + 37, 2 * 64 + 10, 2 * super::MC + 5);
        assert_eq!(super::block_steps::<f32>(16, 64), 96);
        assert_eq!(super::block_steps::<f64>(8, 64), 48);
        assert_eq!(super::block_steps::<f32>(64, 64), super::KC);
        let w = |n: usize, i: usize| value::<f32>(n * fan_in + i, 4);
        let mut storage = vec![0.0_f32; fan_in * size];
        for n in 0..size {
            for i in 0..fan_in {
                storage[offset(fan_in, size, n, i)] = w(n, i);
            }
        }
        let a = Array2::from_shape_fn((rows, fan_in), |(r, i)| value::<f32>(r * fan_in + i, 5));
        for set in InstructionSet::ALL.into_iter().filter(|s| s.is_available()) {
            let mut z = Array2::<f32>::ones((rows, size));
            set.run(|| gemm_forward(&storage, fan_in, size, 0.5, &a, &mut z))
                .unwrap();
            for r in 0..rows {
                for n in 0..size {
                    let dot: f64 = (0..fan_in)
                        .map(|i| f64::from(a[[r, i]]) * f64::from(w(n, i)))
                        .sum();
                    let want = 1.0 + 0.5 * dot;
                    let got = f64::from(z[[r, n]]);
                    assert!(
                        (got - want).abs() < 1e-5 * (1.0 + want.abs()),
                        "{set}: z[{r}][{n}] = {got}, expected {want}"
                    );
                }
            }
        }
    }

    #[test]
    fn non_finite_values_propagate() {
        let (fan_in, size) = (3, 70);
        let mut storage = vec![0.5_f32; fan_in * size];
        storage[offset(fan_in, size, 66, 1)] = f32::INFINITY;
        let a = ndarray::array![[1.0_f32, 0.0, 1.0], [f32::NAN, 1.0, 1.0], [1.0, 1.0, 1.0]];
        for set in InstructionSet::ALL.into_iter().filter(|s| s.is_available()) {
            let mut z = Array2::<f32>::zeros((3, size));
            set.run(|| gemm_forward(&storage, fan_in, size, 1.0, &a, &mut z))
                .unwrap();
            // Row 0: input 1 is 0, and 0 · ∞ is NaN, in neuron 66 only.
            assert!(z[[0, 66]].is_nan(), "{set}");
            assert_eq!(z[[0, 65]], 1.0, "{set}");
            // Row 1: a NaN input reaches every neuron.
            assert!(z.row(1).iter().all(|v| v.is_nan()), "{set}");
            // Row 2: 1 · ∞ is ∞.
            assert_eq!(z[[2, 66]], f32::INFINITY, "{set}");
        }
    }

    #[test]
    fn an_invalid_product_does_nothing() {
        let mut c = vec![0.0_f64; 4];
        // B claims more rows than its slice holds.
        dispatch(Product {
            c: ViewMut {
                data: &mut c,
                rows: 2,
                cols: 2,
                row: 2,
            },
            a: View {
                data: &[1.0; 4],
                rows: 2,
                cols: 2,
                row: 2,
                col: 1,
                panel: 0,
            },
            b: View {
                data: &[1.0; 3],
                rows: 2,
                cols: 2,
                row: 2,
                col: 1,
                panel: 0,
            },
            alpha: 1.0,
        });
        assert_eq!(c, [0.0; 4]);
    }

    /// The row-major copy of a layer's weights, on one thread and on rayon's: element
    /// (neuron, input) of the copy is the weight at `offset`, for layers narrower than a panel,
    /// with a short last panel, and without inputs.
    #[cfg(feature = "train")]
    #[test]
    fn row_major_copies_are_the_weights_by_neuron() {
        for (fan_in, size) in [(3, 5), (9, 130), (1, 64), (0, 7)] {
            let storage: alloc::vec::Vec<f32> = (0..fan_in * size).map(|i| value(i, 3)).collect();
            let mut serial = alloc::vec![f32::NAN; 2];
            super::row_major(&storage, fan_in, size, &mut serial);
            assert_eq!(serial.len(), fan_in * size);
            for neuron in 0..size {
                for input in 0..fan_in {
                    assert_eq!(
                        serial[neuron * fan_in + input].to_bits(),
                        storage[offset(fan_in, size, neuron, input)].to_bits(),
                        "({neuron}, {input}) of {fan_in}×{size}"
                    );
                }
            }
            #[cfg(feature = "parallel")]
            {
                let mut threaded = alloc::vec::Vec::new();
                super::row_major_parallel(&storage, fan_in, size, &mut threaded);
                assert_eq!(threaded, serial, "{fan_in}×{size}");
            }
        }
    }
}
