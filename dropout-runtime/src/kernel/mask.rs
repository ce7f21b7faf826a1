//! Masked passes: listing the kept units of a dropout mask, so that the pass reads only their
//! weights.

use core::ops::{Index, IndexMut};

use super::{InstructionSet, Kernel, ListedRows, accumulate};
use crate::Float;

/// [`masked`] as a [`Kernel`].
pub(crate) struct Masked<'a, T, const IN: usize, const OUT: usize> {
    pub z: &'a mut [T; OUT],
    pub values: &'a [T; IN],
    pub mask: &'a [bool; IN],
    pub scale: T,
    pub weights: &'a [[T; OUT]; IN],
}

impl<T: Float, const IN: usize, const OUT: usize> Kernel for Masked<'_, T, IN, OUT> {
    type Output = ();

    #[inline(always)]
    fn run(self, isa: InstructionSet) {
        masked(
            self.z,
            self.values,
            self.mask,
            self.scale,
            self.weights,
            isa,
        );
    }
}

/// `z += W·(a ⊙ μ · scale)` with the rows of dropped inputs skipped, for weights in storage
/// order; every `z` is NaN instead when a dropped input is NaN or infinite (the product
/// `a · 0` it stands for is NaN).
#[inline(always)]
pub(crate) fn masked<T: Float, const IN: usize, const OUT: usize>(
    z: &mut [T; OUT],
    values: &[T; IN],
    mask: &[bool; IN],
    scale: T,
    weights: &[[T; OUT]; IN],
    isa: InstructionSet,
) {
    // Non-short-circuiting `|`, so that the check runs on vectors.
    let dropped_non_finite = mask.iter().zip(values).fold(false, |any, (&bit, &value)| {
        any | (!bit & !value.is_finite())
    });
    if dropped_non_finite {
        *z = [T::NAN; OUT];
        return;
    }
    let mut inputs = [0_u32; IN];
    let count = list_kept(mask, &mut inputs);
    let rows = ListedRows {
        inputs: &inputs,
        count,
        values,
        scale,
    };
    accumulate(z, rows, weights, isa);
}

/// `zₒ += Σᵢ wₒᵢ · (aᵢ · μₒᵢ · scale)` for the `size` neurons of a layer over `fan_in` inputs,
/// weights in storage order and a DropConnect mask `bits` neuron by neuron (bit
/// `o · fan_in + i`), in the summation order of [`masked`]. A dropped weight adds nothing,
/// unless it or its input is NaN or infinite, which makes `zₒ` NaN (the product `(w · 0) · a`
/// it stands for). The operands are indexed, so that arrays and the rows of a batch serve alike.
pub(crate) fn connected<T, Z, A, M>(
    (fan_in, size): (usize, usize),
    z: &mut Z,
    a: &A,
    bits: &M,
    scale: T,
    weights: &[T],
) where
    T: Float,
    Z: IndexMut<usize, Output = T> + ?Sized,
    A: Index<usize, Output = T> + ?Sized,
    M: Index<usize, Output = bool> + ?Sized,
{
    for neuron in 0..size {
        for input in 0..fan_in {
            let (a, w) = (
                a[input],
                weights[super::offset(fan_in, size, neuron, input)],
            );
            if bits[neuron * fan_in + input] {
                z[neuron] += (a * scale) * w;
            } else if !(a.is_finite() && w.is_finite()) {
                z[neuron] = T::NAN;
            }
        }
    }
}

/// For each byte of eight mask bits: the positions of its set bits, in increasing order, then
/// zeros; and how many bits are set.
const POSITIONS: [([u8; 8], u8); 256] = {
    let mut table = [([0_u8; 8], 0_u8); 256];
    let mut bits = 0_usize;
    while bits < 256 {
        let mut count = 0_u8;
        let mut position = 0_u8;
        while position < 8 {
            if bits >> position & 1 == 1 {
                table[bits].0[count as usize] = position;
                count += 1;
            }
            position += 1;
        }
        table[bits].1 = count;
        bits += 1;
    }
    table
};

/// Writes the indices of the `true` entries of `mask` to the front of `list`, in increasing
/// order, and returns how many there are.
///
/// Eight mask entries at a time, without a branch on their values: the kept positions of each
/// group of eight come from a table, and are written as eight slots of which the next group
/// overwrites those beyond the kept ones. The cost does not depend on the mask, and the
/// (random) mask bits cause no mispredicted branches.
#[inline(always)]
pub(crate) fn list_kept<const IN: usize>(mask: &[bool; IN], list: &mut [u32; IN]) -> usize {
    let mut kept = 0;
    let mut groups = mask.chunks_exact(8);
    for (group, bits) in (&mut groups).enumerate() {
        // The eight bools as the bytes of a word (one load), then bit 0 of each byte gathered
        // into the top byte by one multiplication: the multiplier's bit 56 − 7j moves byte j's
        // bit to bit 56 + j, and no other product lands in the top byte or carries into it.
        let word = u64::from_le_bytes(core::array::from_fn(|j| {
            bits.get(j).copied().map_or(0, u8::from)
        }));
        let byte = word.wrapping_mul(0x0102_0408_1020_4080) >> 56;
        let (positions, count) = POSITIONS[byte as usize & 0xFF];
        // `kept` is at most `8 · group`, so the eight slots lie within the first
        // `8 · (group + 1) ≤ IN`.
        if let Some(slots) = list.get_mut(kept..kept + 8) {
            let base = (group * 8) as u32;
            for (slot, &position) in slots.iter_mut().zip(&positions) {
                *slot = base + u32::from(position);
            }
        }
        kept += usize::from(count);
    }
    let base = IN - groups.remainder().len();
    for (j, &bit) in groups.remainder().iter().enumerate() {
        if let Some(slot) = list.get_mut(kept) {
            *slot = (base + j) as u32;
        }
        kept += usize::from(bit);
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::list_kept;

    fn check<const IN: usize>(mask: [bool; IN]) {
        let mut list = [u32::MAX; IN];
        let kept = list_kept(&mask, &mut list);
        let want: Vec<u32> = (0..IN as u32).filter(|&i| mask[i as usize]).collect();
        assert_eq!(&list[..kept], &want[..], "{mask:?}");
    }

    #[test]
    fn lists_exactly_the_kept_units_in_order() {
        check([true; 19]);
        check([false; 19]);
        check::<0>([]);
        check::<3>([false, true, true]);
        // Every pattern of one group of eight, and of a group plus a remainder.
        for bits in 0..256_u32 {
            check::<8>(core::array::from_fn(|j| bits >> j & 1 == 1));
            check::<11>(core::array::from_fn(|j| {
                (bits.rotate_left(j as u32) ^ j as u32) & 1 == 1
            }));
        }
        // A long pseudo-random mask.
        let mut state = 0x9E37_79B9_u32;
        check::<784>(core::array::from_fn(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state & 1 == 1
        }));
    }
}
