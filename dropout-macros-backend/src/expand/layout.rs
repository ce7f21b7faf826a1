//! Weights read from a safetensors file, put in the order `dropout-runtime` stores them
//! ([`dropout_shared::layout`]), so that the `const` holding them is one copy to evaluate however
//! many there are.

use dropout_shared::layout::offset;

/// `rows` (one row of `fan_in` values per neuron, `width` bytes per value) in storage order.
pub(super) fn storage_order(rows: &[u8], fan_in: usize, size: usize, width: usize) -> Vec<u8> {
    let mut out = vec![0; rows.len()];
    for (slot, value) in rows.chunks_exact(width).enumerate() {
        let (neuron, input) = (slot / fan_in, slot % fan_in);
        let at = offset(fan_in, size, neuron, input) * width;
        out[at..at + width].copy_from_slice(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::storage_order;

    #[test]
    fn storage_is_a_permutation_by_panels() {
        // 2 inputs, 66 neurons: a full panel of 64, then a panel of 2.
        let (fan_in, size) = (2, 66);
        let rows: Vec<u8> = (0..fan_in * size).map(|k| k as u8).collect();
        let stored = storage_order(&rows, fan_in, size, 1);
        // First panel, input 0: neurons 0..64 → row-major slots 0, 2, 4, …
        assert_eq!(&stored[..3], &[0, 2, 4]);
        // First panel, input 1 starts at 64: slots 1, 3, …
        assert_eq!(stored[64], 1);
        // Second panel (neurons 64 and 65), input 0 then input 1.
        assert_eq!(&stored[128..], &[128, 130, 129, 131]);
        let mut sorted = stored.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, rows);
    }
}
