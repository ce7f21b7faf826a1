//! Parameters as JSON and safetensors.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::path::Path;

use serde::ser::SerializeSeq as _;
use serde::{Deserialize, Serialize, Serializer};

use crate::fs::write_atomically;
use crate::{Error, Float, Network, Scalar};

/// The saved parameters of a network. A key it does not know (a misspelt `"bais"`) is an error,
/// not ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saved {
    /// The struct's name when it was saved (informational).
    pub network: String,
    /// `"f32"` or `"f64"`: the network's scalar type. Loading into a network of the other type
    /// is an error, so that no value is silently rounded.
    pub scalar: String,
    /// One entry per dense layer, first to output.
    pub layers: Vec<SavedLayer>,
}

/// The parameters of one layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedLayer {
    /// The layer's name in the declaration.
    pub name: String,
    /// One row per neuron, one column per input.
    pub weights: Vec<Vec<f64>>,
    /// One value per neuron.
    pub bias: Vec<f64>,
}

/// The parameters of `net`.
///
/// # Errors
/// [`Error::NotFinite`] if a parameter is NaN or infinite (JSON cannot hold it, and a file that
/// held it would not load).
pub fn save<N: Network>(net: &N) -> Result<Saved, Error> {
    crate::network::refuse_non_finite(net)?;
    let spec = N::SPEC;
    let mut layers = Vec::with_capacity(spec.layers.len());
    for (idx, layer_spec) in spec.layers.iter().enumerate() {
        let Some(layer) = net.layer(idx) else {
            continue;
        };
        let weights: Vec<Vec<f64>> = (0..layer.size())
            .map(|n| {
                (0..layer.fan_in())
                    .map(|i| layer.weight(n, i).map_or(f64::NAN, Float::to_f64))
                    .collect()
            })
            .collect();
        let bias: Vec<f64> = layer.biases().iter().map(|b| b.to_f64()).collect();
        layers.push(SavedLayer {
            name: layer_spec.name.to_string(),
            weights,
            bias,
        });
    }
    Ok(Saved {
        network: spec.name.to_string(),
        scalar: N::Scalar::NAME.to_string(),
        layers,
    })
}

/// Writes `saved` into `net` after checking everything: the scalar type, the number of layers,
/// every layer's name and shape, and that every value is finite in the network's scalar type
/// (`1e39` is not, in `f32`). `net` is unchanged if anything does not fit.
///
/// # Errors
/// [`Error::Scalar`], [`Error::LayerCount`], [`Error::LayerName`], [`Error::LayerShape`] or
/// [`Error::Tensor`], naming the layer and what differs.
pub fn load_into<N: Network>(net: &mut N, saved: &Saved) -> Result<(), Error> {
    load_named(net, saved, |_| ("weights".to_string(), "bias".to_string()))
}

/// [`load_into`], with errors naming each layer's weights and biases as `names` gives them.
fn load_named<N: Network>(
    net: &mut N,
    saved: &Saved,
    names: impl Fn(&crate::LayerSpec) -> (String, String),
) -> Result<(), Error> {
    let spec = N::SPEC;
    if saved.scalar != N::Scalar::NAME {
        return Err(Error::Scalar {
            expected: N::Scalar::NAME,
            found: saved.scalar.clone(),
        });
    }
    if saved.layers.len() != spec.layers.len() {
        return Err(Error::LayerCount {
            expected: spec.layers.len(),
            found: saved.layers.len(),
        });
    }
    for (layer_spec, layer) in spec.layers.iter().zip(&saved.layers) {
        check_layer::<N::Scalar>(layer_spec, layer, names(layer_spec))?;
    }
    for (idx, saved_layer) in saved.layers.iter().enumerate() {
        let Some(layer) = net.layer_mut(idx) else {
            continue;
        };
        for (neuron, row) in saved_layer.weights.iter().enumerate() {
            for (input, &w) in row.iter().enumerate() {
                if let Some(slot) = layer.weight_mut(neuron, input) {
                    *slot = N::Scalar::from_f64(w);
                }
            }
        }
        for (slot, &b) in layer.biases_mut().iter_mut().zip(&saved_layer.bias) {
            *slot = N::Scalar::from_f64(b);
        }
    }
    Ok(())
}

/// One saved layer against its declaration: name, shape, and finite values of type `T`.
fn check_layer<T: Float>(
    spec: &crate::LayerSpec,
    layer: &SavedLayer,
    (weights_name, bias_name): (String, String),
) -> Result<(), Error> {
    if layer.name != spec.name {
        return Err(Error::LayerName {
            expected: spec.name.to_string(),
            found: layer.name.clone(),
        });
    }
    let rows = layer.weights.len();
    let columns = layer.weights.first().map_or(0, Vec::len);
    let ragged = layer.weights.iter().any(|row| row.len() != columns);
    if rows != spec.size || columns != spec.fan_in || ragged || layer.bias.len() != spec.size {
        return Err(Error::LayerShape {
            layer: spec.name.to_string(),
            expected: (spec.size, spec.fan_in),
            found: (!ragged).then_some((rows, columns)),
            bias: layer.bias.len(),
        });
    }
    let weights = layer.weights.iter().enumerate().flat_map(|(neuron, row)| {
        row.iter()
            .enumerate()
            .map(move |(input, &w)| (format!("[{neuron}, {input}]"), w))
    });
    let bias = layer
        .bias
        .iter()
        .enumerate()
        .map(|(neuron, &b)| (format!("[{neuron}]"), b));
    for (tensor, (at, value)) in weights
        .map(|entry| (&weights_name, entry))
        .chain(bias.map(|entry| (&bias_name, entry)))
    {
        let stored = T::from_f64(value);
        let problem = if !stored.is_finite() {
            format!("{value} at {at} is not a finite {}", T::NAME)
        } else if stored == T::ZERO && value != 0.0 {
            format!(
                "{value:e} at {at} is too small for {}: it would become 0",
                T::NAME
            )
        } else {
            continue;
        };
        return Err(Error::Tensor {
            layer: spec.name.to_string(),
            tensor: tensor.clone(),
            problem,
        });
    }
    Ok(())
}

/// `net`'s parameters as pretty-printed JSON. Values of an `f32` network are written as the
/// shortest decimal that reads back to the same `f32`.
///
/// # Errors
/// [`Error::NotFinite`] if a parameter is NaN or infinite.
///
/// # Example
/// ```
/// use dropout::{io, network};
///
/// network! {
///     struct Tiny<f32> { input: 2, dense 1 identity { weights: [[0.1, -3.0]], bias: [1.5] } }
/// }
/// let json = io::to_json(&Tiny::new())?;
/// assert!(json.contains("0.1,"), "{json}");
/// let loaded: Tiny = io::from_json(&json)?;
/// assert_eq!(loaded.output.row(0), Some([0.1, -3.0]));
///
/// network! {
///     struct Wider<f32> { input: 3, dense 1 identity }
/// }
/// let Err(err) = io::from_json::<Wider>(&json) else { panic!("the shapes differ") };
/// assert_eq!(err.to_string(), "layer `output`: expected weights of 1 row × 3 columns and 1 bias, found 1 × 2 and 1 bias");
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn to_json<N: Network>(net: &N) -> Result<String, Error> {
    let saved = save(net)?;
    serde_json::to_string_pretty(&InScalar(&saved, N::Scalar::SCALAR))
        .map_err(|err| Error::Format(err.to_string()))
}

/// A network of type `N` with the parameters in `json`. The network passes through the stack:
/// for large networks use [`from_json_boxed`].
///
/// # Errors
/// [`Error::Format`] if the text is not a saved network, or an error of [`load_into`].
pub fn from_json<N: Network>(json: &str) -> Result<N, Error> {
    let mut net = N::zeros();
    from_json_into(&mut net, json)?;
    Ok(net)
}

/// [`from_json`] on the heap, built there directly.
///
/// # Errors
/// As [`from_json`].
pub fn from_json_boxed<N: Network>(json: &str) -> Result<Box<N>, Error> {
    let mut net = N::zeros_boxed();
    from_json_into(&mut *net, json)?;
    Ok(net)
}

/// Loads the parameters in `json` into `net`, which is unchanged if loading fails.
///
/// # Errors
/// As [`from_json`].
pub fn from_json_into<N: Network>(net: &mut N, json: &str) -> Result<(), Error> {
    let saved: Saved = serde_json::from_str(json).map_err(|err| Error::Format(err.to_string()))?;
    load_into(net, &saved)
}

/// Writes `net`'s parameters as JSON to `path`, atomically: a failed save leaves a previous
/// file at `path` as it was.
///
/// # Errors
/// [`Error::NotFinite`], or [`Error::Io`] naming the file.
pub fn save_json<N: Network>(net: &N, path: impl AsRef<Path>) -> Result<(), Error> {
    write_atomically(path.as_ref(), to_json(net)?.as_bytes())
}

/// Reads a network of type `N` from the JSON file at `path` (by value; see
/// [`load_json_boxed`] for large networks).
///
/// # Errors
/// [`Error::Io`] naming the file, or as [`from_json`].
pub fn load_json<N: Network>(path: impl AsRef<Path>) -> Result<N, Error> {
    let mut net = N::zeros();
    load_json_into(&mut net, path)?;
    Ok(net)
}

/// [`load_json`] on the heap, built there directly.
///
/// # Errors
/// As [`load_json`].
pub fn load_json_boxed<N: Network>(path: impl AsRef<Path>) -> Result<Box<N>, Error> {
    let mut net = N::zeros_boxed();
    load_json_into(&mut *net, path)?;
    Ok(net)
}

/// Loads the JSON file at `path` into `net`, which is unchanged if loading fails.
///
/// # Errors
/// As [`load_json`].
pub fn load_json_into<N: Network>(net: &mut N, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let text = core::str::from_utf8(&bytes)
        .map_err(|err| Error::Format(format!("{}: not UTF-8 text: {err}", path.display())))?;
    from_json_into(net, text).map_err(|err| match err {
        Error::Format(message) => Error::Format(format!("{}: {message}", path.display())),
        other => other,
    })
}

/// The names under which a layer's weights and biases are saved in safetensors: the tensors the
/// declaration read them from, or `<layer>.weight` and `<layer>.bias`.
fn tensor_names(spec: &crate::LayerSpec) -> (String, String) {
    let name = spec.name;
    (
        spec.weights_tensor
            .map_or_else(|| format!("{name}.weight"), ToString::to_string),
        spec.bias_tensor
            .map_or_else(|| format!("{name}.bias"), ToString::to_string),
    )
}

/// Every tensor name the network saves under, with the layer it belongs to; two layers that
/// would save under one name are an error (the file could not say which is which).
fn unique_tensor_names<N: Network>() -> Result<Vec<(String, String, &'static str)>, Error> {
    let names: Vec<(String, String, &'static str)> = N::SPEC
        .layers
        .iter()
        .map(|spec| {
            let (weights, bias) = tensor_names(spec);
            (weights, bias, spec.name)
        })
        .collect();
    let mut taken: Vec<(&str, &str)> = Vec::new();
    for (weights, bias, layer) in &names {
        for tensor in [weights.as_str(), bias.as_str()] {
            if let Some((_, first)) = taken.iter().find(|(name, _)| *name == tensor) {
                return Err(Error::TensorName {
                    tensor: tensor.to_string(),
                    layers: (first.to_string(), layer.to_string()),
                });
            }
            taken.push((tensor, layer));
        }
    }
    Ok(names)
}

/// `net`'s parameters as a safetensors file: per layer a `weight` tensor (neurons × inputs, the
/// layout of PyTorch's `Linear.weight`) and a `bias` tensor, of the network's scalar type. The
/// tensors are named after the ones the declaration read them from (so a network declared from
/// a PyTorch export saves under PyTorch's names), or `<layer>.weight` and `<layer>.bias`. The
/// same network always gives the same bytes.
///
/// # Errors
/// [`Error::NotFinite`] if a parameter is NaN or infinite; [`Error::TensorName`] if two layers
/// would be saved under one tensor name (two layers declared from the same tensor, say).
///
/// # Example
/// ```
/// use dropout::{io, network};
///
/// network! {
///     struct Tiny<f32> { input: 2, dense 1 identity { weights: [[0.25, -3.0]], bias: [1.5] } }
/// }
/// let bytes = io::to_safetensors(&Tiny::new())?;
/// let loaded: Tiny = io::from_safetensors(&bytes)?;
/// assert_eq!(loaded.output.row(0), Some([0.25, -3.0]));
/// assert_eq!(io::to_safetensors(&loaded)?, bytes);
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn to_safetensors<N: Network>(net: &N) -> Result<Vec<u8>, Error> {
    use safetensors::Dtype;
    use safetensors::tensor::TensorView;
    let names = unique_tensor_names::<N>()?;
    let saved = save(net)?;
    let scalar = N::Scalar::SCALAR;
    let encode = |values: &mut dyn Iterator<Item = f64>| -> Vec<u8> {
        values
            .flat_map(|v| match scalar {
                Scalar::F64 => v.to_le_bytes().to_vec(),
                Scalar::F32 => (v as f32).to_le_bytes().to_vec(),
            })
            .collect()
    };
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for ((weight_name, bias_name, _), layer) in names.into_iter().zip(&saved.layers) {
        let rows = layer.weights.len();
        let columns = layer.weights.first().map_or(0, Vec::len);
        tensors.push((
            weight_name,
            alloc::vec![rows, columns],
            encode(&mut layer.weights.iter().flatten().copied()),
        ));
        tensors.push((
            bias_name,
            alloc::vec![layer.bias.len()],
            encode(&mut layer.bias.iter().copied()),
        ));
    }
    let dtype = match scalar {
        Scalar::F64 => Dtype::F64,
        Scalar::F32 => Dtype::F32,
    };
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(dtype, shape.clone(), bytes).map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| Error::Format(err.to_string()))?;
    // One metadata entry: safetensors writes the map in its hash order, which differs from run
    // to run when it has more than one key.
    let metadata =
        std::collections::HashMap::from([("network".to_string(), N::SPEC.name.to_string())]);
    safetensors::serialize(views, Some(metadata)).map_err(|err| Error::Format(err.to_string()))
}

/// A network of type `N` with the parameters of a safetensors file, named as
/// [`to_safetensors`] names them (by value; see [`from_safetensors_boxed`] for large
/// networks).
///
/// # Errors
/// [`Error::Format`] if the bytes are not a safetensors file or a tensor is missing;
/// [`Error::Tensor`] naming the layer and tensor if a tensor is not of the network's scalar
/// type, has the wrong rank or holds a value that is not finite; or an error of [`load_into`].
pub fn from_safetensors<N: Network>(bytes: &[u8]) -> Result<N, Error> {
    let mut net = N::zeros();
    from_safetensors_into(&mut net, bytes)?;
    Ok(net)
}

/// [`from_safetensors`] on the heap, built there directly.
///
/// # Errors
/// As [`from_safetensors`].
pub fn from_safetensors_boxed<N: Network>(bytes: &[u8]) -> Result<Box<N>, Error> {
    let mut net = N::zeros_boxed();
    from_safetensors_into(&mut *net, bytes)?;
    Ok(net)
}

/// Loads the parameters of a safetensors file into `net`, which is unchanged if loading fails.
///
/// # Errors
/// As [`from_safetensors`].
pub fn from_safetensors_into<N: Network>(net: &mut N, bytes: &[u8]) -> Result<(), Error> {
    refuse_duplicate_names(bytes)?;
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|err| Error::Format(err.to_string()))?;
    let mut layers = Vec::with_capacity(N::SPEC.layers.len());
    for (spec, (weight_name, bias_name, _)) in
        N::SPEC.layers.iter().zip(unique_tensor_names::<N>()?)
    {
        let weights = read_tensor::<N::Scalar>(&file, spec.name, &weight_name, 2)?;
        let columns = weights.shape.get(1).copied().unwrap_or(0).max(1);
        let bias = read_tensor::<N::Scalar>(&file, spec.name, &bias_name, 1)?;
        layers.push(SavedLayer {
            name: spec.name.to_string(),
            weights: weights
                .values
                .chunks(columns)
                .map(<[f64]>::to_vec)
                .collect(),
            bias: bias.values,
        });
    }
    let saved = Saved {
        network: N::SPEC.name.to_string(),
        scalar: N::Scalar::NAME.to_string(),
        layers,
    };
    load_named(net, &saved, tensor_names)
}

/// A safetensors header that names a tensor twice is refused: the format's parser keeps the
/// last of the two, so which values would load depends on the order of the entries. A header
/// that cannot be read at all is left to the parser, whose error says why.
fn refuse_duplicate_names(bytes: &[u8]) -> Result<(), Error> {
    /// The keys of a JSON object, each once, or the first one repeated.
    struct Keys;
    impl<'de> serde::de::Visitor<'de> for Keys {
        type Value = Option<String>;
        fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            // Every entry is read, so that the JSON parser sees the whole object.
            let (mut seen, mut repeated) = (std::collections::HashSet::new(), None);
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<serde::de::IgnoredAny>()?;
                if !seen.insert(key.clone()) && repeated.is_none() {
                    repeated = Some(key);
                }
            }
            Ok(repeated)
        }
    }
    struct FirstRepeated(Option<String>);
    impl<'de> Deserialize<'de> for FirstRepeated {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            deserializer.deserialize_map(Keys).map(FirstRepeated)
        }
    }
    let header = bytes
        .get(..8)
        .and_then(|len| usize::try_from(u64::from_le_bytes(len.try_into().ok()?)).ok())
        .and_then(|len| bytes.get(8..8usize.checked_add(len)?));
    match header.map(serde_json::from_slice::<FirstRepeated>) {
        Some(Ok(FirstRepeated(Some(name)))) => Err(Error::Format(format!(
            "the safetensors header names tensor `{name}` twice"
        ))),
        _ => Ok(()),
    }
}

/// A tensor's shape and values.
struct TensorData {
    shape: Vec<usize>,
    values: Vec<f64>,
}

/// Tensor `name` of layer `layer`: of `T`'s dtype and of rank `rank`.
fn read_tensor<T: Float>(
    file: &safetensors::SafeTensors<'_>,
    layer: &str,
    name: &str,
    rank: usize,
) -> Result<TensorData, Error> {
    let problem = |problem: String| Error::Tensor {
        layer: layer.to_string(),
        tensor: name.to_string(),
        problem,
    };
    let view = file.tensor(name).map_err(|err| {
        let mut names: Vec<&str> = file.names();
        names.sort_unstable();
        Error::Format(format!(
            "tensor `{name}` of layer `{layer}`: {err} (the file has {})",
            names.join(", ")
        ))
    })?;
    let values: Vec<f64> = match (view.dtype(), T::SCALAR) {
        (safetensors::Dtype::F32, Scalar::F32) => view
            .data()
            .chunks_exact(4)
            .filter_map(|b| b.try_into().ok())
            .map(|b| f64::from(f32::from_le_bytes(b)))
            .collect(),
        (safetensors::Dtype::F64, Scalar::F64) => view
            .data()
            .chunks_exact(8)
            .filter_map(|b| b.try_into().ok())
            .map(f64::from_le_bytes)
            .collect(),
        (dtype, _) => {
            return Err(problem(format!(
                "holds {dtype:?} values; a network of {} needs {:?}",
                T::NAME,
                match T::SCALAR {
                    Scalar::F32 => safetensors::Dtype::F32,
                    Scalar::F64 => safetensors::Dtype::F64,
                }
            )));
        }
    };
    let shape = view.shape().to_vec();
    if shape.len() != rank {
        let needs = if rank == 2 {
            "2 (neurons × inputs)"
        } else {
            "1 (one bias per neuron)"
        };
        return Err(problem(format!(
            "has shape {shape:?}, of rank {}; it needs rank {needs}",
            shape.len()
        )));
    }
    Ok(TensorData { shape, values })
}

/// Writes `net`'s parameters as a safetensors file at `path` (see [`to_safetensors`]),
/// atomically: a failed save leaves a previous file at `path` as it was.
///
/// # Errors
/// As [`to_safetensors`], or [`Error::Io`] naming the file.
pub fn save_safetensors<N: Network>(net: &N, path: impl AsRef<Path>) -> Result<(), Error> {
    write_atomically(path.as_ref(), &to_safetensors(net)?)
}

/// Reads a network of type `N` from the safetensors file at `path` (by value; see
/// [`load_safetensors_boxed`] for large networks).
///
/// # Errors
/// [`Error::Io`] naming the file, or as [`from_safetensors`].
pub fn load_safetensors<N: Network>(path: impl AsRef<Path>) -> Result<N, Error> {
    let mut net = N::zeros();
    load_safetensors_into(&mut net, path)?;
    Ok(net)
}

/// [`load_safetensors`] on the heap, built there directly.
///
/// # Errors
/// As [`load_safetensors`].
pub fn load_safetensors_boxed<N: Network>(path: impl AsRef<Path>) -> Result<Box<N>, Error> {
    let mut net = N::zeros_boxed();
    load_safetensors_into(&mut *net, path)?;
    Ok(net)
}

/// Loads the safetensors file at `path` into `net`, which is unchanged if loading fails.
///
/// # Errors
/// As [`load_safetensors`].
pub fn load_safetensors_into<N: Network>(net: &mut N, path: impl AsRef<Path>) -> Result<(), Error> {
    let path = path.as_ref();
    from_safetensors_into(net, &read(path)?).map_err(|err| match err {
        Error::Format(message) => Error::Format(format!("{}: {message}", path.display())),
        other => other,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|err| Error::io(path, err))
}

/// Serializes saved parameters with their values in the network's scalar type, so that an
/// `f32` network's JSON holds the shortest text for each `f32`, not its `f64` expansion.
struct InScalar<'a, T>(&'a T, Scalar);

impl Serialize for InScalar<'_, Saved> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let InScalar(saved, scalar) = self;
        let mut state = serializer.serialize_struct("Saved", 3)?;
        state.serialize_field("network", &saved.network)?;
        state.serialize_field("scalar", &saved.scalar)?;
        let layers: Vec<InScalar<'_, SavedLayer>> = saved
            .layers
            .iter()
            .map(|layer| InScalar(layer, *scalar))
            .collect();
        state.serialize_field("layers", &layers)?;
        state.end()
    }
}

impl Serialize for InScalar<'_, SavedLayer> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let InScalar(layer, scalar) = self;
        let mut state = serializer.serialize_struct("SavedLayer", 3)?;
        state.serialize_field("name", &layer.name)?;
        let rows: Vec<Values<'_>> = layer
            .weights
            .iter()
            .map(|row| Values(row, *scalar))
            .collect();
        state.serialize_field("weights", &rows)?;
        state.serialize_field("bias", &Values(&layer.bias, *scalar))?;
        state.end()
    }
}

/// A list of values, each written as the scalar type.
struct Values<'a>(&'a [f64], Scalar);

impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for &value in self.0 {
            match self.1 {
                Scalar::F32 => seq.serialize_element(&(value as f32))?,
                Scalar::F64 => seq.serialize_element(&value)?,
            }
        }
        seq.end()
    }
}
