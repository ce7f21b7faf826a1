//! The integer dot products of int8 layers: `out[c] = Σᵢ w[c][i] · x[i]` in `i32`, wrapping on
//! overflow as TFLite's accumulators do.
//!
//! Integer sums do not depend on their order, so every instruction set gives the same bits:
//!
//! - **AVX-512 VNNI** (`vpdpbusd`, with AVX-512BW for the masked tail): 64 products per
//!   instruction, unsigned bytes times signed bytes. The input goes in as `x + 128` (its sign bit
//!   flipped), and `128 · Σᵢ w[c][i]` (`row_sums`) comes off again.
//! - **AVX2** (`vpmaddwd`): both operands widened to 16 bits, 16 products per instruction, pairs
//!   summed into 32 bits. (`vpmaddubsw`, which multiplies bytes directly, saturates its 16-bit
//!   pair sums — 255 · 127 · 2 does not fit — so it would not be exact.)
//! - **Portable**: one product at a time.
//!
//! Eight rows (AVX-512) or four (AVX2) share each load of the input. Layers smaller than the dispatch threshold run the
//! portable loop without checking the CPU.

use dropout_shared::quant::{QuantizedMultiplier, Rounding};

use super::DISPATCH_THRESHOLD;
#[cfg(all(feature = "std", target_arch = "x86_64"))]
use super::InstructionSet;

/// `out[c] = Σᵢ weights[c][i] · x[i]`, wrapping; `row_sums[c] = Σᵢ weights[c][i]`, wrapping
/// (the VNNI kernel needs it; the others ignore it).
#[inline]
pub(crate) fn dot_rows<const IN: usize, const OUT: usize>(
    weights: &[[i8; IN]; OUT],
    row_sums: &[i32; OUT],
    x: &[i8; IN],
    out: &mut [i32; OUT],
) {
    if IN * OUT >= DISPATCH_THRESHOLD {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        match InstructionSet::current() {
            InstructionSet::Avx512 if x86::vnni_available() => {
                return x86::dot_rows_vnni(weights.as_flattened(), IN, row_sums, x, out);
            }
            InstructionSet::Avx512 | InstructionSet::Avx2 => {
                return x86::dot_rows_avx2(weights.as_flattened(), IN, x, out);
            }
            InstructionSet::Portable => {}
        }
    }
    let _ = row_sums;
    portable(weights, x, out);
}

/// The output stage of an int8 layer, for every channel: `acc = dots − z_in · row_sums + bias`
/// (wrapping, as TFLite's `bias + Σ w·(x − z_in)`), then
/// `clamp(saturating(requantize(acc) + z_out), lo, hi)`. The AVX-512 version computes 16
/// channels at a time with the same integer steps as [`QuantizedMultiplier::apply`], so the
/// bits are the same.
pub(crate) struct Requantize<'a, const OUT: usize> {
    pub dots: &'a [i32; OUT],
    pub row_sums: &'a [i32; OUT],
    pub bias: &'a [i32; OUT],
    pub multipliers: &'a [QuantizedMultiplier; OUT],
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub range: (i8, i8),
    pub rounding: Rounding,
}

impl<const OUT: usize> Requantize<'_, OUT> {
    /// Writes every channel's output into `out`.
    #[inline]
    pub(crate) fn run(&self, out: &mut [i8; OUT]) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        if OUT >= 16 && InstructionSet::current() == InstructionSet::Avx512 {
            let done = x86::requantize_avx512(
                &x86::Channels {
                    dots: self.dots,
                    row_sums: self.row_sums,
                    bias: self.bias,
                    multipliers: self.multipliers,
                    input_zero_point: self.input_zero_point,
                    output_zero_point: self.output_zero_point,
                    range: self.range,
                    rounding: self.rounding,
                },
                out,
            );
            return self.portable(out, done);
        }
        self.portable(out, 0);
    }

    /// Channels `from..` one at a time.
    #[inline]
    fn portable(&self, out: &mut [i8; OUT], from: usize) {
        let (lo, hi) = (i32::from(self.range.0), i32::from(self.range.1));
        #[expect(
            clippy::needless_range_loop,
            reason = "five arrays of `OUT` indexed alike; `skip` on their iterators leaves a panic path that the `no_panic` check finds"
        )]
        for c in from..OUT {
            let acc = self.dots[c]
                .wrapping_sub(self.input_zero_point.wrapping_mul(self.row_sums[c]))
                .wrapping_add(self.bias[c]);
            let scaled = self.multipliers[c]
                .apply(acc, self.rounding)
                .saturating_add(self.output_zero_point);
            #[expect(
                clippy::cast_possible_truncation,
                reason = "clamped to the activation's range, inside int8"
            )]
            // `max` then `min`: `clamp` would assert `lo ≤ hi`, a panic path.
            let narrowed = scaled.max(lo).min(hi) as i8;
            out[c] = narrowed;
        }
    }
}

/// [`dot_rows`] of four inputs at once: on AVX-512 VNNI each load of a weight row serves all
/// four (the batch passes); elsewhere four single calls.
#[inline]
pub(crate) fn dot_rows4<const IN: usize, const OUT: usize>(
    weights: &[[i8; IN]; OUT],
    row_sums: &[i32; OUT],
    x: &[[i8; IN]; 4],
    out: &mut [[i32; OUT]; 4],
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if IN * OUT >= DISPATCH_THRESHOLD
        && IN <= x86::FOUR_INPUTS_MAX
        && InstructionSet::current() == InstructionSet::Avx512
        && x86::vnni_available()
    {
        // The inputs as unsigned `x + 128`, flipped once for every row of weights.
        let mut flipped = *x;
        for v in flipped.as_flattened_mut() {
            *v ^= i8::MIN;
        }
        return x86::dot_rows4_vnni(
            weights.as_flattened(),
            IN,
            row_sums,
            flipped.as_flattened(),
            out.as_flattened_mut(),
        );
    }
    for (x, out) in x.iter().zip(out.iter_mut()) {
        dot_rows(weights, row_sums, x, out);
    }
}

/// One product at a time.
#[inline]
fn portable<const IN: usize, const OUT: usize>(
    weights: &[[i8; IN]; OUT],
    x: &[i8; IN],
    out: &mut [i32; OUT],
) {
    for (o, row) in out.iter_mut().zip(weights) {
        *o = row.iter().zip(x).fold(0i32, |acc, (&w, &v)| {
            acc.wrapping_add(i32::from(w) * i32::from(v))
        });
    }
}

/// `Σᵢ w[i]` per row, wrapping: what the VNNI kernel subtracts `128 ·` of.
pub(crate) const fn row_sums<const IN: usize, const OUT: usize>(
    weights: &[[i8; IN]; OUT],
) -> [i32; OUT] {
    let mut sums = [0i32; OUT];
    let mut c = 0;
    while c < OUT {
        let mut i = 0;
        while i < IN {
            sums[c] = sums[c].wrapping_add(weights[c][i] as i32);
            i += 1;
        }
        c += 1;
    }
    sums
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[expect(
    unsafe_code,
    reason = "vector intrinsics: `target_feature` functions called after checking the CPU, and loads within the slices' bounds"
)]
mod x86 {
    use dropout_shared::quant::QuantizedMultiplier;

    use core::arch::x86_64::{
        __m256i, __m512i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_shuffle_epi32,
        _mm256_add_epi32, _mm256_castsi256_si128, _mm256_cvtepi8_epi16, _mm256_extracti128_si256,
        _mm256_madd_epi16, _mm256_setzero_si256, _mm512_dpbusd_epi32, _mm512_maskz_loadu_epi8,
        _mm512_reduce_add_epi32, _mm512_set1_epi8, _mm512_setzero_si512, _mm512_xor_si512,
    };

    /// What [`Requantize`](super::Requantize) holds, as slices.
    pub(super) struct Channels<'a> {
        pub dots: &'a [i32],
        pub row_sums: &'a [i32],
        pub bias: &'a [i32],
        pub multipliers: &'a [QuantizedMultiplier],
        pub input_zero_point: i32,
        pub output_zero_point: i32,
        pub range: (i8, i8),
        pub rounding: dropout_shared::quant::Rounding,
    }

    /// [`Requantize::run`](super::Requantize::run) of the whole groups of 16 channels;
    /// returns how many channels it wrote.
    pub(super) fn requantize_avx512(r: &Channels<'_>, out: &mut [i8]) -> usize {
        let n = out
            .len()
            .min(r.dots.len())
            .min(r.row_sums.len())
            .min(r.bias.len())
            .min(r.multipliers.len());
        // SAFETY: `InstructionSet::current` returns `Avx512` only when the CPU has AVX-512F
        // (`InstructionSet::is_available`); the function reads and writes only the first `n`
        // channels, which every slice has.
        unsafe { requantize16(r, &mut out[..n]) }
    }

    /// The channels of whole groups of 16; returns how many.
    #[target_feature(enable = "avx512f")]
    fn requantize16(r: &Channels<'_>, out: &mut [i8]) -> usize {
        use core::arch::x86_64::{
            _mm_storeu_si128, _mm512_add_epi32, _mm512_cvtepi32_epi8, _mm512_loadu_si512,
            _mm512_max_epi32, _mm512_min_epi32, _mm512_mullo_epi32, _mm512_set1_epi32,
            _mm512_sub_epi32,
        };
        use dropout_shared::quant::Rounding;
        let groups = out.len() / 16;
        let (z_in, z_out) = (
            _mm512_set1_epi32(r.input_zero_point),
            _mm512_set1_epi32(r.output_zero_point),
        );
        let (lo, hi) = (
            _mm512_set1_epi32(i32::from(r.range.0)),
            _mm512_set1_epi32(i32::from(r.range.1)),
        );
        // `saturating_add(z_out)` then the clamp: the same as clamping far inside `i32` first.
        let (floor, ceiling) = (
            _mm512_set1_epi32(i32::MIN + 128),
            _mm512_set1_epi32(i32::MAX - 128),
        );
        let load = |s: &[i32], g: usize| {
            // SAFETY: 16 values from `16·g`, with `16·g + 16 ≤ out.len() ≤ s.len()`.
            unsafe { _mm512_loadu_si512(s.as_ptr().add(16 * g).cast()) }
        };
        for g in 0..groups {
            let mut m = [0i32; 16];
            let mut shift = [0i32; 16];
            for (j, q) in r.multipliers[16 * g..16 * g + 16].iter().enumerate() {
                m[j] = q.multiplier;
                shift[j] = q.shift;
            }
            let (m, shift) = (load(&m, 0), load(&shift, 0));
            let acc = _mm512_add_epi32(
                _mm512_sub_epi32(
                    load(r.dots, g),
                    _mm512_mullo_epi32(z_in, load(r.row_sums, g)),
                ),
                load(r.bias, g),
            );
            let scaled = match r.rounding {
                Rounding::Double => double16(acc, m, shift),
                Rounding::Single => single16(acc, m, shift),
            };
            let clamped = _mm512_min_epi32(_mm512_max_epi32(scaled, floor), ceiling);
            let y = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(clamped, z_out), lo), hi);
            // SAFETY: 16 bytes at `16·g`, inside `out`.
            unsafe {
                _mm_storeu_si128(out.as_mut_ptr().add(16 * g).cast(), _mm512_cvtepi32_epi8(y));
            };
        }
        16 * groups
    }

    /// `x · M` of 16 lanes under double rounding: [`QuantizedMultiplier::apply`] step by step
    /// (shift left, saturating rounding doubling high multiply, rounding divide by 2^right).
    ///
    /// [`QuantizedMultiplier::apply`]: dropout_shared::quant::QuantizedMultiplier::apply
    #[target_feature(enable = "avx512f")]
    fn double16(acc: __m512i, m: __m512i, shift: __m512i) -> __m512i {
        use core::arch::x86_64::{
            _mm512_add_epi64, _mm512_and_si512, _mm512_cmpeq_epi32_mask, _mm512_cmpgt_epi32_mask,
            _mm512_cmplt_epi32_mask, _mm512_cmplt_epi64_mask, _mm512_mask_add_epi32,
            _mm512_mask_add_epi64, _mm512_mask_mov_epi32, _mm512_max_epi32, _mm512_min_epi32,
            _mm512_set1_epi32, _mm512_set1_epi64, _mm512_sllv_epi32, _mm512_srai_epi32,
            _mm512_srai_epi64, _mm512_srav_epi32, _mm512_sub_epi32,
        };
        let one = _mm512_set1_epi32(1);
        let zero = _mm512_set1_epi32(0);
        let left = _mm512_min_epi32(_mm512_max_epi32(shift, zero), _mm512_set1_epi32(31));
        let right = _mm512_min_epi32(
            _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero),
            _mm512_set1_epi32(31),
        );
        let a = _mm512_sllv_epi32(acc, left);
        // Saturating rounding doubling high multiply: (a·b + nudge) / 2³¹,
        // truncating, with nudge 2³⁰ or 1 − 2³⁰ by the product's sign.
        let high = |p| {
            let negative = _mm512_cmplt_epi64_mask(p, _mm512_set1_epi64(0));
            let p = _mm512_add_epi64(p, _mm512_set1_epi64(1 << 30));
            let p = _mm512_mask_add_epi64(p, negative, p, _mm512_set1_epi64(1 - (1 << 31)));
            // Truncating division by 2³¹: add 2³¹ − 1 below zero, then shift.
            let below = _mm512_cmplt_epi64_mask(p, _mm512_set1_epi64(0));
            let p = _mm512_mask_add_epi64(p, below, p, _mm512_set1_epi64((1 << 31) - 1));
            _mm512_srai_epi64::<31>(p)
        };
        let (even, odd) = products(a, m);
        let mut h = pack(high(even), high(odd));
        let min = _mm512_set1_epi32(i32::MIN);
        let both_min = _mm512_cmpeq_epi32_mask(a, min) & _mm512_cmpeq_epi32_mask(m, min);
        h = _mm512_mask_mov_epi32(h, both_min, _mm512_set1_epi32(i32::MAX));
        // Rounding divide by 2^right, ties away from zero.
        let mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
        let remainder = _mm512_and_si512(h, mask);
        let threshold = _mm512_srai_epi32::<1>(mask);
        let negative = _mm512_cmplt_epi32_mask(h, zero);
        let threshold = _mm512_mask_add_epi32(threshold, negative, threshold, one);
        let up = _mm512_cmpgt_epi32_mask(remainder, threshold);
        let q = _mm512_srav_epi32(h, right);
        _mm512_mask_add_epi32(q, up, q, one)
    }

    /// `x · M` of 16 lanes under single rounding.
    #[target_feature(enable = "avx512f")]
    fn single16(acc: __m512i, m: __m512i, shift: __m512i) -> __m512i {
        use core::arch::x86_64::{
            _mm512_add_epi64, _mm512_and_si512, _mm512_max_epi32, _mm512_min_epi32,
            _mm512_set1_epi32, _mm512_set1_epi64, _mm512_sllv_epi64, _mm512_srav_epi64,
            _mm512_srli_epi64, _mm512_sub_epi32, _mm512_sub_epi64,
        };
        // (x·m + 2^(t − 1)) >> t with t = 31 − clamp(shift, −31, 30), in 64 bits.
        let t = _mm512_sub_epi32(
            _mm512_set1_epi32(31),
            _mm512_min_epi32(
                _mm512_max_epi32(shift, _mm512_set1_epi32(-31)),
                _mm512_set1_epi32(30),
            ),
        );
        let (even, odd) = products(acc, m);
        let (t_even, t_odd) = (
            _mm512_and_si512(t, _mm512_set1_epi64(0xFFFF_FFFF)),
            _mm512_srli_epi64::<32>(t),
        );
        let round = |t| {
            _mm512_sllv_epi64(
                _mm512_set1_epi64(1),
                _mm512_sub_epi64(t, _mm512_set1_epi64(1)),
            )
        };
        let even = _mm512_srav_epi64(_mm512_add_epi64(even, round(t_even)), t_even);
        let odd = _mm512_srav_epi64(_mm512_add_epi64(odd, round(t_odd)), t_odd);
        pack(even, odd)
    }

    /// `a · b` of each 32-bit lane as 64 bits: even lanes, then odd lanes moved down.
    #[target_feature(enable = "avx512f")]
    fn products(a: __m512i, b: __m512i) -> (__m512i, __m512i) {
        use core::arch::x86_64::{_mm512_mul_epi32, _mm512_srli_epi64};
        let even = _mm512_mul_epi32(a, b);
        let odd = _mm512_mul_epi32(_mm512_srli_epi64::<32>(a), _mm512_srli_epi64::<32>(b));
        (even, odd)
    }

    /// The low 32 bits of 64-bit lanes back into 16 lanes.
    #[target_feature(enable = "avx512f")]
    fn pack(even: __m512i, odd: __m512i) -> __m512i {
        use core::arch::x86_64::{_mm512_mask_blend_epi32, _mm512_slli_epi64};
        _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64::<32>(odd))
    }

    /// Whether the CPU has what the VNNI kernel is compiled with (the standard library caches
    /// the answer).
    pub(super) fn vnni_available() -> bool {
        std::is_x86_feature_detected!("avx512f")
            && std::is_x86_feature_detected!("avx512bw")
            && std::is_x86_feature_detected!("avx512vnni")
    }

    /// `out[c] = Σ w[c·n + i] · x[i]` with `vpdpbusd`.
    pub(super) fn dot_rows_vnni(w: &[i8], n: usize, row_sums: &[i32], x: &[i8], out: &mut [i32]) {
        debug_assert!(vnni_available());
        // SAFETY: the caller found AVX-512F, AVX-512BW and AVX-512 VNNI (`vnni_available`).
        unsafe { vnni(w, n, row_sums, x, out) }
    }

    /// The widest input the four-input kernel takes: its caller keeps a flipped copy of the four
    /// inputs on the stack.
    pub(super) const FOUR_INPUTS_MAX: usize = 4096;

    /// Four inputs, already flipped to `x + 128` (`u`: four rows of `n`), against every weight
    /// row (`out`: four rows of `rows`), with `vpdpbusd`.
    pub(super) fn dot_rows4_vnni(w: &[i8], n: usize, row_sums: &[i32], x: &[i8], out: &mut [i32]) {
        debug_assert!(vnni_available());
        // SAFETY: the caller found AVX-512F, AVX-512BW and AVX-512 VNNI (`vnni_available`).
        unsafe { vnni4(w, n, row_sums, x, out) }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn vnni4(w: &[i8], n: usize, row_sums: &[i32], u: &[i8], out: &mut [i32]) {
        let rows = out.len() / 4;
        if n == 0 || w.len() < rows * n || u.len() < 4 * n || row_sums.len() < rows {
            return;
        }
        let (full, tail) = (n / 64 * 64, tail_mask(n % 64));
        let mask = |k: usize| if k < full { u64::MAX } else { tail };
        let chunk = |s: usize, k: usize| -> __m512i {
            // SAFETY: bytes `k..min(k + 64, n)` of input `s`, inside `u` (`u.len() ≥ 4n`).
            unsafe { _mm512_maskz_loadu_epi8(mask(k), u.as_ptr().add(s * n + k)) }
        };
        let load = |r: usize, k: usize| -> __m512i {
            // SAFETY: bytes `k..min(k + 64, n)` of row `r`, inside `w` (`w.len() ≥ rows · n`).
            unsafe { _mm512_maskz_loadu_epi8(mask(k), w.as_ptr().add(r * n + k)) }
        };
        let finish = |acc: __m512i, r: usize| {
            _mm512_reduce_add_epi32(acc).wrapping_sub(row_sums[r].wrapping_mul(128))
        };
        // Four rows by four inputs: sixteen chains, each weight and input load used four times.
        let mut r = 0;
        while r + 4 <= rows {
            let mut acc = [[_mm512_setzero_si512(); 4]; 4];
            let mut k = 0;
            while k < n {
                let u = [chunk(0, k), chunk(1, k), chunk(2, k), chunk(3, k)];
                for (j, row) in acc.iter_mut().enumerate() {
                    let v = load(r + j, k);
                    for (a, u) in row.iter_mut().zip(&u) {
                        *a = _mm512_dpbusd_epi32(*a, *u, v);
                    }
                }
                k += 64;
            }
            for (j, row) in acc.iter().enumerate() {
                let sums = sum4(row);
                for (s, &sum) in sums.iter().enumerate() {
                    out[s * rows + r + j] = sum.wrapping_sub(row_sums[r + j].wrapping_mul(128));
                }
            }
            r += 4;
        }
        while r < rows {
            let mut acc = [_mm512_setzero_si512(); 4];
            let mut k = 0;
            while k < n {
                let v = load(r, k);
                for (s, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_dpbusd_epi32(*a, chunk(s, k), v);
                }
                k += 64;
            }
            for (s, a) in acc.iter().enumerate() {
                out[s * rows + r] = finish(*a, r);
            }
            r += 1;
        }
    }

    /// `out[c] = Σ w[c·n + i] · x[i]` with `vpmaddwd`.
    pub(super) fn dot_rows_avx2(w: &[i8], n: usize, x: &[i8], out: &mut [i32]) {
        // SAFETY: `InstructionSet::current` returns `Avx2` or `Avx512` only when the CPU has
        // AVX2 (`InstructionSet::is_available`).
        unsafe { avx2(w, n, x, out) }
    }

    /// The mask of the first `len` of 64 bytes.
    fn tail_mask(len: usize) -> u64 {
        if len >= 64 {
            u64::MAX
        } else {
            (1u64 << len) - 1
        }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    fn vnni(w: &[i8], n: usize, row_sums: &[i32], x: &[i8], out: &mut [i32]) {
        let rows = out.len();
        if n == 0 || w.len() < rows * n || x.len() < n || row_sums.len() < rows {
            return;
        }
        let flip = _mm512_set1_epi8(i8::MIN);
        let (full, tail) = (n / 64 * 64, tail_mask(n % 64));
        // The input as unsigned `x + 128`, 64 bytes at a time (the last chunk masked).
        let chunk = |k: usize| -> __m512i {
            let mask = if k < full { u64::MAX } else { tail };
            // SAFETY: the mask covers only bytes `k..min(k + 64, n)` of `x`, which is `n` long.
            let v = unsafe { _mm512_maskz_loadu_epi8(mask, x.as_ptr().add(k)) };
            _mm512_xor_si512(v, flip)
        };
        let load = |r: usize, k: usize| -> __m512i {
            let mask = if k < full { u64::MAX } else { tail };
            // SAFETY: bytes `r·n + k ..` up to `min(k + 64, n)` of row `r`, inside `w`
            // (`w.len() ≥ rows · n`, checked above).
            unsafe { _mm512_maskz_loadu_epi8(mask, w.as_ptr().add(r * n + k)) }
        };
        let finish = |acc: __m512i, r: usize| {
            _mm512_reduce_add_epi32(acc).wrapping_sub(row_sums[r].wrapping_mul(128))
        };
        // Eight rows at a time: eight independent chains of `vpdpbusd`, enough to keep the
        // unit busy through each one's latency.
        let mut r = 0;
        while r + 8 <= rows {
            let mut acc = [_mm512_setzero_si512(); 8];
            let mut k = 0;
            while k < n {
                let u = chunk(k);
                for (j, a) in acc.iter_mut().enumerate() {
                    *a = _mm512_dpbusd_epi32(*a, u, load(r + j, k));
                }
                k += 64;
            }
            for (j, a) in acc.iter().enumerate() {
                out[r + j] = finish(*a, r + j);
            }
            r += 8;
        }
        while r < rows {
            let mut acc = _mm512_setzero_si512();
            let mut k = 0;
            while k < n {
                acc = _mm512_dpbusd_epi32(acc, chunk(k), load(r, k));
                k += 64;
            }
            out[r] = finish(acc, r);
            r += 1;
        }
    }

    /// The lane sums of four vectors at once: interleave and add, so that the four reductions
    /// share their shuffles.
    #[target_feature(enable = "avx512f")]
    fn sum4(v: &[__m512i; 4]) -> [i32; 4] {
        use core::arch::x86_64::{
            _mm_storeu_si128, _mm256_add_epi32 as add256, _mm512_add_epi32, _mm512_castsi512_si256,
            _mm512_extracti64x4_epi64, _mm512_unpackhi_epi32, _mm512_unpackhi_epi64,
            _mm512_unpacklo_epi32, _mm512_unpacklo_epi64,
        };
        let ab = _mm512_add_epi32(
            _mm512_unpacklo_epi32(v[0], v[1]),
            _mm512_unpackhi_epi32(v[0], v[1]),
        );
        let cd = _mm512_add_epi32(
            _mm512_unpacklo_epi32(v[2], v[3]),
            _mm512_unpackhi_epi32(v[2], v[3]),
        );
        // Each 128-bit lane now holds partial sums of a, b, c, d in that order.
        let abcd = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
        let half = add256(
            _mm512_castsi512_si256(abcd),
            _mm512_extracti64x4_epi64::<1>(abcd),
        );
        let quarter = _mm_add_epi32(
            _mm256_castsi256_si128(half),
            _mm256_extracti128_si256::<1>(half),
        );
        let mut out = [0i32; 4];
        // SAFETY: 16 bytes into a 16-byte array.
        unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), quarter) };
        out
    }

    /// The eight lanes' sum.
    #[target_feature(enable = "avx2")]
    fn sum(v: __m256i) -> i32 {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }

    #[target_feature(enable = "avx2")]
    fn avx2(w: &[i8], n: usize, x: &[i8], out: &mut [i32]) {
        let rows = out.len();
        if w.len() < rows * n || x.len() < n {
            return;
        }
        let full = n / 16 * 16;
        let widen = |p: *const i8| -> __m256i {
            // SAFETY: 16 bytes from `p`, which the callers keep inside their slices.
            _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(p.cast()) })
        };
        let tail = |r: usize| -> i32 {
            (full..n).fold(0i32, |acc, i| {
                acc.wrapping_add(i32::from(w[r * n + i]) * i32::from(x[i]))
            })
        };
        let mut r = 0;
        while r + 4 <= rows {
            let mut acc = [_mm256_setzero_si256(); 4];
            let mut k = 0;
            while k < full {
                // `k + 16 ≤ full ≤ n`: inside `x` and inside each row.
                let v = widen(x[k..].as_ptr());
                for (j, a) in acc.iter_mut().enumerate() {
                    let ww = widen(w[(r + j) * n + k..].as_ptr());
                    *a = _mm256_add_epi32(*a, _mm256_madd_epi16(v, ww));
                }
                k += 16;
            }
            for (j, a) in acc.iter().enumerate() {
                out[r + j] = sum(*a).wrapping_add(tail(r + j));
            }
            r += 4;
        }
        while r < rows {
            let mut acc = _mm256_setzero_si256();
            let mut k = 0;
            while k < full {
                let v = widen(x[k..].as_ptr());
                acc = _mm256_add_epi32(acc, _mm256_madd_epi16(v, widen(w[r * n + k..].as_ptr())));
                k += 16;
            }
            out[r] = sum(acc).wrapping_add(tail(r));
            r += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Weights and inputs from a fixed sequence, extremes included.
    fn case<const IN: usize, const OUT: usize>(seed: u32) -> ([[i8; IN]; OUT], [i8; IN]) {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((state >> 24) as u8).cast_signed()
        };
        let mut w = [[0i8; IN]; OUT];
        for row in &mut w {
            for v in row.iter_mut() {
                *v = next();
            }
        }
        let mut x = [0i8; IN];
        for v in &mut x {
            *v = next();
        }
        if IN > 1 {
            x[0] = i8::MIN;
            x[1] = i8::MAX;
            w[0][0] = i8::MIN;
        }
        (w, x)
    }

    fn every_set_agrees<const IN: usize, const OUT: usize>(seed: u32) {
        let (w, x) = case::<IN, OUT>(seed);
        let sums = row_sums(&w);
        let mut expected = [0i32; OUT];
        portable(&w, &x, &mut expected);
        for (c, row) in w.iter().enumerate() {
            let exact: i64 = row
                .iter()
                .zip(&x)
                .map(|(&a, &b)| i64::from(a) * i64::from(b))
                .sum();
            assert_eq!(i64::from(expected[c]), exact, "{IN}×{OUT}, row {c}");
        }
        let shifted: [i8; IN] = core::array::from_fn(|i| x[(i + 1) % IN]);
        let mut expected_shifted = [0i32; OUT];
        portable(&w, &shifted, &mut expected_shifted);
        for set in InstructionSet::ALL.into_iter().filter(|s| s.is_available()) {
            let mut out = [0i32; OUT];
            set.run(|| dot_rows(&w, &sums, &x, &mut out)).unwrap();
            assert_eq!(out, expected, "{set:?}, {IN}×{OUT}");
            let mut four = [[0i32; OUT]; 4];
            set.run(|| dot_rows4(&w, &sums, &[x, shifted, x, shifted], &mut four))
                .unwrap();
            assert_eq!(
                four,
                [expected, expected_shifted, expected, expected_shifted],
                "{set:?}, four"
            );
        }
    }

    /// A pseudo-random sequence for the requantization cases.
    struct Sequence(u64);

    impl Sequence {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            self.0
        }
    }

    fn requantize_case<const N: usize>(seq: &mut Sequence, rounding: Rounding, trial: usize) {
        let dots: [i32; N] = core::array::from_fn(|c| match c {
            0 => i32::MIN,
            1 => i32::MAX,
            2 => 0,
            _ => ((seq.next() >> 32) as u32).cast_signed() >> (seq.next() % 31),
        });
        let row_sums: [i32; N] = core::array::from_fn(|_| (seq.next() >> 48) as i32 - 32768);
        let bias: [i32; N] = core::array::from_fn(|_| (seq.next() >> 40) as i32 - (1 << 23));
        let multipliers: [QuantizedMultiplier; N] = core::array::from_fn(|c| {
            let exponent = (seq.next() % 70) as i32 - 40;
            let m = (1.0 + (seq.next() % 1000) as f64 / 1000.0) * 2f64.powi(exponent);
            let mut q = QuantizedMultiplier::new(m, rounding).unwrap();
            if c == 0 {
                q.multiplier = i32::MIN;
            }
            q
        });
        let r = Requantize {
            dots: &dots,
            row_sums: &row_sums,
            bias: &bias,
            multipliers: &multipliers,
            input_zero_point: (seq.next() % 256) as i32 - 128,
            output_zero_point: (seq.next() % 256) as i32 - 128,
            range: (-128 + (trial % 3) as i8 * 40, 127),
            rounding,
        };
        let mut expected = [0i8; N];
        r.portable(&mut expected, 0);
        for set in InstructionSet::ALL.into_iter().filter(|s| s.is_available()) {
            let mut out = [0i8; N];
            set.run(|| r.run(&mut out)).unwrap();
            assert_eq!(
                out, expected,
                "{set:?} {rounding:?} {N} channels, trial {trial}"
            );
        }
    }

    #[test]
    fn every_instruction_set_requantizes_alike() {
        // Multipliers over every shift, accumulators over the whole range, extremes included;
        // whole groups of 16 channels and groups with channels left over.
        let mut seq = Sequence(7);
        for rounding in [Rounding::Double, Rounding::Single] {
            for trial in 0..60 {
                requantize_case::<16>(&mut seq, rounding, trial);
                requantize_case::<17>(&mut seq, rounding, trial);
                requantize_case::<40>(&mut seq, rounding, trial);
                requantize_case::<64>(&mut seq, rounding, trial);
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_exact_sums() {
        // Inputs shorter than a vector, with tails of every length class, rows in fours and not.
        every_set_agrees::<1, 1024>(1);
        every_set_agrees::<16, 64>(2);
        every_set_agrees::<17, 65>(3);
        every_set_agrees::<63, 33>(4);
        every_set_agrees::<64, 16>(5);
        every_set_agrees::<100, 13>(6);
        every_set_agrees::<784, 128>(7);
        every_set_agrees::<129, 8>(8);
    }
}
