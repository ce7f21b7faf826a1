//! The page itself: the network decoded, its state, and the view the script draws.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString as _};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

use rand::SeedableRng as _;
use rand::rngs::ChaCha8Rng;

use super::{MAGIC, MAX_EXACT_UNITS};
use crate::inspect::trace::general;
use crate::layer::sized::DenseVec;
use crate::network::{MaskView, sample_masks_into};
use crate::stats::enumerate_masks;
use crate::{
    Activation, Dropout, DropoutKind, Error, Float, Layer, LayerSpec, NetworkSpec, Scaling, Trace,
};

struct Reader<'a> {
    bytes: &'a [u8],
}

fn malformed(what: &str) -> Error {
    Error::Page(what.to_string())
}

impl Reader<'_> {
    fn take(&mut self, n: usize, what: &str) -> Result<&[u8], Error> {
        let (head, rest) = self
            .bytes
            .split_at_checked(n)
            .ok_or_else(|| malformed(&format!("it ends inside {what}")))?;
        self.bytes = rest;
        Ok(head)
    }
    fn u8(&mut self, what: &str) -> Result<u8, Error> {
        Ok(self.take(1, what)?[0])
    }
    fn u32(&mut self, what: &str) -> Result<usize, Error> {
        let bytes = self.take(4, what)?;
        let v = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        usize::try_from(v).map_err(|_| malformed(what))
    }
    fn f64(&mut self, what: &str) -> Result<f64, Error> {
        self.u64(what).map(f64::from_bits)
    }
    fn u64(&mut self, what: &str) -> Result<u64, Error> {
        let bytes = self.take(8, what)?;
        let mut word = [0; 8];
        word.copy_from_slice(bytes);
        Ok(u64::from_le_bytes(word))
    }
    fn scalars<T: Float>(&mut self, n: usize, what: &str) -> Result<Vec<T>, Error> {
        // Bounded by the bytes left, so that a wrong count cannot ask for a huge allocation.
        if n > self.bytes.len() / 8 {
            return Err(malformed(&format!("it ends inside {what}")));
        }
        (0..n).map(|_| Ok(T::from_f64(self.f64(what)?))).collect()
    }
    fn bits(&mut self, n: usize, what: &str) -> Result<Vec<bool>, Error> {
        let bytes = self.take(n, what)?;
        bytes
            .iter()
            .map(|&b| match b {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(malformed(what)),
            })
            .collect()
    }
    /// A string that lives as long as the page: the spec's names are `&'static`.
    fn text(&mut self, what: &str) -> Result<&'static str, Error> {
        let n = self.u32(what)?;
        let bytes = self.take(n, what)?;
        let text = core::str::from_utf8(bytes).map_err(|_| malformed(what))?;
        Ok(Box::leak(text.to_string().into_boxed_str()))
    }
    fn dropout(&mut self, what: &str) -> Result<Option<Dropout>, Error> {
        match self.u8(what)? {
            0 => Ok(None),
            tag => {
                let kind = *DropoutKind::ALL
                    .get(usize::from(tag) - 1)
                    .ok_or_else(|| malformed(what))?;
                let (p, keep) = (self.f64(what)?, self.f64(what)?);
                let valid = (0.0..1.0).contains(&p) && keep > 0.0 && keep <= 1.0;
                valid
                    .then(|| kind.checked(p, keep))
                    .ok_or_else(|| malformed(what))
                    .map(Some)
            }
        }
    }
}

/// One site's mask on the page: bits, or a Gaussian site's noise.
#[derive(Clone, Debug, PartialEq)]
enum SiteMask<T> {
    Bits(Vec<bool>),
    Noise(Vec<T>),
}

/// Masks sized at run time: one per site, then one per layer with DropConnect.
#[derive(Clone, Debug, PartialEq)]
struct MaskVec<T> {
    sites: Vec<SiteMask<T>>,
    weights: Vec<Vec<bool>>,
}

impl<T: Float> MaskVec<T> {
    fn all_kept(spec: &NetworkSpec) -> Self {
        MaskVec {
            sites: spec
                .sites()
                .map(|(_, size, d)| match d.kind() {
                    DropoutKind::Gaussian => SiteMask::Noise(vec![T::ONE; size]),
                    _ => SiteMask::Bits(vec![true; size]),
                })
                .collect(),
            weights: spec
                .connections()
                .map(|(_, _, count, _)| vec![true; count])
                .collect(),
        }
    }
}

impl<T> MaskView<T> for MaskVec<T> {
    fn site_bits(&self, idx: usize) -> Option<&[bool]> {
        match self.sites.get(idx)? {
            SiteMask::Bits(bits) => Some(bits),
            SiteMask::Noise(_) => None,
        }
    }
    fn site_bits_mut(&mut self, idx: usize) -> Option<&mut [bool]> {
        match self.sites.get_mut(idx)? {
            SiteMask::Bits(bits) => Some(bits),
            SiteMask::Noise(_) => None,
        }
    }
    fn site_noise(&self, idx: usize) -> Option<&[T]> {
        match self.sites.get(idx)? {
            SiteMask::Noise(noise) => Some(noise),
            SiteMask::Bits(_) => None,
        }
    }
    fn site_noise_mut(&mut self, idx: usize) -> Option<&mut [T]> {
        match self.sites.get_mut(idx)? {
            SiteMask::Noise(noise) => Some(noise),
            SiteMask::Bits(_) => None,
        }
    }
    fn weight_bits(&self, idx: usize) -> Option<&[bool]> {
        self.weights.get(idx).map(Vec::as_slice)
    }
    fn weight_bits_mut(&mut self, idx: usize) -> Option<&mut [bool]> {
        self.weights.get_mut(idx).map(Vec::as_mut_slice)
    }
}

/// The exact distribution of every output over every mask, merged by value.
struct Exact {
    /// Per output: `(value, probability)` in increasing order.
    atoms: Vec<Vec<(f64, f64)>>,
    mean: Vec<f64>,
    units: usize,
}

/// The page's network, what it shows, and everything the learner can do to it.
pub struct Page<T> {
    spec: NetworkSpec,
    layers: Vec<DenseVec<T>>,
    x: Vec<T>,
    masks: MaskVec<T>,
    training: bool,
    /// The seed the next "sample masks" draws from.
    seed: u64,
    /// The seed whose draw gave the Gaussian sites' noise, if it came from one.
    draw: Option<u64>,
    output: usize,
    /// The outputs of the passes sampled so far.
    samples: Vec<Vec<f64>>,
    /// The exact distribution at the input it was computed for.
    exact: Option<(Vec<T>, Result<Exact, Error>)>,
}

impl<T: Float> Page<T> {
    /// The page [`encode`](super::encode) wrote.
    ///
    /// # Errors
    /// [`Error::Page`] if the bytes are not a page's network of scalar type `T`.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        let mut r = Reader { bytes };
        if r.take(4, "its header")? != MAGIC {
            return Err(malformed("it does not start with the page's header"));
        }
        let width = usize::from(r.u8("its scalar type")?);
        if width != size_of::<T>() {
            return Err(malformed("its scalar type is not the one asked for"));
        }
        let scaling = match r.u8("its scaling")? {
            0 => Scaling::Classic,
            1 => Scaling::Inverted,
            _ => return Err(malformed("its scaling")),
        };
        let name = r.text("its name")?;
        let n_inputs = r.u32("its input width")?;
        let input_dropout = r.dropout("the input's site")?;
        let n_layers = r.u32("its layer count")?;
        let mut specs = Vec::new();
        let mut layers = Vec::new();
        let mut fan_in_expected = n_inputs;
        for _ in 0..n_layers {
            let layer_name = r.text("a layer's name")?;
            let fan_in = r.u32("a layer's fan-in")?;
            let size = r.u32("a layer's size")?;
            if fan_in != fan_in_expected || size == 0 {
                return Err(malformed("its layer sizes do not chain"));
            }
            fan_in_expected = size;
            let activation = Activation::from_name(r.text("an activation")?)
                .ok_or_else(|| malformed("an activation"))?
                .with_parameter(r.f64("an activation's parameter")?);
            let dropout = r.dropout("a layer's site")?;
            let dropconnect = r.dropout("a layer's DropConnect")?;
            let count = fan_in
                .checked_mul(size)
                .ok_or_else(|| malformed("a layer's size"))?;
            let rows = r.scalars::<T>(count, "a layer's weights")?;
            let bias = r.scalars::<T>(size, "a layer's biases")?;
            let layer = DenseVec::from_rows(fan_in, &rows, bias)
                .ok_or_else(|| malformed("a layer's weights"))?;
            layers.push(layer);
            specs.push(LayerSpec {
                name: layer_name,
                fan_in,
                size,
                activation,
                dropout,
                dropconnect,
                weights_tensor: None,
                bias_tensor: None,
            });
        }
        let spec = NetworkSpec {
            name,
            visibility: "",
            attributes: "",
            scalar: T::NAME,
            scaling,
            n_inputs,
            input_dropout,
            layers: Box::leak(specs.into_boxed_slice()),
        };
        let x = r.scalars::<T>(n_inputs, "the input")?;
        let training = r.u8("the pass")? == 1;
        let seed = r.u64("the seed")?;
        let mut masks = MaskVec::all_kept(&spec);
        for site in &mut masks.sites {
            *site = match site {
                SiteMask::Bits(bits) => SiteMask::Bits(r.bits(bits.len(), "a site's mask")?),
                SiteMask::Noise(noise) => {
                    SiteMask::Noise(r.scalars(noise.len(), "a site's noise")?)
                }
            };
        }
        for bits in &mut masks.weights {
            *bits = r.bits(bits.len(), "a weight mask")?;
        }
        if !r.bytes.is_empty() {
            return Err(malformed("bytes follow its end"));
        }
        Ok(Page {
            spec,
            layers,
            x,
            masks,
            training,
            seed,
            draw: None,
            output: 0,
            samples: Vec::new(),
            exact: None,
        })
    }

    fn trace(&self, training: bool) -> Trace<T> {
        let masks = training.then_some(&self.masks as &dyn MaskView<T>);
        Trace::walk(
            &self.spec,
            |idx| self.layers.get(idx).map(|l| l as &dyn Layer<T>),
            &self.x,
            masks,
        )
    }

    fn prediction(&self, training: bool) -> Vec<f64> {
        let trace = self.trace(training);
        trace
            .prediction()
            .unwrap_or(&[])
            .iter()
            .map(|v| v.to_f64())
            .collect()
    }

    /// Flips unit `unit` of site `site` (no-op for a Gaussian site, or out of range), and
    /// shows the training pass.
    pub fn toggle(&mut self, site: usize, unit: usize) {
        if let Some(bit) = self
            .masks
            .site_bits_mut(site)
            .and_then(|bits| bits.get_mut(unit))
        {
            *bit = !*bit;
            self.training = true;
        }
    }

    /// The masks [`Network::sample_masks`](crate::Network::sample_masks) draws from `ChaCha8Rng::seed_from_u64(seed)`, the
    /// seed counted up, the training pass shown and its output added to the Monte Carlo
    /// estimate.
    pub fn sample(&mut self) {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        sample_masks_into(&self.spec, &mut rng, &mut self.masks);
        self.draw = Some(self.seed);
        self.seed = self.seed.wrapping_add(1);
        self.training = true;
        let y = self.prediction(true);
        self.samples.push(y);
    }

    /// Every unit and weight kept, Gaussian noise all ones.
    pub fn reset(&mut self) {
        self.masks = MaskVec::all_kept(&self.spec);
        self.draw = None;
    }

    /// Shows the training pass (under the masks) or the evaluation pass.
    pub fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    /// Sets input `idx` from the learner's text (a number, `nan`, `inf`, `-inf`; anything else
    /// is NaN), rounded to the scalar type; the Monte Carlo estimate starts over.
    pub fn set_input(&mut self, idx: usize, text: &str) {
        if let Some(slot) = self.x.get_mut(idx) {
            *slot = T::from_f64(parse_number(text));
            self.samples.clear();
        }
    }

    /// The output whose distribution the page shows.
    pub fn set_output(&mut self, output: usize) {
        self.output = output.min(self.spec.n_outputs().saturating_sub(1));
    }

    /// Reads the state from an address's fragment, `x=1,1&masks=11.101&mode=training&seed=1`
    /// (`#` optional). A parameter that does not fit the network is ignored, as the page's
    /// first state stands where the address says nothing.
    pub fn set_fragment(&mut self, fragment: &str) {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let mut draw = None;
        for (key, value) in fragment.split('&').filter_map(|p| p.split_once('=')) {
            let value = decode_component(value);
            match key {
                "x" => {
                    let x: Vec<&str> = value.split(',').collect();
                    if x.len() == self.x.len() {
                        for (slot, text) in self.x.iter_mut().zip(x) {
                            *slot = T::from_f64(parse_number(text));
                        }
                    }
                }
                "masks" => self.read_masks(&value),
                "mode" if value == "training" => self.training = true,
                "mode" if value == "evaluation" => self.training = false,
                "seed" => {
                    if let Ok(seed) = value.parse() {
                        self.seed = seed;
                    }
                }
                "draw" => draw = value.parse::<u64>().ok(),
                "output" => {
                    if let Ok(output) = value.parse() {
                        self.set_output(output);
                    }
                }
                _ => {}
            }
        }
        // The Gaussian sites' noise is the draw's: the address names the seed, not the values.
        if let Some(seed) = draw {
            let mut drawn = MaskVec::all_kept(&self.spec);
            sample_masks_into(&self.spec, &mut ChaCha8Rng::seed_from_u64(seed), &mut drawn);
            for (site, drawn) in self.masks.sites.iter_mut().zip(drawn.sites) {
                if matches!(site, SiteMask::Noise(_)) {
                    *site = drawn;
                }
            }
            self.draw = Some(seed);
        }
    }

    /// `11.101.…`: the sites' bits (a Gaussian site's part empty), then each weight mask.
    fn read_masks(&mut self, text: &str) {
        let parts: Vec<&str> = text.split('.').collect();
        let expected = self.masks.sites.len() + self.masks.weights.len();
        let mut bits: Vec<&mut [bool]> = Vec::new();
        for site in &mut self.masks.sites {
            match site {
                SiteMask::Bits(b) => bits.push(b),
                SiteMask::Noise(_) => bits.push(&mut []),
            }
        }
        bits.extend(self.masks.weights.iter_mut().map(Vec::as_mut_slice));
        let fits = parts.len() == expected
            && parts.iter().zip(&bits).all(|(part, slot)| {
                part.len() == slot.len() && part.bytes().all(|b| b == b'0' || b == b'1')
            });
        if fits {
            for (part, slot) in parts.iter().zip(bits) {
                for (bit, byte) in slot.iter_mut().zip(part.bytes()) {
                    *bit = byte == b'1';
                }
            }
        }
    }

    /// The state as an address's fragment: what [`set_fragment`](Self::set_fragment) reads.
    pub fn fragment(&self) -> String {
        let x: Vec<String> = self.x.iter().map(|v| fragment_number(v.to_f64())).collect();
        let mut masks: Vec<String> = self
            .masks
            .sites
            .iter()
            .map(|site| match site {
                SiteMask::Bits(bits) => bit_string(bits),
                SiteMask::Noise(_) => String::new(),
            })
            .collect();
        masks.extend(self.masks.weights.iter().map(|bits| bit_string(bits)));
        let mut out = format!(
            "x={}&masks={}&mode={}&seed={}&output={}",
            x.join(","),
            masks.join("."),
            if self.training {
                "training"
            } else {
                "evaluation"
            },
            self.seed,
            self.output
        );
        if let Some(draw) = self.draw.filter(|_| self.has_noise()) {
            let _ = write!(out, "&draw={draw}");
        }
        out
    }

    fn has_noise(&self) -> bool {
        self.masks
            .sites
            .iter()
            .any(|s| matches!(s, SiteMask::Noise(_)))
    }

    /// The exact distribution at the current input, enumerated once per input.
    fn exact(&mut self) -> Option<&Result<Exact, Error>> {
        let same = |x: &[T]| {
            x.iter()
                .zip(&self.x)
                .all(|(a, b)| a.to_f64().to_bits() == b.to_f64().to_bits())
        };
        if !self.exact.as_ref().is_some_and(|(x, _)| same(x)) {
            self.exact = Some((self.x.clone(), self.enumerate()));
        }
        self.exact.as_ref().map(|(_, exact)| exact)
    }

    fn enumerate(&self) -> Result<Exact, Error> {
        let mut atoms: Vec<Vec<(f64, f64)>> = vec![Vec::new(); self.spec.n_outputs()];
        let mut masks = MaskVec::all_kept(&self.spec);
        let units = enumerate_masks(
            &self.spec,
            &mut masks,
            MAX_EXACT_UNITS,
            |probability, masks| {
                let trace = Trace::walk(
                    &self.spec,
                    |idx| self.layers.get(idx).map(|l| l as &dyn Layer<T>),
                    &self.x,
                    Some(masks as &dyn MaskView<T>),
                );
                for (list, v) in atoms.iter_mut().zip(trace.prediction().unwrap_or(&[])) {
                    list.push((v.to_f64(), probability));
                }
            },
        )?;
        let mut mean = Vec::new();
        for list in &mut atoms {
            list.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut merged: Vec<(f64, f64)> = Vec::new();
            for &(value, probability) in list.iter() {
                match merged.last_mut() {
                    Some(last) if last.0.to_bits() == value.to_bits() => last.1 += probability,
                    _ => merged.push((value, probability)),
                }
            }
            mean.push(merged.iter().map(|(v, p)| v * p).sum::<f64>());
            *list = merged;
        }
        Ok(Exact { atoms, mean, units })
    }

    /// Everything the page shows, as JSON for its script to draw: texts ready to display,
    /// positions as fractions of their axis.
    pub fn view(&mut self) -> String {
        let mut out = String::from("{");
        self.view_controls(&mut out);
        self.view_network(&mut out);
        self.view_ensemble(&mut out);
        out.push('}');
        out
    }

    fn view_controls(&self, out: &mut String) {
        let spec = &self.spec;
        let sizes: Vec<String> = core::iter::once(spec.n_inputs)
            .chain(spec.layers.iter().map(|l| l.size))
            .map(|s| s.to_string())
            .collect();
        let n_sites = spec.sites().count();
        let scaling = scaling_name(spec.scaling);
        let summary = format!(
            "{}, {}, {scaling} scaling, {n_sites} dropout site{}{}.",
            sizes.join("-"),
            T::NAME,
            if n_sites == 1 { "" } else { "s" },
            match spec.connections().count() {
                0 => String::new(),
                n => format!(
                    ", {n} layer{} with DropConnect",
                    if n == 1 { "" } else { "s" }
                ),
            }
        );
        let note = match spec.scaling {
            Scaling::Classic => {
                "Classic scaling: a training pass keeps units as they are; the evaluation pass multiplies them by keep."
            }
            Scaling::Inverted => {
                "Inverted scaling: a training pass divides kept units by keep; the evaluation pass leaves them as they are."
            }
        };
        // The trace's text ends with its prediction, which the page also shows on its own.
        let text = self.trace(self.training).to_string();
        let prediction_text = text
            .rfind("\nprediction: ")
            .map_or("", |at| text[at + 1..].trim_end());
        let inputs: Vec<String> = self
            .x
            .iter()
            .map(|v| json_string(&general(v.to_f64())))
            .collect();
        let _ = write!(
            out,
            "\"title\":{},\"summary\":{},\"scalingNote\":{},\"inputs\":[{}],\"training\":{},\
             \"seed\":{},\"sampleTitle\":{},\"trace\":{},\"prediction\":{},\"fragment\":{},",
            json_string(&format!("{} · dropout explorer", spec.name)),
            json_string(&summary),
            json_string(note),
            inputs.join(","),
            self.training,
            json_string(&self.seed.to_string()),
            json_string(&format!(
                "the masks sample_masks draws from ChaCha8Rng::seed_from_u64({})",
                self.seed
            )),
            json_string(&text),
            json_string(prediction_text),
            json_string(&self.fragment()),
        );
    }

    fn view_network(&self, out: &mut String) {
        self.view_columns(out);
        self.view_layers(out);
        out.push_str("]},");
    }

    /// The units of each column (the input, then each layer), each site's label.
    fn view_columns(&self, out: &mut String) {
        let spec = &self.spec;
        let _ = write!(
            out,
            "\"network\":{{\"caption\":{},\"columns\":[",
            json_string(&format!(
                "{} ({} scaling)",
                spec.name,
                scaling_name(spec.scaling)
            ))
        );
        // Column 0 is the input; column c > 0 the output of layer c − 1.
        let mut site_idx = 0;
        let columns = core::iter::once((spec.n_inputs, spec.input_dropout, "input", None)).chain(
            spec.layers
                .iter()
                .map(|l| (l.size, l.dropout, l.name, Some(l))),
        );
        for (column, (size, dropout, name, layer)) in columns.enumerate() {
            let header = match layer {
                None => format!("input ({size})"),
                Some(l) => format!("{name} ({size}, {})", l.activation.name()),
            };
            let site = dropout.map(|d| {
                let idx = site_idx;
                site_idx += 1;
                (idx, d)
            });
            let label = site.map(|(_, d)| {
                let kind = match d.kind() {
                    DropoutKind::Alpha => " alpha",
                    DropoutKind::Gaussian => " gaussian",
                    DropoutKind::Standard | DropoutKind::Connect => "",
                };
                format!("μ{}{kind} p = {}", superscript(column), d.p())
            });
            let _ = write!(
                out,
                "{}{{\"header\":{},\"site\":{},\"units\":[",
                if column > 0 { "," } else { "" },
                json_string(&header),
                label
                    .as_deref()
                    .map_or_else(|| String::from("null"), json_string),
            );
            for unit in 0..size {
                let (kept, clickable, title) = match site {
                    None => (true, false, String::from("no dropout site")),
                    Some((idx, _)) => match &self.masks.sites[idx] {
                        SiteMask::Bits(bits) => {
                            let bit = bits.get(unit).copied().unwrap_or(true);
                            (
                                !self.training || bit,
                                true,
                                format!(
                                    "μ{}[{unit}] = {}: click to toggle",
                                    superscript(column),
                                    u8::from(bit)
                                ),
                            )
                        }
                        SiteMask::Noise(noise) => {
                            let e = noise.get(unit).map_or(1.0, |v| v.to_f64());
                            (
                                true,
                                false,
                                format!(
                                    "ε = {} (Gaussian noise, from the masks drawn)",
                                    general(e)
                                ),
                            )
                        }
                    },
                };
                let _ = write!(
                    out,
                    "{}{{\"kept\":{kept},\"clickable\":{clickable},\"title\":{}}}",
                    if unit > 0 { "," } else { "" },
                    json_string(&title)
                );
            }
            out.push_str("]}");
        }
    }

    /// Each weight and bias: strength (|w| over the largest), sign, whether it is dropped.
    fn view_layers(&self, out: &mut String) {
        let spec = &self.spec;
        let largest = self
            .layers
            .iter()
            .flat_map(|l| l.storage().iter().chain(l.biases()))
            .map(|v| v.to_f64().abs())
            .filter(|v| v.is_finite())
            .fold(f64::MIN_POSITIVE, f64::max);
        let strength = |w: f64| {
            if w.is_nan() {
                1.0
            } else {
                (w.abs() / largest).clamp(0.0, 1.0)
            }
        };
        out.push_str("],\"layers\":[");
        let mut connection_idx = 0;
        for (idx, (layer_spec, layer)) in spec.layers.iter().zip(&self.layers).enumerate() {
            let weight_bits = layer_spec.dropconnect.map(|_| {
                let bits = self.masks.weights.get(connection_idx);
                connection_idx += 1;
                bits
            });
            let _ = write!(
                out,
                "{}{{\"dropconnect\":{},\"weights\":[",
                if idx > 0 { "," } else { "" },
                layer_spec.dropconnect.map_or_else(
                    || String::from("null"),
                    |d| json_string(&format!("dropconnect p = {}", d.p()))
                )
            );
            for neuron in 0..layer.size() {
                out.push_str(if neuron > 0 { ",[" } else { "[" });
                for input in 0..layer.fan_in() {
                    let w = layer.weight(neuron, input).map_or(0.0, Float::to_f64);
                    let bit = weight_bits
                        .flatten()
                        .and_then(|bits| bits.get(neuron * layer.fan_in() + input))
                        .copied()
                        .unwrap_or(true);
                    let on = !self.training || bit;
                    let title = if weight_bits.is_some() {
                        format!(
                            "w = {} (DropConnect: {})",
                            general(w),
                            if bit { "kept" } else { "dropped" }
                        )
                    } else {
                        format!("w = {}", general(w))
                    };
                    let _ = write!(
                        out,
                        "{}{{\"s\":{},\"neg\":{},\"on\":{on},\"title\":{}}}",
                        if input > 0 { "," } else { "" },
                        json_number(strength(w)),
                        w < 0.0,
                        json_string(&title)
                    );
                }
                out.push(']');
            }
            out.push_str("],\"bias\":[");
            for (neuron, b) in layer.biases().iter().enumerate() {
                let b = b.to_f64();
                let _ = write!(
                    out,
                    "{}{{\"s\":{},\"neg\":{},\"title\":{}}}",
                    if neuron > 0 { "," } else { "" },
                    json_number(strength(b)),
                    b < 0.0,
                    json_string(&format!("b = {} (never dropped)", general(b)))
                );
            }
            out.push_str("]}");
        }
    }

    fn view_ensemble(&mut self, out: &mut String) {
        let n_outputs = self.spec.n_outputs();
        let output = self.output;
        let eval = self
            .prediction(false)
            .get(output)
            .copied()
            .unwrap_or(f64::NAN);
        let samples: Vec<f64> = self
            .samples
            .iter()
            .filter_map(|y| y.get(output).copied())
            .collect();
        let choice = if n_outputs > 1 {
            format!("Output {output} of {n_outputs} (the address's output=…)")
        } else {
            String::new()
        };
        let exact = self.exact();
        let (exact_text, mean) = match exact {
            Some(Ok(exact)) => (
                format!(
                    "Every mask of {} droppable units ({} thinned networks, weighted by their probability): ",
                    exact.units,
                    1_u64 << exact.units
                ),
                exact.mean.get(output).copied(),
            ),
            Some(Err(Error::TooManyUnits { found, .. })) => (
                format!(
                    "{found} droppable units: too many masks to enumerate here (Monte Carlo only)"
                ),
                None,
            ),
            _ => (
                String::from(
                    "Gaussian noise is continuous: no masks to enumerate (Monte Carlo only)",
                ),
                None,
            ),
        };
        let atoms: Vec<(f64, f64)> = match exact {
            Some(Ok(exact)) => exact.atoms.get(output).cloned().unwrap_or_default(),
            _ => Vec::new(),
        };
        let _ = write!(
            out,
            "\"ensemble\":{{\"choice\":{},\"exact\":{},\"mean\":{},\"meanValue\":{},\"evaluation\":{},",
            json_string(&choice),
            json_string(&exact_text),
            mean.map_or_else(
                || String::from("null"),
                |m| json_string(&format!("exact mean {}", general(m)))
            ),
            mean.map_or_else(|| String::from("null"), json_number),
            json_string(&format!("evaluation pass {}", general(eval))),
        );
        let n = samples.len();
        let mc_mean = (n > 0).then(|| samples.iter().sum::<f64>() / n as f64);
        let monte_carlo = match mc_mean {
            None => String::from("Monte Carlo: sample masks to start an estimate."),
            Some(m) => {
                let sd = if n > 1 {
                    libm::sqrt(
                        samples.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1) as f64,
                    )
                } else {
                    f64::NAN
                };
                format!(
                    "Monte Carlo: {n} sample{}, mean {}, standard deviation {}",
                    if n == 1 { "" } else { "s" },
                    general(m),
                    general(sd)
                )
            }
        };
        let _ = write!(
            out,
            "\"monteCarlo\":{},\"histogram\":",
            json_string(&monte_carlo)
        );
        out.push_str(&histogram(&atoms, &samples, eval, mean, mc_mean));
        out.push('}');
    }
}

/// The histogram's marks: stems (or 40 bins beyond 60 values) of the exact distribution, and
/// lines at the exact mean, the evaluation pass and the Monte Carlo mean; `null` when there is
/// nothing finite to draw a distribution of.
fn histogram(
    atoms: &[(f64, f64)],
    samples: &[f64],
    eval: f64,
    mean: Option<f64>,
    mc_mean: Option<f64>,
) -> String {
    let distribution: Vec<f64> = atoms
        .iter()
        .map(|a| a.0)
        .chain(samples.iter().copied())
        .filter(|v| v.is_finite())
        .collect();
    if distribution.is_empty() {
        return String::from("null");
    }
    let values = distribution
        .iter()
        .copied()
        .chain(Some(eval).filter(|v| v.is_finite()));
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if hi - lo < 1e-12 {
        (lo, hi) = (lo - 1.0, hi + 1.0);
    }
    let at = |v: f64| (v - lo) / (hi - lo);
    let mut bars: Vec<(f64, f64)> = atoms
        .iter()
        .copied()
        .filter(|(v, _)| v.is_finite())
        .collect();
    if bars.len() > 60 {
        let mut bins = [0.0; 40];
        for &(v, p) in &bars {
            bins[bin_of(at(v))] += p;
        }
        bars = bins
            .iter()
            .enumerate()
            .map(|(i, &p)| (lo + (i as f64 + 0.5) * (hi - lo) / 40.0, p))
            .collect();
    }
    let top = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let mut out = format!(
        "{{\"lo\":{},\"hi\":{},\"bars\":[",
        json_string(&general(lo)),
        json_string(&general(hi))
    );
    for (k, &(v, p)) in bars.iter().enumerate() {
        let _ = write!(
            out,
            "{}{{\"x\":{},\"h\":{},\"title\":{}}}",
            if k > 0 { "," } else { "" },
            json_number(at(v)),
            json_number(if top > 0.0 { p / top } else { 0.0 }),
            json_string(&format!("{}: probability {}", general(v), general(p)))
        );
    }
    let line = |v: Option<f64>| {
        v.filter(|v| v.is_finite())
            .map_or_else(|| String::from("null"), |v| json_number(at(v)))
    };
    let _ = write!(
        out,
        "],\"mean\":{},\"eval\":{},\"mc\":{}}}",
        line(mean),
        line(Some(eval)),
        line(mc_mean)
    );
    out
}

/// Which of 40 bins a fraction of the axis falls in.
#[expect(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "clamped to 0..=39 first"
)]
fn bin_of(fraction: f64) -> usize {
    libm::floor(fraction * 40.0).clamp(0.0, 39.0) as usize
}

/// A page of either scalar type, and the commands of the page's script.
pub enum AnyPage {
    /// An `f32` network's page.
    F32(Page<f32>),
    /// An `f64` network's page.
    F64(Page<f64>),
}

impl AnyPage {
    /// The page [`encode`](super::encode) wrote, of whichever scalar type it holds.
    ///
    /// # Errors
    /// [`Error::Page`] if the bytes are not a page's network.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        match bytes.get(MAGIC.len()) {
            Some(4) => Page::decode(bytes).map(AnyPage::F32),
            _ => Page::decode(bytes).map(AnyPage::F64),
        }
    }

    /// Runs one command of the page's script and returns the view (JSON) after it:
    /// `view`, `fragment <text>`, `toggle <site> <unit>`, `sample`, `reset`,
    /// `mode training|evaluation`, `input <index> <text>`, `output <index>`. An unknown command
    /// or argument changes nothing.
    pub fn run(&mut self, command: &str) -> String {
        match self {
            AnyPage::F32(page) => run(page, command),
            AnyPage::F64(page) => run(page, command),
        }
    }
}

fn run<T: Float>(page: &mut Page<T>, command: &str) -> String {
    let (verb, rest) = command.split_once(' ').unwrap_or((command, ""));
    let mut numbers = rest.split(' ').map(str::parse::<usize>);
    match verb {
        "fragment" => page.set_fragment(rest),
        "toggle" => {
            if let (Some(Ok(site)), Some(Ok(unit))) = (numbers.next(), numbers.next()) {
                page.toggle(site, unit);
            }
        }
        "sample" => page.sample(),
        "reset" => page.reset(),
        "mode" => page.set_training(rest == "training"),
        "input" => {
            let (idx, text) = rest.split_once(' ').unwrap_or((rest, ""));
            if let Ok(idx) = idx.parse() {
                page.set_input(idx, text);
            }
        }
        "output" => {
            if let Some(Ok(output)) = numbers.next() {
                page.set_output(output);
            }
        }
        _ => {}
    }
    page.view()
}

fn scaling_name(scaling: Scaling) -> &'static str {
    match scaling {
        Scaling::Classic => "classic",
        Scaling::Inverted => "inverted",
    }
}

fn superscript(n: usize) -> dropout_shared::Superscript {
    dropout_shared::Superscript(n)
}

fn bit_string(bits: &[bool]) -> String {
    bits.iter().map(|&b| if b { '1' } else { '0' }).collect()
}

/// A number typed by the learner or read from an address: `nan`, `inf`, `-inf` and
/// `infinity` in any case; anything unreadable is NaN.
fn parse_number(text: &str) -> f64 {
    text.trim().parse().unwrap_or(f64::NAN)
}

/// A number in an address: the shortest text that reads back as the same value.
fn fragment_number(v: f64) -> String {
    if v.is_nan() {
        String::from("nan")
    } else if v.is_infinite() {
        String::from(if v > 0.0 { "inf" } else { "-inf" })
    } else {
        format!("{v}")
    }
}

/// `%2C` and the like, as an address may carry them.
fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut k = 0;
    while k < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[k],
            bytes.get(k + 1).copied().and_then(hex),
            bytes.get(k + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                k += 3;
            }
            (b, _, _) => {
                out.push(b);
                k += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A JSON number: the shortest text that reads back as this `f64`; `null` unless finite.
fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        String::from("null")
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
