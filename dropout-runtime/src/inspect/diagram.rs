//! The network as a picture: an SVG of its layers, weights, biases and dropped neurons.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use dropout_shared::Superscript;
use plotters::prelude::*;

use crate::{Float, Masks, Network};

const COLUMN_GAP: i32 = 190;
const ROW_GAP: i32 = 70;
const RADIUS: i32 = 18;
const MARGIN: i32 = 70;
const HEADER: i32 = 70;

/// An SVG picture of `net`: one column per layer (the input first), one circle per neuron, one
/// line per weight (blue positive, red negative, width by magnitude) and a `+1` bias node above
/// each layer's inputs. Units that `masks` drops are greyed out and crossed; their weights fade.
/// Bias nodes are never dropped. Meant for small networks: every weight is a line.
///
/// # Errors
/// [`Error::NotFinite`](crate::Error::NotFinite) if a weight or bias is NaN or infinite (its
/// line would have no width or colour); otherwise only if drawing fails, which writing into a
/// string does not.
///
/// # Example
/// ```
/// use dropout::{Masks, Network, network};
///
/// network! {
///     struct Tiny<f32> {
///         input: 2, dropout(p = 0.5),
///         dense 2 relu { weights: [[1.0, -1.0], [0.5, 2.0]], bias: [0.0, 1.0] },
///         dense 1 identity { weights: [[1.0, 1.0]], bias: [0.0] },
///     }
/// }
/// let svg = Tiny::new().diagram(Some(&TinyMasks { input: [true, false] }))?;
/// assert!(svg.starts_with("<svg"));
/// assert!(svg.contains("μ⁰"));
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn diagram<N: Network>(net: &N, masks: Option<&N::Masks>) -> Result<String, crate::Error> {
    crate::network::refuse_non_finite(net)?;
    let layout = Layout::of::<N>(masks);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (layout.width, layout.height)).into_drawing_area();
        draw(&root, net, &layout).map_err(|err| crate::Error::Drawing(format!("{err}")))?;
        root.present()
            .map_err(|err| crate::Error::Drawing(format!("{err}")))?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, plotters::coord::Shift>;
type DrawResult<'a> =
    Result<(), DrawingAreaErrorKind<<SVGBackend<'a> as DrawingBackend>::ErrorType>>;

/// Where everything goes: one column per layer (the input first).
struct Layout {
    /// Units per column.
    sizes: Vec<usize>,
    /// Per column, per unit: whether the masks keep it.
    kept: Vec<Vec<bool>>,
    /// Per column: `μᵏ p = …` if the column has a dropout site.
    site_labels: Vec<Option<String>>,
    /// Per layer: its DropConnect label and the weight mask (neuron by neuron), if it has
    /// DropConnect; the mask is `None` when no masks are drawn.
    connections: Vec<Option<(String, Option<Vec<bool>>)>>,
    /// Extra room below the headers for second label lines.
    footer: i32,
    tallest: usize,
    width: u32,
    height: u32,
}

impl Layout {
    fn of<N: Network>(masks: Option<&N::Masks>) -> Self {
        let spec = N::SPEC;
        let mut sizes = Vec::with_capacity(spec.layers.len() + 1);
        sizes.push(spec.n_inputs);
        sizes.extend(spec.layers.iter().map(|l| l.size));
        let dropouts =
            core::iter::once(spec.input_dropout).chain(spec.layers.iter().map(|l| l.dropout));
        let mut site = 0;
        let mut kept = Vec::with_capacity(sizes.len());
        let mut site_labels = Vec::with_capacity(sizes.len());
        for (column, (dropout, &size)) in dropouts.zip(&sizes).enumerate() {
            let bits = dropout.and_then(|_| masks.and_then(|m| m.site(site)));
            kept.push(
                (0..size)
                    .map(|unit| bits.and_then(|b| b.get(unit)).copied().unwrap_or(true))
                    .collect(),
            );
            site_labels.push(dropout.map(|d| {
                let kind = match d.kind() {
                    crate::DropoutKind::Alpha => " alpha",
                    crate::DropoutKind::Gaussian => " gaussian",
                    _ => "",
                };
                format!("μ{}{kind} p = {}", Superscript(column), d.p())
            }));
            site += usize::from(dropout.is_some());
        }
        let mut connections: Vec<Option<(String, Option<Vec<bool>>)>> =
            alloc::vec![None; spec.layers.len()];
        for (mask, (_, layer, _, d)) in spec.connections().enumerate() {
            let bits = masks
                .and_then(|m| m.connections(mask))
                .map(<[bool]>::to_vec);
            connections[layer] = Some((format!("dropconnect p = {}", d.p()), bits));
        }
        let tallest = sizes.iter().copied().max().unwrap_or(1).max(1);
        let columns = u32::try_from(sizes.len()).unwrap_or(u32::MAX);
        let rows = u32::try_from(tallest).unwrap_or(u32::MAX);
        // Extra room on the right for the last column's header.
        let width =
            (2 * MARGIN as u32 + COLUMN_GAP as u32 * columns.saturating_sub(1) + 90).max(300);
        // A second label line under the headers when a layer has DropConnect.
        let footer: i32 = if connections.iter().any(Option::is_some) {
            18
        } else {
            0
        };
        let height = HEADER as u32
            + 2 * MARGIN as u32
            + (ROW_GAP as u32).saturating_mul(rows)
            + footer.unsigned_abs();
        Layout {
            sizes,
            kept,
            site_labels,
            connections,
            footer,
            tallest,
            width,
            height,
        }
    }

    /// Whether the masks keep the weight from `input` to `neuron` of layer `layer`.
    fn weight_kept(&self, layer: usize, neuron: usize, input: usize) -> bool {
        let Some(Some((_, Some(bits)))) = self.connections.get(layer) else {
            return true;
        };
        let fan_in = self.sizes[layer];
        bits.get(neuron * fan_in + input).copied().unwrap_or(true)
    }

    fn neuron(&self, column: usize, unit: usize) -> (i32, i32) {
        let (size, tallest) = (px(self.sizes[column]), px(self.tallest));
        let top = HEADER + MARGIN + ROW_GAP + ROW_GAP * (tallest - size) / 2;
        (MARGIN + COLUMN_GAP * px(column), top + ROW_GAP * px(unit))
    }

    /// The `+1` node above column `column`, feeding the next layer.
    fn bias(column: usize) -> (i32, i32) {
        (MARGIN + COLUMN_GAP * px(column), HEADER + MARGIN / 2)
    }
}

fn px(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX / 4)
}

fn draw<'a, N: Network>(root: &Area<'a>, net: &N, layout: &Layout) -> DrawResult<'a> {
    let spec = N::SPEC;
    root.fill(&WHITE)?;
    let title = format!("{} ({} scaling)", spec.name, spec.scaling);
    root.draw(&Text::new(
        title,
        (MARGIN - RADIUS, 18),
        ("sans-serif", 22).into_font(),
    ))?;
    let largest = largest_parameter(net);
    // Weights first, so that the neurons are drawn over them.
    for idx in 0..spec.layers.len() {
        let Some(layer) = net.layer(idx) else {
            continue;
        };
        for neuron in 0..layer.size() {
            let to = layout.neuron(idx + 1, neuron);
            for input in 0..layer.fan_in() {
                let w = layer.weight(neuron, input).map_or(0.0, Float::to_f64);
                let kept = layout.kept[idx][input] && layout.weight_kept(idx, neuron, input);
                let style = weight_style(w, largest, kept);
                root.draw(&PathElement::new([layout.neuron(idx, input), to], style))?;
            }
            let b = layer
                .biases()
                .get(neuron)
                .copied()
                .map_or(0.0, Float::to_f64);
            root.draw(&PathElement::new(
                [Layout::bias(idx), to],
                weight_style(b, largest, true),
            ))?;
        }
        // The bias node feeding this layer: never dropped.
        let (bx, by) = Layout::bias(idx);
        let corners = [(bx - 14, by - 12), (bx + 14, by + 12)];
        root.draw(&Rectangle::new(corners, RGBColor(250, 245, 220).filled()))?;
        root.draw(&Rectangle::new(corners, BLACK.stroke_width(1)))?;
        root.draw(&Text::new(
            "+1",
            (bx - 9, by - 7),
            ("sans-serif", 14).into_font(),
        ))?;
    }
    for (column, &size) in layout.sizes.iter().enumerate() {
        let (x, _) = layout.neuron(column, 0);
        let header = match column {
            0 => format!("input ({size})"),
            c => format!(
                "{} ({size}, {})",
                spec.layers[c - 1].name,
                spec.layers[c - 1].activation
            ),
        };
        let header_y = px(layout.height as usize) - MARGIN / 2 - 10 - layout.footer;
        root.draw(&Text::new(
            header,
            (x - RADIUS - 6, header_y),
            ("sans-serif", 15).into_font(),
        ))?;
        let connection_label = column
            .checked_sub(1)
            .and_then(|layer| layout.connections.get(layer))
            .and_then(|c| c.as_ref().map(|(label, _)| label));
        let labels = layout.site_labels[column].iter().chain(connection_label);
        for (line, label) in labels.enumerate() {
            root.draw(&Text::new(
                label.clone(),
                (x - RADIUS - 6, header_y + 18 * (1 + px(line))),
                ("sans-serif", 14).into_font(),
            ))?;
        }
        for unit in 0..size {
            draw_neuron(root, layout.neuron(column, unit), layout.kept[column][unit])?;
        }
    }
    Ok(())
}

fn draw_neuron<'a>(root: &Area<'a>, center: (i32, i32), kept: bool) -> DrawResult<'a> {
    let fill = if kept {
        RGBColor(222, 235, 247)
    } else {
        RGBColor(215, 215, 215)
    };
    root.draw(&Circle::new(center, RADIUS, fill.filled()))?;
    root.draw(&Circle::new(center, RADIUS, BLACK.stroke_width(2)))?;
    if !kept {
        let cross = RGBColor(200, 30, 30).stroke_width(3);
        let ((cx, cy), d) = (center, RADIUS - 4);
        root.draw(&PathElement::new(
            [(cx - d, cy - d), (cx + d, cy + d)],
            cross,
        ))?;
        root.draw(&PathElement::new(
            [(cx - d, cy + d), (cx + d, cy - d)],
            cross,
        ))?;
    }
    Ok(())
}

/// The largest |weight| or |bias|, which gets the widest line.
fn largest_parameter<N: Network>(net: &N) -> f64 {
    let mut largest = f64::MIN_POSITIVE;
    for idx in 0..N::SPEC.layers.len() {
        let Some(layer) = net.layer(idx) else {
            continue;
        };
        for neuron in 0..layer.size() {
            for input in 0..layer.fan_in() {
                largest = largest.max(layer.weight(neuron, input).map_or(0.0, Float::to_f64).abs());
            }
        }
        largest = layer
            .biases()
            .iter()
            .fold(largest, |m, b| m.max(b.to_f64().abs()));
    }
    largest
}

/// Blue for positive weights, red for negative, wider for larger; faded if the source is dropped.
fn weight_style(w: f64, largest: f64, source_kept: bool) -> ShapeStyle {
    let color = if w >= 0.0 {
        RGBColor(31, 119, 180)
    } else {
        RGBColor(214, 39, 40)
    };
    let strength = (w.abs() / largest).clamp(0.0, 1.0);
    let opacity = if source_kept {
        0.25 + 0.6 * strength
    } else {
        0.08
    };
    ShapeStyle {
        color: color.mix(opacity),
        filled: false,
        // 1 to 4 pixels in quarters of the largest magnitude.
        stroke_width: 1 + [0.25, 0.5, 0.75]
            .iter()
            .map(|&q| u32::from(strength > q))
            .sum::<u32>(),
    }
}

#[cfg(test)]
mod tests {
    use super::weight_style;

    #[test]
    fn weight_styles() {
        assert_eq!(weight_style(-2.0, 2.0, true).stroke_width, 4);
        assert_eq!(weight_style(0.0, 2.0, true).stroke_width, 1);
        assert!(weight_style(1.0, 1.0, false).color.3 < 0.1);
    }
}
