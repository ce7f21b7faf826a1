//! Defects found by a fault pass over the runtime and a newcomer's trial, each one reproduced:
//! files that follow planted links or lose their mode, values that vanish or draw as NaN, keys
//! that are silently ignored, and declarations printed without what the user wrote on them.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt as _;

use dropout::io::{self, Saved, SavedLayer};
use dropout::{Error, network, source};

network! {
    /// Two inputs, one output: small enough to write its saved form by hand.
    #[derive(Clone, Debug, PartialEq)]
    struct Small<f32> {
        input: 2, dropout(p = 0.5),
        h1: dense 2 relu { weights: [[1, -1], [2, 1]], bias: [0.5, -1] },
        output: dense 1 identity { weights: [[1, -2]], bias: [0.5] },
    }
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_explorer_page_does_not_write_through_a_link_at_its_old_temporary_name() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    let page = dir.path().join("page.html");
    // `save` once wrote `<path>.partial` with `std::fs::write`, which follows a link there.
    std::os::unix::fs::symlink(&victim, dir.path().join("page.html.partial")).unwrap();
    Small::new().explorer(&[1.0, 1.0]).save(&page).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(std::fs::read_to_string(&page).unwrap().contains("<svg"));
}

#[test]
fn saved_files_keep_their_mode_or_take_the_umask_default() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    std::fs::File::create(&reference).unwrap();
    let net = Small::new();
    let json = dir.path().join("net.json");
    let tensors = dir.path().join("net.safetensors");
    let page = dir.path().join("page.html");
    io::save_json(&net, &json).unwrap();
    io::save_safetensors(&net, &tensors).unwrap();
    net.explorer(&[1.0, 1.0]).save(&page).unwrap();
    for path in [&json, &tensors, &page] {
        // Not the 0600 of a temporary file: what `File::create` gives under this umask.
        assert_eq!(mode(path), mode(&reference), "{}", path.display());
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    io::save_json(&net, &json).unwrap();
    io::save_safetensors(&net, &tensors).unwrap();
    net.explorer(&[1.0, 1.0]).save(&page).unwrap();
    for path in [&json, &tensors, &page] {
        assert_eq!(mode(path), 0o640, "{}", path.display());
    }
    // Only the files themselves are left: no temporary file survives a save.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
}

#[test]
fn a_failed_write_names_the_file_and_keeps_the_operating_system_error() {
    use std::error::Error as _;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/net.json");
    let err = io::save_json(&Small::new(), &missing).unwrap_err();
    let Error::Io { path, source } = &err else {
        panic!("{err}")
    };
    assert!(path.ends_with("net.json"), "{path}");
    assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
    let cause = err.source().expect("the io::Error as the source");
    assert!(cause.downcast_ref::<std::io::Error>().is_some());
    assert!(err.to_string().starts_with(path.as_str()), "{err}");
}

#[test]
fn a_diagram_refuses_a_non_finite_weight_instead_of_drawing_nan() {
    let mut net = Small::new();
    *net.h1.weight_mut(1, 0).unwrap() = f32::NAN;
    assert_eq!(
        net.diagram(None),
        Err(Error::NotFinite {
            layer: "h1".to_string()
        })
    );
    net.h1 = Small::new().h1;
    net.output.bias_mut()[0] = f32::INFINITY;
    let err = net.diagram(None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer `output` has a parameter that is NaN or infinite (did training diverge?)"
    );
    assert!(!Small::new().diagram(None).unwrap().contains("NaN"));
}

fn saved_json() -> String {
    io::to_json(&Small::new()).unwrap()
}

#[test]
fn json_with_an_unknown_key_is_refused() {
    let json = saved_json().replacen("\"bias\"", "\"bais\"", 1);
    let err = io::from_json::<Small>(&json).unwrap_err();
    assert!(
        matches!(&err, Error::Format(message) if message.contains("unknown field `bais`")),
        "{err}"
    );
    let json = saved_json().replacen("\"network\"", "\"comment\": \"x\", \"network\"", 1);
    assert!(matches!(
        io::from_json::<Small>(&json),
        Err(Error::Format(_))
    ));
}

#[test]
fn a_value_that_would_become_zero_in_f32_is_refused() {
    let mut saved: Saved = io::save(&Small::new()).unwrap();
    saved.layers[0].weights[1][0] = 1e-50;
    let mut net = Small::new();
    let err = io::load_into(&mut net, &saved).unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer `h1`, tensor `weights`: 1e-50 at [1, 0] is too small for f32: it would become 0"
    );
    // The smallest f32 is not zero, and zero itself loads.
    saved.layers[0].weights[1][0] = f64::from(f32::from_bits(1));
    saved.layers[1] = SavedLayer {
        bias: vec![0.0],
        ..saved.layers[1].clone()
    };
    io::load_into(&mut net, &saved).unwrap();
    assert_eq!(net.h1.weight(1, 0), Some(f32::from_bits(1)));
}

#[test]
fn safetensors_naming_a_tensor_twice_is_refused() {
    let bytes = io::to_safetensors(&Small::new()).unwrap();
    let header_len = usize::try_from(u64::from_le_bytes(bytes[..8].try_into().unwrap())).unwrap();
    let header = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap();
    // Rename `h1.bias` to `output.bias`, giving the header that name twice with the same length.
    assert!(header.contains("\"h1.bias\""));
    let doubled = header.replacen("\"h1.bias\"", "\"output.bias\"", 1);
    let doubled = format!("{doubled:<width$}", width = header_len + 4);
    let mut file = u64::try_from(doubled.len()).unwrap().to_le_bytes().to_vec();
    file.extend_from_slice(doubled.as_bytes());
    file.extend_from_slice(&bytes[8 + header_len..]);
    let err = io::from_safetensors::<Small>(&file).unwrap_err();
    assert_eq!(
        err,
        Error::Format("the safetensors header names tensor `output.bias` twice".to_string())
    );
    assert!(io::from_safetensors::<Small>(&bytes).is_ok());
}

#[test]
fn a_printed_declaration_keeps_the_doc_comment_and_attributes() {
    let text = source::declaration(&Small::new()).unwrap();
    assert!(
        text.contains(
            "    /// Two inputs, one output: small enough to write its saved form by hand.\n    #[derive(Clone, Debug, PartialEq)]\n    struct Small<f32> {"
        ),
        "{text}"
    );
    assert_eq!(
        Small::SPEC.attributes,
        "/// Two inputs, one output: small enough to write its saved form by hand.\n#[derive(Clone, Debug, PartialEq)]\n"
    );
}

network! {
    /// Three classes from two inputs.
    #[derive(Clone, Debug, PartialEq)]
    struct Classifier<f64> {
        input: 2,
        dense 4 tanh, dropout(p = 0.25),
        dense 3 softmax,
    }
}

#[test]
fn softmax_cross_entropy_takes_class_indices_as_pytorch_does() {
    use dropout::ndarray::array;
    use dropout::rand::SeedableRng as _;
    use dropout::train::{Loss, Optimizer, Trainer, evaluate, gradients_batch};

    let x = array![[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0], [0.0, 0.0]];
    let classes = array![[2.0], [0.0], [1.0], [2.0]];
    let one_hot = array![
        [0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0]
    ];
    let start = Classifier::init(&mut dropout::rand::rngs::ChaCha8Rng::seed_from_u64(3));
    let trainer = Trainer::new(Optimizer::adam(1e-2), Loss::SoftmaxCrossEntropy)
        .epochs(5)
        .batch_size(2)
        .seed(9);
    let (mut by_index, mut by_row) = (start.clone(), start.clone());
    let a = trainer
        .fit(&mut by_index, (&x, &classes), Some((&x, &classes)), |_| {})
        .unwrap();
    let b = trainer
        .fit(&mut by_row, (&x, &one_hot), Some((&x, &one_hot)), |_| {})
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(by_index, by_row);
    assert_ne!(by_index, start);
    let loss = Loss::SoftmaxCrossEntropy;
    assert_eq!(
        evaluate(&start, (&x, &classes), loss).unwrap(),
        evaluate(&start, (&x, &one_hot), loss).unwrap()
    );
    let masks = vec![ClassifierMasks::ALL_KEPT; 4];
    let (value, _) = gradients_batch(&start, &x, &masks, &classes, loss).unwrap();
    assert_eq!(
        value,
        gradients_batch(&start, &x, &masks, &one_hot, loss)
            .unwrap()
            .0
    );
    // An index that is not a class is refused with its row.
    let err = evaluate(&start, (&x, &array![[2.0], [0.5], [1.0], [2.0]]), loss).unwrap_err();
    assert_eq!(
        err.to_string(),
        "targets, row 1: a class index must be a whole number in 0..3, found 0.5"
    );
    let err = evaluate(&start, (&x, &array![[2.0], [0.0], [3.0], [2.0]]), loss).unwrap_err();
    assert!(err.to_string().starts_with("targets, row 2:"), "{err}");
}
