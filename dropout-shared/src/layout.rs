//! The storage order of a dense layer's weights.
//!
//! A layer with `fan_in` inputs and `size` neurons stores Wᵀ cut into panels of [`PANEL`]
//! neurons: panel p holds, input after input, the weights from that input to neurons
//! p·PANEL … p·PANEL + PANEL − 1, so that a pass over one panel reads one contiguous stretch of
//! memory and a dropped input's weights are skipped as a whole. The last panel is narrower when
//! `size` is not a multiple of `PANEL`.
//!
//! ```
//! use dropout_shared::layout::{PANEL, offset, panels};
//!
//! // 2 inputs, 66 neurons: a full panel of 64, then a panel of 2.
//! assert_eq!(offset(2, 66, 0, 1), PANEL);        // input 1 of neuron 0 follows input 0's row
//! assert_eq!(offset(2, 66, 65, 0), 2 * PANEL + 1); // the second panel starts after 2 · 64 values
//! assert_eq!(panels(2, 66).map(|p| p.width).collect::<Vec<_>>(), [64, 2]);
//! ```

use core::ops::Range;

/// Neurons per panel.
pub const PANEL: usize = 64;

/// Where the weight from `input` to `neuron` lives in the storage of a layer with `fan_in`
/// inputs and `size` neurons.
#[must_use]
pub const fn offset(fan_in: usize, size: usize, neuron: usize, input: usize) -> usize {
    let panel = neuron / PANEL;
    let full_panels = size / PANEL;
    let width = if panel < full_panels {
        PANEL
    } else {
        size - full_panels * PANEL
    };
    panel * PANEL * fan_in + input * width + neuron % PANEL
}

/// One panel: neurons `first .. first + width`, stored from `start` on, `width` values per input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Panel {
    /// The panel's first neuron.
    pub first: usize,
    /// The number of neurons in the panel.
    pub width: usize,
    /// Where the panel's weights start in the layer's storage.
    pub start: usize,
}

impl Panel {
    /// The panel's neurons.
    #[must_use]
    pub fn neurons(self) -> Range<usize> {
        self.first..self.first + self.width
    }

    /// The panel's stretch of storage.
    #[must_use]
    pub fn storage(self, fan_in: usize) -> Range<usize> {
        self.start..self.start + fan_in * self.width
    }
}

/// The panels of a layer with `fan_in` inputs and `size` neurons, in storage order.
pub fn panels(fan_in: usize, size: usize) -> impl Iterator<Item = Panel> {
    (0..size.div_ceil(PANEL)).map(move |p| {
        let first = p * PANEL;
        Panel {
            first,
            width: PANEL.min(size - first),
            start: first * fan_in,
        }
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec;

    use super::{PANEL, offset, panels};

    #[test]
    fn offsets_enumerate_the_storage_once() {
        for (fan_in, size) in [(3, 2), (5, PANEL), (4, PANEL + 9), (2, 3 * PANEL + 1)] {
            let mut seen = vec![false; fan_in * size];
            for n in 0..size {
                for i in 0..fan_in {
                    let at = offset(fan_in, size, n, i);
                    assert!(!seen[at], "({n}, {i}) of {fan_in}×{size}");
                    seen[at] = true;
                }
            }
            assert!(seen.iter().all(|&s| s));
            let covered: usize = panels(fan_in, size).map(|p| p.storage(fan_in).len()).sum();
            assert_eq!(covered, fan_in * size);
        }
    }

    #[test]
    fn a_panel_stores_one_input_after_another() {
        // 2 inputs, 66 neurons: in the first panel, input 0's weights to neurons 0..64, then
        // input 1's; the second panel (neurons 64 and 65) follows.
        assert_eq!(offset(2, 66, 3, 0), 3);
        assert_eq!(offset(2, 66, 3, 1), 64 + 3);
        assert_eq!(offset(2, 66, 64, 0), 128);
        assert_eq!(offset(2, 66, 64, 1), 130);
        assert_eq!(offset(2, 66, 65, 1), 131);
    }
}
