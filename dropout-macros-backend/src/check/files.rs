//! Tensor files read while the macro expands: safetensors (whose bytes the generated code embeds)
//! and JSON (turned into literals). Paths are relative to the directory of the crate being
//! compiled.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors};
use serde_json::Value as Json;

use crate::model::Scalar;

/// Every file one declaration reads, loaded once.
#[derive(Default)]
pub(super) struct Files {
    loaded: HashMap<PathBuf, Result<Loaded, String>>,
    /// Files read whole (models), by path.
    read: Vec<PathBuf>,
}

enum Loaded {
    Safetensors {
        bytes: Vec<u8>,
        data_start: usize,
        metadata: safetensors::tensor::Metadata,
    },
    Json(serde_json::Map<String, Json>),
}

/// One tensor of a file, as the generated code will get it.
pub(super) enum Tensor {
    /// Little-endian values of the network's scalar type, row after row.
    Bytes { bytes: Vec<u8>, shape: Vec<usize> },
    /// Values from a JSON file, row after row.
    Values { shape: Vec<usize>, values: Vec<f64> },
}

impl Tensor {
    pub fn shape(&self) -> &[usize] {
        match self {
            Tensor::Bytes { shape, .. } | Tensor::Values { shape, .. } => shape,
        }
    }
}

/// `[128, 784]`.
pub(super) fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
    format!("[{}]", dims.join(", "))
}

impl Files {
    /// Tensor `name` of the file written as `written` in the declaration. The error is a
    /// complete message naming the file and the tensor.
    pub fn tensor(&mut self, written: &str, name: &str, scalar: Scalar) -> Result<Tensor, String> {
        let path = resolve(written);
        let loaded = self
            .loaded
            .entry(path.clone())
            .or_insert_with(|| load(written, &path));
        let loaded = loaded.as_ref().map_err(Clone::clone)?;
        match loaded {
            Loaded::Safetensors {
                bytes,
                data_start,
                metadata,
            } => {
                let Some(info) = metadata.info(name) else {
                    let mut names: Vec<String> = metadata.tensors().into_keys().collect();
                    names.sort();
                    return Err(missing(written, name, &names));
                };
                let wanted = match scalar {
                    Scalar::F32 => Dtype::F32,
                    Scalar::F64 => Dtype::F64,
                };
                if info.dtype != wanted {
                    return Err(format!(
                        "tensor `{name}` in `{written}` holds {:?} values; the network's scalar type {} needs {wanted:?}",
                        info.dtype,
                        scalar.name()
                    ));
                }
                // A damaged header must not make the macro panic: every step is checked.
                let (start, end) = info.data_offsets;
                let data = data_start
                    .checked_add(start)
                    .zip(data_start.checked_add(end))
                    .and_then(|(from, to)| bytes.get(from..to));
                let size = info
                    .shape
                    .iter()
                    .try_fold(scalar.width(), |size, &dim| size.checked_mul(dim));
                match (data, size) {
                    (Some(data), Some(size)) if data.len() == size => Ok(Tensor::Bytes {
                        bytes: data.to_vec(),
                        shape: info.shape.clone(),
                    }),
                    _ => Err(format!(
                        "tensor `{name}` in `{written}` does not fit in the file: it is damaged"
                    )),
                }
            }
            Loaded::Json(tensors) => {
                let Some(value) = tensors.get(name) else {
                    let mut names: Vec<String> = tensors.keys().cloned().collect();
                    names.sort();
                    return Err(missing(written, name, &names));
                };
                json_tensor(value).ok_or_else(|| {
                    format!("tensor `{name}` in `{written}` is not a list of numbers or a list of equally long lists of numbers")
                })
            }
        }
    }

    /// The bytes of the file written as `written` (a model, read by its own reader). The error
    /// is a complete message naming the file.
    pub fn bytes(&mut self, written: &str) -> Result<Vec<u8>, String> {
        let path = resolve(written);
        let bytes = std::fs::read(&path).map_err(|err| cannot_read(written, &err))?;
        self.read.push(path);
        Ok(bytes)
    }

    /// Every file read, to make the generated code depend on it.
    pub fn paths(&self) -> Vec<PathBuf> {
        let mut paths: Vec<PathBuf> = self
            .loaded
            .iter()
            .filter(|(_, l)| l.is_ok())
            .map(|(p, _)| p.clone())
            .chain(self.read.iter().cloned())
            .collect();
        paths.sort();
        paths
    }
}

fn missing(written: &str, name: &str, names: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut listed: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
    if names.len() > SHOWN {
        listed.push(format!("… ({} in all)", names.len()));
    }
    if listed.is_empty() {
        format!("`{written}` has no tensor `{name}`; it has no tensors at all")
    } else {
        format!(
            "`{written}` has no tensor `{name}`; its tensors are {}",
            listed.join(", ")
        )
    }
}

/// `written` relative to the directory of the crate being compiled (or the current directory),
/// with `.` and `..` resolved lexically so that messages show a plain path.
fn resolve(written: &str) -> PathBuf {
    use std::path::Component;
    let base =
        std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from("."), PathBuf::from);
    let mut path = PathBuf::new();
    for component in base.join(written).components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(path.components().next_back(), Some(Component::Normal(_))) =>
            {
                path.pop();
            }
            other => path.push(other),
        }
    }
    path
}

fn cannot_read(written: &str, err: &std::io::Error) -> String {
    let relative = if Path::new(written).is_absolute() {
        ""
    } else {
        " (a path relative to the directory of the crate's Cargo.toml)"
    };
    format!("cannot read `{written}`{relative}: {err}")
}

fn load(written: &str, path: &Path) -> Result<Loaded, String> {
    let bytes = std::fs::read(path).map_err(|err| cannot_read(written, &err))?;
    let is_json = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"));
    if is_json {
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("`{written}` is not a JSON file of tensors: not UTF-8 text"))?;
        match serde_json::from_str::<Json>(&text) {
            Ok(Json::Object(tensors)) => Ok(Loaded::Json(tensors)),
            Ok(_) => Err(format!(
                "`{written}` is not a JSON file of tensors: expected an object of named tensors"
            )),
            Err(err) => Err(format!("`{written}` is not a JSON file of tensors: {err}")),
        }
    } else {
        let (header_len, metadata) = SafeTensors::read_metadata(&bytes)
            .map_err(|err| format!("`{written}` is not a safetensors file: {err}"))?;
        Ok(Loaded::Safetensors {
            data_start: 8 + header_len,
            metadata,
            bytes,
        })
    }
}

/// A JSON number list (`[…]`) or matrix (`[[…], …]`) as a shape and its values.
fn json_tensor(value: &Json) -> Option<Tensor> {
    let Json::Array(items) = value else {
        return None;
    };
    if items.iter().all(Json::is_number) {
        let values: Option<Vec<f64>> = items.iter().map(Json::as_f64).collect();
        return Some(Tensor::Values {
            shape: vec![items.len()],
            values: values?,
        });
    }
    let rows: Option<Vec<&Vec<Json>>> = items.iter().map(Json::as_array).collect();
    let rows = rows?;
    let columns = rows.first().map_or(0, |row| row.len());
    let mut values = Vec::with_capacity(rows.len() * columns);
    for row in &rows {
        if row.len() != columns {
            return None;
        }
        for item in *row {
            values.push(item.as_f64()?);
        }
    }
    Some(Tensor::Values {
        shape: vec![rows.len(), columns],
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::{Files, Tensor, json_tensor, missing, shape_text};
    use crate::model::Scalar;

    /// A safetensors file whose one F32 tensor `t` claims `shape` and `offsets`, with `data`.
    fn safetensors_with(shape: &str, offsets: (usize, usize), data: &[u8]) -> Vec<u8> {
        let mut header = format!(
            r#"{{"t":{{"dtype":"F32","shape":{shape},"data_offsets":[{},{}]}}}}"#,
            offsets.0, offsets.1
        );
        while header.len() % 8 != 0 {
            header.push(' ');
        }
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        bytes.extend(data);
        bytes
    }

    #[test]
    fn damaged_safetensors_are_errors_not_panics() {
        let dir = std::env::temp_dir().join(format!("dropout-macros-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases = [
            // Intact: two values.
            ("intact", safetensors_with("[2]", (0, 8), &[0; 8]), true),
            // The data stops short of the tensor's end.
            ("truncated", safetensors_with("[2]", (0, 8), &[0; 4]), false),
            // A shape whose size overflows.
            (
                "huge",
                safetensors_with("[4611686018427387904, 8]", (0, 8), &[0; 8]),
                false,
            ),
        ];
        for (name, bytes, intact) in cases {
            let path = dir.join(format!("{name}.safetensors"));
            std::fs::write(&path, bytes).unwrap();
            let result = Files::default().tensor(path.to_str().unwrap(), "t", Scalar::F32);
            match result {
                Ok(Tensor::Bytes { bytes, shape }) => {
                    assert!(intact, "{name} was accepted");
                    assert_eq!((bytes.len(), shape), (8, vec![2]));
                }
                Ok(Tensor::Values { .. }) => panic!("{name}: values from a safetensors file"),
                Err(message) => assert!(!intact, "{name}: {message}"),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn json_vectors_and_matrices() {
        let Some(Tensor::Values { shape, values }) =
            json_tensor(&serde_json::json!([[1, 2], [3.5, 4]]))
        else {
            panic!("a matrix");
        };
        assert_eq!((shape, values), (vec![2, 2], vec![1.0, 2.0, 3.5, 4.0]));
        assert!(matches!(
            json_tensor(&serde_json::json!([0.5, -1])),
            Some(Tensor::Values { .. })
        ));
        assert!(json_tensor(&serde_json::json!([[1, 2], [3]])).is_none());
        assert!(json_tensor(&serde_json::json!(["a"])).is_none());
    }

    #[test]
    fn messages() {
        assert_eq!(shape_text(&[128, 784]), "[128, 784]");
        let names: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        let text = missing("m.safetensors", "x", &names);
        assert!(text.ends_with("`t7`, … (10 in all)"), "{text}");
    }
}
