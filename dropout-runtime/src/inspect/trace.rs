//! A layer-by-layer record of one forward pass, printable as the hand calculation of a textbook.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use crate::{Float, Scaling};

/// Every intermediate value of one forward pass: for each layer the pre-activation z, the
/// activation g(z), the dropout mask μ (if the layer has a dropout site) and the values the next
/// layer receives.
///
/// `Display` prints an aligned table; a precision (`{:.3}`) applies to every number.
///
/// # Example
/// ```
/// use dropout_runtime::{Scaling, Trace};
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
    /// The dropout mask μ of the layer's site; `None` where the layer has no site or the pass
    /// is in evaluation mode.
    pub mask: Option<Vec<bool>>,
    /// What the next layer receives: the activation after masking and scaling.
    pub output: Vec<T>,
}

impl<T: Float> Trace<T> {
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
            output: output.to_vec(),
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
            output: output.to_vec(),
        });
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

fn vector<T: Float>(values: &[T], precision: Option<usize>) -> String {
    let mut out = String::from("(");
    for (idx, v) in values.iter().enumerate() {
        if idx > 0 {
            out.push_str(", ");
        }
        // Writing into a String cannot fail.
        let _ = match precision {
            Some(p) => write!(out, "{v:.p$}"),
            None => write!(out, "{v}"),
        };
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

impl<T: Float> fmt::Display for Trace<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let precision = f.precision();
        let header = ["layer", "z", "g(z)", "μ", "output"].map(String::from);
        let mut table: Vec<[String; 5]> = alloc::vec![header];
        for row in &self.rows {
            table.push([
                String::from(row.name),
                row.z
                    .as_deref()
                    .map(|z| vector(z, precision))
                    .unwrap_or_default(),
                vector(&row.activation, precision),
                row.mask.as_deref().map(bits).unwrap_or_default(),
                vector(&row.output, precision),
            ]);
        }
        let mut widths = [0; 5];
        for cells in &table {
            for (width, cell) in widths.iter_mut().zip(cells) {
                *width = (*width).max(cell.chars().count());
            }
        }
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
        for cells in &table {
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
        match self.prediction() {
            Some(values) => writeln!(f, "prediction: {}", vector(values, precision)),
            None => Ok(()),
        }
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
}
