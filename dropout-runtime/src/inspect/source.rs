//! A network printed back as a `network!` declaration with literal weights, to paste into
//! source: trained parameters then compile with every shape checked, like hand-written ones.

use alloc::format;
use alloc::string::String;
use core::fmt::Write as _;

use crate::{Error, Float, Network, Scaling};

/// The `network!` declaration of `net`: its architecture from [`Network::SPEC`] and its current
/// parameters as literals that read back to exactly the same values.
///
/// # Errors
/// [`Error::NotFinite`] if a parameter is NaN or infinite (no literal denotes it).
///
/// # Example
/// ```
/// use dropout::{network, source};
///
/// network! {
///     struct Tiny<f32> { input: 2, dropout(p = 0.1), dense 1 sigmoid { weights: [[0.25, -3.0]], bias: [1.5] } }
/// }
/// let text = source::declaration(&Tiny::new())?;
/// assert!(text.contains("input: 2, dropout(p = 0.1),"));
/// assert!(text.contains("output: dense 1 sigmoid {"));
/// assert!(text.contains("[0.25, -3.0]"));
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn declaration<N: Network>(net: &N) -> Result<String, Error> {
    crate::network::refuse_non_finite(net)?;
    let spec = N::SPEC;
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = writeln!(out, "network! {{");
    if spec.attributes.is_empty() {
        let _ = writeln!(
            out,
            "    /// Parameters of `{}`, printed by `dropout::source::declaration`.",
            spec.name
        );
    }
    for line in spec.attributes.lines() {
        let _ = writeln!(out, "    {line}");
    }
    let visibility = if spec.visibility.is_empty() {
        String::new()
    } else {
        format!("{} ", spec.visibility)
    };
    let _ = writeln!(
        out,
        "    {visibility}struct {}<{}> {{",
        spec.name, spec.scalar
    );
    if spec.scaling == Scaling::Classic {
        let _ = writeln!(out, "        scaling: classic,");
    }
    let _ = write!(out, "        input: {},", spec.n_inputs);
    if let Some(d) = spec.input_dropout {
        let _ = write!(out, " {d},");
    }
    out.push('\n');
    for (idx, layer_spec) in spec.layers.iter().enumerate() {
        let Some(layer) = net.layer(idx) else {
            continue;
        };
        let dropconnect = layer_spec
            .dropconnect
            .map(|d| alloc::format!(" {d}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "        {}: dense {} {}{dropconnect} {{",
            layer_spec.name, layer_spec.size, layer_spec.activation
        );
        let _ = writeln!(out, "            weights: [");
        for neuron in 0..layer.size() {
            let row: alloc::vec::Vec<_> = (0..layer.fan_in())
                .map(|input| literal(layer.weight(neuron, input).unwrap_or(N::Scalar::ZERO)))
                .collect();
            let row = row.join(", ");
            let _ = writeln!(out, "                [{row}],");
        }
        let bias: alloc::vec::Vec<_> = layer.biases().iter().map(|&b| literal(b)).collect();
        let bias = bias.join(", ");
        let _ = writeln!(out, "            ],\n            bias: [{bias}],");
        match layer_spec.dropout {
            Some(d) => {
                let _ = writeln!(out, "        }}, {d},");
            }
            None => {
                let _ = writeln!(out, "        }},");
            }
        }
    }
    let _ = writeln!(out, "    }}\n}}");
    Ok(out)
}

/// The shortest literal that reads back as exactly `value` (Rust's `Debug` for floats), which
/// is finite.
fn literal<T: Float>(value: T) -> String {
    format!("{value:?}")
}

#[cfg(test)]
mod tests {
    use super::literal;

    #[test]
    fn literals_round_trip() {
        for v in [0.1_f32, f32::MIN, f32::from_bits(1), 123_456.79] {
            assert_eq!(literal(v).parse::<f32>().unwrap(), v);
        }
        for v in [0.1_f64, -1e-300, 2.0 / 3.0] {
            assert_eq!(literal(v).parse::<f64>().unwrap(), v);
        }
    }
}
