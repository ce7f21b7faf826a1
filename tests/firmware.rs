//! Declared networks on emulated Cortex-M microcontrollers: builds the firmware in `embedded/`
//! for a Cortex-M3 (`thumbv7m-none-eabi`, QEMU's `lm3s6965evb`) and a Cortex-M4F
//! (`thumbv7em-none-eabihf`, `mps2-an386`), runs it in QEMU and checks that every value matched
//! the host's bit for bit; that a flipped bit fails the run; that the forwards of every network
//! link with a panic handler that exists nowhere (no panic path); and measures flash, RAM and
//! stack (written to `<target>/tmp/firmware/footprint.md`, which `benches/run.py` copies into
//! BENCHMARKS.md).
//!
//! Needs the two targets (`rustup target add thumbv7m-none-eabi thumbv7em-none-eabihf`) and
//! QEMU (`apt-get install qemu-system-arm`). Without them this test prints that it did not run (on
//! the terminal, past the harness's capture) and passes, unless `DROPOUT_REQUIRE_FIRMWARE=1` is
//! set — as `.ci/run` does, so that CI fails where it cannot run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A target and the QEMU board that runs it.
struct Board {
    target: &'static str,
    machine: &'static str,
    cpu: &'static str,
    name: &'static str,
}

const BOARDS: [Board; 2] = [
    Board {
        target: "thumbv7m-none-eabi",
        machine: "lm3s6965evb",
        cpu: "cortex-m3",
        name: "Cortex-M3, soft float (lm3s6965evb)",
    },
    Board {
        target: "thumbv7em-none-eabihf",
        machine: "mps2-an386",
        cpu: "cortex-m4",
        name: "Cortex-M4F, single-precision FPU (mps2-an386)",
    },
];

/// The networks of `embedded/src/networks.rs`, as the firmware names them, with what their
/// weights are.
const NETWORKS: [(&str, &str); 9] = [
    (
        "toy",
        "the article's toy, 2-3-3-2-1 `f32`, declared weights",
    ),
    (
        "torch",
        "the PyTorch fixture, 4-16-8-3 `f32`, weights from a safetensors file",
    ),
    (
        "formula",
        "3-130-2 `f32`, weights from a safetensors file (three panels)",
    ),
    (
        "wide",
        "16-80-8-5-3 `f64`, tanh/leaky ReLU/sigmoid/softmax; its weights are drawn at run time, so they live in RAM (here on the caller's stack), not in flash",
    ),
    (
        "sine-f32",
        "the sine model before quantization, 1-16-16-1 `f32`, weights from a safetensors file",
    ),
    (
        "sine-i8",
        "the same model quantized by TensorFlow, int8, imported from its `.tflite` (`forward_quantized`, `forward_quantized_masked`)",
    ),
    (
        "sine-twin",
        "the same model quantized by `network!` (`quantize: int8 as SineTwin`, calibrated at compile time), int8",
    ),
    (
        "per-tensor",
        "3-8-6-2 int8 with per-tensor weight scales, imported from `models/per_tensor.tflite`",
    ),
    (
        "microflow",
        "the same file through `microflow` 0.1.3's `#[model]` (`predict_quantized`: int8 in, its outputs dequantized to `f32`; it has no masked pass), the one fixture its macro builds",
    ),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Whether the tools are here; says on standard error what is missing.
fn tools_present() -> bool {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        .unwrap_or_default();
    let mut missing: Vec<String> = BOARDS
        .iter()
        .filter(|b| !installed.lines().any(|line| line.trim() == b.target))
        .map(|b| format!("rustup target add {}", b.target))
        .collect();
    if !Command::new("qemu-system-arm")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
    {
        missing.push("apt-get install qemu-system-arm".into());
    }
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("DROPOUT_REQUIRE_FIRMWARE").is_none(),
        "DROPOUT_REQUIRE_FIRMWARE is set but tools are missing: {}",
        missing.join("; ")
    );
    // Standard error itself, not `eprintln!`, which the harness captures and shows only for
    // failing tests: a user running `cargo test` sees that these did not run.
    let _ = writeln!(
        std::io::stderr(),
        "tests/firmware.rs: the firmware tests did NOT RUN: missing {}",
        missing.join("; ")
    );
    false
}

/// Where the firmware builds: its own directory, so that the outer `cargo test` keeps its lock.
fn build_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("firmware")
}

/// Builds the firmware for `board` with `features`; the ELF's path, or the compiler's errors.
fn build(board: &Board, features: &str) -> Result<PathBuf, String> {
    build_target(board, features, None)
}

/// Builds the firmware, or with `example`, that example.
fn build_target(board: &Board, features: &str, example: Option<&str>) -> Result<PathBuf, String> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(root().join("embedded"))
        .args(["build", "--locked", "--release", "--target", board.target])
        .env("CARGO_TARGET_DIR", build_dir())
        // The outer `cargo test`'s settings are not the firmware's.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    if !features.is_empty() {
        cargo.args(["--features", features]);
    }
    if let Some(example) = example {
        cargo.args(["--example", example]);
    }
    let out = cargo.output().map_err(|err| err.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let release = build_dir().join(board.target).join("release");
    Ok(match example {
        Some(example) => release.join("examples").join(example),
        None => release.join("dropout-firmware"),
    })
}

/// Runs `elf` in QEMU (at most a minute): whether it exited with success, and what it printed.
fn run(board: &Board, elf: &Path) -> (bool, String) {
    let mut child = Command::new("qemu-system-arm")
        .args(["-cpu", board.cpu, "-machine", board.machine, "-nographic"])
        .args(["-semihosting-config", "enable=on,target=native"])
        // The virtual clock advances 2⁵ ns per instruction, so SysTick counts instructions
        // (the firmware calibrates it against a loop of known length).
        .args(["-icount", "shift=5", "-kernel"])
        .arg(elf)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting QEMU");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for QEMU") {
            break status;
        }
        if started.elapsed() > Duration::from_mins(1) {
            let _ = child.kill();
            panic!(
                "{}: the firmware did not exit within a minute",
                board.target
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("QEMU's output");
    (
        status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The sizes of an ELF32 file's sections, by name.
fn sections(elf: &[u8]) -> BTreeMap<String, u64> {
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes([elf[at], elf[at + 1], elf[at + 2], elf[at + 3]]);
    assert_eq!(&elf[..5], b"\x7fELF\x01", "a 32-bit ELF file");
    let (offset, size, count, names) = (
        u32_at(0x20) as usize,
        u16_at(0x2E),
        u16_at(0x30),
        u16_at(0x32),
    );
    let header = |k: usize| offset + k * size;
    let strings = u32_at(header(names) + 16) as usize;
    (0..count)
        .map(|k| {
            let name_at = strings + u32_at(header(k)) as usize;
            let end = elf[name_at..].iter().position(|&b| b == 0).unwrap_or(0);
            let name = String::from_utf8_lossy(&elf[name_at..name_at + end]).into_owned();
            (name, u64::from(u32_at(header(k) + 20)))
        })
        .collect()
}

/// Flash (code, constants, the initial values of `.data`) and static RAM (`.data`, `.bss`).
fn footprint(elf: &Path) -> (u64, u64) {
    let sections = sections(&std::fs::read(elf).expect("the firmware's ELF"));
    let size = |name: &str| sections.get(name).copied().unwrap_or(0);
    let flash = size(".vector_table") + size(".text") + size(".rodata") + size(".data");
    let ram = size(".data") + size(".bss") + size(".uninit");
    (flash, ram)
}

/// The numbers a line `key network value` of the firmware's output gives.
fn numbers(output: &str, key: &str) -> BTreeMap<String, u64> {
    output
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next()? == key).then_some(())?;
            let rest: Vec<&str> = words.collect();
            let (value, name) = rest.split_last()?;
            Some((name.join(" "), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn networks_run_on_cortex_m_bit_for_bit() {
    if !tools_present() {
        return;
    }
    let mut table = String::new();
    for board in &BOARDS {
        // The checks: every value as the host computed it.
        let elf = build(board, "").unwrap_or_else(|err| panic!("{}: {err}", board.target));
        let (passed, output) = run(board, &elf);
        assert!(passed, "{}: the firmware failed:\n{output}", board.target);
        assert!(output.contains("toy: masked -5 eval 1.5625"), "{output}");
        assert!(output.contains("PASS 112 values"), "{output}");
        assert!(!output.contains("FAIL"), "{output}");

        // The README's example: the smallest firmware with a network.
        let example = build_target(board, "", Some("toy")).unwrap_or_else(|err| panic!("{err}"));
        let (passed, example_output) = run(board, &example);
        assert!(
            passed,
            "{}: the example failed:\n{example_output}",
            board.target
        );
        assert_eq!(example_output.trim(), "masked -5 eval 1.5625");
        let (example_flash, example_ram) = footprint(&example);

        // A flipped bit fails the run.
        let tampered = build(board, "tamper").unwrap_or_else(|err| panic!("{err}"));
        let (passed, output) = run(board, &tampered);
        assert!(!passed, "{}: a wrong value passed:\n{output}", board.target);
        assert!(
            output.contains("FAIL  toy, training pass, the article's masks"),
            "{output}"
        );

        // No panic path in any forward: the link would fail.
        if let Err(err) = build(board, "measure-all,panic-never") {
            panic!("{}: a forward pass can panic:\n{err}", board.target);
        }

        // Flash and RAM of each network's forwards, over a program with none.
        let (base_flash, base_ram) = footprint(&build(board, "measure-none").unwrap());
        let weights = numbers(&output, "weights");
        let stack = numbers(&output, "stack");
        let instructions = numbers(&output, "instructions");
        let _ = writeln!(
            table,
            "\n{}; release build (`opt-level = \"s\"`, LTO). A program with no network: {base_flash} B flash, {base_ram} B RAM; `embedded/examples/toy.rs`, whole: {example_flash} B flash, {example_ram} B RAM.\n",
            board.name
        );
        table.push_str(
            "| network | weights and biases | flash | static RAM | stack, `forward` | stack, `forward_masked` |\n\
             |---|---|---|---|---|---|\n",
        );
        for (name, what) in NETWORKS {
            let (flash, ram) = footprint(&build(board, &format!("measure-{name}")).unwrap());
            let (flash, ram) = (flash - base_flash, ram.saturating_sub(base_ram));
            let bytes = weights[name];
            if name != "wide" {
                // Declared weights are constants: in flash, at least their own size, and no RAM.
                assert!(
                    flash >= bytes,
                    "{name}: {flash} B of flash for {bytes} B of weights"
                );
                assert_eq!(ram, 0, "{name}: declared weights took RAM");
            }
            let masked = stack
                .get(&format!("{name} forward_masked"))
                .map_or_else(|| "—".to_owned(), |bytes| format!("{bytes} B"));
            let _ = writeln!(
                table,
                "| {name}: {what} | {bytes} B | +{flash} B | +{ram} B | {} B | {masked} |",
                stack[&format!("{name} forward")],
            );
        }
        table.push_str(
            "\nInstructions per inference (QEMU `-icount`, SysTick calibrated against a loop of known length; the mean of 50 runs):\n\n\
             | pass | instructions |\n|---|---|\n",
        );
        assert!(instructions.len() >= 5, "{output}");
        for (pass, count) in &instructions {
            assert!(*count > 0, "{pass}: {count}");
            let _ = writeln!(table, "| {pass} | {count} |");
        }
    }
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("firmware/footprint.md");
    std::fs::write(&path, &table).expect("writing the footprint");
    eprintln!("{table}\n(written to {})", path.display());
}

/// The README shows the firmware example as it is in `embedded/examples/toy.rs`, which the test
/// above builds and runs (the README cannot compile it as a doctest: it is a `no_main` program).
#[test]
fn the_readme_shows_the_example_firmware() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let shown = readme
        .split("```rust,ignore\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README's firmware block");
    let example = std::fs::read_to_string(root().join("embedded/examples/toy.rs")).unwrap();
    let from = example
        .find("#![no_std]")
        .expect("the example's attributes");
    assert_eq!(shown, &example[from..]);
}
