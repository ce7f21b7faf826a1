//! Puts the board's memory map where the linker finds it, and computes on the host the values
//! the firmware must reproduce bit for bit: the same networks (`src/networks.rs`), the same
//! `no_std` runtime (so the same `libm`), the same seeded generators.

use std::fmt::Write as _;
use std::path::PathBuf;

#[allow(
    dead_code,
    reason = "the firmware's networks, of which the checks use what they need"
)]
mod networks {
    include!("src/networks.rs");
}

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = std::env::var("TARGET").unwrap_or_default();
    let board = match target.as_str() {
        "thumbv7m-none-eabi" => Some("lm3s6965evb"),
        "thumbv7em-none-eabihf" => Some("mps2-an386"),
        _ => None,
    };
    if let Some(board) = board {
        std::fs::copy(format!("memory/{board}.x"), out.join("memory.x"))
            .expect("copying the board's memory map");
        println!("cargo:rustc-link-search={}", out.display());
        println!("cargo:rustc-env=FIRMWARE_BOARD={board}");
        println!("cargo:rerun-if-changed=memory/{board}.x");
    }
    // `cfg(measure)`: some `measure-*` feature is on, and the firmware only runs forwards.
    println!("cargo::rustc-check-cfg=cfg(measure)");
    if std::env::vars().any(|(key, _)| key.starts_with("CARGO_FEATURE_MEASURE_")) {
        println!("cargo:rustc-cfg=measure");
    }
    println!("cargo:rerun-if-changed=src/networks.rs");
    println!("cargo:rerun-if-changed=../tests/fixtures");

    let mut expected = String::from(
        "/// The values `networks::checks()` computes on the host.\n\
         #[allow(clippy::unreadable_literal, reason = \"bit patterns, sixteen hex digits each\")]\n",
    );
    let _ = writeln!(
        expected,
        "pub const EXPECTED: [u64; {}] = [",
        networks::VALUES
    );
    for bits in networks::checks() {
        let _ = writeln!(expected, "    {bits:#018x},");
    }
    expected.push_str("];\n");
    std::fs::write(out.join("expected.rs"), expected).expect("writing the expected values");
}
