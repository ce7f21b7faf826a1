//! A static description of a declared network: sizes, activations and dropout sites.

use core::fmt;

use crate::{Activation, Dropout, Scaling};

/// The architecture of a network declared with `network!`, available as `Net::SPEC`.
///
/// # Example
/// ```
/// use dropout::{Activation, NetworkSpec, network};
///
/// network! {
///     struct Tiny<f32> {
///         input: 2,
///         dense 4 relu, dropout(p = 0.5),
///         dense 1 sigmoid,
///     }
/// }
/// const SPEC: NetworkSpec = Tiny::SPEC;
/// assert_eq!(SPEC.n_outputs(), 1);
/// assert_eq!(SPEC.layers[0].activation, Activation::Relu);
/// assert_eq!(SPEC.n_parameters(), 2 * 4 + 4 + 4 + 1);
/// assert_eq!(SPEC.n_droppable_units(), 4);
/// assert_eq!(
///     SPEC.to_string(),
///     "Tiny<f32>: input 2 → dense 4 relu → dropout(p = 0.5) → dense 1 sigmoid (inverted scaling)"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetworkSpec {
    /// The struct's name.
    pub name: &'static str,
    /// The struct's visibility as declared: `"pub"`, `"pub(crate)"`, `""` for private.
    pub visibility: &'static str,
    /// The doc comments and attributes written on the struct, as source lines (`/// …`,
    /// `#[derive(Debug)]`), each ending in a newline; `""` if there are none.
    pub attributes: &'static str,
    /// `"f32"` or `"f64"`.
    pub scalar: &'static str,
    /// The scaling convention of every dropout site.
    pub scaling: Scaling,
    /// The number of inputs.
    pub n_inputs: usize,
    /// The dropout site on the input (μ⁰), if declared.
    pub input_dropout: Option<Dropout>,
    /// The dense layers, first to output.
    pub layers: &'static [LayerSpec],
}

/// One dense layer of a [`NetworkSpec`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerSpec {
    /// The layer's name: the field of the network struct and of its masks struct.
    pub name: &'static str,
    /// The number of inputs of each neuron (the previous layer's size).
    pub fan_in: usize,
    /// The number of neurons.
    pub size: usize,
    /// The activation function.
    pub activation: Activation,
    /// The dropout site on this layer's neurons, if declared.
    pub dropout: Option<Dropout>,
    /// DropConnect on this layer's weights (`dense 3 relu dropconnect(p = …)`), if declared:
    /// each weight, never a bias, kept with the probability's keep.
    pub dropconnect: Option<Dropout>,
    /// The tensor the weights were read from, when the declaration reads them from a file
    /// (`file("model.safetensors", "0.weight")`); saved parameters use the same names.
    pub weights_tensor: Option<&'static str>,
    /// The tensor the biases were read from, likewise.
    pub bias_tensor: Option<&'static str>,
}

impl NetworkSpec {
    /// The number of outputs: the size of the last layer.
    pub const fn n_outputs(&self) -> usize {
        match self.layers.last() {
            Some(layer) => layer.size,
            None => self.n_inputs,
        }
    }

    /// The number of weights and biases.
    pub fn n_parameters(&self) -> usize {
        self.layers.iter().map(|l| (l.fan_in + 1) * l.size).sum()
    }

    /// The number of units that carry a dropout mask bit (weights under DropConnect are counted
    /// by [`NetworkSpec::n_droppable_weights`]).
    pub fn n_droppable_units(&self) -> usize {
        let input = if self.input_dropout.is_some() {
            self.n_inputs
        } else {
            0
        };
        input
            + self
                .layers
                .iter()
                .filter(|l| l.dropout.is_some())
                .map(|l| l.size)
                .sum::<usize>()
    }

    /// The number of weights that carry a DropConnect mask bit.
    pub fn n_droppable_weights(&self) -> usize {
        self.connections().map(|(_, _, size, _)| size).sum()
    }

    /// The layers with DropConnect, in order: the layer's name, its index, its number of
    /// weights (fan-in × size) and probability. Their masks are
    /// [`Masks::connections`](crate::Masks::connections) `0, 1, …` in this order.
    pub fn connections(&self) -> impl Iterator<Item = (&'static str, usize, usize, Dropout)> + '_ {
        self.layers
            .iter()
            .enumerate()
            .filter_map(|(idx, l)| l.dropconnect.map(|d| (l.name, idx, l.fan_in * l.size, d)))
    }

    /// The dropout sites in order (μ⁰, μ¹, …): the name of the layer (or `"input"`), its size
    /// and probability.
    pub fn sites(&self) -> impl Iterator<Item = (&'static str, usize, Dropout)> + '_ {
        let input = self.input_dropout.map(|d| ("input", self.n_inputs, d));
        input.into_iter().chain(
            self.layers
                .iter()
                .filter_map(|l| l.dropout.map(|d| (l.name, l.size, d))),
        )
    }
}

impl fmt::Display for NetworkSpec {
    /// A one-line summary of the architecture.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}<{}>: input {}", self.name, self.scalar, self.n_inputs)?;
        if let Some(d) = self.input_dropout {
            write!(f, " → {d}")?;
        }
        for layer in self.layers {
            write!(f, " → dense {} {}", layer.size, layer.activation)?;
            if let Some(d) = layer.dropconnect {
                write!(f, " {d}")?;
            }
            if let Some(d) = layer.dropout {
                write!(f, " → {d}")?;
            }
        }
        write!(f, " ({} scaling)", self.scaling)
    }
}

#[cfg(test)]
mod tests {
    use super::{LayerSpec, NetworkSpec};
    use crate::{Activation, Dropout, Scaling};

    const TOY: NetworkSpec = NetworkSpec {
        name: "Toy",
        visibility: "pub",
        attributes: "",
        scalar: "f64",
        scaling: Scaling::Classic,
        n_inputs: 2,
        input_dropout: Some(Dropout::NONE),
        layers: &[
            LayerSpec {
                name: "h1",
                fan_in: 2,
                size: 3,
                activation: Activation::Relu,
                dropout: None,
                dropconnect: None,
                weights_tensor: None,
                bias_tensor: None,
            },
            LayerSpec {
                name: "output",
                fan_in: 3,
                size: 1,
                activation: Activation::Identity,
                dropout: None,
                dropconnect: None,
                weights_tensor: None,
                bias_tensor: None,
            },
        ],
    };

    #[test]
    fn counts_and_sites() {
        assert_eq!(TOY.n_parameters(), 9 + 4);
        assert_eq!(TOY.n_droppable_units(), 2);
        let sites: Vec<_> = TOY.sites().collect();
        assert_eq!(sites, vec![("input", 2, Dropout::NONE)]);
        assert!(
            TOY.to_string()
                .starts_with("Toy<f64>: input 2 → dropout(p = 0.0) → dense 3 relu")
        );
    }
}
