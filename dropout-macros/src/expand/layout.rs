//! The order in which `dropout-runtime` stores a layer's weights, so that weights read from a
//! safetensors file are embedded ready to use: a `const` that copies them costs nothing to
//! evaluate, however many there are.
//!
//! Neurons are grouped in panels of [`PANEL`]; within a panel, the weights of one input to all
//! the panel's neurons are adjacent. The generated code passes [`PANEL`] to the runtime, which
//! refuses (at compile time) a layout other than its own.

/// Neurons per panel, as in `dropout-runtime`.
pub(super) const PANEL: usize = 64;

/// Where the weight from `input` to `neuron` goes, for `fan_in` inputs and `size` neurons.
fn offset(fan_in: usize, size: usize, neuron: usize, input: usize) -> usize {
    let panel = neuron / PANEL;
    let full_panels = size / PANEL;
    let width = if panel < full_panels {
        PANEL
    } else {
        size - full_panels * PANEL
    };
    panel * PANEL * fan_in + input * width + neuron % PANEL
}

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
