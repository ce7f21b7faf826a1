//! The error type of run-time operations whose input the compiler cannot check.

use core::fmt;

use crate::ProbabilityError;

/// What went wrong in an operation whose input sizes or values are only known at run time.
///
/// Everything the `network!` macro can check happens at compile time; this type covers the rest:
/// batch shapes, probabilities chosen at run time, and the like.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A probability outside its range; `name` is `"p"` or `"keep"`.
    Probability {
        /// Which probability: `"p"` (drop) or `"keep"`.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A batch whose rows do not have the network's input width.
    BatchWidth {
        /// The network's number of inputs.
        expected: usize,
        /// The number of columns given.
        found: usize,
    },
    /// An input of the wrong length for a pass whose input length is only known at run time.
    InputLength {
        /// The number of inputs the network or layer takes.
        expected: usize,
        /// The number of values given.
        found: usize,
    },
    /// A batched masked pass given a different number of mask sets than rows.
    MaskCount {
        /// The number of rows in the batch.
        expected: usize,
        /// The number of mask sets given.
        found: usize,
    },
    /// A batch pass given an output slice of another length than its input.
    OutputRows {
        /// The number of input rows.
        expected: usize,
        /// The number of output rows given.
        found: usize,
    },
    /// Exact moments asked of a network with too many droppable units to enumerate.
    TooManyUnits {
        /// The network's number of droppable units.
        found: usize,
        /// The largest number enumerated.
        max: usize,
    },
    /// [`InstructionSet::run`](crate::InstructionSet::run) asked for a set this CPU cannot run.
    InstructionSet(crate::InstructionSet),
    /// A network with a layer too wide for the explorer page to draw.
    TooLargeToDraw {
        /// The widest layer's number of units.
        units: usize,
        /// The most the page draws.
        max: usize,
    },
    /// Exact moments asked of a network with a Gaussian-dropout site, whose noise is continuous.
    ContinuousNoise {
        /// The site's layer, or `"input"`.
        site: &'static str,
    },
    /// The network an explorer page embeds could not be read: a page edited by hand, or
    /// written by another version of this crate.
    #[cfg(feature = "alloc")]
    Page(alloc::string::String),
    /// A Monte Carlo estimate asked for zero samples.
    NoSamples,
    /// Targets whose shape is not one row of outputs per sample.
    TargetShape {
        /// (rows of the batch, the network's number of outputs).
        expected: (usize, usize),
        /// The targets' shape.
        found: (usize, usize),
    },
    /// A trainer configured with batches of zero samples.
    BatchSize,
    /// A data set with no rows; `what` names it (`"training"`, `"validation"`).
    EmptyData {
        /// Which data set.
        what: &'static str,
    },
    /// A NaN or infinite value in data that training or evaluation would learn from.
    NonFiniteData {
        /// Which data: `"training inputs"`, `"validation targets"`, ….
        what: &'static str,
        /// The row (sample) of the value, from 0.
        row: usize,
        /// The column of the value, from 0.
        column: usize,
        /// The value.
        value: f64,
    },
    /// A target that the loss cannot use: not a probability for binary cross-entropy, or a
    /// row that is not a distribution for softmax cross-entropy.
    #[cfg(feature = "alloc")]
    Target {
        /// Which data: `"training targets"`, `"validation targets"`, `"targets"`.
        what: &'static str,
        /// The row (sample), from 0.
        row: usize,
        /// What is wrong with it.
        problem: alloc::string::String,
    },
    /// An optimizer hyperparameter outside its range.
    Hyperparameter {
        /// The hyperparameter: `"learning rate"`, `"beta1"`, ….
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The range it must lie in.
        range: &'static str,
    },
    /// A loss that does not fit the network's output layer, such as binary cross-entropy on a
    /// softmax output.
    LossOutput {
        /// The loss.
        loss: &'static str,
        /// The output layer's activation.
        activation: &'static str,
    },
    /// Training produced a NaN or infinite loss, gradient or parameter; the network holds the
    /// parameters of the last finite step.
    Diverged {
        /// The epoch, from 1.
        epoch: usize,
        /// The optimizer step within the epoch, from 1; 0 when the evaluation after the epoch
        /// diverged.
        step: usize,
        /// What became non-finite.
        what: &'static str,
    },
    /// A dropout override on a network with `classic` scaling, whose evaluation pass depends on
    /// the declared probabilities.
    OverrideNeedsInverted,
    /// Drawing a diagram failed.
    #[cfg(feature = "diagram")]
    Drawing(alloc::string::String),
    /// A parameter of the named layer is NaN or infinite, so it cannot be saved or printed.
    #[cfg(feature = "alloc")]
    NotFinite {
        /// The layer's name.
        layer: alloc::string::String,
    },
    /// The scales or zero points of an int8 layer cannot describe one: the message names which.
    Quantization(&'static str),
    /// An uncertainty measure given arguments that do not fit (lengths, labels, bins, τ).
    Uncertainty(&'static str),
    /// Saved parameters with a different number of layers.
    LayerCount {
        /// The network's number of layers.
        expected: usize,
        /// The number of layers saved.
        found: usize,
    },
    /// Saved parameters whose layer has a different name.
    #[cfg(feature = "alloc")]
    LayerName {
        /// The network's layer name.
        expected: alloc::string::String,
        /// The saved layer name.
        found: alloc::string::String,
    },
    /// Saved parameters whose layer has a different shape.
    #[cfg(feature = "alloc")]
    LayerShape {
        /// The layer's name.
        layer: alloc::string::String,
        /// (neurons, fan-in) of the network's layer.
        expected: (usize, usize),
        /// (rows, columns) of the saved weights; `None` if the rows differ in length.
        found: Option<(usize, usize)>,
        /// The number of saved biases.
        bias: usize,
    },
    /// Saved parameters of another scalar type than the network's.
    #[cfg(feature = "alloc")]
    Scalar {
        /// The network's scalar type.
        expected: &'static str,
        /// The saved one.
        found: alloc::string::String,
    },
    /// A saved tensor (or a layer's `weights` or `bias`) that cannot be loaded: of another
    /// dtype, of the wrong rank, or holding a value that is not finite.
    #[cfg(feature = "alloc")]
    Tensor {
        /// The layer it belongs to.
        layer: alloc::string::String,
        /// The tensor's name.
        tensor: alloc::string::String,
        /// What is wrong with it.
        problem: alloc::string::String,
    },
    /// Two layers that would be saved under one tensor name.
    #[cfg(feature = "alloc")]
    TensorName {
        /// The tensor name.
        tensor: alloc::string::String,
        /// The two layers.
        layers: (alloc::string::String, alloc::string::String),
    },
    /// A thread pool that cannot be started, or chunks of a parallel pass that do not fit
    /// together: the message says which.
    #[cfg(feature = "alloc")]
    Threads(alloc::string::String),
    /// A network that cannot be written in an exchange format (ONNX): the message says why.
    #[cfg(feature = "alloc")]
    Export(alloc::string::String),
    /// Data that is not valid saved parameters (JSON or safetensors).
    #[cfg(feature = "alloc")]
    Format(alloc::string::String),
    /// A file could not be read or written; [`Error::source`](core::error::Error::source)
    /// gives the operating system's error.
    #[cfg(feature = "std")]
    Io {
        /// The file.
        path: alloc::string::String,
        /// What the operating system said.
        source: IoError,
    },
}

/// An operating system's error about a file, shared so that [`Error`] stays `Clone`. Two are
/// equal when their kinds and messages are.
///
/// ```
/// use std::error::Error as _;
///
/// let err = dropout::io::load_json::<dropout::toy::Toy>("no/such/file.json").unwrap_err();
/// let dropout::Error::Io { source, .. } = &err else { panic!("{err}") };
/// assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
/// assert!(err.source().is_some());
/// ```
#[cfg(feature = "std")]
#[derive(Clone, Debug)]
pub struct IoError(std::sync::Arc<std::io::Error>);

#[cfg(feature = "std")]
impl IoError {
    /// What kind of error it is.
    pub fn kind(&self) -> std::io::ErrorKind {
        self.0.kind()
    }

    /// The error itself.
    pub fn get_ref(&self) -> &std::io::Error {
        &self.0
    }
}

#[cfg(feature = "std")]
impl From<std::io::Error> for IoError {
    fn from(err: std::io::Error) -> Self {
        IoError(std::sync::Arc::new(err))
    }
}

#[cfg(feature = "std")]
impl PartialEq for IoError {
    fn eq(&self, other: &Self) -> bool {
        self.kind() == other.kind()
            && alloc::string::ToString::to_string(&self.0)
                == alloc::string::ToString::to_string(&other.0)
    }
}

#[cfg(feature = "std")]
impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(feature = "std")]
impl core::error::Error for IoError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.0.source()
    }
}

impl fmt::Display for Error {
    #[expect(
        clippy::too_many_lines,
        reason = "one arm per variant and no fallback, so that a new variant cannot compile without its message"
    )]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Probability { name, value } => ProbabilityError {
                name,
                value: *value,
            }
            .fmt(f),
            Error::BatchWidth { expected, found } => write!(
                f,
                "expected batch rows of {expected} inputs (the network's input size), found {found} columns"
            ),
            Error::InputLength { expected, found } => {
                write!(f, "expected an input of {expected} values, found {found}")
            }
            Error::MaskCount { expected, found } => write!(
                f,
                "expected one set of masks per batch row ({expected}), found {found}"
            ),
            Error::OutputRows { expected, found } => write!(
                f,
                "expected one output row per input row ({expected}), found {found}"
            ),
            Error::TooManyUnits { found, max } => write!(
                f,
                "exact moments enumerate 2^n masks; this network has n = {found} droppable units and weights, more than the limit of {max}"
            ),
            Error::InstructionSet(set) => {
                write!(f, "this CPU cannot run the {set} instruction set")
            }
            Error::TooLargeToDraw { units, max } => write!(
                f,
                "the explorer draws every unit; this network has a layer of {units} units, more than {max}"
            ),
            Error::ContinuousNoise { site } => write!(
                f,
                "exact moments enumerate masks, and the Gaussian noise of site `{site}` is continuous; estimate them with `predict_mc`"
            ),
            #[cfg(feature = "alloc")]
            Error::Page(what) => write!(f, "the explorer page's network is malformed: {what}"),
            Error::NoSamples => f.write_str("a Monte Carlo estimate needs at least one sample"),
            #[cfg(feature = "diagram")]
            Error::Drawing(message) => write!(f, "drawing the diagram failed: {message}"),


            Error::TargetShape { expected, found } => write!(
                f,
                "expected targets of shape {expected:?} (one row of outputs per sample), found {found:?}"
            ),
            Error::BatchSize => f.write_str("the batch size must be at least 1"),
            Error::EmptyData { what } => write!(f, "the {what} data has no rows"),
            Error::NonFiniteData {
                what,
                row,
                column,
                value,
            } => write!(
                f,
                "{what} hold {value} at row {row}, column {column}: values must be finite"
            ),
            #[cfg(feature = "alloc")]
            Error::Target { what, row, problem } => write!(f, "{what}, row {row}: {problem}"),
            Error::Hyperparameter { name, value, range } => {
                write!(f, "the {name} must lie in {range}, found {value}")
            }
            Error::LossOutput { loss, activation } => write!(
                f,
                "{loss} does not fit an output layer with `{activation}`: the loss applies its own link function; declare the output `identity` (or `softmax` for softmax cross-entropy, `sigmoid` for binary cross-entropy)"
            ),
            Error::Diverged { epoch, step: 0, what } => write!(
                f,
                "training diverged after epoch {epoch}: the {what} is not finite; the network keeps the parameters of the last finite step"
            ),
            Error::Diverged { epoch, step, what } => write!(
                f,
                "training diverged in epoch {epoch}, step {step}: the {what} is not finite; the network keeps the parameters of the last finite step"
            ),
            Error::OverrideNeedsInverted => f.write_str(
                "a dropout override needs `inverted` scaling: under `classic` scaling the evaluation pass depends on the declared probabilities",
            ),
            #[cfg(feature = "alloc")]
            Error::NotFinite { layer } => write!(
                f,
                "layer `{layer}` has a parameter that is NaN or infinite (did training diverge?)"
            ),
            Error::Quantization(what) => write!(f, "int8 quantization: {what}"),
            Error::Uncertainty(what) => write!(f, "uncertainty measure: {what}"),
            Error::LayerCount { expected, found } => {
                write!(
                    f,
                    "expected {expected} layers, found {found} in the saved parameters"
                )
            }
            #[cfg(feature = "alloc")]
            Error::LayerName { expected, found } => {
                write!(
                    f,
                    "expected layer `{expected}`, found `{found}` in the saved parameters"
                )
            }
            #[cfg(feature = "alloc")]
            Error::LayerShape {
                layer,
                expected,
                found,
                bias,
            } => layer_shape(f, layer, *expected, *found, *bias),
            #[cfg(feature = "alloc")]
            Error::Scalar { expected, found } => write!(
                f,
                "the saved parameters are of type {found}, the network's of {expected}: convert them explicitly rather than round them here"
            ),
            #[cfg(feature = "alloc")]
            Error::Tensor {
                layer,
                tensor,
                problem,
            } => write!(f, "layer `{layer}`, tensor `{tensor}`: {problem}"),
            #[cfg(feature = "alloc")]
            Error::TensorName { tensor, layers } => write!(
                f,
                "layers `{}` and `{}` would both be saved as tensor `{tensor}`",
                layers.0, layers.1
            ),
            #[cfg(feature = "alloc")]
            Error::Threads(message) => write!(f, "parallel pass: {message}"),
            #[cfg(feature = "alloc")]
            Error::Export(message) => write!(f, "cannot export the network: {message}"),
            #[cfg(feature = "alloc")]
            Error::Format(message) => write!(f, "not saved network parameters: {message}"),
            #[cfg(feature = "std")]
            Error::Io { path, source } => write!(f, "{path}: {source}"),
        }
    }
}

impl From<ProbabilityError> for Error {
    fn from(ProbabilityError { name, value }: ProbabilityError) -> Self {
        Error::Probability { name, value }
    }
}

/// An ONNX graph that could not be written, as [`Error::Export`].
#[cfg(feature = "onnx")]
impl From<dropout_onnx::Error> for Error {
    fn from(err: dropout_onnx::Error) -> Self {
        Error::Export(alloc::string::ToString::to_string(&err))
    }
}

#[cfg(feature = "std")]
impl Error {
    /// An I/O error about the file at `path`.
    pub(crate) fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        Error::Io {
            path: alloc::string::ToString::to_string(&path.display()),
            source: err.into(),
        }
    }
}

#[cfg(feature = "alloc")]
fn layer_shape(
    f: &mut fmt::Formatter<'_>,
    layer: &str,
    (rows, columns): (usize, usize),
    found: Option<(usize, usize)>,
    bias: usize,
) -> fmt::Result {
    fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
        if n == 1 { one } else { many }
    }
    write!(
        f,
        "layer `{layer}`: expected weights of {rows} {} × {columns} {} and {rows} {}, found ",
        plural(rows, "row", "rows"),
        plural(columns, "column", "columns"),
        plural(rows, "bias", "biases"),
    )?;
    match found {
        Some((r, c)) => write!(f, "{r} × {c}")?,
        None => f.write_str("rows of different lengths")?,
    }
    write!(f, " and {bias} {}", plural(bias, "bias", "biases"))
}

impl core::error::Error for Error {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            #[cfg(feature = "std")]
            Error::Io { source, .. } => Some(source.get_ref()),
            _ => None,
        }
    }
}
