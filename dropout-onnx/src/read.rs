//! `.onnx` bytes → [`Model`]: the graph followed from its input, node by node.

use std::collections::HashMap;
use std::path::{Component, Path};

use prost::Message as _;

use crate::proto::{
    AttributeProto, ModelProto, NodeProto, TensorProto, ValueInfoProto, tensor_proto, type_proto,
};
use crate::{Activation, Dense, Error, Model, Precision};

/// The model in `bytes`, which keeps every initializer inside the file.
///
/// # Errors
/// An [`Error`] naming the problem if the bytes are not an ONNX model, if a tensor's data is
/// stored outside the file (use [`read_file`] or [`read_with`]), or if the graph is not a chain
/// of dense layers and activations.
pub fn read(bytes: &[u8]) -> Result<Model, Error> {
    read_with(bytes, |location| {
        Err(format!(
            "its data is in the file `{location}`, and the model was given as bytes without a directory"
        ))
    })
}

/// The model in the file at `path`; initializers stored as external data are read from files
/// beside it, as ONNX specifies.
///
/// # Errors
/// As [`read`], and if a file cannot be read.
pub fn read_file(path: impl AsRef<Path>) -> Result<Model, Error> {
    let path = path.as_ref();
    let bytes = std::fs::read(path)
        .map_err(|err| Error::new(format!("cannot read `{}`: {err}", path.display())))?;
    let dir = path.parent().unwrap_or(Path::new(""));
    read_with(&bytes, |location| {
        std::fs::read(dir.join(location)).map_err(|err| format!("cannot read `{location}`: {err}"))
    })
}

/// The model in `bytes`, with `external` giving the contents of each file that external data
/// names (a relative path without `..`, as ONNX requires; others are refused before `external`
/// sees them). The error `external` returns becomes part of a message naming the tensor.
///
/// # Errors
/// As [`read`].
pub fn read_with(
    bytes: &[u8],
    mut external: impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Model, Error> {
    let model =
        ModelProto::decode(bytes).map_err(|err| Error::new(format!("not an ONNX model: {err}")))?;
    let opset = model
        .opset_import
        .iter()
        .find(|set| set.domain.is_empty() || set.domain == "ai.onnx")
        .map(|set| set.version)
        .ok_or_else(|| Error::new("imports no version of ONNX's default operator set"))?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| Error::new("has no graph"))?;

    let mut files: HashMap<String, Vec<u8>> = HashMap::new();
    let mut constants: HashMap<&str, Constant> = HashMap::new();
    for tensor in &graph.initializer {
        let constant = constant(tensor, &mut files, &mut external)
            .map_err(|why| Error::new(format!("initializer `{}`: {why}", tensor.name)))?;
        constants.insert(&tensor.name, constant);
    }
    for (idx, node) in graph.node.iter().enumerate() {
        if node.op_type == "Constant" && node.domain.is_empty() {
            let [output] = &node.output[..] else {
                return Err(Error::new(format!(
                    "{} must have one output",
                    label(idx, node)
                )));
            };
            let value = constant_node(node, &mut files, &mut external)
                .map_err(|why| Error::new(format!("{}: {why}", label(idx, node))))?;
            constants.insert(output, value);
        }
    }

    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|input| !constants.contains_key(input.name.as_str()))
        .collect();
    let [input] = &inputs[..] else {
        return Err(Error::new(format!(
            "the graph has {} inputs that are not initializers; a network has one",
            inputs.len()
        )));
    };
    let (precision, width) = io_type(input, "input")?;
    let [output] = &graph.output[..] else {
        return Err(Error::new(format!(
            "the graph has {} outputs; a network has one",
            graph.output.len()
        )));
    };

    let mut walk = Walk {
        nodes: &graph.node,
        used: graph
            .node
            .iter()
            .map(|node| node.op_type == "Constant" && node.domain.is_empty())
            .collect(),
        constants: &constants,
        opset,
        output: &output.name,
    };
    let layers = walk.chain(&input.name, width)?;
    if let Some(idx) = walk.used.iter().position(|used| !used) {
        return Err(Error::new(format!(
            "{} is not on the path from the graph's input to its output",
            label(idx, &graph.node[idx])
        )));
    }
    if let Some(last) = layers.last()
        && let Ok((_, Some(out))) = io_type(output, "output")
        && out != last.size
    {
        return Err(Error::new(format!(
            "the graph's output `{}` has {out} values per sample; its last layer has {}",
            output.name, last.size
        )));
    }
    Ok(Model {
        input: width.unwrap_or_else(|| layers.first().map_or(0, |layer| layer.fan_in)),
        precision,
        opset,
        layers,
    })
}

/// ``node `/0/Gemm` (`Gemm`)``, or ``node 3 (`Gemm`)`` for a node without a name.
fn label(idx: usize, node: &NodeProto) -> String {
    if node.name.is_empty() {
        format!("node {idx} (`{}`)", node.op_type)
    } else {
        format!("node `{}` (`{}`)", node.name, node.op_type)
    }
}

/// The element type and width of the graph's input or output: `[batch, n]` (or `[n]`), of
/// `float` or `double`. The width is `None` when the file leaves it symbolic.
fn io_type(info: &ValueInfoProto, role: &str) -> Result<(Precision, Option<usize>), Error> {
    let name = &info.name;
    let Some(type_proto::Value::TensorType(tensor)) =
        info.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Err(Error::new(format!(
            "the graph's {role} `{name}` is not a tensor"
        )));
    };
    let precision = precision(tensor.elem_type).ok_or_else(|| {
        Error::new(format!(
            "the graph's {role} `{name}` holds {} values; a network's are `float` or `double`",
            type_name(tensor.elem_type)
        ))
    })?;
    let dims = tensor
        .shape
        .as_ref()
        .map_or(&[][..], |shape| &shape.dim[..]);
    let width = match dims {
        [.., last] if dims.len() <= 2 => match last.value {
            Some(crate::proto::tensor_shape_proto::dimension::Value::DimValue(n)) => {
                Some(usize::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| {
                    Error::new(format!("the graph's {role} `{name}` has a width of {n}"))
                })?)
            }
            _ => None,
        },
        [] => None,
        _ => {
            return Err(Error::new(format!(
                "the graph's {role} `{name}` has {} dimensions; a network's has [batch, width]",
                dims.len()
            )));
        }
    };
    Ok((precision, width))
}

fn precision(data_type: i32) -> Option<Precision> {
    match tensor_proto::DataType::try_from(data_type) {
        Ok(tensor_proto::DataType::Float) => Some(Precision::F32),
        Ok(tensor_proto::DataType::Double) => Some(Precision::F64),
        _ => None,
    }
}

fn type_name(data_type: i32) -> String {
    tensor_proto::DataType::try_from(data_type).map_or_else(
        |_| format!("data type {data_type}"),
        |t| format!("`{}`", t.as_str_name().to_ascii_lowercase()),
    )
}

/// A constant tensor: an initializer or the value of a `Constant` node.
struct Constant {
    dims: Vec<usize>,
    /// Its values widened to f64, or why it has none this crate can read.
    values: Result<Vec<f64>, String>,
}

impl Constant {
    /// Its single value, if it has exactly one (a scalar, or a tensor of one element).
    fn scalar(&self) -> Option<f64> {
        match &self.values {
            Ok(values) if values.len() == 1 => Some(values[0]),
            _ => None,
        }
    }
}

fn constant(
    tensor: &TensorProto,
    files: &mut HashMap<String, Vec<u8>>,
    external: &mut impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Constant, String> {
    let dims = tensor
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("has a dimension of {d}")))
        .collect::<Result<Vec<usize>, String>>()?;
    let count = dims
        .iter()
        .try_fold(1_usize, |n, &d| n.checked_mul(d))
        .ok_or("has more elements than memory can hold")?;
    let Some(precision) = precision(tensor.data_type) else {
        return Ok(Constant {
            dims,
            values: Err(format!("holds {} values", type_name(tensor.data_type))),
        });
    };
    let width = match precision {
        Precision::F32 => 4,
        Precision::F64 => 8,
    };
    let external_bytes;
    let raw: &[u8] = if tensor.data_location == tensor_proto::DataLocation::External as i32 {
        external_bytes = external_data(tensor, count * width, files, external)?;
        &external_bytes
    } else {
        &tensor.raw_data
    };
    let values: Vec<f64> = if !raw.is_empty() || count == 0 {
        if raw.len() != count * width {
            return Err(format!(
                "holds {} bytes of data; its shape {dims:?} needs {}",
                raw.len(),
                count * width
            ));
        }
        match precision {
            Precision::F32 => raw
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
            Precision::F64 => raw
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect(),
        }
    } else {
        let values: Vec<f64> = match precision {
            Precision::F32 => tensor.float_data.iter().map(|&v| f64::from(v)).collect(),
            Precision::F64 => tensor.double_data.clone(),
        };
        if values.len() != count {
            return Err(format!(
                "holds {} values; its shape {dims:?} needs {count}",
                values.len()
            ));
        }
        values
    };
    Ok(Constant {
        dims,
        values: Ok(values),
    })
}

/// The bytes of a tensor stored outside the model file (`location`, `offset`, `length`).
fn external_data(
    tensor: &TensorProto,
    expected: usize,
    files: &mut HashMap<String, Vec<u8>>,
    external: &mut impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Vec<u8>, String> {
    let mut location = None;
    let (mut offset, mut length) = (0_usize, None);
    for entry in &tensor.external_data {
        let number = || {
            entry
                .value
                .parse::<usize>()
                .map_err(|_| format!("has external data with `{}` = `{}`", entry.key, entry.value))
        };
        match entry.key.as_str() {
            "location" => location = Some(entry.value.as_str()),
            "offset" => offset = number()?,
            "length" => length = Some(number()?),
            _ => {}
        }
    }
    let location = location.ok_or("is stored outside the file but names no location")?;
    let inside = Path::new(location)
        .components()
        .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
    if !inside || location.is_empty() {
        return Err(format!(
            "names external data at `{location}`; ONNX requires a relative path inside the model's directory"
        ));
    }
    if !files.contains_key(location) {
        let bytes = external(location)?;
        files.insert(location.to_owned(), bytes);
    }
    let bytes = &files[location];
    let length = length.unwrap_or(expected);
    offset
        .checked_add(length)
        .and_then(|end| bytes.get(offset..end))
        .map(<[u8]>::to_vec)
        .ok_or_else(|| {
            format!(
                "reads bytes {offset}..{} of `{location}`, which has {}",
                offset.saturating_add(length),
                bytes.len()
            )
        })
}

/// The value of a `Constant` node: `value` (a tensor), `value_float` or `value_floats`.
fn constant_node(
    node: &NodeProto,
    files: &mut HashMap<String, Vec<u8>>,
    external: &mut impl FnMut(&str) -> Result<Vec<u8>, String>,
) -> Result<Constant, String> {
    let [attribute] = &node.attribute[..] else {
        return Err("must have exactly one attribute".to_owned());
    };
    match attribute.name.as_str() {
        "value" => match &attribute.t {
            Some(tensor) => constant(tensor, files, external),
            None => Err("has a `value` that is not a tensor".to_owned()),
        },
        "value_float" => Ok(Constant {
            dims: Vec::new(),
            values: Ok(vec![f64::from(attribute.f)]),
        }),
        "value_floats" => Ok(Constant {
            dims: vec![attribute.floats.len()],
            values: Ok(attribute.floats.iter().map(|&v| f64::from(v)).collect()),
        }),
        other => Ok(Constant {
            dims: Vec::new(),
            values: Err(format!("is given by `{other}`")),
        }),
    }
}

/// The state of following the graph: which nodes are already part of a layer or activation.
struct Walk<'g> {
    nodes: &'g [NodeProto],
    used: Vec<bool>,
    constants: &'g HashMap<&'g str, Constant>,
    opset: i64,
    output: &'g str,
}

/// What reads a tensor: the nodes not yet part of the chain with the tensor among their inputs.
type Readers = Vec<usize>;

impl<'g> Walk<'g> {
    fn readers(&self, tensor: &str) -> Readers {
        (0..self.nodes.len())
            .filter(|&idx| !self.used[idx] && self.nodes[idx].input.iter().any(|i| i == tensor))
            .collect()
    }

    fn label(&self, idx: usize) -> String {
        label(idx, &self.nodes[idx])
    }

    /// The node's single output.
    fn output(&self, idx: usize) -> Result<&'g str, Error> {
        match &self.nodes[idx].output[..] {
            [output] => Ok(output),
            [output, rest @ ..] if rest.iter().all(String::is_empty) => Ok(output),
            [first, ..] if self.nodes[idx].op_type == "Dropout" => Ok(first),
            outputs => Err(Error::new(format!(
                "{} has {} outputs; one is expected here",
                self.label(idx),
                outputs.len()
            ))),
        }
    }

    /// The constant a node reads as its input `position`, if that input is a constant.
    fn constant_input(&self, idx: usize, position: usize) -> Option<&'g Constant> {
        let name = self.nodes[idx].input.get(position)?;
        self.constants.get(name.as_str())
    }

    /// The single reader of `tensor`, if exactly one node reads it.
    fn only_reader(&self, tensor: &str) -> Option<usize> {
        match self.readers(tensor)[..] {
            [idx] => Some(idx),
            _ => None,
        }
    }

    fn attribute(&self, idx: usize, name: &str) -> Option<&'g AttributeProto> {
        self.nodes[idx].attribute.iter().find(|a| a.name == name)
    }

    fn float_attribute(&self, idx: usize, name: &str, default: f32) -> f32 {
        self.attribute(idx, name).map_or(default, |a| a.f)
    }

    fn int_attribute(&self, idx: usize, name: &str, default: i64) -> i64 {
        self.attribute(idx, name).map_or(default, |a| a.i)
    }

    /// The layers from `input` to the graph's output.
    fn chain(&mut self, input: &str, width: Option<usize>) -> Result<Vec<Dense>, Error> {
        let mut layers: Vec<Dense> = Vec::new();
        let mut current = input.to_owned();
        let mut fan_in = width;
        loop {
            let readers = self.readers(&current);
            let idx = match readers[..] {
                [] if current == self.output && !layers.is_empty() => return Ok(layers),
                [] if current == self.output => {
                    return Err(Error::new(
                        "the graph has no layer: its input is its output",
                    ));
                }
                [] => {
                    return Err(Error::new(format!(
                        "the graph stops at `{current}`, which nothing reads and which is not the graph's output `{}`",
                        self.output
                    )));
                }
                [idx] => idx,
                _ => return Err(self.branches(&current, &readers)),
            };
            self.supported_domain(idx)?;
            let node = &self.nodes[idx];
            if node.input.first() != Some(&current) {
                return Err(Error::new(format!(
                    "{} reads `{current}` as an input other than its first; a layer reads it as its data",
                    self.label(idx)
                )));
            }
            match node.op_type.as_str() {
                "Identity" | "Dropout" => {
                    self.pass_through(idx)?;
                    self.used[idx] = true;
                    self.output(idx)?.clone_into(&mut current);
                    continue;
                }
                "Gemm" | "MatMul" => {}
                other => {
                    let after = layers.last().map_or_else(
                        || "the graph's input".to_owned(),
                        |layer| format!("the activation of {}", layer.node),
                    );
                    return Err(Error::new(format!(
                        "{} is not supported after {after}: a layer is a `Gemm`, or a `MatMul` and an `Add`{}",
                        self.label(idx),
                        if layers.is_empty() {
                            String::new()
                        } else {
                            format!(", and `{other}` is not an activation this crate reads there")
                        }
                    )));
                }
            }
            let (mut layer, z) = self.dense(idx, fan_in)?;
            let (activation, node, next) = self.activation(&z)?;
            layer.activation = activation;
            layer.activation_node = node;
            fan_in = Some(layer.size);
            layers.push(layer);
            current = next;
        }
    }

    fn branches(&self, tensor: &str, readers: &[usize]) -> Error {
        let names: Vec<String> = readers.iter().map(|&idx| self.label(idx)).collect();
        Error::new(format!(
            "`{tensor}` is read by {}; a chain of layers reads each value once",
            names.join(" and ")
        ))
    }

    fn supported_domain(&self, idx: usize) -> Result<(), Error> {
        let domain = &self.nodes[idx].domain;
        if domain.is_empty() || domain == "ai.onnx" {
            Ok(())
        } else {
            Err(Error::new(format!(
                "{} is from the operator set `{domain}`, which this crate does not read",
                self.label(idx)
            )))
        }
    }

    /// `Identity`, or `Dropout` in inference mode (an exported evaluation pass).
    fn pass_through(&self, idx: usize) -> Result<(), Error> {
        if self.nodes[idx].op_type == "Dropout" {
            let training = self
                .constant_input(idx, 2)
                .and_then(Constant::scalar)
                .is_some_and(|t| t != 0.0);
            if training
                || self.nodes[idx]
                    .input
                    .get(2)
                    .is_some_and(|t| !t.is_empty() && !self.constants.contains_key(t.as_str()))
            {
                return Err(Error::new(format!(
                    "{} drops units in training mode; export the network in evaluation mode (`model.eval()`) and declare its dropout sites in `network!`",
                    self.label(idx)
                )));
            }
        }
        Ok(())
    }

    /// The layer whose affine map starts at node `idx` (`Gemm`, or a `MatMul` or a `Gemm`
    /// without bias followed by an `Add`), and the tensor it writes.
    fn dense(&mut self, idx: usize, fan_in: Option<usize>) -> Result<(Dense, String), Error> {
        let label = self.label(idx);
        let node = &self.nodes[idx];
        let weights_name = node.input.get(1).cloned().unwrap_or_default();
        let weights = self.constants.get(weights_name.as_str()).ok_or_else(|| {
            Error::new(format!(
                "{label} multiplies by `{weights_name}`, which is not an initializer or constant; a layer's weights are"
            ))
        })?;
        let values = weights
            .values
            .as_ref()
            .map_err(|why| Error::new(format!("the weights `{weights_name}` of {label} {why}")))?;
        let [rows, columns] = weights.dims[..] else {
            return Err(Error::new(format!(
                "the weights `{weights_name}` of {label} have shape {:?}; a layer's weights are a matrix",
                weights.dims
            )));
        };
        let transposed = node.op_type == "Gemm" && self.gemm_transposed(idx, &label)?;
        // PyTorch's orientation: one row per neuron.
        let (size, inputs) = if transposed {
            (rows, columns)
        } else {
            (columns, rows)
        };
        if let Some(fan_in) = fan_in
            && inputs != fan_in
        {
            return Err(Error::new(format!(
                "{label} takes {inputs} inputs (weights `{weights_name}` of shape {:?}); the values before it have {fan_in}",
                weights.dims
            )));
        }
        let weights_rowwise: Vec<f64> = if transposed {
            values.clone()
        } else {
            (0..size)
                .flat_map(|n| (0..inputs).map(move |i| values[i * size + n]))
                .collect()
        };
        self.used[idx] = true;
        let mut z = self.output(idx)?.to_owned();
        let mut node_label = label.clone();
        let mut bias_name = None;
        let mut bias = vec![0.0; size];
        let gemm_bias = node
            .input
            .get(2)
            .filter(|n| node.op_type == "Gemm" && !n.is_empty());
        if let Some(name) = gemm_bias {
            bias = self.bias(&label, name, size)?;
            bias_name = Some(name.clone());
        } else if let Some(add) = self.only_reader(&z)
            && self.nodes[add].op_type == "Add"
        {
            let node = &self.nodes[add];
            let other = node
                .input
                .iter()
                .find(|i| **i != z)
                .cloned()
                .unwrap_or_default();
            let add_label = self.label(add);
            if node.input.len() != 2 || !self.constants.contains_key(other.as_str()) {
                return Err(Error::new(format!(
                    "{add_label} adds `{other}` to the output of {label}, which is not a constant bias"
                )));
            }
            bias = self.bias(&add_label, &other, size)?;
            bias_name = Some(other);
            self.used[add] = true;
            self.output(add)?.clone_into(&mut z);
            node_label = format!("{label} and {add_label}");
        }
        Ok((
            Dense {
                node: node_label,
                fan_in: inputs,
                size,
                weights: weights_rowwise,
                bias,
                weights_name,
                bias_name,
                activation: Activation::Identity,
                activation_node: None,
            },
            z,
        ))
    }

    /// Whether the `Gemm` at `idx` has `transB = 1`, after checking that its other attributes
    /// are those of a layer.
    fn gemm_transposed(&self, idx: usize, label: &str) -> Result<bool, Error> {
        for (name, wanted) in [("alpha", 1.0), ("beta", 1.0)] {
            let value = self.float_attribute(idx, name, 1.0);
            if value != wanted {
                return Err(Error::new(format!(
                    "{label} has `{name}` = {value}; a layer's `Gemm` has 1"
                )));
            }
        }
        if self.int_attribute(idx, "transA", 0) != 0 {
            return Err(Error::new(format!(
                "{label} has `transA` = 1; a layer's `Gemm` multiplies the data as it is"
            )));
        }
        Ok(self.int_attribute(idx, "transB", 0) != 0)
    }

    /// The activation of a `Clip` node: `relu6` if it clips to [0, 6].
    fn relu6(&self, idx: usize, label: &str) -> Result<Activation, Error> {
        let bound = |position: usize, attribute: &str| -> Option<f64> {
            match self.nodes[idx]
                .input
                .get(position)
                .filter(|n| !n.is_empty())
            {
                Some(_) => self
                    .constant_input(idx, position)
                    .and_then(Constant::scalar),
                None => self.attribute(idx, attribute).map(|a| f64::from(a.f)),
            }
        };
        let (low, high) = (bound(1, "min"), bound(2, "max"));
        if low != Some(0.0) || high != Some(6.0) {
            let show = |b: Option<f64>| b.map_or_else(|| "none".to_owned(), |v| v.to_string());
            return Err(Error::new(format!(
                "{label} clips to [{}, {}]; the clip this crate reads is `relu6`, [0, 6]",
                show(low),
                show(high)
            )));
        }
        Ok(Activation::Relu6)
    }

    fn bias(&self, label: &str, name: &str, size: usize) -> Result<Vec<f64>, Error> {
        let bias = self.constants.get(name).ok_or_else(|| {
            Error::new(format!(
                "{label} adds `{name}`, which is not an initializer or constant; a layer's bias is"
            ))
        })?;
        let values = bias
            .values
            .as_ref()
            .map_err(|why| Error::new(format!("the bias `{name}` of {label} {why}")))?;
        let fits = matches!(bias.dims[..], [n] | [1, n] if n == size);
        if !fits {
            return Err(Error::new(format!(
                "the bias `{name}` of {label} has shape {:?}; the layer has {size} neurons",
                bias.dims
            )));
        }
        Ok(values.clone())
    }

    /// The activation reading `z`, the name of its (first) node and the tensor it writes;
    /// `identity` with `z` itself when `z` goes to the next layer or is the graph's output.
    fn activation(&mut self, z: &str) -> Result<(Activation, Option<String>, String), Error> {
        let readers = self.readers(z);
        let identity = Ok((Activation::Identity, None, z.to_owned()));
        let &first = match &readers[..] {
            [] => return identity,
            [idx] | [idx, _] | [idx, _, _] => idx,
            _ => return Err(self.branches(z, &readers)),
        };
        for &idx in &readers {
            self.supported_domain(idx)?;
        }
        if let [a, b] = readers[..] {
            return self.pattern(z, a, b);
        }
        if let [_, _, _] = readers[..] {
            return self.softplus(z, &readers);
        }
        let idx = first;
        let label = self.label(idx);
        let op = self.nodes[idx].op_type.as_str();
        let activation = match op {
            "Gemm" | "MatMul" | "Identity" | "Dropout" => return identity,
            "Relu" => Activation::Relu,
            "LeakyRelu" => {
                Activation::LeakyRelu(f64::from(self.float_attribute(idx, "alpha", 0.01)))
            }
            "Elu" => Activation::Elu(f64::from(self.float_attribute(idx, "alpha", 1.0))),
            "Selu" => {
                let alpha = self.float_attribute(idx, "alpha", 1.673_263_2);
                let gamma = self.float_attribute(idx, "gamma", 1.050_701);
                if alpha != dropout_shared::activation::SELU_ALPHA as f32
                    || gamma != dropout_shared::activation::SELU_LAMBDA as f32
                {
                    return Err(Error::new(format!(
                        "{label} has α = {alpha} and γ = {gamma}; `selu` is PyTorch's SELU, with α = {} and γ = {}",
                        dropout_shared::activation::SELU_ALPHA as f32,
                        dropout_shared::activation::SELU_LAMBDA as f32
                    )));
                }
                Activation::Selu
            }
            "Sigmoid" => Activation::Sigmoid,
            "HardSigmoid" => {
                let alpha = self.float_attribute(idx, "alpha", 0.2);
                let beta = self.float_attribute(idx, "beta", 0.5);
                if alpha != 1.0 / 6.0 || beta != 0.5 {
                    return Err(Error::new(format!(
                        "{label} has α = {alpha} and β = {beta}; `hard_sigmoid` is PyTorch's Hardsigmoid, with α = 1/6 and β = 0.5"
                    )));
                }
                Activation::HardSigmoid
            }
            "Tanh" => Activation::Tanh,
            "Softplus" => Activation::Softplus,
            "Gelu" => {
                let approximate = self
                    .attribute(idx, "approximate")
                    .map_or("none", |a| std::str::from_utf8(&a.s).unwrap_or("?"));
                if approximate != "none" {
                    return Err(Error::new(format!(
                        "{label} is GELU's `{approximate}` approximation; `gelu` is the exact form (PyTorch's `GELU()`)"
                    )));
                }
                Activation::Gelu
            }
            "Softmax" => {
                let axis = self.int_attribute(idx, "axis", if self.opset >= 13 { -1 } else { 1 });
                if axis != -1 && axis != 1 {
                    return Err(Error::new(format!(
                        "{label} normalises along axis {axis}; a layer's softmax normalises its neurons (axis -1)"
                    )));
                }
                Activation::Softmax
            }
            "Clip" => self.relu6(idx, &label)?,
            other => {
                return Err(Error::new(format!(
                    "{label} is not an activation this crate reads: `{other}` is not supported"
                )));
            }
        };
        self.used[idx] = true;
        Ok((activation, Some(label), self.output(idx)?.to_owned()))
    }

    /// An activation of two nodes reading `z`: SiLU (`Sigmoid`, `Mul`), softplus with its
    /// threshold (`Softplus`, `Greater`, `Where`) or exact GELU (`Div`, `Erf`, `Add`, `Mul`,
    /// `Mul`).
    fn pattern(
        &mut self,
        z: &str,
        a: usize,
        b: usize,
    ) -> Result<(Activation, Option<String>, String), Error> {
        let op = |idx: usize| self.nodes[idx].op_type.as_str();
        let mismatch = || {
            Error::new(format!(
                "`{z}` is read by {} and {}, which are not an activation this crate reads (SiLU is `Sigmoid` and `Mul`, GELU `Div`, `Erf`, `Add`, `Mul`, `Mul`)",
                self.label(a),
                self.label(b)
            ))
        };
        let (first, second) = match (op(a), op(b)) {
            ("Mul", "Sigmoid" | "Div") => (b, a),
            _ => (a, b),
        };
        let reads = |idx: usize, inputs: &[&str]| {
            let mut have: Vec<&str> = self.nodes[idx].input.iter().map(String::as_str).collect();
            let mut want = inputs.to_vec();
            have.sort_unstable();
            want.sort_unstable();
            have == want
        };
        match (op(first), op(second)) {
            ("Sigmoid", "Mul") => {
                let s = self.output(first)?;
                if !reads(second, &[z, s]) {
                    return Err(mismatch());
                }
                self.used[first] = true;
                self.used[second] = true;
                Ok((
                    Activation::Silu,
                    Some(self.label(first)),
                    self.output(second)?.to_owned(),
                ))
            }
            ("Div", "Mul") => {
                let gelu = self.gelu(z, first, second).ok_or_else(mismatch)?;
                for &idx in &gelu.0 {
                    self.used[idx] = true;
                }
                Ok((Activation::Gelu, Some(self.label(first)), gelu.1))
            }
            _ => Err(mismatch()),
        }
    }

    /// Softplus with PyTorch's threshold, as the default exporter writes it: `z` read by
    /// `p = Softplus(z)`, `g = Greater(z, 20)` and `Where(g, z, p)`.
    fn softplus(
        &mut self,
        z: &str,
        readers: &[usize],
    ) -> Result<(Activation, Option<String>, String), Error> {
        let find = |op: &str| {
            readers
                .iter()
                .copied()
                .find(|&idx| self.nodes[idx].op_type == op)
        };
        let (Some(softplus), Some(greater), Some(w)) =
            (find("Softplus"), find("Greater"), find("Where"))
        else {
            let names: Vec<String> = readers.iter().map(|&idx| self.label(idx)).collect();
            return Err(Error::new(format!(
                "`{z}` is read by {}, which are not an activation this crate reads (softplus is `Softplus`, `Greater`, `Where`)",
                names.join(", ")
            )));
        };
        let (p, g) = (self.output(softplus)?, self.output(greater)?);
        let threshold = {
            let node = &self.nodes[greater];
            (node.input.len() == 2 && node.input[0] == z)
                .then(|| self.constant_input(greater, 1).and_then(Constant::scalar))
                .flatten()
        };
        if self.nodes[w].input != [g, z, p] || self.only_reader(g) != Some(w) {
            return Err(Error::new(format!(
                "{} does not choose `{z}` where {} holds and the output of {} elsewhere, as softplus's threshold does",
                self.label(w),
                self.label(greater),
                self.label(softplus)
            )));
        }
        if threshold != Some(dropout_shared::activation::SOFTPLUS_THRESHOLD) {
            return Err(Error::new(format!(
                "{} switches to the identity above {}; `softplus` is PyTorch's `Softplus()`, with threshold {}",
                self.label(greater),
                threshold.map_or_else(
                    || "a value that is not a constant".to_owned(),
                    |t| t.to_string()
                ),
                dropout_shared::activation::SOFTPLUS_THRESHOLD
            )));
        }
        for idx in [softplus, greater, w] {
            self.used[idx] = true;
        }
        Ok((
            Activation::Softplus,
            Some(self.label(softplus)),
            self.output(w)?.to_owned(),
        ))
    }

    /// x·(erf(x/√2) + 1)·0.5 as TorchScript's exporter writes it: the nodes and the output.
    fn gelu(&self, z: &str, div: usize, mul: usize) -> Option<([usize; 5], String)> {
        let op_of = |idx: usize| self.nodes[idx].op_type.as_str();
        let scalar_at = |idx: usize, position: usize| {
            self.constant_input(idx, position)
                .and_then(Constant::scalar)
        };
        let near = |value: Option<f64>, wanted: f64| {
            value.is_some_and(|v| (v - wanted).abs() <= 1e-6 * wanted)
        };
        let d = &self.nodes[div];
        if d.input.first().map(String::as_str) != Some(z)
            || !near(scalar_at(div, 1), std::f64::consts::SQRT_2)
        {
            return None;
        }
        let erf = self
            .only_reader(self.output(div).ok()?)
            .filter(|&i| op_of(i) == "Erf")?;
        let add = self
            .only_reader(self.output(erf).ok()?)
            .filter(|&i| op_of(i) == "Add")?;
        let e = self.output(erf).ok()?;
        let position = self.nodes[add].input.iter().position(|i| i != e)?;
        if !near(scalar_at(add, position), 1.0) {
            return None;
        }
        let a = self.output(add).ok()?;
        let m = &self.nodes[mul].input;
        if !(m.len() == 2 && m.iter().any(|i| i == z) && m.iter().any(|i| i == a)) {
            return None;
        }
        let half = self
            .only_reader(self.output(mul).ok()?)
            .filter(|&i| op_of(i) == "Mul")?;
        let product = self.output(mul).ok()?;
        let position = self.nodes[half].input.iter().position(|i| i != product)?;
        if !near(scalar_at(half, position), 0.5) {
            return None;
        }
        Some((
            [div, erf, add, mul, half],
            self.output(half).ok()?.to_owned(),
        ))
    }
}
