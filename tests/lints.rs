//! The firmware crate (`embedded/`) is a workspace of its own and cannot inherit the host
//! workspace's lints; it carries a copy, which must not drift.

use std::path::Path;

/// The `key = value` lines of the table headed `header` in the manifest at `path` (comments and
/// blank lines left out).
fn table(path: &Path, header: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("a manifest");
    let mut lines = text
        .lines()
        .skip_while(|line| line.trim() != header)
        .skip(1)
        .take_while(|line| !line.trim_start().starts_with('['))
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect::<Vec<_>>();
    lines.sort();
    lines
}

#[test]
fn the_firmware_crate_has_the_workspace_lints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for kind in ["rust", "clippy"] {
        let host = table(
            &root.join("Cargo.toml"),
            &format!("[workspace.lints.{kind}]"),
        );
        let firmware = table(
            &root.join("embedded/Cargo.toml"),
            &format!("[lints.{kind}]"),
        );
        assert!(
            !host.is_empty(),
            "no [workspace.lints.{kind}] table in Cargo.toml"
        );
        assert_eq!(firmware, host, "embedded/Cargo.toml's [lints.{kind}]");
    }
}
