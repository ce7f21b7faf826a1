//! [`Graph`]: a fully connected network written as ONNX nodes, node by node.

use prost::Message as _;

use dropout_shared::Activation;
use dropout_shared::activation::{SELU_ALPHA, SELU_LAMBDA, SOFTPLUS_THRESHOLD};

use crate::proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    TensorShapeProto, TypeProto, ValueInfoProto,
    attribute_proto::AttributeType,
    tensor_proto::DataType,
    tensor_shape_proto::{Dimension, dimension},
    type_proto,
};
use crate::{Error, Precision};

/// The version of ONNX's default operator set that [`Graph`] writes: 17, the oldest that
/// onnxruntime, TensorRT and tract all run with every operator used here, and the default of
/// PyTorch's TorchScript exporter.
pub const OPSET: i64 = 17;

/// The IR version written with [`OPSET`] (ONNX 1.12's).
const IR_VERSION: i64 = 8;

/// The name of the dynamic first dimension of every input and output.
const BATCH: &str = "batch";

/// A tensor of the graph being written, returned by each of [`Graph`]'s nodes and passed to the
/// next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value(String);

impl Value {
    /// The tensor's name in the graph.
    pub fn name(&self) -> &str {
        &self.0
    }
}

/// An ONNX graph of dense layers, activations and element-wise products, written as a
/// `ModelProto` (opset [`OPSET`]) with every tensor's first dimension the dynamic `batch`.
///
/// Parameters are given as `f64` and stored in the graph's [`Precision`] (an `f32` network's
/// values, widened to `f64`, are stored exactly). Where an operator's attribute is a 32-bit
/// float (`LeakyRelu`'s α, `Elu`'s α, `Selu`'s constants) and a `double` graph's parameter is not
/// an `f32` value, the activation is written with constant tensors instead, so that a `double`
/// graph computes with the network's own parameters.
///
/// ```
/// use dropout_onnx::{Activation, Graph, Precision};
///
/// let mut graph = Graph::new(Precision::F32);
/// let x = graph.input("x", 2)?;
/// let h = graph.dense(&x, "h", 2, 1, &[1.0, -1.0], &[0.5])?;
/// let y = graph.activation(&h, Activation::Relu)?;
/// let bytes = graph.finish(&y, 1)?;
/// let model = dropout_onnx::read(&bytes)?;
/// assert_eq!((model.input, model.layers[0].activation), (2, Activation::Relu));
/// # Ok::<(), dropout_onnx::Error>(())
/// ```
#[derive(Debug)]
pub struct Graph {
    precision: Precision,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    /// The tensors of type `int8` (every other is of the graph's precision).
    int8: Vec<String>,
    /// How many tensors the graph has named, for fresh names.
    names: usize,
}

impl Graph {
    /// An empty graph whose tensors hold `precision` values.
    pub fn new(precision: Precision) -> Self {
        Graph {
            precision,
            nodes: Vec::new(),
            initializers: Vec::new(),
            inputs: Vec::new(),
            int8: Vec::new(),
            names: 0,
        }
    }

    /// An input of shape `[batch, width]`.
    ///
    /// # Errors
    /// If the graph already has a tensor named `name`, or `width` is 0.
    pub fn input(&mut self, name: &str, width: usize) -> Result<Value, Error> {
        self.check_name(name)?;
        self.inputs
            .push(self.value_info(name, &[Some(width)], "input")?);
        Ok(Value(name.to_owned()))
    }

    /// An input of shape `[batch, dims…]`, such as the DropConnect masks of a batch, one
    /// `[size, fan_in]` matrix per row.
    ///
    /// # Errors
    /// As [`input`](Self::input).
    pub fn batched_input(&mut self, name: &str, dims: &[usize]) -> Result<Value, Error> {
        self.check_name(name)?;
        let dims: Vec<_> = dims.iter().map(|&d| Some(d)).collect();
        let info = self.value_info(name, &dims, "input")?;
        self.inputs.push(info);
        Ok(Value(name.to_owned()))
    }

    /// A dense layer `x · Wᵀ + b` as a `Gemm` with `transB = 1`, its weights (`size` rows of
    /// `fan_in` values, one row per neuron, PyTorch's `Linear.weight`) and biases stored as the
    /// initializers `{name}.weight` and `{name}.bias`. In a `double` graph the bias is a
    /// separate `Add`, which every runtime runs (tract 0.23 fails on a `double` `Gemm` with a
    /// bias).
    ///
    /// # Errors
    /// If the slices do not have `size · fan_in` and `size` values, or the names are taken.
    pub fn dense(
        &mut self,
        x: &Value,
        name: &str,
        fan_in: usize,
        size: usize,
        weights: &[f64],
        bias: &[f64],
    ) -> Result<Value, Error> {
        let w = self.weights(name, fan_in, size, weights)?;
        self.dense_with(x, name, &w, size, bias)
    }

    /// A dense layer as [`dense`](Self::dense), whose weights are the tensor `weights` of shape
    /// `[size, fan_in]` (say, stored weights times a DropConnect mask).
    ///
    /// # Errors
    /// If `bias` does not have `size` values, or the names are taken.
    pub fn dense_with(
        &mut self,
        x: &Value,
        name: &str,
        weights: &Value,
        size: usize,
        bias: &[f64],
    ) -> Result<Value, Error> {
        if bias.len() != size {
            return Err(Error::new(format!(
                "layer `{name}` has {size} neurons and {} biases",
                bias.len()
            )));
        }
        let b = self.initializer(&format!("{name}.bias"), &[size], bias)?;
        let y = self.fresh(&format!("{name}.z"));
        let mut node = match self.precision {
            Precision::F32 => self.node("Gemm", name, &[x, weights, &b], &y),
            // tract (0.23) fails on a `double` `Gemm` with a bias: it scales the bias by `beta`
            // as an `f32` constant. The bias is added by a node of its own instead.
            Precision::F64 => self.node("Gemm", name, &[x, weights], &y),
        };
        node.attribute.push(int_attribute("transB", 1));
        self.nodes.push(node);
        match self.precision {
            Precision::F32 => Ok(y),
            Precision::F64 => Ok(self.binary("Add", name, &y, &b)),
        }
    }

    /// An `int8` input of shape `[batch, width]`, for a quantized graph.
    ///
    /// # Errors
    /// As [`input`](Self::input).
    pub fn int8_input(&mut self, name: &str, width: usize) -> Result<Value, Error> {
        self.check_name(name)?;
        self.int8.push(name.to_owned());
        self.inputs
            .push(self.value_info(name, &[Some(width)], "input")?);
        Ok(Value(name.to_owned()))
    }

    /// `QuantizeLinear`: `x` (of the graph's precision, which must be `f32`) as `int8` values
    /// `saturate(round(x / scale) + zero_point)`, rounding half to even.
    ///
    /// # Errors
    /// If the graph is not `f32`, or a name is taken.
    pub fn quantize(&mut self, x: &Value, scale: f32, zero_point: i8) -> Result<Value, Error> {
        self.require_f32("QuantizeLinear")?;
        let name = format!("{}.quantized", x.0);
        let (scale, zero) = self.quantization(&name, scale, zero_point)?;
        let y = self.binary_with("QuantizeLinear", &name, &[x, &scale, &zero]);
        self.int8.push(y.0.clone());
        Ok(y)
    }

    /// `DequantizeLinear`: the `int8` tensor `q` as `f32` values `scale · (q − zero_point)`.
    ///
    /// # Errors
    /// If the graph is not `f32`, or a name is taken.
    pub fn dequantize(&mut self, q: &Value, scale: f32, zero_point: i8) -> Result<Value, Error> {
        self.require_f32("DequantizeLinear")?;
        let name = format!("{}.real", q.0);
        let (scale, zero) = self.quantization(&name, scale, zero_point)?;
        Ok(self.binary_with("DequantizeLinear", &name, &[q, &scale, &zero]))
    }

    /// An int8 dense layer as the QDQ format writes it: its `int8` weights (`size` rows of
    /// `fan_in`, symmetric, one scale per row or one for all) and `int32` biases (zero point
    /// 0, row `c`'s scale `input_scale · weight_scales[c]`), each through a
    /// `DequantizeLinear`, into a `Gemm` over the dequantized input `x`. Runtimes that run
    /// QDQ models fuse the nodes into integer kernels (onnxruntime's `QGemm`).
    ///
    /// # Errors
    /// If the graph is not `f32`, the slices do not have `size · fan_in`, `size` and 1 or
    /// `size` values, or a name is taken.
    #[expect(
        clippy::too_many_arguments,
        reason = "a layer's parameters, each named"
    )]
    pub fn dense_quantized(
        &mut self,
        x: &Value,
        name: &str,
        fan_in: usize,
        size: usize,
        weights: &[i8],
        weight_scales: &[f32],
        bias: &[i32],
        input_scale: f32,
    ) -> Result<Value, Error> {
        self.require_f32("an int8 layer")?;
        if Some(weights.len()) != size.checked_mul(fan_in)
            || bias.len() != size
            || !(weight_scales.len() == 1 || weight_scales.len() == size)
        {
            return Err(Error::new(format!(
                "layer `{name}` has {size} neurons of {fan_in} inputs, and {} weights, {} biases and {} weight scales",
                weights.len(),
                bias.len(),
                weight_scales.len()
            )));
        }
        let per_channel = weight_scales.len() == size && size > 1;
        let scale_dims: &[usize] = if per_channel { &[size] } else { &[] };
        let w = self.raw_initializer(
            &format!("{name}.weight"),
            &[size, fan_in],
            DataType::Int8,
            weights.iter().flat_map(|w| w.to_le_bytes()).collect(),
        )?;
        let w_scale = self.raw_initializer(
            &format!("{name}.weight.scale"),
            scale_dims,
            DataType::Float,
            weight_scales
                .iter()
                .take(scale_dims.first().copied().unwrap_or(1))
                .flat_map(|s| s.to_le_bytes())
                .collect(),
        )?;
        let w_zero = self.raw_initializer(
            &format!("{name}.weight.zero_point"),
            scale_dims,
            DataType::Int8,
            vec![0; scale_dims.first().copied().unwrap_or(1)],
        )?;
        let w_real = self.binary_with("DequantizeLinear", name, &[&w, &w_scale, &w_zero]);
        self.last().attribute.push(int_attribute("axis", 0));
        // The bias's scale per row: `f32` products, as TensorFlow Lite's converter computes them.
        let bias_scales: Vec<f32> = (0..size)
            .map(|c| input_scale * weight_scales[if per_channel { c } else { 0 }])
            .collect();
        let b = self.raw_initializer(
            &format!("{name}.bias"),
            &[size],
            DataType::Int32,
            bias.iter().flat_map(|b| b.to_le_bytes()).collect(),
        )?;
        let b_scale = self.raw_initializer(
            &format!("{name}.bias.scale"),
            &[size],
            DataType::Float,
            bias_scales.iter().flat_map(|s| s.to_le_bytes()).collect(),
        )?;
        let b_zero = self.raw_initializer(
            &format!("{name}.bias.zero_point"),
            &[size],
            DataType::Int32,
            vec![0; 4 * size],
        )?;
        let b_real = self.binary_with("DequantizeLinear", name, &[&b, &b_scale, &b_zero]);
        self.last().attribute.push(int_attribute("axis", 0));
        let y = self.fresh(&format!("{name}.z"));
        let mut node = self.node("Gemm", name, &[x, &w_real, &b_real], &y);
        node.attribute.push(int_attribute("transB", 1));
        self.nodes.push(node);
        Ok(y)
    }

    /// A dense layer whose weights differ from row to row of the batch: `weights` has shape
    /// `[batch, size, fan_in]` and row `r`'s output is `weights[r] · x[r] + b`, written as
    /// `Unsqueeze`, `MatMul`, `Squeeze` and `Add` (DropConnect's masked pass, one weight mask
    /// per row).
    ///
    /// # Errors
    /// If `bias` does not have `size` values, or the names are taken.
    pub fn dense_per_row(
        &mut self,
        x: &Value,
        name: &str,
        weights: &Value,
        size: usize,
        bias: &[f64],
    ) -> Result<Value, Error> {
        if bias.len() != size {
            return Err(Error::new(format!(
                "layer `{name}` has {size} neurons and {} biases",
                bias.len()
            )));
        }
        let b = self.initializer(&format!("{name}.bias"), &[size], bias)?;
        let axes = self.axes(&format!("{name}.axes"), 2)?;
        let column = self.binary("Unsqueeze", name, x, &axes);
        let product = self.binary("MatMul", name, weights, &column);
        let z = self.binary("Squeeze", name, &product, &axes);
        Ok(self.binary("Add", name, &z, &b))
    }

    /// The stored weights of a dense layer (the initializer `{name}.weight`, `[size, fan_in]`),
    /// for [`dense_with`](Self::dense_with).
    ///
    /// # Errors
    /// If `weights` does not have `size · fan_in` values, or the name is taken.
    pub fn weights(
        &mut self,
        name: &str,
        fan_in: usize,
        size: usize,
        weights: &[f64],
    ) -> Result<Value, Error> {
        if Some(weights.len()) != size.checked_mul(fan_in) {
            return Err(Error::new(format!(
                "layer `{name}` has {size} neurons of {fan_in} inputs and {} weights",
                weights.len()
            )));
        }
        self.initializer(&format!("{name}.weight"), &[size, fan_in], weights)
    }

    /// `activation` applied to `x`: one node, or the nodes PyTorch's exporter writes for it
    /// (GELU's erf form, SiLU's `Sigmoid` and `Mul`, softplus with its threshold as `Softplus`,
    /// `Greater` and `Where`, ReLU6 as `Clip(0, 6)`), or none for the identity.
    ///
    /// # Errors
    /// If a constant's name is taken.
    pub fn activation(&mut self, x: &Value, activation: Activation) -> Result<Value, Error> {
        let name = format!("{}.{}", x.0, activation.name());
        let precision = self.precision;
        let exact = |v: f64| precision == Precision::F32 || f64::from(v as f32) == v;
        let y = match activation {
            Activation::Identity => return Ok(x.clone()),
            Activation::Relu => self.unary("Relu", &name, x),
            Activation::Sigmoid => self.unary("Sigmoid", &name, x),
            Activation::Tanh => self.unary("Tanh", &name, x),
            Activation::LeakyRelu(alpha) if exact(alpha) => {
                let y = self.unary("LeakyRelu", &name, x);
                self.last()
                    .attribute
                    .push(float_attribute("alpha", alpha as f32));
                y
            }
            Activation::Elu(alpha) if exact(alpha) => {
                let y = self.unary("Elu", &name, x);
                self.last()
                    .attribute
                    .push(float_attribute("alpha", alpha as f32));
                y
            }
            Activation::LeakyRelu(alpha) => {
                // z for z > 0, α·z otherwise.
                let scaled = self.scale(x, alpha)?;
                self.positive_or(x, &name, x, &scaled)?
            }
            Activation::Elu(alpha) => {
                let negative = self.exp_minus_one(x, &name, alpha)?;
                self.positive_or(x, &name, x, &negative)?
            }
            Activation::Selu if self.precision == Precision::F32 => {
                let y = self.unary("Selu", &name, x);
                let node = self.last();
                node.attribute
                    .push(float_attribute("alpha", SELU_ALPHA as f32));
                node.attribute
                    .push(float_attribute("gamma", SELU_LAMBDA as f32));
                y
            }
            Activation::Selu => {
                let positive = self.scale(x, SELU_LAMBDA)?;
                let negative = self.exp_minus_one(x, &name, SELU_LAMBDA * SELU_ALPHA)?;
                self.positive_or(x, &name, &positive, &negative)?
            }
            Activation::HardSigmoid if self.precision == Precision::F32 => {
                let y = self.unary("HardSigmoid", &name, x);
                let node = self.last();
                node.attribute.push(float_attribute("alpha", 1.0 / 6.0));
                node.attribute.push(float_attribute("beta", 0.5));
                y
            }
            Activation::HardSigmoid => {
                // min(max(z + 3, 0), 6) / 6.
                let three = self.constant(&format!("{name}.three"), 3.0)?;
                let shifted = self.binary("Add", &name, x, &three);
                let clipped = self.clip(&shifted, &name)?;
                let six = self.constant(&format!("{name}.six"), 6.0)?;
                self.binary("Div", &name, &clipped, &six)
            }
            Activation::Relu6 => self.clip(x, &name)?,
            Activation::Softmax => {
                let y = self.unary("Softmax", &name, x);
                self.last().attribute.push(int_attribute("axis", -1));
                y
            }
            Activation::Gelu => {
                // z · ½ · (1 + erf(z / √2)), as PyTorch's TorchScript exporter writes it.
                let sqrt2 = self.constant(&format!("{name}.sqrt2"), core::f64::consts::SQRT_2)?;
                let scaled = self.binary("Div", &name, x, &sqrt2);
                let erf = self.unary("Erf", &name, &scaled);
                let one = self.constant(&format!("{name}.one"), 1.0)?;
                let shifted = self.binary("Add", &name, &erf, &one);
                let product = self.binary("Mul", &name, x, &shifted);
                let half = self.constant(&format!("{name}.half"), 0.5)?;
                self.binary("Mul", &name, &product, &half)
            }
            Activation::Softplus => {
                // ln(1 + e^z), and z itself above the threshold, as PyTorch's default exporter.
                let softplus = self.unary("Softplus", &name, x);
                let threshold = self.constant(&format!("{name}.threshold"), SOFTPLUS_THRESHOLD)?;
                let above = self.fresh(&format!("{name}.above"));
                let node = self.node("Greater", &name, &[x, &threshold], &above);
                self.nodes.push(node);
                let y = self.fresh(&name);
                let node = self.node("Where", &name, &[&above, x, &softplus], &y);
                self.nodes.push(node);
                y
            }
            Activation::Silu => {
                let sigmoid = self.unary("Sigmoid", &name, x);
                self.binary("Mul", &name, x, &sigmoid)
            }
        };
        Ok(y)
    }

    /// `x · factor` (a `Mul` by a scalar constant), or `x` itself when `factor` is 1.
    ///
    /// # Errors
    /// If the constant's name is taken.
    pub fn scale(&mut self, x: &Value, factor: f64) -> Result<Value, Error> {
        if factor == 1.0 {
            return Ok(x.clone());
        }
        let c = self.fresh(&format!("{}.factor", x.0));
        let c = self.constant(&c.0, factor)?;
        Ok(self.binary("Mul", &x.0.clone(), x, &c))
    }

    /// `x + offset` (an `Add` of a scalar constant), or `x` itself when `offset` is 0.
    ///
    /// # Errors
    /// If the constant's name is taken.
    pub fn offset(&mut self, x: &Value, offset: f64) -> Result<Value, Error> {
        if offset == 0.0 {
            return Ok(x.clone());
        }
        let c = self.fresh(&format!("{}.offset", x.0));
        let c = self.constant(&c.0, offset)?;
        Ok(self.binary("Add", &x.0.clone(), x, &c))
    }

    /// The element-wise sum `x + y` (`Add`, broadcasting as ONNX does).
    pub fn add(&mut self, x: &Value, y: &Value) -> Value {
        self.binary("Add", &x.0.clone(), x, y)
    }

    /// The element-wise product `x ⊙ y` (`Mul`, broadcasting as ONNX does).
    pub fn mul(&mut self, x: &Value, y: &Value) -> Value {
        self.binary("Mul", &x.0.clone(), x, y)
    }

    /// The model: the graph with `output` (of shape `[batch, width]`) as its output, encoded.
    ///
    /// # Errors
    /// If the graph has no input, or `width` is 0.
    pub fn finish(self, output: &Value, width: usize) -> Result<Vec<u8>, Error> {
        if self.inputs.is_empty() {
            return Err(Error::new("the graph has no input"));
        }
        let output = self.value_info(&output.0, &[Some(width)], "output")?;
        let graph = GraphProto {
            name: "network".to_owned(),
            node: self.nodes,
            initializer: self.initializers,
            input: self.inputs,
            output: vec![output],
            ..GraphProto::default()
        };
        let model = ModelProto {
            ir_version: IR_VERSION,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: OPSET,
            }],
            producer_name: "dropout-nn".to_owned(),
            producer_version: env!("CARGO_PKG_VERSION").to_owned(),
            graph: Some(graph),
            ..ModelProto::default()
        };
        Ok(model.encode_to_vec())
    }

    fn check_name(&self, name: &str) -> Result<(), Error> {
        let taken = self.inputs.iter().any(|i| i.name == name)
            || self.initializers.iter().any(|i| i.name == name)
            || self
                .nodes
                .iter()
                .any(|n| n.output.iter().any(|o| o == name));
        if taken || name.is_empty() {
            return Err(Error::new(format!(
                "the graph already has a tensor named `{name}`"
            )));
        }
        Ok(())
    }

    /// A name not used before, starting with `stem`.
    fn fresh(&mut self, stem: &str) -> Value {
        self.names += 1;
        Value(format!("{stem}#{}", self.names))
    }

    fn node(&self, op: &str, name: &str, inputs: &[&Value], output: &Value) -> NodeProto {
        NodeProto {
            input: inputs.iter().map(|v| v.0.clone()).collect(),
            output: vec![output.0.clone()],
            name: format!("{name}/{op}#{}", self.nodes.len()),
            op_type: op.to_owned(),
            ..NodeProto::default()
        }
    }

    fn last(&mut self) -> &mut NodeProto {
        self.nodes
            .last_mut()
            .expect("called right after a node was pushed")
    }

    fn unary(&mut self, op: &str, name: &str, x: &Value) -> Value {
        let y = self.fresh(name);
        let node = self.node(op, name, &[x], &y);
        self.nodes.push(node);
        y
    }

    fn binary(&mut self, op: &str, name: &str, x: &Value, y: &Value) -> Value {
        let z = self.fresh(name);
        let node = self.node(op, name, &[x, y], &z);
        self.nodes.push(node);
        z
    }

    /// `Clip(x, 0, 6)`.
    fn clip(&mut self, x: &Value, name: &str) -> Result<Value, Error> {
        let low = self.constant(&format!("{name}.min"), 0.0)?;
        let high = self.constant(&format!("{name}.max"), 6.0)?;
        let y = self.fresh(name);
        let node = self.node("Clip", name, &[x, &low, &high], &y);
        self.nodes.push(node);
        Ok(y)
    }

    /// `factor · (e^x − 1)`.
    fn exp_minus_one(&mut self, x: &Value, name: &str, factor: f64) -> Result<Value, Error> {
        let exp = self.unary("Exp", name, x);
        let one = self.constant(&format!("{name}.one"), 1.0)?;
        let shifted = self.binary("Sub", name, &exp, &one);
        self.scale(&shifted, factor)
    }

    /// `positive` where `x > 0`, `otherwise` elsewhere (and where `x` is NaN).
    fn positive_or(
        &mut self,
        x: &Value,
        name: &str,
        positive: &Value,
        otherwise: &Value,
    ) -> Result<Value, Error> {
        let zero = self.constant(&format!("{name}.zero"), 0.0)?;
        let above = self.fresh(&format!("{name}.positive"));
        let node = self.node("Greater", name, &[x, &zero], &above);
        self.nodes.push(node);
        let y = self.fresh(name);
        let node = self.node("Where", name, &[&above, positive, otherwise], &y);
        self.nodes.push(node);
        Ok(y)
    }

    fn constant(&mut self, name: &str, value: f64) -> Result<Value, Error> {
        self.initializer(name, &[], &[value])
    }

    /// The scalar `float` scale and `int8` zero point of a `QuantizeLinear` or
    /// `DequantizeLinear` named `name`, as initializers.
    fn quantization(
        &mut self,
        name: &str,
        scale: f32,
        zero_point: i8,
    ) -> Result<(Value, Value), Error> {
        let scale = self.raw_initializer(
            &format!("{name}.scale"),
            &[],
            DataType::Float,
            scale.to_le_bytes().to_vec(),
        )?;
        let zero = self.raw_initializer(
            &format!("{name}.zero_point"),
            &[],
            DataType::Int8,
            zero_point.to_le_bytes().to_vec(),
        )?;
        Ok((scale, zero))
    }

    fn require_f32(&self, what: &str) -> Result<(), Error> {
        match self.precision {
            Precision::F32 => Ok(()),
            Precision::F64 => Err(Error::new(format!(
                "{what} dequantizes to `float`: the graph must be of `f32` values"
            ))),
        }
    }

    /// A node of any number of inputs and one output.
    fn binary_with(&mut self, op: &str, name: &str, inputs: &[&Value]) -> Value {
        let y = self.fresh(name);
        let node = self.node(op, name, inputs, &y);
        self.nodes.push(node);
        y
    }

    /// An initializer of type `data_type` holding `raw_data` (little-endian values).
    fn raw_initializer(
        &mut self,
        name: &str,
        dims: &[usize],
        data_type: DataType,
        raw_data: Vec<u8>,
    ) -> Result<Value, Error> {
        self.check_name(name)?;
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|&d| dim(d)).collect(),
            data_type: data_type as i32,
            name: name.to_owned(),
            raw_data,
            ..TensorProto::default()
        });
        Ok(Value(name.to_owned()))
    }

    /// The `int64` tensor `[axis]`, as `Unsqueeze` and `Squeeze` take their axes.
    fn axes(&mut self, name: &str, axis: i64) -> Result<Value, Error> {
        self.raw_initializer(name, &[1], DataType::Int64, axis.to_le_bytes().to_vec())
    }

    fn initializer(&mut self, name: &str, dims: &[usize], values: &[f64]) -> Result<Value, Error> {
        let (data_type, raw_data) = match self.precision {
            Precision::F32 => (
                DataType::Float,
                values
                    .iter()
                    .flat_map(|&v| (v as f32).to_le_bytes())
                    .collect(),
            ),
            Precision::F64 => (
                DataType::Double,
                values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
            ),
        };
        self.raw_initializer(name, dims, data_type, raw_data)
    }

    fn value_info(
        &self,
        name: &str,
        width: &[Option<usize>],
        role: &str,
    ) -> Result<ValueInfoProto, Error> {
        let mut dims = vec![None];
        dims.extend_from_slice(width);
        self.value_info_dims(name, &dims, role)
    }

    /// A tensor's type: `None` dimensions are the dynamic batch.
    fn value_info_dims(
        &self,
        name: &str,
        dims: &[Option<usize>],
        role: &str,
    ) -> Result<ValueInfoProto, Error> {
        let dim = dims
            .iter()
            .map(|d| {
                let value = match *d {
                    None => dimension::Value::DimParam(BATCH.to_owned()),
                    Some(0) => {
                        return Err(Error::new(format!(
                            "the {role} `{name}` would have a dimension of 0"
                        )));
                    }
                    Some(n) => dimension::Value::DimValue(dim(n)),
                };
                Ok(Dimension {
                    value: Some(value),
                    ..Dimension::default()
                })
            })
            .collect::<Result<_, _>>()?;
        let elem_type = if self.int8.iter().any(|n| n == name) {
            DataType::Int8 as i32
        } else {
            self.precision.data_type()
        };
        let tensor = type_proto::Tensor {
            elem_type,
            shape: Some(TensorShapeProto { dim }),
        };
        Ok(ValueInfoProto {
            name: name.to_owned(),
            r#type: Some(TypeProto {
                value: Some(type_proto::Value::TensorType(tensor)),
                ..TypeProto::default()
            }),
            ..ValueInfoProto::default()
        })
    }
}

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: AttributeType::Int as i32,
        i: value,
        ..AttributeProto::default()
    }
}

fn float_attribute(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: AttributeType::Float as i32,
        f: value,
        ..AttributeProto::default()
    }
}

/// A dimension as ONNX stores it; sizes of a network's tensors are far below `i64::MAX`.
fn dim(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
