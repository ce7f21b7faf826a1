//! The int8 product of a whole batch on AVX2 without VNNI: `out[r][c] = Σᵢ w[c][i] · x[r][i]`.
//!
//! Without `vpdpbusd`, the exact product of bytes is `vpmaddwd` on operands widened to 16 bits,
//! and widening each weight for each input costs as much as the product. So the batch widens
//! the weights once: [`Packed`] holds them in 16 bits, interleaved so that one vector holds an
//! input pair's weights for eight output channels (`[c₀: w[c₀][2q], w[c₀][2q+1], c₁: …]`). A
//! broadcast pair of inputs times that vector is eight channels' partial sums, with no
//! horizontal sum. Six input rows by sixteen channels make one tile (twelve accumulators, the
//! weights loaded once for six rows, each input pair once for two vectors); inputs are taken
//! 128 pairs at a time so that a tile's weights stay in the L1 cache. The sums are exact in any
//! order, so this gives the bits of every other kernel (`tests` of the parent module).

use alloc::vec::Vec;
use core::arch::x86_64::{
    __m256i, _mm256_add_epi32, _mm256_loadu_si256, _mm256_madd_epi16, _mm256_set1_epi32,
    _mm256_setzero_si256, _mm256_storeu_si256,
};

/// Rows of the batch widened at a time.
const CHUNK: usize = 96;
/// Rows of a tile.
const TILE_ROWS: usize = 6;
/// Input pairs of a pass over a tile's weights: 128 pairs of 16 channels are 8 KiB.
const PAIRS: usize = 128;

/// The products of `x` (rows of `n`) and the weights `w` (`channels` rows of `n`), handed to
/// `each` a chunk of rows at a time: `each(first, sums, stride)` gets rows `first..` as
/// `sums[r · stride..r · stride + channels]`.
///
/// The packed weights and the widened inputs live in buffers kept by the thread between calls
/// (a batch pass calls this once per layer and chunk of rows): allocating and zeroing half a
/// megabyte each time cost a tenth of the pass in page faults.
pub(super) fn product(
    w: &[i8],
    n: usize,
    channels: usize,
    x: &[i8],
    mut each: impl FnMut(usize, &[i32], usize),
) {
    std::thread_local! {
        static SCRATCH: core::cell::RefCell<Scratch> = const {
            core::cell::RefCell::new(Scratch { values: Vec::new(), pairs: Vec::new(), sums: Vec::new() })
        };
    }
    let mut run = |scratch: &mut Scratch| {
        let packed = Packed::new(&mut scratch.values, w, n, channels);
        packed.product(x, &mut scratch.pairs, &mut scratch.sums, &mut each);
    };
    // A thread being torn down has no buffers left: fresh ones then.
    let kept =
        SCRATCH.try_with(|scratch| scratch.try_borrow_mut().map(|mut s| run(&mut s)).is_ok());
    if kept != Ok(true) {
        run(&mut Scratch {
            values: Vec::new(),
            pairs: Vec::new(),
            sums: Vec::new(),
        });
    }
}

/// The buffers of [`product`].
struct Scratch {
    values: Vec<i16>,
    pairs: Vec<i32>,
    sums: Vec<i32>,
}

/// `buffer` holding `len` values: zeros where `zeroed`, whatever it held otherwise.
fn sized<T: Copy + Default>(buffer: &mut Vec<T>, len: usize, zeroed: bool) -> &mut [T] {
    if zeroed {
        buffer.clear();
    }
    buffer.resize(len, T::default());
    &mut buffer[..len]
}

/// A layer's weights in 16 bits, interleaved by input pair for each group of eight channels
/// (groups padded to an even count, inputs to an even count, with zeros).
struct Packed<'a> {
    values: &'a [i16],
    /// Inputs per row of the layer.
    n: usize,
    /// `⌈n / 2⌉`.
    pairs: usize,
    /// Groups of eight channels, even.
    groups: usize,
}

impl<'a> Packed<'a> {
    /// `w` holds `channels` rows of `n` weights; `buffer` takes them.
    fn new(buffer: &'a mut Vec<i16>, w: &[i8], n: usize, channels: usize) -> Self {
        let pairs = n.div_ceil(2);
        let groups = channels.div_ceil(16) * 2;
        // Padding (a missing last input, channels past the last) must be zero; everything
        // else is written below.
        let padded = !n.is_multiple_of(2) || !channels.is_multiple_of(16);
        let values = sized(buffer, groups * pairs * 16, padded);
        // Eight pairs of eight channels at a time by vectors, the pairs left over one by one.
        let full = if w.len() >= n * channels {
            n / 16 * 8
        } else {
            0
        };
        for (g, group) in values.chunks_exact_mut(pairs * 16).enumerate() {
            if (g + 1) * 8 <= channels && full > 0 {
                // SAFETY: the group's eight rows lie inside `w` (`w.len() ≥ n · channels`),
                // and the function writes pairs `..full ≤ pairs` of the group; AVX2 is on
                // (the caller checked).
                unsafe { transpose_group(&w[g * 8 * n..(g * 8 + 8) * n], n, full, group) };
            }
            let from = if (g + 1) * 8 <= channels { full } else { 0 };
            for c in 0..8 {
                let channel = g * 8 + c;
                let Some(row) = w.get(channel * n..(channel + 1) * n) else {
                    continue;
                };
                for (q, pair) in row.chunks(2).enumerate().skip(from) {
                    for (h, &v) in pair.iter().enumerate() {
                        group[q * 16 + 2 * c + h] = i16::from(v);
                    }
                }
            }
        }
        Packed {
            values,
            n,
            pairs,
            groups,
        }
    }

    /// The products of `x` (rows of `n`), a chunk at a time into `each` ([`product`]), with
    /// `pairs` and `sums` for buffers.
    fn product(
        &self,
        x: &[i8],
        pairs: &mut Vec<i32>,
        sums: &mut Vec<i32>,
        each: &mut impl FnMut(usize, &[i32], usize),
    ) {
        let rows = x.len() / self.n.max(1);
        let width = self.groups * 8;
        // Each row's inputs in pairs of 16 bits, the first in the low half (as `vpmaddwd`
        // pairs them with the weights), a missing last one 0.
        let pairs = sized(pairs, CHUNK * self.pairs, false);
        let sums = sized(sums, CHUNK * width, false);
        for first in (0..rows).step_by(CHUNK) {
            let count = CHUNK.min(rows - first);
            for (r, row) in pairs.chunks_exact_mut(self.pairs).take(count).enumerate() {
                let input = &x[(first + r) * self.n..(first + r + 1) * self.n];
                // SAFETY: AVX2 is on (the caller checked).
                unsafe { widen_pairs(input, row) };
            }
            // SAFETY: the checks of `Tiles::run`; AVX2 is on (the caller checked).
            unsafe {
                Tiles {
                    packed: self,
                    pairs,
                    sums: &mut sums[..count * width],
                    rows: count,
                }
                .run();
            }
            each(first, &sums[..count * width], width);
        }
    }
}

/// One chunk's product: `sums` (rows of `groups · 8`, whatever they held) from `pairs` (rows
/// of `pairs`).
struct Tiles<'a> {
    packed: &'a Packed<'a>,
    pairs: &'a [i32],
    sums: &'a mut [i32],
    rows: usize,
}

impl Tiles<'_> {
    #[target_feature(enable = "avx2")]
    fn run(self) {
        let Packed { pairs, groups, .. } = *self.packed;
        let width = groups * 8;
        if self.packed.values.len() < groups * pairs * 16
            || self.pairs.len() < self.rows * pairs
            || self.sums.len() < self.rows * width
        {
            return;
        }
        let values = self.packed.values.as_ptr();
        let sums = self.sums.as_mut_ptr();
        // Row `r`'s pair `q` at `r · pairs + q`.
        let x = self.pairs.as_ptr();
        for k0 in (0..pairs).step_by(PAIRS) {
            let k = k0..(k0 + PAIRS).min(pairs);
            for g in (0..groups).step_by(2) {
                // SAFETY: groups `g` and `g + 1` of `pairs · 16` values, inside `values`.
                let w = unsafe { [values.add(g * pairs * 16), values.add((g + 1) * pairs * 16)] };
                let mut r = 0;
                while r < self.rows {
                    let (done, tile) = if self.rows - r >= TILE_ROWS {
                        // SAFETY: rows `r..r + 6 ≤ rows` and pairs `k` lie inside `x` and
                        // `w` (checked above).
                        let six = unsafe { tile::<TILE_ROWS>(w, x, pairs, r, k.clone()) };
                        (TILE_ROWS, six)
                    } else {
                        // SAFETY: row `r < rows` and pairs `k`, as above.
                        let one = unsafe { tile::<1>(w, x, pairs, r, k.clone()) };
                        let mut padded = [[_mm256_setzero_si256(); 2]; TILE_ROWS];
                        padded[0] = one[0];
                        (1, padded)
                    };
                    for (m, acc) in tile.iter().take(done).enumerate() {
                        for (h, &v) in acc.iter().enumerate() {
                            // SAFETY: row `r + m < rows`, channels `8(g + h)..8(g + h) + 8`
                            // of `width`: inside `sums`. The first pass over the inputs
                            // writes the sums, the later ones add to them.
                            unsafe {
                                // Unaligned loads and stores: any address will do.
                                #[expect(
                                    clippy::cast_ptr_alignment,
                                    reason = "read and written with unaligned loads and stores"
                                )]
                                let at = sums.add((r + m) * width + (g + h) * 8).cast::<__m256i>();
                                let sum = if k0 == 0 {
                                    v
                                } else {
                                    _mm256_add_epi32(_mm256_loadu_si256(at), v)
                                };
                                _mm256_storeu_si256(at, sum);
                            }
                        }
                    }
                    r += done;
                }
            }
        }
    }
}

/// Rows `r..r + M` against two groups' weights `w`, input pairs `k`: `M` rows of two vectors
/// of eight channels' partial sums.
///
/// # Safety
/// Rows `r..r + M` of `pairs` values lie inside `x`, pairs `k` (below `pairs`) of `pairs · 16`
/// values inside each of `w`, and the CPU has AVX2.
#[target_feature(enable = "avx2")]
unsafe fn tile<const M: usize>(
    w: [*const i16; 2],
    x: *const i32,
    pairs: usize,
    r: usize,
    k: core::ops::Range<usize>,
) -> [[__m256i; 2]; TILE_ROWS] {
    let mut acc = [[_mm256_setzero_si256(); 2]; TILE_ROWS];
    for q in k {
        // SAFETY: pair `q < pairs` of each group (the caller's bounds).
        let (w0, w1) = unsafe {
            (
                _mm256_loadu_si256(w[0].add(q * 16).cast()),
                _mm256_loadu_si256(w[1].add(q * 16).cast()),
            )
        };
        for (m, a) in acc.iter_mut().enumerate().take(M) {
            // SAFETY: row `r + m`'s pair `q`, inside the widened inputs.
            let pair = _mm256_set1_epi32(unsafe { *x.add((r + m) * pairs + q) });
            a[0] = _mm256_add_epi32(a[0], _mm256_madd_epi16(pair, w0));
            a[1] = _mm256_add_epi32(a[1], _mm256_madd_epi16(pair, w1));
        }
    }
    acc
}

/// `row[q]` = inputs `2q` and `2q + 1` in 16 bits, the first in the low half (a missing last
/// input 0): sixteen inputs widened by one instruction are eight such pairs in order.
#[target_feature(enable = "avx2")]
fn widen_pairs(input: &[i8], row: &mut [i32]) {
    use core::arch::x86_64::{_mm_loadu_si128, _mm256_cvtepi8_epi16};
    let whole = (input.len() / 16).min(row.len() / 8);
    for (k, (inputs, pairs)) in input
        .chunks_exact(16)
        .zip(row.chunks_exact_mut(8))
        .take(whole)
        .enumerate()
    {
        let _ = k;
        // SAFETY: 16 bytes of `inputs`, 32 bytes into the 8 values of `pairs`.
        unsafe {
            let wide = _mm256_cvtepi8_epi16(_mm_loadu_si128(inputs.as_ptr().cast()));
            _mm256_storeu_si256(pairs.as_mut_ptr().cast(), wide);
        }
    }
    for (q, slot) in row.iter_mut().enumerate().skip(whole * 8) {
        let low = input
            .get(2 * q)
            .map_or(0, |&v| i16::from(v).cast_unsigned());
        let high = input
            .get(2 * q + 1)
            .map_or(0, |&v| i16::from(v).cast_unsigned());
        *slot = (u32::from(low) | u32::from(high) << 16).cast_signed();
    }
}

/// Pairs `..full` (a multiple of 8) of one group of eight rows `w` (rows of `n`) into `group`:
/// sixteen weights of each row widened to eight pairs, and the 8 × 8 pairs transposed so that
/// each vector holds one pair of all eight rows.
///
/// # Safety
/// `w` holds eight rows of `n ≥ 2 · full` weights, `group` at least `16 · full` values, and the
/// CPU has AVX2.
#[target_feature(enable = "avx2")]
unsafe fn transpose_group(w: &[i8], n: usize, full: usize, group: &mut [i16]) {
    use core::arch::x86_64::{
        _mm_loadu_si128, _mm256_cvtepi8_epi16, _mm256_permute2x128_si256, _mm256_unpackhi_epi32,
        _mm256_unpackhi_epi64, _mm256_unpacklo_epi32, _mm256_unpacklo_epi64,
    };
    let (w, out) = (w.as_ptr(), group.as_mut_ptr());
    for q0 in (0..full).step_by(8) {
        // Row c's pairs q0..q0 + 8, as eight 32-bit lanes.
        // SAFETY: bytes `2q0..2q0 + 16` of each row, inside it (`2 · full ≤ n`).
        let r: [__m256i; 8] = core::array::from_fn(|c| unsafe {
            _mm256_cvtepi8_epi16(_mm_loadu_si128(w.add(c * n + 2 * q0).cast()))
        });
        let t0 = _mm256_unpacklo_epi32(r[0], r[1]);
        let t1 = _mm256_unpackhi_epi32(r[0], r[1]);
        let t2 = _mm256_unpacklo_epi32(r[2], r[3]);
        let t3 = _mm256_unpackhi_epi32(r[2], r[3]);
        let t4 = _mm256_unpacklo_epi32(r[4], r[5]);
        let t5 = _mm256_unpackhi_epi32(r[4], r[5]);
        let t6 = _mm256_unpacklo_epi32(r[6], r[7]);
        let t7 = _mm256_unpackhi_epi32(r[6], r[7]);
        let u0 = _mm256_unpacklo_epi64(t0, t2);
        let u1 = _mm256_unpackhi_epi64(t0, t2);
        let u2 = _mm256_unpacklo_epi64(t1, t3);
        let u3 = _mm256_unpackhi_epi64(t1, t3);
        let u4 = _mm256_unpacklo_epi64(t4, t6);
        let u5 = _mm256_unpackhi_epi64(t4, t6);
        let u6 = _mm256_unpacklo_epi64(t5, t7);
        let u7 = _mm256_unpackhi_epi64(t5, t7);
        // Pair q0 + j of the eight rows, for j in 0..8.
        let pairs = [
            _mm256_permute2x128_si256::<0x20>(u0, u4),
            _mm256_permute2x128_si256::<0x20>(u1, u5),
            _mm256_permute2x128_si256::<0x20>(u2, u6),
            _mm256_permute2x128_si256::<0x20>(u3, u7),
            _mm256_permute2x128_si256::<0x31>(u0, u4),
            _mm256_permute2x128_si256::<0x31>(u1, u5),
            _mm256_permute2x128_si256::<0x31>(u2, u6),
            _mm256_permute2x128_si256::<0x31>(u3, u7),
        ];
        for (j, v) in pairs.into_iter().enumerate() {
            // SAFETY: values `16(q0 + j)..+16` of the group, `q0 + j < full`.
            unsafe { _mm256_storeu_si256(out.add(16 * (q0 + j)).cast(), v) };
        }
    }
}
