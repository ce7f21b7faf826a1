//! What every int8 network that `network!` generates gives generic code: its architecture, the
//! quantization of its ends, and each layer's integers and scales.

use dropout_shared::quant::FusedActivation;

use super::{Dense, Quantization, Stage, Table};
use crate::NetworkSpec;

/// An int8 network: declared over `i8` (`struct Net<i8> { …, from: tflite("…") }`) or the twin
/// of a float network (`quantize: int8 as Twin`).
pub trait QuantizedNetwork {
    /// The architecture as declared; its scalar is `"i8"`.
    const SPEC: NetworkSpec;
    /// Whether the imported file's graph takes (first) and gives (second) `float32`, through
    /// `QUANTIZE` and `DEQUANTIZE`.
    const FLOAT_IO: (bool, bool);

    /// Layer `idx` (0 is the first), as its evaluation pass computes it.
    fn layer(&self, idx: usize) -> Option<LayerParts<'_>>;

    /// The quantization of the input: the first layer's.
    fn input_quantization(&self) -> Option<Quantization> {
        self.layer(0).map(|layer| layer.input)
    }

    /// The quantization of the output: the last layer's.
    fn output_quantization(&self) -> Option<Quantization> {
        self.layer(Self::SPEC.layers.len().checked_sub(1)?)
            .map(|layer| layer.output)
    }
}

/// One int8 layer's parameters: what a `FULLY_CONNECTED` operator holds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerParts<'a> {
    /// `outputs` rows of `inputs` weights, row-major.
    pub weights: &'a [i8],
    /// The evaluation pass's bias, one per output channel.
    pub bias: &'a [i32],
    /// One weight scale (per tensor) or one per output channel.
    pub weight_scales: &'a [f32],
    /// The input's quantization.
    pub input: Quantization,
    /// The output's quantization (after the table, if there is one).
    pub output: Quantization,
    /// The fused activation.
    pub activation: FusedActivation,
    /// The table of an activation the layer does not fuse; the sums requantize to its
    /// [`input`](Table::input) quantization.
    pub table: Option<&'a Table>,
}

impl<const IN: usize, const OUT: usize, A: Stage> Dense<IN, OUT, A> {
    /// The layer's parameters as its evaluation pass uses them.
    pub fn parts(&self) -> LayerParts<'_> {
        let frame = self.frame();
        LayerParts {
            weights: self.weights().as_flattened(),
            bias: &self.eval().bias,
            weight_scales: self.weight_scales(),
            input: frame.input,
            output: self.output(),
            activation: frame.activation,
            table: self.stage().table(),
        }
    }
}
