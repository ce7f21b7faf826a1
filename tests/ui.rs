//! Compile tests. Each file under `tests/ui/<category>/` is a declaration with one mistake, and
//! its `.stderr` holds what rustc prints; regenerate with `TRYBUILD=overwrite cargo test --test ui`
//! and review the diff by eye. `large_network_compiles` generates a 100×100×100 declaration with
//! literal weights, compiles it and runs it against a plain-loop reference.

use std::fmt::Write as _;
use std::path::Path;

/// `cargo run --example declare`, whose output `ui` compiles.
#[path = "../examples/declare.rs"]
#[allow(dead_code, reason = "the example's `main` is not called here")]
mod declare;

#[test]
fn ui() {
    copy_fixtures_beside_the_cases();
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*/*.rs");
    for case in declared_cases() {
        cases.pass(case);
    }
}

/// What `examples/declare.rs` prints for files of each format, each as a program that
/// compiles the declaration as printed and checks its layers against the file's.
fn declared_cases() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("declared");
    std::fs::create_dir_all(&dir).expect("create the directory of the declared cases");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let relu = dropout::Activation::Relu;
    let identity = dropout::Activation::Identity;
    let files: [(&str, &str, Option<&[dropout::Activation]>, usize); 6] = [
        (
            "ClassifierDynamo",
            "models/onnx/classifier_dynamo.onnx",
            None,
            3,
        ),
        (
            "ZooTorchscript",
            "models/onnx/zoo_torchscript.onnx",
            None,
            11,
        ),
        ("RegressorF64", "models/onnx/regressor_f64.onnx", None, 2),
        ("Sine", "models/sine.tflite", None, 3),
        ("Tables", "models/tables.tflite", None, 3),
        (
            "SineFloat",
            "models/float/sine.safetensors",
            Some(&[relu, relu, identity]),
            3,
        ),
    ];
    files
        .into_iter()
        .map(|(name, file, layers, count)| {
            // The path is printed as given: the scratch crate has `models/` beside it too.
            let text = declare::declaration(root, file, Some(name), layers)
                .unwrap_or_else(|err| panic!("{file}: {err}"));
            let source = format!(
                "use dropout::network;\n\n{text}\nfn main() {{\n    let _net = {name}::new();\n    assert_eq!({name}::SPEC.layers.len(), {count});\n}}\n"
            );
            let path = dir.join(format!("{name}.rs"));
            std::fs::write(&path, source).expect("write a declared case");
            path
        })
        .collect()
}

/// The cases in `tests/ui/files/` read tensor files through `file("fixtures/…")`, and those in
/// `tests/ui/int8/` models through `tflite("models/…")`, paths relative to the crate they are
/// compiled in: trybuild's scratch crate, `<target>/tests/trybuild/<package>`. Both directories
/// are copied there, so that the cases work wherever the build directory is
/// (`CARGO_TARGET_DIR` may point anywhere).
fn copy_fixtures_beside_the_cases() {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is `<target>/tmp`");
    let scratch = target.join("tests/trybuild").join(env!("CARGO_PKG_NAME"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_dir(
        &root.join("tests/ui/files/fixtures"),
        &scratch.join("fixtures"),
    );
    copy_dir(&root.join("models"), &scratch.join("models"));
}

fn copy_dir(source: &Path, destination: &Path) {
    std::fs::create_dir_all(destination).expect("create the fixtures directory");
    for entry in std::fs::read_dir(source).expect("list the fixtures") {
        let path = entry.expect("a fixture").path();
        let name = path.file_name().expect("a file name");
        if path.is_dir() {
            copy_dir(&path, &destination.join(name));
        } else {
            std::fs::copy(&path, destination.join(name)).expect("copy a fixture");
        }
    }
}

/// The weight formula shared by the declaration and its reference: a value k/1000, which a
/// decimal literal and a division both round to the same float.
fn weight(layer: usize, neuron: usize, input: usize) -> i64 {
    let k = (neuron * 31 + input * 17 + layer * 7) % 201;
    i64::try_from(k).unwrap_or(0) - 100
}

fn large_network_source(n: usize) -> String {
    let mut src = String::from("use dropout::network;\n\nnetwork! {\n    struct Large<f32> {\n");
    let _ = writeln!(src, "        input: {n},");
    for (layer, activation) in [(0, "relu"), (1, "identity")] {
        let _ = writeln!(
            src,
            "        dense {n} {activation} {{\n            weights: ["
        );
        for neuron in 0..n {
            let row: Vec<String> = (0..n)
                .map(|input| format!("{:.3}", weight(layer, neuron, input) as f64 / 1000.0))
                .collect();
            let _ = writeln!(src, "                [{}],", row.join(", "));
        }
        let bias: Vec<String> = (0..n)
            .map(|neuron| format!("{:.3}", weight(layer, neuron, n) as f64 / 1000.0))
            .collect();
        let _ = writeln!(
            src,
            "            ],\n            bias: [{}],\n        }},",
            bias.join(", ")
        );
    }
    src.push_str("    }\n}\n\n");
    let _ = write!(
        src,
        r#"fn weight(layer: usize, neuron: usize, input: usize) -> f32 {{
    (((neuron * 31 + input * 17 + layer * 7) % 201) as i64 - 100) as f32 / 1000.0
}}

fn main() {{
    let net = Large::new();
    let x: [f32; {n}] = std::array::from_fn(|i| (i % 7) as f32 / 4.0 - 0.75);
    let mut a = x.to_vec();
    for (layer, relu) in [(0, true), (1, false)] {{
        a = (0..{n})
            .map(|neuron| {{
                let z = weight(layer, neuron, {n}) + (0..{n}).map(|i| weight(layer, neuron, i) * a[i]).sum::<f32>();
                if relu {{ z.max(0.0) }} else {{ z }}
            }})
            .collect();
    }}
    let y = net.forward(&x);
    for (got, want) in y.iter().zip(&a) {{
        assert!((got - want).abs() <= 1e-4 * want.abs().max(1.0), "{{got}} vs {{want}}");
    }}
    assert!(a.iter().any(|v| v.abs() > 0.1), "the reference is not trivial");
}}
"#
    );
    src
}

#[test]
fn large_network_compiles() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("large");
    std::fs::create_dir_all(&dir).expect("create the directory for the generated test");
    let path = dir.join("large_network.rs");
    std::fs::write(&path, large_network_source(100)).expect("write the generated declaration");
    trybuild::TestCases::new().pass(&path);
}
