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
//!   pair sums — 255 · 127 · 2 does not fit — so it would not be exact; the ways around it that
//!   were measured, sign flips and nibble splits, were slower on a Zen 3 than widening.)
//! - **Portable**: one product at a time.
//!
//! Eight rows share each load of the input. Layers smaller than the dispatch threshold run the
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
        if OUT >= 8 {
            let channels = x86::Channels {
                dots: self.dots,
                row_sums: self.row_sums,
                bias: self.bias,
                multipliers: self.multipliers,
                input_zero_point: self.input_zero_point,
                output_zero_point: self.output_zero_point,
                range: self.range,
                rounding: self.rounding,
            };
            let done = match InstructionSet::current() {
                InstructionSet::Avx512 if OUT >= 16 => x86::requantize_avx512(&channels, out),
                InstructionSet::Avx512 | InstructionSet::Avx2 => {
                    x86::requantize_avx2(&channels, out)
                }
                InstructionSet::Portable => 0,
            };
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

/// Batches at least this long are multiplied by [`packed`]'s kernel on AVX2 without VNNI:
/// below, packing the weights costs more than it saves.
#[cfg(all(feature = "std", target_arch = "x86_64"))]
const PACKED_MIN_ROWS: usize = 16;

/// `Σᵢ weights[c][i] · x[r][i]`, wrapping, for every row `r` of `x`, handed to `each(r, dots)`
/// in order: AVX2 without VNNI multiplies batches of [`PACKED_MIN_ROWS`] rows or more with the
/// weights widened once ([`packed`]), everything else goes four rows at a time through
/// [`dot_rows4`].
#[cfg(feature = "alloc")]
pub(crate) fn dot_batch<const IN: usize, const OUT: usize>(
    weights: &[[i8; IN]; OUT],
    row_sums: &[i32; OUT],
    x: &[[i8; IN]],
    mut each: impl FnMut(usize, &[i32; OUT]),
) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if IN * OUT >= DISPATCH_THRESHOLD
        && x.len() >= PACKED_MIN_ROWS
        && match InstructionSet::current() {
            InstructionSet::Avx2 => true,
            InstructionSet::Avx512 => !x86::vnni_available(),
            InstructionSet::Portable => false,
        }
    {
        return packed::product(
            weights.as_flattened(),
            IN,
            OUT,
            x.as_flattened(),
            |first, sums, stride| {
                for (r, row) in sums.chunks_exact(stride).enumerate() {
                    if let Some(dots) = row.first_chunk::<OUT>() {
                        each(first + r, dots);
                    }
                }
            },
        );
    }
    let (x4, x1) = x.as_chunks::<4>();
    let mut dots = [[0i32; OUT]; 4];
    for (k, x) in x4.iter().enumerate() {
        dot_rows4(weights, row_sums, x, &mut dots);
        for (j, dots) in dots.iter().enumerate() {
            each(4 * k + j, dots);
        }
    }
    for (j, x) in x1.iter().enumerate() {
        dot_rows(weights, row_sums, x, &mut dots[0]);
        each(4 * x4.len() + j, &dots[0]);
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
mod x86;

#[cfg(all(feature = "std", target_arch = "x86_64"))]
#[expect(
    unsafe_code,
    reason = "vector intrinsics: a `target_feature` function called after checking the CPU, and loads within the buffers' bounds"
)]
mod packed;

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

    /// A requantization of `N` channels compared on every instruction set. With `near`, the
    /// accumulators are chosen so that `acc · M` lands within a few hundred of zero, where
    /// every rounding step shows in the int8 output instead of being clamped away.
    fn requantize_case<const N: usize>(
        seq: &mut Sequence,
        rounding: Rounding,
        trial: usize,
        near: bool,
    ) {
        let multipliers: [QuantizedMultiplier; N] = core::array::from_fn(|c| {
            let exponent = (seq.next() % 70) as i32 - 40;
            let m = (1.0 + (seq.next() % 1000) as f64 / 1000.0) * 2f64.powi(exponent);
            let mut q = QuantizedMultiplier::new(m, rounding).unwrap();
            if c == 0 && !near {
                q.multiplier = i32::MIN;
            }
            q
        });
        let dots: [i32; N] = core::array::from_fn(|c| match c {
            _ if near => {
                let q = multipliers[c];
                let m = f64::from(q.multiplier) * 2f64.powi(q.shift - 31);
                let target = (seq.next() % 600) as f64 - 300.0;
                if m == 0.0 {
                    0
                } else {
                    (target / m).clamp(-2e9, 2e9) as i32
                }
            }
            0 => i32::MIN,
            1 => i32::MAX,
            2 => 0,
            _ => ((seq.next() >> 32) as u32).cast_signed() >> (seq.next() % 31),
        });
        let row_sums: [i32; N] = core::array::from_fn(|_| {
            if near {
                0
            } else {
                (seq.next() >> 48) as i32 - 32768
            }
        });
        let bias: [i32; N] = core::array::from_fn(|_| {
            if near {
                (seq.next() % 7) as i32 - 3
            } else {
                (seq.next() >> 40) as i32 - (1 << 23)
            }
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
        // Multipliers over every shift, accumulators over the whole range, extremes included,
        // and accumulators whose product lands inside int8; whole groups of 16 (and 8)
        // channels and groups with channels left over.
        let mut seq = Sequence(7);
        for rounding in [Rounding::Double, Rounding::Single] {
            for trial in 0..60 {
                for near in [false, true] {
                    requantize_case::<16>(&mut seq, rounding, trial, near);
                    requantize_case::<17>(&mut seq, rounding, trial, near);
                    requantize_case::<40>(&mut seq, rounding, trial, near);
                    requantize_case::<64>(&mut seq, rounding, trial, near);
                }
            }
        }
    }

    /// The batch product on every set, against single products: batches below and above the
    /// packed kernel's minimum, with rows left over from its tiles and its chunks.
    fn batches_agree<const IN: usize, const OUT: usize>(seed: u32) {
        let (w, _) = case::<IN, OUT>(seed);
        let sums = row_sums(&w);
        for rows in [3, 16, 23, 97, 200] {
            let x: Vec<[i8; IN]> = (0..rows)
                .map(|r| case::<IN, 1>(seed + 1 + r as u32).1)
                .collect();
            let expected: Vec<[i32; OUT]> = x
                .iter()
                .map(|x| {
                    let mut out = [0i32; OUT];
                    portable(&w, x, &mut out);
                    out
                })
                .collect();
            for set in InstructionSet::ALL.into_iter().filter(|s| s.is_available()) {
                let mut out = vec![[0i32; OUT]; rows];
                let mut order = Vec::new();
                set.run(|| {
                    dot_batch(&w, &sums, &x, |r, dots| {
                        out[r] = *dots;
                        order.push(r);
                    });
                })
                .unwrap();
                assert_eq!(out, expected, "{set:?}, {IN}×{OUT}, {rows} rows");
                assert_eq!(
                    order,
                    (0..rows).collect::<Vec<_>>(),
                    "{set:?}: every row, in order"
                );
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_exact_sums_of_batches() {
        batches_agree::<784, 20>(11);
        batches_agree::<65, 16>(12);
        batches_agree::<300, 33>(13);
        batches_agree::<257, 8>(14);
        // No padding after layers with padding: the kept buffers hold what those left.
        batches_agree::<64, 32>(15);
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
        // Wider than the AVX2 kernel's block of widened input (1024), up to four times over.
        every_set_agrees::<1100, 13>(9);
        every_set_agrees::<4200, 5>(10);
    }

    #[test]
    fn the_largest_products_stay_exact() {
        // The largest products of either sign, in every lane and pair, over several blocks:
        // inputs of 127 and −127 against weights of −128 and 127 (the sums stay inside `i32`).
        const IN: usize = 4064;
        let mut w = [[0i8; IN]; 4];
        let mut inputs = [[0i8; IN]; 4];
        for (c, (row, x)) in w.iter_mut().zip(&mut inputs).enumerate() {
            row.fill(if c % 2 == 0 { i8::MIN } else { i8::MAX });
            x.fill(if c < 2 { i8::MAX } else { -127 });
        }
        let sums = row_sums(&w);
        for x in &inputs {
            let exact: [i32; 4] = core::array::from_fn(|c| {
                w[c].iter()
                    .zip(x)
                    .map(|(&a, &b)| i32::from(a) * i32::from(b))
                    .sum()
            });
            for set in InstructionSet::ALL.into_iter().filter(|s| s.is_available()) {
                let mut out = [0i32; 4];
                set.run(|| dot_rows(&w, &sums, x, &mut out)).unwrap();
                assert_eq!(out, exact, "{set:?}");
            }
        }
    }
}
