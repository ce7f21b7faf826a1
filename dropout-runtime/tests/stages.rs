//! The runtime's modules form stages, and a module uses only its own stage and those below
//! it — also when it names an item through a re-export of `lib.rs` (`crate::Dense` is
//! `layer`'s, `crate::Network` is `network`'s). The table below is the order; a module that is
//! not in it fails the test, so a new module is placed on purpose.
//!
//! Only code counts: comments (doc links may point anywhere) and a file's `mod tests` are
//! skipped. `lib.rs` and `private.rs` re-export from every stage and are not checked.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Lowest first. Modules on one line may use each other: `error` names the kernel's
/// `InstructionSet`, the kernel returns `Error`.
const STAGES: &[&[&str]] = &[
    &["dropout_shared"],
    &["error", "kernel", "fs", "shape", "uncertainty"],
    &["spec"],
    &["layer", "int8"],
    &["batch", "network"],
    &["engine", "stats", "verify", "io", "calibrate", "parallel"],
    &["inspect", "train"],
];

fn stage_of(module: &str) -> Option<usize> {
    STAGES.iter().position(|stage| stage.contains(&module))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// The module a file belongs to: its first path component under `src/`, without `.rs`.
fn module_of(path: &Path) -> String {
    let relative = path.strip_prefix(src()).expect("under src");
    let first = relative.components().next().expect("a file name");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// Code only: no comment lines, nothing from the file's `mod tests` on.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment after each `crate::`, braces expanded: `crate::{a, b::c}` gives `a`, `b`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        // `dropout_shared::…` contains no `crate::`; a longer identifier ending in `crate` would.
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        items.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            items.push(item);
            out.extend(items.iter().filter_map(|item| first_segment(item)));
        } else if let Some(segment) = first_segment(rest) {
            out.push(segment);
        }
    }
    out
}

fn first_segment(path: &str) -> Option<String> {
    let segment: String = path
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!segment.is_empty()).then_some(segment)
}

/// `lib.rs`'s `pub use module::…::{A, B};` lines: each re-exported name and its module.
fn re_exports() -> BTreeMap<String, String> {
    let lib = code(&fs::read_to_string(src().join("lib.rs")).expect("lib.rs"));
    let mut names = BTreeMap::new();
    for statement in lib.split(';') {
        // A statement may begin with attributes (`#[cfg(…)]`).
        let Some((_, path)) = statement.split_once("pub use ") else {
            continue;
        };
        let module = first_segment(path).expect("a path");
        let tail = match path.split_once("::{") {
            Some((_, group)) => group,
            None => path.rsplit("::").next().unwrap_or(path),
        };
        for name in tail.trim_end_matches('}').split(',') {
            let name = name.trim();
            let name = name.rsplit("::").next().unwrap_or(name);
            if !name.is_empty() {
                names.insert(name.to_owned(), module.clone());
            }
        }
    }
    names
}

#[test]
fn no_module_uses_a_higher_stage() {
    let re_exports = re_exports();
    assert_eq!(
        re_exports.get("Dense").map(String::as_str),
        Some("layer"),
        "the re-export table is read from lib.rs"
    );
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let module = module_of(file);
        if module == "lib" || module == "private" {
            continue;
        }
        let Some(own) = stage_of(&module) else {
            violations.push(format!("module `{module}` is not in the stage table"));
            continue;
        };
        let text = fs::read_to_string(file).expect("readable");
        for name in crate_paths(&code(&text)) {
            let target = re_exports.get(&name).cloned().unwrap_or(name.clone());
            let Some(theirs) = stage_of(&target) else {
                violations.push(format!(
                    "{}: `crate::{name}` is not in a stage",
                    file.display()
                ));
                continue;
            };
            if theirs > own {
                violations.push(format!(
                    "{}: `crate::{name}` ({target}, stage {theirs}) from {module} (stage {own})",
                    file.display()
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_path_reader_expands_groups_and_skips_comments() {
    let text =
        "use crate::{Dense, layer::{Site, init}};\n// crate::train\nlet x = crate::stats::f();";
    assert_eq!(crate_paths(&code(text)), ["Dense", "layer", "stats"]);
}
