//! An interactive page for one network: click units away and watch the pass change.
//!
//! [`Explorer::html`] writes one self-contained HTML file (no network access, no external
//! script, style or font) that draws the network as [`diagram`](crate::diagram) does, shows the
//! layer-by-layer table of [`Trace`](crate::Trace) for the current input and masks, and the
//! exact distribution of the output over every mask next to a Monte Carlo estimate that grows as
//! the learner samples masks. The state — input, masks, mode, seed — lives in the URL fragment,
//! so a link reproduces what the learner saw.
//!
//! The masks behind "sample masks" are computed here, by [`Network::sample_masks`] from
//! seeded `ChaCha8Rng`s ([`EXPLORER_DRAWS`] of them), so a seed on the page is the seed in Rust.
//!
//! The page recomputes passes in JavaScript (`explorer.js`, plain and small): a second
//! implementation, which the browser tests in `tests/explorer.rs` hold to the Rust passes
//! number for number. `f32` networks are computed with `Math.fround` after every operation,
//! which gives the bits of Rust's `f32` arithmetic; `tanh`, `sigmoid` and `softmax` use the
//! browser's `f64` functions rounded to `f32`, which can differ from the platform's `f32`
//! functions in the last bit (invisible at the table's six significant digits, except rarely).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use crate::stats::for_each_mask;
use crate::{ALPHA_PRIME, DropoutKind, Error, Float, Masks, Network, Scaling};

/// The most droppable units whose every mask the page's data enumerates (2¹⁶ passes).
pub const MAX_EXPLORER_UNITS: usize = 16;

/// How many draws of masks the page holds: seeds `seed`, `seed + 1`, … of
/// [`Explorer::seed`], each the masks [`Network::sample_masks`] draws from
/// `ChaCha8Rng::seed_from_u64(seed)`.
pub const EXPLORER_DRAWS: usize = 1000;

/// The most units in one layer that the page draws.
pub const MAX_DRAWN_UNITS: usize = 64;

/// A page in the making: the network, the input, and the state the page opens in.
///
/// # Example
/// ```
/// use dropout::toy::{Toy, ToyMasks};
///
/// let article = ToyMasks {
///     input: [true, true],
///     h1: [true, false, true],
///     h2: [true, true, false],
///     h3: [true, true],
/// };
/// let page = Toy::new().explorer(&[1.0, 1.0]).masks(&article).html()?;
/// assert!(page.starts_with("<!DOCTYPE html>"));
/// // Self-contained: no script, style or font from anywhere else.
/// assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
/// # Ok::<(), dropout::Error>(())
/// ```
pub struct Explorer<'a, N: Network> {
    net: &'a N,
    x: &'a N::Input,
    masks: N::Masks,
    training: bool,
    seed: u32,
}

impl<'a, N: Network> Explorer<'a, N> {
    /// A page for `net` at input `x`, opening on the evaluation pass (the network as it
    /// predicts), with every unit kept for the training pass one click away.
    pub fn new(net: &'a N, x: &'a N::Input) -> Self {
        Explorer {
            net,
            x,
            masks: N::Masks::ALL_KEPT,
            training: false,
            seed: 1,
        }
    }

    /// Opens the page on the training pass under these masks.
    #[must_use]
    pub fn masks(mut self, masks: &N::Masks) -> Self {
        self.masks = *masks;
        self.training = true;
        self
    }

    /// Opens the page on the evaluation pass (the default; after [`masks`](Self::masks), the
    /// masks stay set for the training pass).
    #[must_use]
    pub fn evaluation(mut self) -> Self {
        self.training = false;
        self
    }

    /// The seed of the page's first "sample masks" (the page shows it, and counts up). The
    /// masks of seed `s` are those [`Network::sample_masks`] draws from
    /// `ChaCha8Rng::seed_from_u64(s)`; the page holds [`EXPLORER_DRAWS`] of them, computed
    /// here (without the `rand` feature it holds none and cannot sample).
    #[must_use]
    pub fn seed(mut self, seed: u32) -> Self {
        self.seed = seed;
        self
    }

    /// The page.
    ///
    /// # Errors
    /// [`Error::TooLargeToDraw`] if a layer has more than [`MAX_DRAWN_UNITS`] units;
    /// [`Error::NotExplorable`] if a layer has DropConnect or a site is Gaussian dropout.
    pub fn html(&self) -> Result<String, Error> {
        let spec = N::SPEC;
        if let Some((layer, _, _, _)) = spec.connections().next() {
            return Err(Error::NotExplorable {
                layer,
                kind: "DropConnect",
            });
        }
        let gaussian = spec
            .sites()
            .find(|(_, _, d)| d.kind() == crate::DropoutKind::Gaussian);
        if let Some((layer, _, _)) = gaussian {
            return Err(Error::NotExplorable {
                layer,
                kind: "Gaussian dropout",
            });
        }
        let widest = spec
            .layers
            .iter()
            .map(|l| l.size)
            .chain([spec.n_inputs])
            .max()
            .unwrap_or(0);
        if widest > MAX_DRAWN_UNITS {
            return Err(Error::TooLargeToDraw {
                units: widest,
                max: MAX_DRAWN_UNITS,
            });
        }
        let data = self.data();
        let title = escape(spec.name);
        Ok(format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title} · dropout explorer</title>\n<style>\n{STYLE}</style>\n</head>\n\
             <body>\n{BODY}\n<script>\nconst NETWORK = {data};\n{SCRIPT}</script>\n</body>\n</html>\n",
        ))
    }

    /// Writes the page to `path`, replacing the file only once it is complete.
    ///
    /// # Errors
    /// [`Error::TooLargeToDraw`] as [`Explorer::html`]; [`Error::Io`] if the file
    /// cannot be written.
    #[cfg(feature = "std")]
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
        crate::fs::write_atomically(path.as_ref(), self.html()?.as_bytes())
    }

    /// The network, the state and the exact distribution, as a JavaScript object literal.
    fn data(&self) -> String {
        let spec = N::SPEC;
        let mut out = String::from("{\n");
        let _ = writeln!(out, "  name: {},", string(spec.name));
        let _ = writeln!(out, "  scalar: {},", string(N::Scalar::NAME));
        let scaling = match spec.scaling {
            Scaling::Classic => "classic",
            Scaling::Inverted => "inverted",
        };
        let _ = writeln!(out, "  scaling: {},", string(scaling));
        let _ = writeln!(out, "  inputs: {},", spec.n_inputs);
        // Sites in order, each with the column (0: the input) whose units it masks.
        let mut sites = Vec::new();
        if let Some(dropout) = spec.input_dropout {
            sites.push((0, dropout));
        }
        for (idx, layer) in spec.layers.iter().enumerate() {
            if let Some(dropout) = layer.dropout {
                sites.push((idx + 1, dropout));
            }
        }
        out.push_str("  sites: [");
        for (k, (column, dropout)) in sites.iter().enumerate() {
            let train = spec.scaling.train_factor(*dropout);
            let eval = spec.scaling.eval_factor(*dropout);
            // Alpha dropout's map of kept units (scale, shift) and its dropped value, each as
            // the scalar type holds it.
            let (scale, shift) = dropout.alpha_affine();
            let exact = |v: f64| number(N::Scalar::from_f64(v).to_f64());
            let _ = write!(
                out,
                "{}{{ column: {column}, p: {}, keep: {}, train: {}, eval: {}, alpha: {}, scale: {}, shift: {}, dropped: {} }}",
                if k > 0 { ", " } else { "" },
                number(dropout.p()),
                number(dropout.keep()),
                number(train),
                number(eval),
                dropout.kind() == DropoutKind::Alpha,
                exact(scale),
                exact(shift),
                exact(scale * ALPHA_PRIME + shift),
            );
        }
        out.push_str("],\n  layers: [\n");
        for (idx, layer_spec) in spec.layers.iter().enumerate() {
            let Some(layer) = self.net.layer(idx) else {
                continue;
            };
            let activation = layer_spec.activation.name();
            let alpha = layer_spec.activation.parameter_value().unwrap_or(0.0);
            let _ = write!(
                out,
                "    {{ name: {}, activation: {}, alpha: {}, weights: [",
                string(layer_spec.name),
                string(activation),
                number(alpha),
            );
            for neuron in 0..layer.size() {
                out.push_str(if neuron > 0 { ", [" } else { "[" });
                let row: Vec<f64> = (0..layer.fan_in())
                    .map(|input| layer.weight(neuron, input).map_or(0.0, Float::to_f64))
                    .collect();
                out.push_str(&numbers(&row));
                out.push(']');
            }
            let bias: Vec<f64> = layer.biases().iter().map(|b| b.to_f64()).collect();
            let _ = writeln!(out, "], bias: [{}] }},", numbers(&bias));
        }
        out.push_str("  ],\n");
        let x: Vec<f64> = self.x.as_ref().iter().map(|v| v.to_f64()).collect();
        let _ = writeln!(out, "  x: [{}],", numbers(&x));
        out.push_str("  masks: [");
        for site in 0..N::Masks::N_SITES {
            let bits = site_bits(&self.masks, site);
            let _ = write!(out, "{}{}", if site > 0 { ", " } else { "" }, string(&bits));
        }
        out.push_str("],\n");
        let _ = writeln!(out, "  draws: [{}],", self.draws());
        let _ = writeln!(out, "  training: {},", self.training);
        let _ = writeln!(out, "  seed: {},", self.seed);
        let _ = writeln!(out, "  maxUnits: {MAX_EXPLORER_UNITS},");
        let _ = writeln!(out, "  exact: {},", self.exact());
        out.push('}');
        out
    }

    /// The masks of seeds `seed ..` as the page's fragment writes them, `"11.101.…"`.
    #[cfg(feature = "rand")]
    fn draws(&self) -> String {
        use rand::SeedableRng as _;
        let mut out = String::new();
        for k in 0..EXPLORER_DRAWS {
            let seed = u64::from(self.seed) + k as u64;
            let masks = self
                .net
                .sample_masks(&mut rand::rngs::ChaCha8Rng::seed_from_u64(seed));
            let sites: Vec<String> = (0..N::Masks::N_SITES)
                .map(|site| site_bits(&masks, site))
                .collect();
            let _ = write!(
                out,
                "{}{}",
                if k > 0 { ", " } else { "" },
                string(&sites.join("."))
            );
        }
        out
    }

    /// Without `rand`, no draws: the page's sampling button says why it is off.
    #[cfg(not(feature = "rand"))]
    #[expect(clippy::unused_self, reason = "the same signature as with `rand`")]
    fn draws(&self) -> String {
        String::new()
    }

    /// The exact distribution of every output over every mask, merged by value:
    /// `{ units, outputs: [[[value, probability], …], …], mean: […] }`, or `null` beyond
    /// [`MAX_EXPLORER_UNITS`] droppable units.
    fn exact(&self) -> String {
        let mut outputs: Vec<Vec<(f64, f64)>> = Vec::new();
        let Ok(units) = for_each_mask(self.net, self.x, MAX_EXPLORER_UNITS, |probability, y| {
            if outputs.is_empty() {
                outputs.resize(y.len(), Vec::new());
            }
            for (atoms, v) in outputs.iter_mut().zip(y) {
                atoms.push((v.to_f64(), probability));
            }
        }) else {
            return String::from("null");
        };
        let mut out = format!("{{ units: {units}, outputs: [");
        let mut means = Vec::new();
        for (k, atoms) in outputs.iter_mut().enumerate() {
            atoms.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut merged: Vec<(f64, f64)> = Vec::new();
            for &(value, probability) in atoms.iter() {
                match merged.last_mut() {
                    Some(last) if last.0.to_bits() == value.to_bits() => last.1 += probability,
                    _ => merged.push((value, probability)),
                }
            }
            means.push(merged.iter().map(|(v, p)| v * p).sum::<f64>());
            out.push_str(if k > 0 { ", [" } else { "[" });
            for (j, (value, probability)) in merged.iter().enumerate() {
                let _ = write!(
                    out,
                    "{}[{}, {}]",
                    if j > 0 { ", " } else { "" },
                    number(*value),
                    number(*probability)
                );
            }
            out.push(']');
        }
        let _ = write!(out, "], mean: [{}] }}", numbers(&means));
        out
    }
}

/// The bits of one site, `1` kept and `0` dropped.
fn site_bits<M: Masks>(masks: &M, site: usize) -> String {
    masks
        .site(site)
        .unwrap_or(&[])
        .iter()
        .map(|&kept| if kept { '1' } else { '0' })
        .collect()
}

/// A number as a JavaScript literal that reads back as exactly this `f64` (Rust's shortest
/// round-trip form), `NaN` and `Infinity` included.
fn number(value: f64) -> String {
    if value.is_nan() {
        String::from("NaN")
    } else if value.is_infinite() {
        String::from(if value > 0.0 { "Infinity" } else { "-Infinity" })
    } else {
        format!("{value:?}")
    }
}

fn numbers(values: &[f64]) -> String {
    let mut out = String::new();
    for (k, &v) in values.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        out.push_str(&number(v));
    }
    out
}

/// A JavaScript string literal (the names are Rust identifiers and digits, but escape anyway).
fn string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '<' => out.push_str("\\u003c"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

const STYLE: &str = include_str!("explorer.css");
const BODY: &str = include_str!("explorer.html");
const SCRIPT: &str = include_str!("explorer.js");

#[cfg(test)]
mod tests {
    use super::{number, string};

    #[test]
    fn literals_read_back_exactly() {
        assert_eq!(number(f64::NAN), "NaN");
        assert_eq!(number(f64::NEG_INFINITY), "-Infinity");
        assert_eq!(number(-0.0), "-0.0");
        assert_eq!(number(0.1), "0.1");
        assert_eq!(number(f64::from(0.1_f32)), "0.10000000149011612");
        assert_eq!(string("a\"</script>"), "\"a\\\"\\u003c/script>\"");
    }
}
