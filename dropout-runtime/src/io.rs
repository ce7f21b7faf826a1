//! Saving and loading parameters, checked against the network's shapes: as JSON, and as
//! safetensors files, which PyTorch reads and writes.
//!
//! The JSON format names each layer and writes its weights in the declared orientation, one row
//! per neuron, so a file can be read and edited by hand:
//!
//! ```json
//! { "network": "Toy", "scalar": "f32",
//!   "layers": [ { "name": "h1", "weights": [[1.0, -1.0], [2.0, 1.0], [-1.0, 3.0]], "bias": [0.5, -1.0, 0.0] }, … ] }
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::{Error, Float, Network, Scalar};

/// The saved parameters of a network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The struct's name when it was saved (informational).
    pub network: String,
    /// `"f32"` or `"f64"`.
    pub scalar: String,
    /// One entry per dense layer, first to output.
    pub layers: Vec<SavedLayer>,
}

/// The parameters of one layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
/// [`Error::NotFinite`] if a parameter is NaN or infinite (JSON cannot hold it).
pub fn save<N: Network>(net: &N) -> Result<Saved, Error> {
    let spec = N::SPEC;
    let mut layers = Vec::with_capacity(spec.layers.len());
    for (idx, layer_spec) in spec.layers.iter().enumerate() {
        let Some(layer) = net.layer(idx) else {
            continue;
        };
        let weights: Vec<Vec<f64>> = (0..layer.size())
            .map(|n| {
                (0..layer.fan_in())
                    .map(|i| layer.weight(n, i).map_or(0.0, Float::to_f64))
                    .collect()
            })
            .collect();
        let bias: Vec<f64> = layer.biases().iter().map(|b| b.to_f64()).collect();
        if weights
            .iter()
            .flatten()
            .chain(&bias)
            .any(|v| !v.is_finite())
        {
            return Err(Error::NotFinite {
                layer: layer_spec.name.to_string(),
            });
        }
        layers.push(SavedLayer {
            name: layer_spec.name.to_string(),
            weights,
            bias,
        });
    }
    Ok(Saved {
        network: spec.name.to_string(),
        scalar: spec.scalar.to_string(),
        layers,
    })
}

/// Writes `saved` into `net` after checking that every layer's name and shape match; `net` is
/// unchanged if anything does not.
///
/// # Errors
/// [`Error::LayerCount`], [`Error::LayerName`] or [`Error::LayerShape`] naming the layer and
/// both shapes.
pub fn load_into<N: Network>(net: &mut N, saved: &Saved) -> Result<(), Error> {
    let spec = N::SPEC;
    if saved.layers.len() != spec.layers.len() {
        return Err(Error::LayerCount {
            expected: spec.layers.len(),
            found: saved.layers.len(),
        });
    }
    for (layer_spec, layer) in spec.layers.iter().zip(&saved.layers) {
        if layer.name != layer_spec.name {
            return Err(Error::LayerName {
                expected: layer_spec.name.to_string(),
                found: layer.name.clone(),
            });
        }
        let rows = layer.weights.len();
        let columns = layer.weights.first().map_or(0, Vec::len);
        let ragged = layer.weights.iter().any(|row| row.len() != columns);
        if rows != layer_spec.size
            || columns != layer_spec.fan_in
            || ragged
            || layer.bias.len() != layer_spec.size
        {
            let found = if ragged { None } else { Some((rows, columns)) };
            return Err(Error::LayerShape {
                layer: layer_spec.name.to_string(),
                expected: (layer_spec.size, layer_spec.fan_in),
                found,
                bias: layer.bias.len(),
            });
        }
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

/// `net`'s parameters as pretty-printed JSON.
///
/// # Errors
/// [`Error::NotFinite`] if a parameter is NaN or infinite.
///
/// # Example
/// ```
/// use dropout::{Network, io, network};
///
/// network! {
///     struct Tiny<f64> { input: 2, dense 1 identity { weights: [[0.25, -3.0]], bias: [1.5] } }
/// }
/// let json = io::to_json(&Tiny::new())?;
/// let loaded: Tiny = io::from_json(&json)?;
/// assert_eq!(loaded.output.row(0), Some([0.25, -3.0]));
///
/// network! {
///     struct Wider<f64> { input: 3, dense 1 identity }
/// }
/// let Err(err) = io::from_json::<Wider>(&json) else { panic!("the shapes differ") };
/// assert_eq!(err.to_string(), "layer `output`: expected weights of 1 row × 3 columns and 1 bias, found 1 × 2 and 1 bias");
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn to_json<N: Network>(net: &N) -> Result<String, Error> {
    serde_json::to_string_pretty(&save(net)?).map_err(|err| Error::Format(err.to_string()))
}

/// A network of type `N` with the parameters in `json`.
///
/// # Errors
/// [`Error::Format`] if the text is not a saved network, or a shape error as in [`load_into`].
pub fn from_json<N: Network>(json: &str) -> Result<N, Error> {
    let saved: Saved = serde_json::from_str(json).map_err(|err| Error::Format(err.to_string()))?;
    let mut net = N::zeros();
    load_into(&mut net, &saved)?;
    Ok(net)
}

/// Writes `net`'s parameters as JSON to `path`.
///
/// # Errors
/// [`Error::NotFinite`], or [`Error::Io`] naming the file.
pub fn save_json<N: Network>(net: &N, path: impl AsRef<std::path::Path>) -> Result<(), Error> {
    let path = path.as_ref();
    std::fs::write(path, to_json(net)?).map_err(|err| Error::Io {
        path: path.display().to_string(),
        message: err.to_string(),
    })
}

/// Reads a network of type `N` from the JSON file at `path`.
///
/// # Errors
/// [`Error::Io`] naming the file, or as [`from_json`].
pub fn load_json<N: Network>(path: impl AsRef<std::path::Path>) -> Result<N, Error> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|err| Error::Io {
        path: path.display().to_string(),
        message: err.to_string(),
    })?;
    from_json(&text).map_err(|err| match err {
        Error::Format(message) => Error::Format(format!("{}: {message}", path.display())),
        other => other,
    })
}

/// The name under which layer `idx`'s weights and biases are saved in safetensors: the tensors
/// the declaration read them from, or `<layer>.weight` and `<layer>.bias`.
fn tensor_names(spec: &crate::LayerSpec) -> (String, String) {
    let name = spec.name;
    (
        spec.weights_tensor
            .map_or_else(|| format!("{name}.weight"), ToString::to_string),
        spec.bias_tensor
            .map_or_else(|| format!("{name}.bias"), ToString::to_string),
    )
}

/// `net`'s parameters as a safetensors file: per layer a `weight` tensor (neurons × inputs, the
/// layout of PyTorch's `Linear.weight`) and a `bias` tensor, of the network's scalar type. The
/// tensors are named after the ones the declaration read them from (so a network declared from
/// a PyTorch export saves under PyTorch's names), or `<layer>.weight` and `<layer>.bias`.
///
/// # Errors
/// [`Error::NotFinite`] if a parameter is NaN or infinite; [`Error::Format`] if the
/// safetensors writer refuses the data.
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
/// # Ok::<(), dropout::Error>(())
/// ```
pub fn to_safetensors<N: Network>(net: &N) -> Result<Vec<u8>, Error> {
    use safetensors::Dtype;
    use safetensors::tensor::TensorView;
    let saved = save(net)?;
    let double = N::Scalar::SCALAR == Scalar::F64;
    let encode = |values: &mut dyn Iterator<Item = f64>| -> Vec<u8> {
        values
            .flat_map(|v| {
                if double {
                    v.to_le_bytes().to_vec()
                } else {
                    (v as f32).to_le_bytes().to_vec()
                }
            })
            .collect()
    };
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (spec, layer) in N::SPEC.layers.iter().zip(&saved.layers) {
        let (weight_name, bias_name) = tensor_names(spec);
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
    let dtype = if double { Dtype::F64 } else { Dtype::F32 };
    let views = tensors
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(dtype, shape.clone(), bytes).map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| Error::Format(err.to_string()))?;
    let layer_names: Vec<&str> = N::SPEC.layers.iter().map(|l| l.name).collect();
    let metadata = std::collections::HashMap::from([
        ("network".to_string(), N::SPEC.name.to_string()),
        ("layers".to_string(), layer_names.join(",")),
    ]);
    safetensors::serialize(views, Some(metadata)).map_err(|err| Error::Format(err.to_string()))
}

/// A network of type `N` with the parameters of a safetensors file, named as
/// [`to_safetensors`] names them.
///
/// # Errors
/// [`Error::Format`] if the bytes are not a safetensors file or a tensor is missing or not of the
/// network's scalar type, or a shape error as in [`load_into`].
pub fn from_safetensors<N: Network>(bytes: &[u8]) -> Result<N, Error> {
    let file = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|err| Error::Format(err.to_string()))?;
    let double = N::Scalar::SCALAR == Scalar::F64;
    let decode = |name: &str| -> Result<(Vec<usize>, Vec<f64>), Error> {
        let view = file
            .tensor(name)
            .map_err(|err| Error::Format(format!("tensor `{name}`: {err}")))?;
        let values = match (view.dtype(), double) {
            (safetensors::Dtype::F32, false) => view
                .data()
                .chunks_exact(4)
                .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
                .collect(),
            (safetensors::Dtype::F64, true) => view
                .data()
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
                .collect(),
            (dtype, _) => {
                return Err(Error::Format(format!(
                    "tensor `{name}` holds {dtype:?} values, not {}",
                    N::Scalar::NAME
                )));
            }
        };
        Ok((view.shape().to_vec(), values))
    };
    let mut layers = Vec::with_capacity(N::SPEC.layers.len());
    for spec in N::SPEC.layers {
        let (weight_name, bias_name) = tensor_names(spec);
        let (shape, values) = decode(&weight_name)?;
        let columns = shape.get(1).copied().unwrap_or(0).max(1);
        let weights = values.chunks(columns).map(<[f64]>::to_vec).collect();
        let (_, bias) = decode(&bias_name)?;
        layers.push(SavedLayer {
            name: spec.name.to_string(),
            weights,
            bias,
        });
    }
    let saved = Saved {
        network: N::SPEC.name.to_string(),
        scalar: N::Scalar::NAME.to_string(),
        layers,
    };
    let mut net = N::zeros();
    load_into(&mut net, &saved)?;
    Ok(net)
}

/// Writes `net`'s parameters as a safetensors file at `path` (see [`to_safetensors`]).
///
/// # Errors
/// As [`to_safetensors`], or [`Error::Io`] naming the file.
pub fn save_safetensors<N: Network>(
    net: &N,
    path: impl AsRef<std::path::Path>,
) -> Result<(), Error> {
    let path = path.as_ref();
    std::fs::write(path, to_safetensors(net)?).map_err(|err| Error::Io {
        path: path.display().to_string(),
        message: err.to_string(),
    })
}
