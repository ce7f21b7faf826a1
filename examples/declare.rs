//! Prints the `network!` declaration of a model file, ready to paste into a crate: its layer
//! sizes and activations as the file holds them, and a `from:` (or `file(…)`) item that reads
//! its weights at compile time.
//!
//! ```sh
//! cargo run --example declare -- models/onnx/classifier_dynamo.onnx
//! cargo run --example declare -- models/sine.tflite --name Sine
//! cargo run --example declare -- models/float/sine.safetensors --layers relu,relu,identity
//! ```
//!
//! The path is written into the declaration as given, and `network!` reads it relative to the
//! directory of the crate's `Cargo.toml`: run the command from there. A `.safetensors` file
//! holds tensors and no activations: `--layers` names them, one per layer. Its layers are the
//! pairs `{prefix}.weight` (a matrix, one row per neuron) and `{prefix}.bias`, in the numeric
//! order of their prefixes as PyTorch's `nn.Sequential` names them (`0.weight`, `2.weight`, …).
//!
//! `tests/declare.rs` compiles what this prints for the files in `models/`.

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;

use dropout::Activation;

/// What the command line asks for.
#[derive(Debug)]
struct Args {
    path: String,
    name: Option<String>,
    layers: Option<Vec<Activation>>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    const USAGE: &str =
        "usage: declare MODEL.{onnx,tflite,safetensors} [--name Struct] [--layers relu,tanh,…]";
    let (mut path, mut name, mut layers) = (None, None, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--name" => name = Some(args.next().ok_or(USAGE)?),
            "--layers" => {
                let list = args.next().ok_or(USAGE)?;
                let parsed = list
                    .split(',')
                    .map(|name| {
                        let name = name.trim();
                        Activation::from_name(name).ok_or_else(|| {
                            format!(
                                "`{name}` in --layers is not an activation without parameters; one of: {}",
                                Activation::list()
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                layers = Some(parsed);
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            _ if path.is_none() && !arg.starts_with("--") => path = Some(arg),
            _ => return Err(format!("unexpected argument `{arg}`\n{USAGE}")),
        }
    }
    Ok(Args {
        path: path.ok_or(USAGE)?,
        name,
        layers,
    })
}

/// The declaration of the model at `path`, read relative to `dir` (the crate's directory) and
/// written into the declaration as given, named `name` or after the file.
///
/// # Errors
/// If the file cannot be read or is not a network this crate imports, naming the problem.
pub fn declaration(
    dir: &Path,
    path: &str,
    name: Option<&str>,
    layers: Option<&[Activation]>,
) -> Result<String, Box<dyn Error>> {
    let file = &dir.join(path);
    let name = name.map_or_else(|| struct_name(file), str::to_owned);
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if layers.is_some() && extension != "safetensors" {
        return Err(format!(
            "`{path}` names its activations itself; --layers is for `.safetensors` files"
        )
        .into());
    }
    let bytes = std::fs::read(file).map_err(|err| format!("{path}: {err}"))?;
    match extension {
        "onnx" => onnx(path, &name, file),
        "tflite" => tflite(path, &name, &bytes),
        "safetensors" => {
            let layers = layers.ok_or(
                "a `.safetensors` file holds no activations: give one per layer with --layers relu,tanh,…",
            )?;
            safetensors(path, &name, &bytes, layers)
        }
        _ => Err(format!("`{path}`: expected a `.onnx`, `.tflite` or `.safetensors` file").into()),
    }
}

fn onnx(path: &str, name: &str, file: &Path) -> Result<String, Box<dyn Error>> {
    let model = dropout_onnx::read_file(file).map_err(|err| format!("{path}: {err}"))?;
    let scalar = match model.precision {
        dropout_onnx::Precision::F32 => "f32",
        dropout_onnx::Precision::F64 => "f64",
    };
    let mut text = head(name, scalar, model.input);
    for layer in &model.layers {
        // An `f32` file's parameter (LeakyReLU's α) prints as the `f32` it is, as declared.
        let activation = match (model.precision, layer.activation.parameter_value()) {
            (dropout_onnx::Precision::F32, Some(value)) => {
                format!("{}({:?})", layer.activation.name(), value as f32)
            }
            _ => layer.activation.to_string(),
        };
        writeln!(text, "        dense {} {activation},", layer.size)?;
    }
    Ok(tail(text, &format!("from: onnx({path:?}),")))
}

fn tflite(path: &str, name: &str, bytes: &[u8]) -> Result<String, Box<dyn Error>> {
    let model = dropout_tflite::read(bytes).map_err(|err| format!("{path}: {err}"))?;
    let mut text = head(name, "i8", model.input.size);
    for layer in &model.layers {
        // A `LOGISTIC` or `TANH` after the layer is its activation, else the fused one.
        let activation = layer
            .followed_by
            .map_or(layer.activation.activation(), |op| op.activation);
        writeln!(text, "        dense {} {activation},", layer.outputs)?;
    }
    Ok(tail(text, &format!("from: tflite({path:?}),")))
}

fn safetensors(
    path: &str,
    name: &str,
    bytes: &[u8],
    activations: &[Activation],
) -> Result<String, Box<dyn Error>> {
    let tensors = safetensors::SafeTensors::deserialize(bytes)
        .map_err(|err| format!("{path}: not a safetensors file: {err}"))?;
    // `{prefix}.weight` matrices, in the numeric order of their prefixes.
    let mut weights: Vec<(String, Vec<usize>, safetensors::Dtype)> = tensors
        .iter()
        .filter_map(|(tensor, view)| {
            let prefix = tensor.strip_suffix(".weight")?;
            (view.shape().len() == 2)
                .then(|| (prefix.to_owned(), view.shape().to_vec(), view.dtype()))
        })
        .collect();
    weights.sort_by_key(|(prefix, ..)| (prefix.parse::<u64>().unwrap_or(u64::MAX), prefix.clone()));
    let Some((_, first, dtype)) = weights.first() else {
        return Err(format!("`{path}` has no `….weight` matrix").into());
    };
    let scalar = match dtype {
        safetensors::Dtype::F32 => "f32",
        safetensors::Dtype::F64 => "f64",
        other => {
            return Err(
                format!("`{path}` holds {other:?} weights; a network's are F32 or F64").into(),
            );
        }
    };
    if weights.len() != activations.len() {
        return Err(format!(
            "`{path}` has {} layers ({}) and --layers names {} activations",
            weights.len(),
            weights
                .iter()
                .map(|(prefix, ..)| format!("`{prefix}.weight`"))
                .collect::<Vec<_>>()
                .join(", "),
            activations.len()
        )
        .into());
    }
    let mut text = head(name, scalar, first[1]);
    let mut fan_in = first[1];
    for ((prefix, shape, _), activation) in weights.iter().zip(activations) {
        let [size, inputs] = shape[..] else {
            unreachable!("filtered to matrices")
        };
        if inputs != fan_in {
            return Err(format!(
                "`{prefix}.weight` has shape {shape:?}: {inputs} inputs after a layer of {fan_in}"
            )
            .into());
        }
        writeln!(text, "        dense {size} {activation} {{")?;
        writeln!(
            text,
            "            weights: file({path:?}, \"{prefix}.weight\"),"
        )?;
        let bias = format!("{prefix}.bias");
        if tensors.tensor(&bias).is_ok() {
            writeln!(text, "            bias: file({path:?}, {bias:?}),")?;
        }
        writeln!(text, "        }},")?;
        fan_in = size;
    }
    Ok(tail(text, ""))
}

fn head(name: &str, scalar: &str, input: usize) -> String {
    format!("network! {{\n    pub struct {name}<{scalar}> {{\n        input: {input},\n")
}

fn tail(mut text: String, source: &str) -> String {
    if !source.is_empty() {
        text.push_str("        ");
        text.push_str(source);
        text.push('\n');
    }
    text.push_str("    }\n}\n");
    text
}

/// `classifier_dynamo.onnx` → `ClassifierDynamo`.
fn struct_name(path: &Path) -> String {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("Net");
    let name: String = stem
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    match name.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => name,
        _ => format!("Net{name}"),
    }
}

fn main() -> std::process::ExitCode {
    let result = parse(std::env::args().skip(1))
        .map_err(Into::into)
        .and_then(|args| {
            declaration(
                Path::new("."),
                &args.path,
                args.name.as_deref(),
                args.layers.as_deref(),
            )
        });
    match result {
        Ok(text) => {
            print!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::{declaration, parse};
    use dropout::Activation::{Identity, Relu};

    fn error(path: &str, layers: Option<&[dropout::Activation]>) -> String {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        declaration(root, path, None, layers)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn what_cannot_be_declared_is_an_error_naming_it() {
        assert_eq!(
            error("models/float/sine.safetensors", None),
            "a `.safetensors` file holds no activations: give one per layer with --layers relu,tanh,…"
        );
        assert_eq!(
            error("models/float/sine.safetensors", Some(&[Relu, Identity])),
            "`models/float/sine.safetensors` has 3 layers (`0.weight`, `1.weight`, `2.weight`) and --layers names 2 activations"
        );
        assert_eq!(
            error("models/sine.tflite", Some(&[Relu])),
            "`models/sine.tflite` names its activations itself; --layers is for `.safetensors` files"
        );
        assert!(error("models/onnx/unsupported.onnx", None).contains("`LayerNormalization`"));
        assert!(error("models/onnx/missing.onnx", None).starts_with("models/onnx/missing.onnx: "));
        assert_eq!(
            error("README.md", None),
            "`README.md`: expected a `.onnx`, `.tflite` or `.safetensors` file"
        );
    }

    #[test]
    fn arguments_are_parsed_strictly() {
        let args = |list: &[&str]| parse(list.iter().map(|s| (*s).to_owned()));
        let parsed = args(&[
            "m.safetensors",
            "--layers",
            "relu, identity",
            "--name",
            "Net",
        ])
        .unwrap();
        assert_eq!(parsed.layers, Some(vec![Relu, Identity]));
        assert_eq!(parsed.name.as_deref(), Some("Net"));
        assert!(args(&[]).unwrap_err().starts_with("usage: declare"));
        assert!(
            args(&["m.onnx", "--frobnicate"])
                .unwrap_err()
                .starts_with("unexpected argument `--frobnicate`")
        );
        assert!(
            args(&["m.onnx", "--layers", "relu,nope"])
                .unwrap_err()
                .starts_with("`nope` in --layers")
        );
    }
}
