//! The checked model of a declaration: sizes as `usize`, numbers as values of the scalar type,
//! and the user's spans to report against.
//!
//! After a failed check the model is still built from whatever was readable (missing parts get
//! neutral defaults), so that the expansion can emit a stub with the right signatures.

pub(crate) use dropout_shared::quant::{
    FusedActivation, Quantization, QuantizedMultiplier, Rounding, Table,
};
pub(crate) use dropout_shared::{Activation, DropoutKind, Scalar, Scaling};
use proc_macro2::Span;
use syn::{Attribute, Ident, Visibility};

#[derive(Clone)]
pub(crate) struct Model {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub ident: Ident,
    pub scalar: Scalar,
    pub scaling: Scaling,
    pub n_inputs: usize,
    /// The site on the input (μ⁰).
    pub input_dropout: Option<Prob>,
    pub layers: Vec<Layer>,
    pub tests: Vec<TestCase>,
    /// `tests: auto`: generate the property tests.
    pub auto_tests: bool,
    /// Every file the declaration reads; the generated code depends on them.
    pub files: Vec<std::path::PathBuf>,
    /// For a network declared over `i8` (or a twin): its integer parameters. Its float view
    /// (the input and output of `forward`) is `f32`, the model's `scalar`.
    pub int8: Option<Int8>,
    /// `quantize: int8 as Twin`: the int8 twin of this float network.
    pub twin: Option<Twin>,
}

/// The int8 twin of a float network.
#[derive(Clone)]
pub(crate) struct Twin {
    pub ident: Ident,
    /// The twin's integers when `calibrate:` gives rows at compile time (its `new()`), with
    /// `layers` empty otherwise.
    pub int8: Int8,
}

/// The integer side of an int8 network, as imported and checked.
#[derive(Clone)]
pub(crate) struct Int8 {
    /// Where the integers come from, for the documentation: `` `models/sine.tflite` ``.
    pub source: String,
    /// Whether they are known at compile time: `new()`, `INPUT` and `OUTPUT` exist.
    pub constant: bool,
    /// The float network a twin quantizes at run time (`quantize`).
    pub twin_of: Option<Ident>,
    pub rounding: Rounding,
    pub input: Quantization,
    pub output: Quantization,
    /// Whether the file's graph takes and gives `float32` (`QUANTIZE`, `DEQUANTIZE`).
    pub float_io: (bool, bool),
    /// One per declared layer, in order; empty after an error.
    pub layers: Vec<Int8Layer>,
}

#[derive(Clone)]
pub(crate) struct Int8Layer {
    /// Row-major, one row of `fan_in` per output channel.
    pub weights: Vec<i8>,
    /// The fused activation's output range.
    pub range: (i8, i8),
    /// One weight scale, or one per output channel.
    pub weight_scales: Vec<f32>,
    pub input: Quantization,
    /// What the sums requantize to: the output, or the table's input.
    pub output: Quantization,
    pub activation: FusedActivation,
    /// The table of an activation the layer does not fuse (a twin's sigmoid, tanh, …).
    pub table: Option<Table>,
    /// The evaluation pass's bias and multipliers.
    pub eval: Requantization,
    /// The masked pass's: the evaluation pass's unless a dropout site feeds the layer.
    pub train: Requantization,
}

impl Int8Layer {
    /// The quantization of the layer's output: its table's, or what the sums requantize to.
    pub fn layer_output(&self) -> Quantization {
        self.table.map_or(self.output, |table| table.output)
    }
}

#[derive(Clone)]
pub(crate) struct Requantization {
    pub bias: Vec<i32>,
    pub multipliers: Vec<QuantizedMultiplier>,
}

/// A dropout probability: the one written and its complement, with `0 < keep ≤ 1`.
#[derive(Clone, Copy)]
pub(crate) struct Prob {
    pub p: f64,
    pub keep: f64,
    pub kind: DropoutKind,
}

impl Prob {
    /// The keyword that declares it.
    pub fn keyword(self) -> &'static str {
        self.kind.keyword()
    }
}

#[derive(Clone)]
pub(crate) struct Layer {
    /// The field name; a default (`h1`, `output`) carries the span of the layer's kind keyword.
    pub name: Ident,
    pub fan_in: usize,
    pub size: usize,
    pub activation: Activation,
    /// `None` when the declaration omits the weights (they are drawn by `init`), or when the
    /// written ones have an error (already reported).
    pub params: Option<Params>,
    /// Whether the declaration writes `{ weights, bias }` for the layer.
    pub declared: bool,
    /// The site on this layer's neurons.
    pub dropout: Option<Prob>,
    /// DropConnect on this layer's weights.
    pub dropconnect: Option<Prob>,
}

/// A layer's declared weights and biases.
#[derive(Clone)]
pub(crate) struct Params {
    pub values: ParamValues,
    /// The tensor the weights were read from, if a file gives them.
    pub weights_tensor: Option<String>,
    /// The tensor the biases were read from, if a file gives them.
    pub bias_tensor: Option<String>,
}

#[derive(Clone)]
pub(crate) enum ParamValues {
    /// Literal values (written, or read from a JSON file): one row per neuron, `fan_in` values
    /// each, and one bias per neuron.
    Literal {
        weights: Vec<Vec<Num>>,
        bias: Vec<Num>,
    },
    /// Little-endian values of the scalar type, when a safetensors file gives either: the
    /// weights one row per neuron (PyTorch's `Linear.weight`), then one bias per neuron.
    Bytes { weights: Vec<u8>, bias: Vec<u8> },
}

/// A number already rounded to the scalar type, with the span of its literal.
#[derive(Clone, Copy)]
pub(crate) struct Num {
    pub value: f64,
    pub span: Span,
}

#[derive(Clone)]
pub(crate) struct TestCase {
    /// The `test` keyword, where errors about the block as a whole point.
    pub keyword: Ident,
    pub name: Ident,
    pub input: Vec<Num>,
    /// One mask per dropout site, in site order; `None` tests evaluation mode.
    pub masks: Option<Vec<SiteMask>>,
    pub expect: Vec<Num>,
    pub tolerance: f64,
    /// `twin_tolerance`: the int8 twin's output against this network's, in output units.
    pub twin_tolerance: Option<f64>,
}

/// The mask of one site in a `test` block.
#[derive(Clone)]
pub(crate) enum SiteMask {
    Bits(Vec<bool>),
    /// The multipliers of a Gaussian-dropout site.
    Noise(Vec<Num>),
}

/// A dropout site of the model: the layer it sits on (`None` for the input), its size and
/// probability.
pub(crate) struct SiteRef<'a> {
    pub layer: Option<&'a Layer>,
    /// 0 for the input, k for the k-th layer: the index of μ in the literature.
    pub depth: usize,
    pub size: usize,
    pub prob: Prob,
}

/// One step of a forward pass: the site feeding a layer, DropConnect on it, its affine map and
/// its activation. [`Model::steps`] builds the sequence once; every generated pass is written
/// from it.
pub(crate) struct Step<'a> {
    pub layer: &'a Layer,
    /// The site on the layer's input, if there is one.
    pub site: Option<StepSite>,
    /// DropConnect on the layer's weights, if declared.
    pub connection: Option<StepConnection>,
}

/// The site of a [`Step`]: its index among the sites (μ order, `__SITES`), the field of the
/// masks struct, and whether its masks are Gaussian noise rather than bits.
pub(crate) struct StepSite {
    pub index: usize,
    pub field: Ident,
    pub noise: bool,
}

/// The DropConnect of a [`Step`]: its index among the connections (`__CONNECTIONS`) and the
/// field of the masks struct.
pub(crate) struct StepConnection {
    pub index: usize,
    pub field: Ident,
}

impl Model {
    /// The steps of a forward pass, layer by layer.
    pub fn steps(&self) -> Vec<Step<'_>> {
        let mut sites = self.sites().into_iter().enumerate().peekable();
        let mut connections = 0;
        self.layers
            .iter()
            .enumerate()
            .map(|(idx, layer)| {
                // The site feeding layer `idx` sits at depth `idx` (0: the input).
                let site = sites
                    .next_if(|(_, site)| site.depth == idx)
                    .map(|(index, site)| StepSite {
                        index,
                        field: site.field(self.ident.span()),
                        noise: site.prob.kind.is_noise(),
                    });
                let connection = layer.dropconnect.map(|_| {
                    connections += 1;
                    StepConnection {
                        index: connections - 1,
                        field: layer.connections_field(),
                    }
                });
                Step {
                    layer,
                    site,
                    connection,
                }
            })
            .collect()
    }

    /// Whether every site draws bits and no layer has DropConnect: then the training pass
    /// also runs sample-parallel, in lanes (`Pass::MaskedLanes`).
    pub fn masks_in_lanes(&self) -> bool {
        self.steps()
            .iter()
            .all(|step| step.connection.is_none() && step.site.as_ref().is_none_or(|s| !s.noise))
    }

    pub fn n_outputs(&self) -> usize {
        self.layers.last().map_or(self.n_inputs, |layer| layer.size)
    }

    /// The dropout sites in order μ⁰, μ¹, …
    pub fn sites(&self) -> Vec<SiteRef<'_>> {
        let input = self.input_dropout.map(|prob| SiteRef {
            layer: None,
            depth: 0,
            size: self.n_inputs,
            prob,
        });
        input
            .into_iter()
            .chain(self.layers.iter().enumerate().filter_map(|(idx, layer)| {
                layer.dropout.map(|prob| SiteRef {
                    layer: Some(layer),
                    depth: idx + 1,
                    size: layer.size,
                    prob,
                })
            }))
            .collect()
    }

    /// The layers with DropConnect, in order, with their index.
    pub fn connections(&self) -> impl Iterator<Item = (usize, &Layer, Prob)> {
        self.layers
            .iter()
            .enumerate()
            .filter_map(|(idx, layer)| layer.dropconnect.map(|prob| (idx, layer, prob)))
    }

    /// Whether a site is Gaussian dropout.
    pub fn has_gaussian_sites(&self) -> bool {
        self.sites()
            .iter()
            .any(|site| site.prob.kind == DropoutKind::Gaussian)
    }

    /// The struct holding one mask per site: `ToyMasks` for `Toy`.
    pub fn masks_ident(&self) -> Ident {
        // `format_ident!` drops a raw identifier's `r#`: `r#type` gives `typeMasks`.
        quote::format_ident!("{}Masks", self.ident)
    }

    pub fn all_weights_declared(&self) -> bool {
        self.layers.iter().all(|layer| layer.params.is_some())
    }
}

impl Layer {
    /// The field of the masks struct for this layer's DropConnect mask: `h1_weights`.
    pub fn connections_field(&self) -> Ident {
        quote::format_ident!("{}_weights", self.name)
    }
}

impl SiteRef<'_> {
    /// The field of the masks struct: the layer's name, or `input`.
    pub fn field(&self, span: Span) -> Ident {
        match self.layer {
            Some(layer) => layer.name.clone(),
            None => Ident::new("input", span),
        }
    }
}
