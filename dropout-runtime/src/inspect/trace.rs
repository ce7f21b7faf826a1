//! A layer-by-layer record of one forward pass, printable as the hand calculation of a textbook.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use alloc::vec;

use crate::network::MaskView;
use crate::{Dropout, DropoutKind, Float, Layer, Network, NetworkSpec, Scaling, Site};

/// What a site's mask contributes to a trace.
enum SiteRecord<T> {
    Bits(Vec<bool>),
    Noise(Vec<T>),
}

impl<T> SiteRecord<T> {
    fn bits(&self) -> Option<&[bool]> {
        match self {
            SiteRecord::Bits(bits) => Some(bits),
            SiteRecord::Noise(_) => None,
        }
    }
}

/// Every intermediate value of one forward pass: for each layer the pre-activation z, the
/// activation g(z), the dropout mask μ (if the layer has a dropout site) and the values the next
/// layer receives.
///
/// `Display` prints an aligned table; a precision (`{:.3}`) applies to every number.
///
/// # Example
/// ```
/// use dropout::{Scaling, Trace};
///
/// let mut trace = Trace::training("Tiny", Scaling::Classic);
/// trace.push_input(&[1.0_f32, 2.0], Some(&[true, false]), &[1.0, 0.0]);
/// trace.push_layer("output", &[-3.0], &[-3.0], None, &[-3.0]);
/// assert_eq!(trace.prediction(), Some(&[-3.0][..]));
/// assert_eq!(
///     trace.to_string(),
///     "Tiny, training pass (classic scaling)\n\
///      layer   z     g(z)    μ       output\n\
///      input         (1, 2)  (1, 0)  (1, 0)\n\
///      output  (-3)  (-3)            (-3)\n\
///      prediction: (-3)\n"
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Trace<T> {
    network: &'static str,
    scaling: Scaling,
    training: bool,
    rows: Vec<TraceRow<T>>,
}

/// One layer of a [`Trace`]; the first row is the input, which has no pre-activation.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceRow<T> {
    /// The layer's name in the declaration, or `"input"`.
    pub name: &'static str,
    /// The pre-activation z = W·a + b; `None` for the input row.
    pub z: Option<Vec<T>>,
    /// The activation g(z), or the input values for the input row.
    pub activation: Vec<T>,
    /// The dropout mask μ of the layer's site; `None` where the layer has no site, the site is
    /// Gaussian dropout or the pass is in evaluation mode.
    pub mask: Option<Vec<bool>>,
    /// The noise of the layer's Gaussian-dropout site in a training pass (shown in the μ
    /// column); `None` otherwise.
    pub noise: Option<Vec<T>>,
    /// What the next layer receives: the activation after masking and scaling.
    pub output: Vec<T>,
    /// The weights DropConnect dropped in this layer, as `(neuron, input)` pairs; `None`
    /// where the layer has no DropConnect or the pass is in evaluation mode.
    pub dropped_weights: Option<Vec<(usize, usize)>>,
}

impl<T: Float> Trace<T> {
    /// Every intermediate value of a pass of `net` at `x`: the training pass under `masks`, or
    /// with `None` the evaluation pass. This is what a declared network's `trace` and `trace_eval`
    /// call; it walks [`Network::SPEC`] and computes each layer with the same kernels, in the same
    /// order, as the network's own `forward` and `forward_masked`, so its numbers are theirs.
    ///
    /// ```
    /// use dropout::Trace;
    /// use dropout::toy::{Toy, ToyMasks};
    ///
    /// let masks = ToyMasks { input: [true, true], h1: [true, false, true], h2: [true, true, false], h3: [true, true] };
    /// let toy = Toy::new();
    /// assert_eq!(Trace::of(&toy, &[1.0, 1.0], Some(&masks)), toy.trace(&[1.0, 1.0], &masks));
    /// assert_eq!(Trace::of(&toy, &[1.0, 1.0], None).prediction(), Some(&toy.forward(&[1.0, 1.0])[..]));
    /// ```
    pub fn of<N: Network<Scalar = T>>(net: &N, x: &N::Input, masks: Option<&N::Masks>) -> Self {
        let masks = masks.map(|m| m as &dyn MaskView<T>);
        Self::walk(&N::SPEC, |idx| net.layer(idx), x.as_ref(), masks)
    }

    /// [`Trace::of`] for the network `spec` describes, whose layer `idx` is `layer(idx)`: the
    /// one pass behind a declared network's traces and the explorer page's.
    pub(crate) fn walk<'n>(
        spec: &NetworkSpec,
        layer: impl Fn(usize) -> Option<&'n dyn Layer<T>>,
        x: &[T],
        masks: Option<&dyn MaskView<T>>,
    ) -> Self
    where
        T: 'n,
    {
        let mut trace = match masks {
            Some(_) => Self::training(spec.name, spec.scaling),
            None => Self::evaluation(spec.name, spec.scaling),
        };
        // The site of column `depth` (0: the input) transforms `values` in place; what the trace
        // records of its mask.
        let mut site_idx = 0;
        let mut through_site = |dropout: Option<Dropout>, values: &mut [T]| {
            let dropout = dropout?;
            let site = Site::new(spec.scaling, dropout);
            let idx = site_idx;
            site_idx += 1;
            let Some(masks) = masks else {
                site.eval_in_place(values);
                return None;
            };
            if dropout.kind() == DropoutKind::Gaussian {
                let noise = masks.site_noise(idx).unwrap_or(&[]);
                site.noised_in_place(values, noise);
                Some(SiteRecord::Noise(noise.to_vec()))
            } else {
                let bits = masks.site_bits(idx).unwrap_or(&[]);
                site.masked_in_place(values, bits);
                Some(SiteRecord::Bits(bits.to_vec()))
            }
        };
        let mut values: Vec<T> = x.to_vec();
        let record = through_site(spec.input_dropout, &mut values);
        trace.push_input(x, record.as_ref().and_then(SiteRecord::bits), &values);
        trace.record(record);
        let mut connection_idx = 0;
        for (idx, layer_spec) in spec.layers.iter().enumerate() {
            let Some(layer) = layer(idx) else {
                continue;
            };
            let mut z = vec![T::ZERO; layer.size()];
            let mut dropped_weights = None;
            match layer_spec.dropconnect {
                None => {
                    layer.affine_into(&values, &mut z);
                }
                Some(dropconnect) => {
                    let site = Site::new(spec.scaling, dropconnect);
                    match masks.and_then(|m| m.weight_bits(connection_idx)) {
                        Some(bits) => {
                            let factor = spec.scaling.train_factor(dropconnect);
                            layer.affine_connected_into(&values, bits, T::from_f64(factor), &mut z);
                            dropped_weights = Some((bits, layer.fan_in()));
                        }
                        None => {
                            site.eval_in_place(&mut values);
                            layer.affine_into(&values, &mut z);
                        }
                    }
                    connection_idx += 1;
                }
            }
            let mut g = z.clone();
            layer_spec.activation.apply_in_place(&mut g);
            values.clone_from(&g);
            let record = through_site(layer_spec.dropout, &mut values);
            trace.push_layer(
                layer_spec.name,
                &z,
                &g,
                record.as_ref().and_then(SiteRecord::bits),
                &values,
            );
            trace.record(record);
            if let Some((bits, fan_in)) = dropped_weights {
                trace.drop_weights_flat(bits, fan_in);
            }
        }
        trace
    }

    /// An empty trace of a training-mode pass (under masks) of the network called `network`.
    pub fn training(network: &'static str, scaling: Scaling) -> Self {
        Trace {
            network,
            scaling,
            training: true,
            rows: Vec::new(),
        }
    }

    /// An empty trace of an evaluation-mode pass.
    pub fn evaluation(network: &'static str, scaling: Scaling) -> Self {
        Trace {
            network,
            scaling,
            training: false,
            rows: Vec::new(),
        }
    }

    /// Whether the pass is a training-mode pass.
    pub fn is_training(&self) -> bool {
        self.training
    }

    /// Records the input row.
    pub fn push_input(&mut self, input: &[T], mask: Option<&[bool]>, output: &[T]) {
        self.rows.push(TraceRow {
            name: "input",
            z: None,
            activation: input.to_vec(),
            mask: mask.map(<[bool]>::to_vec),
            noise: None,
            output: output.to_vec(),
            dropped_weights: None,
        });
    }

    /// Records one dense layer.
    pub fn push_layer(
        &mut self,
        name: &'static str,
        z: &[T],
        activation: &[T],
        mask: Option<&[bool]>,
        output: &[T],
    ) {
        self.rows.push(TraceRow {
            name,
            z: Some(z.to_vec()),
            activation: activation.to_vec(),
            mask: mask.map(<[bool]>::to_vec),
            noise: None,
            output: output.to_vec(),
            dropped_weights: None,
        });
    }

    /// Records the Gaussian noise of the site on the row pushed last (the input or a layer).
    ///
    /// ```
    /// use dropout::{Scaling, Trace};
    ///
    /// let mut trace = Trace::training("Tiny", Scaling::Inverted);
    /// trace.push_input(&[1.0_f64, 2.0], None, &[0.5, 3.0]);
    /// trace.record_noise(&[0.5, 1.5]);
    /// assert!(trace.to_string().contains("input     (1, 2)  (0.5, 1.5)  (0.5, 3)\n"));
    /// ```
    pub fn record_noise(&mut self, noise: &[T]) {
        if let Some(row) = self.rows.last_mut() {
            row.noise = Some(noise.to_vec());
        }
    }

    /// Records the DropConnect mask of the layer pushed last (`mask[neuron][input]`); the
    /// table is followed by the weights it dropped.
    ///
    /// ```
    /// use dropout::{Scaling, Trace};
    ///
    /// let mut trace = Trace::training("Tiny", Scaling::Inverted);
    /// trace.push_input(&[1.0_f64, 2.0], None, &[1.0, 2.0]);
    /// trace.push_layer("output", &[2.0], &[2.0], None, &[2.0]);
    /// trace.drop_weights(&[[false, true]]);
    /// assert_eq!(trace.layer("output").unwrap().dropped_weights, Some(vec![(0, 0)]));
    /// assert!(trace.to_string().contains("output drops the weights (neuron ← input) 0 ← 0\n"));
    /// ```
    pub fn drop_weights<const IN: usize>(&mut self, mask: &[[bool; IN]]) {
        self.drop_weights_flat(mask.as_flattened(), IN);
    }

    /// [`Trace::drop_weights`] with the mask as one slice, `fan_in` bits per neuron.
    fn drop_weights_flat(&mut self, mask: &[bool], fan_in: usize) {
        if let Some(row) = self.rows.last_mut() {
            let dropped = mask
                .chunks(fan_in.max(1))
                .enumerate()
                .flat_map(|(neuron, row)| {
                    row.iter()
                        .enumerate()
                        .filter(|(_, kept)| !**kept)
                        .map(move |(input, _)| (neuron, input))
                });
            row.dropped_weights = Some(dropped.collect());
        }
    }

    /// Records what a site's mask was, on the row pushed last: Gaussian noise as its own
    /// column (bits were pushed with the row).
    fn record(&mut self, record: Option<SiteRecord<T>>) {
        if let Some(SiteRecord::Noise(noise)) = record {
            self.record_noise(&noise);
        }
    }

    /// The rows, input first.
    pub fn rows(&self) -> &[TraceRow<T>] {
        &self.rows
    }

    /// The row of the layer called `name`.
    pub fn layer(&self, name: &str) -> Option<&TraceRow<T>> {
        self.rows.iter().find(|row| row.name == name)
    }

    /// The network's output: the last row's output values.
    pub fn prediction(&self) -> Option<&[T]> {
        self.rows.last().map(|row| row.output.as_slice())
    }
}

/// How wide a table may grow before it is laid out one unit per row.
const MAX_WIDTH: usize = 100;

/// One value: with `precision`, that many decimals (`{:.3}`); without, [`general`].
fn number<T: Float>(value: T, precision: Option<usize>) -> String {
    match precision {
        Some(p) => format!("{value:.p$}"),
        None => general(value.to_f64()),
    }
}

/// `value` with 6 significant digits and no trailing zeros, in scientific notation below 1e-4
/// or from 1e6 up (C's `%g`): `0.1` for the `f32` 0.1 (whose exact value has 27 digits),
/// `1.5625`, `1.01403e-7`.
pub(crate) fn general(value: f64) -> String {
    if !value.is_finite() || value == 0.0 {
        return format!("{value}");
    }
    let exponent = libm::floor(libm::log10(value.abs()));
    let trim = |digits: &str| -> String {
        if digits.contains('.') {
            digits
                .trim_end_matches('0')
                .trim_end_matches('.')
                .to_string()
        } else {
            digits.to_string()
        }
    };
    if (-4.0..6.0).contains(&exponent) {
        // 6 significant digits: 5 − exponent decimals, the exponent an integer in −4 … 5.
        let decimals = usize::try_from(5 - exponent as i32).unwrap_or(0);
        trim(&format!("{value:.decimals$}"))
    } else {
        let text = format!("{value:.5e}");
        match text.split_once('e') {
            Some((mantissa, power)) => format!("{}e{power}", trim(mantissa)),
            None => text,
        }
    }
}

fn vector<T: Float>(values: &[T], precision: Option<usize>) -> String {
    let mut out = String::from("(");
    for (idx, v) in values.iter().enumerate() {
        if idx > 0 {
            out.push_str(", ");
        }
        out.push_str(&number(*v, precision));
    }
    out.push(')');
    out
}

fn bits(mask: &[bool]) -> String {
    let mut out = String::from("(");
    for (idx, &kept) in mask.iter().enumerate() {
        if idx > 0 {
            out.push_str(", ");
        }
        out.push(if kept { '1' } else { '0' });
    }
    out.push(')');
    out
}

/// Rows of cells, aligned in columns two spaces apart, trailing spaces trimmed.
fn write_table<const N: usize>(f: &mut fmt::Formatter<'_>, table: &[[String; N]]) -> fmt::Result {
    let mut widths = [0; N];
    for cells in table {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for cells in table {
        let mut line = String::new();
        for (col, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if col > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            line.extend(core::iter::repeat_n(' ', width - cell.chars().count()));
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The widest line of a table.
fn table_width<const N: usize>(table: &[[String; N]]) -> usize {
    let mut widths = [0; N];
    for cells in table {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    widths.iter().sum::<usize>() + 2 * (N - 1)
}

impl<T: Float> Trace<T> {
    /// One row per layer, each vector in parentheses: the textbook layout.
    fn by_layer(&self, precision: Option<usize>) -> Vec<[String; 5]> {
        let header = ["layer", "z", "g(z)", "μ", "output"].map(String::from);
        let mut table = alloc::vec![header];
        for row in &self.rows {
            table.push([
                String::from(row.name),
                row.z
                    .as_deref()
                    .map(|z| vector(z, precision))
                    .unwrap_or_default(),
                vector(&row.activation, precision),
                match (&row.mask, &row.noise) {
                    (Some(mask), _) => bits(mask),
                    (None, Some(noise)) => vector(noise, precision),
                    (None, None) => String::new(),
                },
                vector(&row.output, precision),
            ]);
        }
        table
    }

    /// One row per unit: for layers too wide to read on one line.
    fn by_unit(&self, precision: Option<usize>) -> Vec<[String; 6]> {
        let header = ["layer", "unit", "z", "g(z)", "μ", "output"].map(String::from);
        let mut table = alloc::vec![header];
        for row in &self.rows {
            for (unit, (activation, output)) in row.activation.iter().zip(&row.output).enumerate() {
                let name = if unit == 0 { row.name } else { "" };
                let z = row.z.as_deref().and_then(|z| z.get(unit));
                let bit = row.mask.as_deref().and_then(|m| m.get(unit));
                let noise = row.noise.as_deref().and_then(|n| n.get(unit));
                table.push([
                    String::from(name),
                    format!("{unit}"),
                    z.map(|z| number(*z, precision)).unwrap_or_default(),
                    number(*activation, precision),
                    match (bit, noise) {
                        (Some(&kept), _) => String::from(if kept { "1" } else { "0" }),
                        (None, Some(&e)) => number(e, precision),
                        (None, None) => String::new(),
                    },
                    number(*output, precision),
                ]);
            }
        }
        table
    }
}

impl<T: Float> fmt::Display for Trace<T> {
    /// The pass as an aligned table: a row per layer, or a row per unit when the layers are too
    /// wide for 100 columns. Numbers have 6 significant digits (`{}`) or the given number of
    /// decimals (`{:.3}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = f.precision();
        let pass = if self.training {
            "training"
        } else {
            "evaluation"
        };
        writeln!(
            f,
            "{}, {pass} pass ({} scaling)",
            self.network, self.scaling
        )?;
        let by_layer = self.by_layer(precision);
        if table_width(&by_layer) <= MAX_WIDTH {
            write_table(f, &by_layer)?;
        } else {
            write_table(f, &self.by_unit(precision))?;
        }
        for row in &self.rows {
            let Some(dropped) = &row.dropped_weights else {
                continue;
            };
            if dropped.is_empty() {
                writeln!(f, "{} keeps all its weights", row.name)?;
                continue;
            }
            let pairs: Vec<String> = dropped
                .iter()
                .map(|(neuron, input)| format!("{neuron} ← {input}"))
                .collect();
            let text = pairs.join(", ");
            let mut line = format!("{} drops the weights (neuron ← input) ", row.name);
            for piece in text.split_inclusive(", ") {
                if line.chars().count() + piece.chars().count() > MAX_WIDTH {
                    writeln!(f, "{}", line.trim_end())?;
                    line = String::from("  ");
                }
                line.push_str(piece);
            }
            writeln!(f, "{line}")?;
        }
        let Some(values) = self.prediction() else {
            return Ok(());
        };
        // A long prediction wraps after a comma, the continuation indented under its values.
        let text = vector(values, precision);
        let mut line = String::from("prediction: ");
        for (idx, piece) in text.split_inclusive(", ").enumerate() {
            if idx > 0 && line.chars().count() + piece.chars().count() > MAX_WIDTH {
                writeln!(f, "{}", line.trim_end())?;
                line = String::from("             ");
            }
            line.push_str(piece);
        }
        writeln!(f, "{line}")
    }
}

#[cfg(test)]
mod tests {
    use super::Trace;
    use crate::Scaling;

    #[test]
    fn lookup_and_precision() {
        let mut trace = Trace::training("Net", Scaling::Inverted);
        trace.push_input(&[0.5_f64], None, &[0.5]);
        trace.push_layer(
            "h1",
            &[1.0 / 3.0, -1.0],
            &[1.0 / 3.0, 0.0],
            Some(&[true, false]),
            &[2.0 / 3.0, 0.0],
        );
        trace.push_layer("output", &[2.0], &[2.0], None, &[2.0]);
        assert_eq!(trace.rows().len(), 3);
        assert_eq!(
            trace.layer("h1").unwrap().mask.as_deref(),
            Some(&[true, false][..])
        );
        assert!(trace.layer("h2").is_none());
        let text = format!("{trace:.2}");
        assert!(
            text.starts_with("Net, training pass (inverted scaling)\n"),
            "{text}"
        );
        assert!(trace.is_training());
        assert!(
            text.contains("h1      (0.33, -1.00)  (0.33, 0.00)  (1, 0)  (0.67, 0.00)"),
            "{text}"
        );
        assert!(text.ends_with("prediction: (2.00)\n"), "{text}");
    }

    #[test]
    fn empty_trace_has_no_prediction() {
        let trace = Trace::<f32>::evaluation("Empty", Scaling::Classic);
        assert_eq!(trace.prediction(), None);
        assert!(!trace.is_training());
        assert_eq!(
            trace.to_string(),
            "Empty, evaluation pass (classic scaling)\nlayer  z  g(z)  μ  output\n"
        );
    }

    #[test]
    fn numbers_have_six_significant_digits() {
        use super::general;
        assert_eq!(general(0.5), "0.5");
        assert_eq!(general(2.0), "2");
        assert_eq!(general(-1.5625), "-1.5625");
        // The f32 0.1 is 0.100000001490116119384765625.
        assert_eq!(general(f64::from(0.1_f32)), "0.1");
        assert_eq!(general(0.000_000_101_402_634_386_154_44), "1.01403e-7");
        assert_eq!(general(2.0 / 3.0), "0.666667");
        assert_eq!(general(123_456_789.0), "1.23457e8");
        assert_eq!(general(99_999.5), "99999.5");
        assert_eq!(general(0.0), "0");
        assert_eq!(general(f64::NAN), "NaN");
        assert_eq!(general(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn wide_layers_are_laid_out_one_unit_per_row() {
        let mut trace = Trace::training("Wide", Scaling::Inverted);
        let x: Vec<f64> = (0..16).map(|i| f64::from(i) / 7.0).collect();
        let mask: Vec<bool> = (0..16).map(|i| i % 3 != 0).collect();
        trace.push_input(&x, Some(&mask), &x);
        trace.push_layer(
            "output",
            &[1.0 / 3.0, 2.0],
            &[1.0 / 3.0, 2.0],
            None,
            &[1.0 / 3.0, 2.0],
        );
        let text = trace.to_string();
        assert!(
            text.lines().all(|line| line.chars().count() <= 100),
            "{text}"
        );
        assert!(
            text.contains("\nlayer   unit  z         g(z)      μ  output\n"),
            "{text}"
        );
        assert!(
            text.contains("\ninput   0               0         0  0\n"),
            "{text}"
        );
        assert!(
            text.contains("\n        15              2.14286   0  2.14286\n"),
            "{text}"
        );
        assert!(
            text.contains("\noutput  0     0.333333  0.333333     0.333333\n"),
            "{text}"
        );
        assert!(text.ends_with("prediction: (0.333333, 2)\n"), "{text}");
        // A precision still applies to every number.
        let fixed = format!("{trace:.2}");
        assert!(
            fixed.contains("\n        15          2.14  0  2.14\n"),
            "{fixed}"
        );
    }
}
