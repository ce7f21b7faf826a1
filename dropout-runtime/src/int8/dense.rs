//! The fixed-shape int8 layer that `network!` generates for a network declared over `i8`, and
//! the quantization of its float input and output.

use dropout_shared::quant::{FusedActivation, QuantizedMultiplier, Rounding};
pub use dropout_shared::quant::{Quantization, Table};

/// The bias and requantization multipliers of one pass of a layer: the file's own, or, for a
/// layer fed by a dropout site, those with the site's scale factor folded into its input scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Requantization<const OUT: usize> {
    /// One int32 bias per output channel.
    pub bias: [i32; OUT],
    /// One multiplier per output channel (all equal for per-tensor weight scales).
    pub multipliers: [QuantizedMultiplier; OUT],
}

/// One int8 fully connected layer with its fused activation, as TFLite's `FULLY_CONNECTED`:
/// `y = clamp(requantize(bias + W·(x − z_in)) + z_out, min, max)`; or, for an activation it
/// cannot fuse (sigmoid, tanh, …), the same requantized to the pre-activation's quantization and
/// looked up in the activation's [`Table`].
///
/// A layer that a dropout site feeds has two [`Requantization`]s: `eval` for the evaluation
/// pass and `train` for the masked pass, where a dropped input unit contributes nothing (it
/// takes the zero point, real 0) and the scale factor of the kept ones (1/keep under inverted
/// scaling) is part of the multipliers and the bias. Without a site the two are the same.
///
/// It keeps the scales it was quantized with (its input's, its output's, one per weight
/// channel) beside the integers: the passes do not read them, export does.
///
/// `A` is what follows the requantization: [`Fused`] (nothing: a fused activation), or the
/// [`Table`] of an activation the layer does not fuse (an imported `LOGISTIC` or `TANH`, a
/// twin's sigmoid, tanh, ELU, …), which maps the requantized pre-activation to the layer's
/// output.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<const IN: usize, const OUT: usize, A = Fused> {
    weights: [[i8; IN]; OUT],
    /// `Σᵢ w[c][i]`, for the zero point: `Σ w·(x − z) = Σ w·x − z · Σ w`.
    row_sums: [i32; OUT],
    weight_scales: [f32; OUT],
    frame: Frame,
    eval: Requantization<OUT>,
    train: Requantization<OUT>,
    stage: A,
}

/// The fixed parts of a [`Dense`] layer: its input's and output's quantization, its fused
/// activation with the integer range it clamps to, and the rounding of its requantization.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// The input's quantization.
    pub input: Quantization,
    /// The quantization the sums requantize to: the layer's output, or, for a layer with a
    /// [`Table`], the pre-activation (the table's [`input`](Table::input)).
    pub output: Quantization,
    /// The fused activation ([`Linear`](FusedActivation::Linear) for a layer with a table).
    pub activation: FusedActivation,
    /// The fused activation's integer range for the output's quantization, `min ≤ max`
    /// ([`FusedActivation::range`]).
    pub range: (i8, i8),
    /// How the accumulator is requantized.
    pub rounding: Rounding,
}

/// What follows a [`Dense`] layer's requantization: nothing beyond its fused clamp
/// ([`Fused`]), or an activation's [`Table`].
pub trait Stage: Clone + core::fmt::Debug + PartialEq + sealed::Sealed {
    /// The table, if there is one.
    fn table(&self) -> Option<&Table>;

    /// Maps the requantized outputs through the stage.
    fn apply<const N: usize>(&self, y: &mut [i8; N]);

    /// The stage holding `table` (`None` for a fused activation); `None` if this stage cannot
    /// hold it.
    #[doc(hidden)]
    fn from_table(table: Option<Table>) -> Option<Self>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Fused {}
    impl Sealed for super::Table {}
}

/// The stage of a layer that fuses its activation (`identity`, `relu`, `relu6`) into the clamp
/// of its requantization: nothing more, and no bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Fused;

impl Stage for Fused {
    fn table(&self) -> Option<&Table> {
        None
    }

    #[inline]
    fn apply<const N: usize>(&self, _: &mut [i8; N]) {}

    fn from_table(table: Option<Table>) -> Option<Self> {
        table.is_none().then_some(Fused)
    }
}

impl Stage for Table {
    fn table(&self) -> Option<&Table> {
        Some(self)
    }

    #[inline]
    fn apply<const N: usize>(&self, y: &mut [i8; N]) {
        for v in y {
            *v = self.lookup(*v);
        }
    }

    fn from_table(table: Option<Table>) -> Option<Self> {
        table
    }
}

impl<const IN: usize, const OUT: usize> Dense<IN, OUT> {
    /// The layer from its weights (`[out][in]`, as TFLite stores them) and their scales (one
    /// per output channel; all equal for a per-tensor scale), its frame and the two
    /// requantizations. Evaluated at compile time by the generated `new()`.
    #[must_use]
    pub const fn new(
        weights: [[i8; IN]; OUT],
        weight_scales: [f32; OUT],
        frame: Frame,
        eval: Requantization<OUT>,
        train: Requantization<OUT>,
    ) -> Self {
        Dense::with_stage(weights, weight_scales, frame, eval, train, Fused)
    }

    /// A layer whose weights, biases and multipliers are all zero: every output is its zero
    /// point 0, clamped to int8.
    #[must_use]
    pub const fn zeroed() -> Self {
        Dense::zeroed_with(Fused)
    }
}

impl<const IN: usize, const OUT: usize, A: Stage> Dense<IN, OUT, A> {
    /// [`Dense::new`] followed by `stage`: for a [`Table`], the frame's output is the
    /// pre-activation's quantization, the table's input.
    #[must_use]
    pub const fn with_stage(
        weights: [[i8; IN]; OUT],
        weight_scales: [f32; OUT],
        frame: Frame,
        eval: Requantization<OUT>,
        train: Requantization<OUT>,
        stage: A,
    ) -> Self {
        Dense {
            row_sums: crate::kernel::int8::row_sums(&weights),
            weights,
            weight_scales,
            frame,
            eval,
            train,
            stage,
        }
    }

    /// What follows the requantization.
    pub const fn stage(&self) -> &A {
        &self.stage
    }

    /// The quantization of the layer's output: its table's output, or the frame's.
    pub fn output(&self) -> Quantization {
        self.stage
            .table()
            .map_or(self.frame.output, |table| table.output)
    }

    /// The weight scale of each output channel.
    pub const fn weight_scales(&self) -> &[f32; OUT] {
        &self.weight_scales
    }

    /// The input's and output's quantization, the fused activation and the rounding.
    pub const fn frame(&self) -> &Frame {
        &self.frame
    }

    /// A layer whose weights, biases and multipliers are all zero, followed by `stage`: what
    /// a network that failed to compile holds, so that only the declaration's errors show.
    #[must_use]
    pub const fn zeroed_with(stage: A) -> Self {
        let requantization = Requantization {
            bias: [0; OUT],
            multipliers: [QuantizedMultiplier {
                multiplier: 0,
                shift: 0,
            }; OUT],
        };
        let unit = Quantization {
            scale: 1.0,
            zero_point: 0,
        };
        let frame = Frame {
            input: unit,
            output: unit,
            activation: FusedActivation::Linear,
            range: (i8::MIN, i8::MAX),
            rounding: Rounding::Double,
        };
        Dense::with_stage(
            [[0; IN]; OUT],
            [1.0; OUT],
            frame,
            requantization,
            requantization,
            stage,
        )
    }

    /// The int8 weights, one row per output channel.
    pub const fn weights(&self) -> &[[i8; IN]; OUT] {
        &self.weights
    }

    /// The evaluation pass's bias and multipliers.
    pub const fn eval(&self) -> &Requantization<OUT> {
        &self.eval
    }

    /// The masked pass's bias and multipliers.
    pub const fn train(&self) -> &Requantization<OUT> {
        &self.train
    }

    /// The evaluation pass: bit for bit TFLite's `FULLY_CONNECTED` when the layer is the
    /// file's.
    #[must_use]
    pub fn forward(&self, x: &[i8; IN]) -> [i8; OUT] {
        self.finish(x, &self.eval)
    }

    /// The masked pass: a unit with a `false` bit contributes as its zero point would (real 0);
    /// the rest go through the `train` requantization.
    #[must_use]
    pub fn forward_masked(&self, x: &[i8; IN], keep: &[bool; IN]) -> [i8; OUT] {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a zero point lies in int8 (checked where the layer is built)"
        )]
        let z = self.frame.input.zero_point as i8;
        let mut kept = *x;
        for (v, &k) in kept.iter_mut().zip(keep) {
            if !k {
                *v = z;
            }
        }
        self.finish(&kept, &self.train)
    }

    /// [`forward`](Self::forward) of four inputs at once (the batch passes: on AVX-512 VNNI
    /// each weight is loaded once for the four).
    #[must_use]
    pub fn forward4(&self, x: &[[i8; IN]; 4]) -> [[i8; OUT]; 4] {
        let mut dots = [[0i32; OUT]; 4];
        crate::kernel::int8::dot_rows4(&self.weights, &self.row_sums, x, &mut dots);
        dots.map(|dots| self.requantize(&dots, &self.eval))
    }

    /// The masked pass of a layer no site feeds (its `train` requantization is its `eval` one,
    /// or the one a classic-scaling network trains with).
    #[must_use]
    pub fn forward_train(&self, x: &[i8; IN]) -> [i8; OUT] {
        self.finish(x, &self.train)
    }

    /// [`forward`](Self::forward) of each row of `x` into the same row of `y`, the whole
    /// batch's products at once (on AVX2 without VNNI, with the weights widened once for the
    /// batch): what the generated `forward_quantized_batch` runs layer by layer.
    ///
    /// # Errors
    /// [`Error::OutputRows`](crate::Error::OutputRows) if `y` is not as long as `x`; `y` is
    /// then left as it was.
    ///
    /// ```
    /// use dropout::int8::{Dense, Frame, Quantization, Requantization};
    /// use dropout::quant::{FusedActivation, QuantizedMultiplier, Rounding};
    ///
    /// let half = QuantizedMultiplier::new(0.5, Rounding::Double).unwrap();
    /// let requantization = Requantization { bias: [0, 4], multipliers: [half; 2] };
    /// let unit = Quantization { scale: 1.0, zero_point: 0 };
    /// let frame = Frame {
    ///     input: unit,
    ///     output: unit,
    ///     activation: FusedActivation::Linear,
    ///     range: (-128, 127),
    ///     rounding: Rounding::Double,
    /// };
    /// let layer = Dense::new([[1, 2], [3, -4]], [1.0; 2], frame, requantization, requantization);
    /// let x = [[10, 20], [-2, 1]];
    /// let mut y = [[0i8; 2]; 2];
    /// layer.forward_rows(&x, &mut y)?;
    /// assert_eq!(y, [layer.forward(&x[0]), layer.forward(&x[1])]);
    /// assert_eq!(y[0], [25, -23]); // (50 / 2, (30 − 80 + 4) / 2)
    /// # Ok::<(), dropout::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn forward_rows(&self, x: &[[i8; IN]], y: &mut [[i8; OUT]]) -> Result<(), crate::Error> {
        if x.len() != y.len() {
            return Err(crate::Error::OutputRows {
                expected: x.len(),
                found: y.len(),
            });
        }
        crate::kernel::int8::dot_batch(&self.weights, &self.row_sums, x, |r, dots| {
            if let Some(y) = y.get_mut(r) {
                *y = self.requantize(dots, &self.eval);
            }
        });
        Ok(())
    }

    /// `clamp(requantize(bias + Σ w·x − z_in · Σ w) + z_out)`, which is TFLite's
    /// `bias + Σ w·(x − z_in)` in wrapping `i32` arithmetic, whatever the order of the sum.
    fn finish(&self, x: &[i8; IN], requantization: &Requantization<OUT>) -> [i8; OUT] {
        let mut dots = [0i32; OUT];
        crate::kernel::int8::dot_rows(&self.weights, &self.row_sums, x, &mut dots);
        self.requantize(&dots, requantization)
    }

    /// The output stage from the dot products `Σ w·x`, then the table if there is one.
    fn requantize(&self, dots: &[i32; OUT], requantization: &Requantization<OUT>) -> [i8; OUT] {
        let mut y = [0i8; OUT];
        crate::kernel::int8::Requantize {
            dots,
            row_sums: &self.row_sums,
            bias: &requantization.bias,
            multipliers: &requantization.multipliers,
            input_zero_point: self.frame.input.zero_point,
            output_zero_point: self.frame.output.zero_point,
            range: self.frame.range,
            rounding: self.frame.rounding,
        }
        .run(&mut y);
        self.stage.apply(&mut y);
        y
    }
}

/// `OUT` rows of `IN` int8 weights from their bytes (two's complement, row after row), at
/// compile time: `network!` embeds an imported layer's weights as one byte string, which the
/// compiler evaluates in one step where a literal per weight would take it minutes for large
/// layers.
///
/// # Panics
/// If `bytes` is not `IN · OUT` long — at compile time, where the generated code calls it.
#[must_use]
pub const fn weights_from_bytes<const IN: usize, const OUT: usize>(
    bytes: &[u8],
) -> [[i8; IN]; OUT] {
    assert!(bytes.len() == IN * OUT, "the weights are IN · OUT bytes");
    let mut weights = [[0i8; IN]; OUT];
    let mut row = 0;
    while row < OUT {
        let mut col = 0;
        while col < IN {
            weights[row][col] = bytes[row * IN + col].cast_signed();
            col += 1;
        }
        row += 1;
    }
    weights
}

/// The batch passes of int8 networks: `four` on each four rows of `x` into the same rows of
/// `y`, `one` on the rows left over.
///
/// # Errors
/// [`Error::OutputRows`](crate::Error::OutputRows) if `y` is not as long as `x`; `y` is then
/// left as it was.
pub fn batch<const N: usize, const M: usize>(
    x: &[[i8; N]],
    y: &mut [[i8; M]],
    mut four: impl FnMut(&[[i8; N]; 4]) -> [[i8; M]; 4],
    mut one: impl FnMut(&[i8; N]) -> [i8; M],
) -> Result<(), crate::Error> {
    if x.len() != y.len() {
        return Err(crate::Error::OutputRows {
            expected: x.len(),
            found: y.len(),
        });
    }
    let (x4, x1) = x.as_chunks::<4>();
    let (y4, y1) = y.as_chunks_mut::<4>();
    for (rows, out) in x4.iter().zip(y4) {
        *out = four(rows);
    }
    for (row, out) in x1.iter().zip(y1) {
        *out = one(row);
    }
    Ok(())
}

/// Rows of a batch that [`batch_layers`] gives its pass at a time: enough for the products to
/// run at full speed, few enough that each layer's outputs stay in the L2 cache.
#[cfg(feature = "alloc")]
pub const BATCH_ROWS: usize = 256;

/// The batch pass of int8 networks layer by layer: `pass` on each [`BATCH_ROWS`] rows of `x`
/// into the same rows of `y`, running each layer on all of them ([`Dense::forward_rows`]).
///
/// # Errors
/// [`Error::OutputRows`](crate::Error::OutputRows) if `y` is not as long as `x` (`y` is then
/// left as it was), or `pass`'s error.
#[cfg(feature = "alloc")]
pub fn batch_layers<const N: usize, const M: usize>(
    x: &[[i8; N]],
    y: &mut [[i8; M]],
    mut pass: impl FnMut(&[[i8; N]], &mut [[i8; M]]) -> Result<(), crate::Error>,
) -> Result<(), crate::Error> {
    if x.len() != y.len() {
        return Err(crate::Error::OutputRows {
            expected: x.len(),
            found: y.len(),
        });
    }
    for (x, y) in x.chunks(BATCH_ROWS).zip(y.chunks_mut(BATCH_ROWS)) {
        pass(x, y)?;
    }
    Ok(())
}

/// `n` rows of `H` zeros: a layer's outputs in [`batch_layers`]' passes.
#[cfg(feature = "alloc")]
#[must_use]
pub fn rows<const H: usize>(n: usize) -> alloc::vec::Vec<[i8; H]> {
    core::iter::repeat_n([0i8; H], n).collect()
}

/// The float view of an int8 pass: `NaN` anywhere in `x` gives NaN everywhere (no int8 value
/// stands for it, and a number would look plausible); otherwise each input is quantized as the
/// network's input, `pass` runs in integers and each output is dequantized.
pub fn through_integers<const N: usize, const M: usize>(
    x: &[f32; N],
    input: Quantization,
    output: Quantization,
    pass: impl FnOnce(&[i8; N]) -> [i8; M],
) -> [f32; M] {
    if x.iter().any(|v| v.is_nan()) {
        return [f32::NAN; M];
    }
    let q = x.map(|v| input.quantize(v));
    pass(&q).map(|v| output.dequantize(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(rounding: Rounding) -> Dense<2, 2> {
        let m = QuantizedMultiplier::new(0.5, rounding).unwrap();
        let eval = Requantization {
            bias: [10, -10],
            multipliers: [m; 2],
        };
        let train = Requantization {
            bias: [5, -5],
            multipliers: [QuantizedMultiplier::new(1.0, rounding).unwrap(); 2],
        };
        let frame = Frame {
            input: Quantization {
                scale: 0.5,
                zero_point: -2,
            },
            output: Quantization {
                scale: 0.25,
                zero_point: 1,
            },
            activation: FusedActivation::Relu,
            range: (1, 127),
            rounding,
        };
        Dense::new([[1, 2], [-3, 4]], [0.25; 2], frame, eval, train)
    }

    #[test]
    fn passes_compute_the_integer_formula() {
        for rounding in [Rounding::Double, Rounding::Single] {
            let layer = layer(rounding);
            // x − z = (4, 8): acc = (4 + 16 + 10, −12 + 32 − 10) = (30, 10); × 0.5 = (15, 5); + 1.
            assert_eq!(layer.forward(&[2, 6]), [16, 6]);
            // Unit 1 dropped: (4, 0): acc = (4 + 5, −12 − 5) = (9, −17); × 1 + 1 = (10, −16),
            // clamped below at the ReLU's zero point 1.
            assert_eq!(layer.forward_masked(&[2, 6], &[true, false]), [10, 1]);
            // Without a mask the train requantization sees every unit: (4 + 16 + 5, −12 + 32 − 5) + 1.
            assert_eq!(layer.forward_train(&[2, 6]), [26, 16]);
        }
    }

    #[test]
    fn weights_read_from_bytes_row_by_row() {
        const W: [[i8; 3]; 2] = weights_from_bytes(&[1, 0xff, 0x80, 127, 0, 2]);
        assert_eq!(W, [[1, -1, -128], [127, 0, 2]]);
    }

    #[test]
    fn nan_stays_nan_and_infinities_saturate() {
        let io = Quantization {
            scale: 0.25,
            zero_point: 0,
        };
        let pass = |q: &[i8; 2]| *q;
        let y = through_integers(&[1.0, f32::NAN], io, io, pass);
        assert!(y.iter().all(|v| v.is_nan()), "{y:?}");
        assert_eq!(
            through_integers(&[f32::INFINITY, f32::NEG_INFINITY], io, io, pass),
            [127.0 * 0.25, -128.0 * 0.25]
        );
    }
}
