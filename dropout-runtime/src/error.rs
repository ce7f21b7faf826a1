//! The error type of run-time operations whose input the compiler cannot check.

use core::fmt;

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
    /// A batched masked pass given a different number of mask sets than rows.
    MaskCount {
        /// The number of rows in the batch.
        expected: usize,
        /// The number of mask sets given.
        found: usize,
    },
    /// Exact moments asked of a network with too many droppable units to enumerate.
    TooManyUnits {
        /// The network's number of droppable units.
        found: usize,
        /// The largest number enumerated.
        max: usize,
    },
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
    /// Data that is not valid saved parameters (JSON or safetensors).
    #[cfg(feature = "alloc")]
    Format(alloc::string::String),
    /// A file could not be read or written.
    #[cfg(feature = "alloc")]
    Io {
        /// The file.
        path: alloc::string::String,
        /// What the operating system said.
        message: alloc::string::String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Probability {
                name: "keep",
                value,
            } => {
                write!(f, "keep must lie in (0, 1], found {value}")
            }
            Error::Probability { name, value } => {
                write!(f, "{name} must lie in [0, 1), found {value}")
            }
            Error::BatchWidth { expected, found } => write!(
                f,
                "expected batch rows of {expected} inputs (the network's input size), found {found} columns"
            ),
            Error::MaskCount { expected, found } => write!(
                f,
                "expected one set of masks per batch row ({expected}), found {found}"
            ),
            Error::TooManyUnits { found, max } => write!(
                f,
                "exact moments enumerate 2^n masks; this network has n = {found} droppable units, more than the limit of {max}"
            ),
            Error::NoSamples => f.write_str("a Monte Carlo estimate needs at least one sample"),
            Error::TargetShape { expected, found } => write!(
                f,
                "expected targets of shape {expected:?} (one row of outputs per sample), found {found:?}"
            ),
            Error::BatchSize => f.write_str("the batch size must be at least 1"),
            #[cfg(feature = "diagram")]
            Error::Drawing(message) => write!(f, "drawing the diagram failed: {message}"),
            #[cfg(feature = "alloc")]
            Error::NotFinite { layer } => {
                write!(f, "layer `{layer}` has a parameter that is NaN or infinite (did training diverge?)")
            }
            Error::LayerCount { expected, found } => {
                write!(f, "expected {expected} layers, found {found} in the saved parameters")
            }
            #[cfg(feature = "alloc")]
            Error::LayerName { expected, found } => {
                write!(f, "expected layer `{expected}`, found `{found}` in the saved parameters")
            }
            #[cfg(feature = "alloc")]
            Error::LayerShape { layer, expected, found, bias } => {
                fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
                    if n == 1 { one } else { many }
                }
                let (rows, columns) = *expected;
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
                write!(f, " and {bias} {}", plural(*bias, "bias", "biases"))
            }
            #[cfg(feature = "alloc")]
            Error::Format(message) => write!(f, "not saved network parameters: {message}"),
            #[cfg(feature = "alloc")]
            Error::Io { path, message } => write!(f, "{path}: {message}"),
            Error::OverrideNeedsInverted => f.write_str(
                "a dropout override needs `inverted` scaling: under `classic` scaling the evaluation pass depends on the declared probabilities",
            ),
        }
    }
}

impl core::error::Error for Error {}
