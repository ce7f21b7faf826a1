//! Saving and loading trained parameters as JSON, checked against the network's shapes.
//!
//! The format names each layer and writes its weights in the declared orientation, one row per
//! neuron, so a file can be read and edited by hand:
//!
//! ```json
//! { "network": "Toy", "scalar": "f32",
//!   "layers": [ { "name": "h1", "weights": [[1.0, -1.0], [2.0, 1.0], [-1.0, 3.0]], "bias": [0.5, -1.0, 0.0] }, … ] }
//! ```

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::{Error, Float, Network};

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
    serde_json::to_string_pretty(&save(net)?).map_err(|err| Error::Json(err.to_string()))
}

/// A network of type `N` with the parameters in `json`.
///
/// # Errors
/// [`Error::Json`] if the text is not a saved network, or a shape error as in [`load_into`].
pub fn from_json<N: Network>(json: &str) -> Result<N, Error> {
    let saved: Saved = serde_json::from_str(json).map_err(|err| Error::Json(err.to_string()))?;
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
        Error::Json(message) => Error::Json(format!("{}: {message}", path.display())),
        other => other,
    })
}
