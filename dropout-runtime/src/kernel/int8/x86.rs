//! The int8 kernels for x86-64: AVX-512 VNNI and AVX2 dot products, and the output stage on
//! AVX-512 and AVX2.

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

/// [`Requantize::run`](super::Requantize::run) of the whole groups of 8 channels on AVX2;
/// returns how many channels it wrote.
pub(super) fn requantize_avx2(r: &Channels<'_>, out: &mut [i8]) -> usize {
    let n = out
        .len()
        .min(r.dots.len())
        .min(r.row_sums.len())
        .min(r.bias.len())
        .min(r.multipliers.len());
    // SAFETY: `InstructionSet::current` returns `Avx2` or `Avx512` only when the CPU has
    // AVX2; the function reads and writes only the first `n` channels, which every slice has.
    unsafe { requantize8(r, &mut out[..n]) }
}

/// The channels of whole groups of 8; returns how many. The steps of
/// [`requantize16`] with AVX2's instructions: no masks and no 64-bit arithmetic shift, so
/// comparisons give lane masks and a 64-bit shift right is a logical one on the value
/// flipped by its sign.
#[target_feature(enable = "avx2")]
fn requantize8(r: &Channels<'_>, out: &mut [i8]) -> usize {
    use core::arch::x86_64::{
        _mm_cvtsi128_si64, _mm_packs_epi16, _mm_packs_epi32, _mm256_loadu_si256, _mm256_max_epi32,
        _mm256_min_epi32, _mm256_mullo_epi32, _mm256_set1_epi32, _mm256_sub_epi32,
    };
    use dropout_shared::quant::Rounding;
    let groups = out.len() / 8;
    let (z_in, z_out) = (
        _mm256_set1_epi32(r.input_zero_point),
        _mm256_set1_epi32(r.output_zero_point),
    );
    let (lo, hi) = (
        _mm256_set1_epi32(i32::from(r.range.0)),
        _mm256_set1_epi32(i32::from(r.range.1)),
    );
    let (floor, ceiling) = (
        _mm256_set1_epi32(i32::MIN + 128),
        _mm256_set1_epi32(i32::MAX - 128),
    );
    let load = |s: &[i32], g: usize| {
        // SAFETY: 8 values from `8·g`, with `8·g + 8 ≤ out.len() ≤ s.len()`.
        unsafe { _mm256_loadu_si256(s.as_ptr().add(8 * g).cast()) }
    };
    for g in 0..groups {
        let mut m = [0i32; 8];
        let mut shift = [0i32; 8];
        for (j, q) in r.multipliers[8 * g..8 * g + 8].iter().enumerate() {
            m[j] = q.multiplier;
            shift[j] = q.shift;
        }
        let (m, shift) = (load(&m, 0), load(&shift, 0));
        let acc = _mm256_add_epi32(
            _mm256_sub_epi32(
                load(r.dots, g),
                _mm256_mullo_epi32(z_in, load(r.row_sums, g)),
            ),
            load(r.bias, g),
        );
        let scaled = match r.rounding {
            Rounding::Double => double8(acc, m, shift),
            Rounding::Single => single8(acc, m, shift),
        };
        let clamped = _mm256_min_epi32(_mm256_max_epi32(scaled, floor), ceiling);
        let y = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(clamped, z_out), lo), hi);
        // Eight lanes inside int8: packing with saturation changes none of them.
        let halves = _mm_packs_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256::<1>(y));
        let bytes = _mm_packs_epi16(halves, halves);
        let eight = _mm_cvtsi128_si64(bytes).to_le_bytes();
        for (slot, byte) in out[8 * g..8 * g + 8].iter_mut().zip(eight) {
            *slot = byte.cast_signed();
        }
    }
    8 * groups
}

/// `x · M` of 8 lanes under double rounding, as [`double16`]. The doubling high multiply
/// `(a·b + nudge) / 2³¹`, truncating, is `⌊(a·b + 2³⁰) / 2³¹⌋` for either sign of the
/// product (the negative nudge and the truncation cancel), whose low 32 bits a logical
/// shift gives as well as an arithmetic one.
#[target_feature(enable = "avx2")]
fn double8(acc: __m256i, m: __m256i, shift: __m256i) -> __m256i {
    use core::arch::x86_64::{
        _mm256_add_epi64, _mm256_and_si256, _mm256_blendv_epi8, _mm256_cmpeq_epi32,
        _mm256_cmpgt_epi32, _mm256_max_epi32, _mm256_min_epi32, _mm256_set1_epi32,
        _mm256_set1_epi64x, _mm256_sllv_epi32, _mm256_srai_epi32, _mm256_srav_epi32,
        _mm256_srli_epi64, _mm256_sub_epi32,
    };
    let one = _mm256_set1_epi32(1);
    let zero = _mm256_set1_epi32(0);
    let left = _mm256_min_epi32(_mm256_max_epi32(shift, zero), _mm256_set1_epi32(31));
    let right = _mm256_min_epi32(
        _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero),
        _mm256_set1_epi32(31),
    );
    let a = _mm256_sllv_epi32(acc, left);
    let high = |p| _mm256_srli_epi64::<31>(_mm256_add_epi64(p, _mm256_set1_epi64x(1 << 30)));
    let (even, odd) = products8(a, m);
    let mut h = pack8(high(even), high(odd));
    let min = _mm256_set1_epi32(i32::MIN);
    let both_min = _mm256_and_si256(_mm256_cmpeq_epi32(a, min), _mm256_cmpeq_epi32(m, min));
    h = _mm256_blendv_epi8(h, _mm256_set1_epi32(i32::MAX), both_min);
    // Rounding divide by 2^right, ties away from zero.
    let mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
    let remainder = _mm256_and_si256(h, mask);
    let negative = _mm256_cmpgt_epi32(zero, h);
    // `negative` is −1 in a negative lane: threshold + 1 there.
    let threshold = _mm256_sub_epi32(_mm256_srai_epi32::<1>(mask), negative);
    let up = _mm256_cmpgt_epi32(remainder, threshold);
    _mm256_sub_epi32(_mm256_srav_epi32(h, right), up)
}

/// `x · M` of 8 lanes under single rounding, as [`single16`]: the 64-bit arithmetic shift
/// right is a logical shift of the value with its sign flipped in and out.
#[target_feature(enable = "avx2")]
fn single8(acc: __m256i, m: __m256i, shift: __m256i) -> __m256i {
    use core::arch::x86_64::{
        _mm256_add_epi64, _mm256_and_si256, _mm256_cmpgt_epi64, _mm256_max_epi32, _mm256_min_epi32,
        _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_setzero_si256, _mm256_sllv_epi64,
        _mm256_srli_epi64, _mm256_srlv_epi64, _mm256_sub_epi32, _mm256_sub_epi64, _mm256_xor_si256,
    };
    let t = _mm256_sub_epi32(
        _mm256_set1_epi32(31),
        _mm256_min_epi32(
            _mm256_max_epi32(shift, _mm256_set1_epi32(-31)),
            _mm256_set1_epi32(30),
        ),
    );
    let (even, odd) = products8(acc, m);
    let (t_even, t_odd) = (
        _mm256_and_si256(t, _mm256_set1_epi64x(0xFFFF_FFFF)),
        _mm256_srli_epi64::<32>(t),
    );
    let shifted = |p, t| {
        let round = _mm256_sllv_epi64(
            _mm256_set1_epi64x(1),
            _mm256_sub_epi64(t, _mm256_set1_epi64x(1)),
        );
        let v = _mm256_add_epi64(p, round);
        let sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
        _mm256_xor_si256(_mm256_srlv_epi64(_mm256_xor_si256(v, sign), t), sign)
    };
    pack8(shifted(even, t_even), shifted(odd, t_odd))
}

/// `a · b` of each 32-bit lane as 64 bits: even lanes, then odd lanes moved down.
#[target_feature(enable = "avx2")]
fn products8(a: __m256i, b: __m256i) -> (__m256i, __m256i) {
    use core::arch::x86_64::{_mm256_mul_epi32, _mm256_srli_epi64};
    let even = _mm256_mul_epi32(a, b);
    let odd = _mm256_mul_epi32(_mm256_srli_epi64::<32>(a), _mm256_srli_epi64::<32>(b));
    (even, odd)
}

/// The low 32 bits of 64-bit lanes back into 8 lanes.
#[target_feature(enable = "avx2")]
fn pack8(even: __m256i, odd: __m256i) -> __m256i {
    use core::arch::x86_64::{_mm256_blend_epi32, _mm256_slli_epi64};
    _mm256_blend_epi32::<0b1010_1010>(even, _mm256_slli_epi64::<32>(odd))
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
        _mm512_add_epi64, _mm512_and_si512, _mm512_max_epi32, _mm512_min_epi32, _mm512_set1_epi32,
        _mm512_set1_epi64, _mm512_sllv_epi64, _mm512_srav_epi64, _mm512_srli_epi64,
        _mm512_sub_epi32, _mm512_sub_epi64,
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

/// Eight (then four, then one) rows at a time against the input widened to 16 bits once;
/// each weight is widened as it is loaded (`vpmovsxbw`), the products summed in pairs
/// (`vpmaddwd`), and the eight rows' vectors summed into one vector of eight sums.
#[target_feature(enable = "avx2")]
fn avx2(w: &[i8], n: usize, x: &[i8], out: &mut [i32]) {
    use core::arch::x86_64::_mm256_storeu_si256;
    // The input in 16 bits, in blocks on the stack (so that no input width is too wide
    // for it): each block's products are summed into the rows' accumulators.
    const BLOCK: usize = 1024;
    let rows = out.len();
    if w.len() < rows * n || x.len() < n {
        return;
    }
    let full = n / 16 * 16;
    let mut wide = [0i16; BLOCK];
    let tail = |r: usize| -> i32 {
        (full..n).fold(0i32, |acc, i| {
            acc.wrapping_add(i32::from(w[r * n + i]) * i32::from(x[i]))
        })
    };
    for (r, o) in out.iter_mut().enumerate() {
        *o = tail(r);
    }
    let mut sums = [0i32; 8];
    let mut k0 = 0;
    while k0 < full {
        let k1 = (k0 + BLOCK).min(full);
        for (slot, &v) in wide.iter_mut().zip(&x[k0..k1]) {
            *slot = i16::from(v);
        }
        let mut r = 0;
        while r < rows {
            let part = Part {
                w,
                n,
                r,
                k: k0..k1,
                wide: &wide,
            };
            r += match rows - r {
                8.. => {
                    // SAFETY: eight values into an eight-value array.
                    unsafe {
                        _mm256_storeu_si256(sums.as_mut_ptr().cast(), sum8(&part.dot::<8>()));
                    };
                    for (j, s) in sums.iter().enumerate() {
                        out[r + j] = out[r + j].wrapping_add(*s);
                    }
                    8
                }
                4..8 => {
                    let acc = part.dot::<4>();
                    let zero = _mm256_setzero_si256();
                    // SAFETY: eight values into an eight-value array.
                    unsafe {
                        _mm256_storeu_si256(
                            sums.as_mut_ptr().cast(),
                            sum8(&[acc[0], acc[1], acc[2], acc[3], zero, zero, zero, zero]),
                        );
                    };
                    for (j, s) in sums.iter().take(4).enumerate() {
                        out[r + j] = out[r + j].wrapping_add(*s);
                    }
                    4
                }
                _ => {
                    out[r] = out[r].wrapping_add(sum(part.dot::<1>()[0]));
                    1
                }
            };
        }
        k0 = k1;
    }
}

/// Rows `r..` of `w` (rows of `n` bytes) against inputs `k` (`k.len()` a multiple of 16),
/// widened in `wide` from `k.start`.
struct Part<'a> {
    w: &'a [i8],
    n: usize,
    r: usize,
    k: core::ops::Range<usize>,
    wide: &'a [i16],
}

impl Part<'_> {
    /// Each of `B` rows' products as a vector of eight partial sums. The caller keeps
    /// rows `r..r + B` inside `w`, `k.end ≤ n` and `k.len() ≤ wide.len()`.
    #[target_feature(enable = "avx2")]
    fn dot<const B: usize>(&self) -> [__m256i; B] {
        use core::arch::x86_64::_mm256_loadu_si256;
        let mut acc = [_mm256_setzero_si256(); B];
        if (self.r + B) * self.n > self.w.len()
            || self.k.end > self.n
            || self.k.len() > self.wide.len()
        {
            return acc;
        }
        // SAFETY: row `r` starts inside `w` (checked above).
        let wp = unsafe { self.w.as_ptr().add(self.r * self.n) };
        let xp = self.wide.as_ptr();
        let mut k = self.k.start;
        while k + 16 <= self.k.end {
            // SAFETY: 16 values of `wide` from `k − k.start`, inside it (checked above).
            let v = unsafe { _mm256_loadu_si256(xp.add(k - self.k.start).cast()) };
            for (j, a) in acc.iter_mut().enumerate() {
                // SAFETY: bytes `k..k + 16` of row `r + j`, inside `w` (checked above).
                let ww =
                    _mm256_cvtepi8_epi16(unsafe { _mm_loadu_si128(wp.add(j * self.n + k).cast()) });
                *a = _mm256_add_epi32(*a, _mm256_madd_epi16(v, ww));
            }
            k += 16;
        }
        acc
    }
}

/// Eight vectors to one vector of their eight sums.
#[target_feature(enable = "avx2")]
fn sum8(a: &[__m256i; 8]) -> __m256i {
    use core::arch::x86_64::{_mm256_hadd_epi32, _mm256_permute2x128_si256};
    let s01 = _mm256_hadd_epi32(a[0], a[1]);
    let s23 = _mm256_hadd_epi32(a[2], a[3]);
    let s45 = _mm256_hadd_epi32(a[4], a[5]);
    let s67 = _mm256_hadd_epi32(a[6], a[7]);
    // Rows 0–3 of each 128-bit half, then the halves added.
    let s0123 = _mm256_hadd_epi32(s01, s23);
    let s4567 = _mm256_hadd_epi32(s45, s67);
    _mm256_add_epi32(
        _mm256_permute2x128_si256::<0x20>(s0123, s4567),
        _mm256_permute2x128_si256::<0x31>(s0123, s4567),
    )
}
