#!/usr/bin/env python3
"""C1: how much a network's weights add to a release build.

Generates binary crates beside each other that depend on this repository by path: `small`
declares the toy network, `big` declares 784-128-10 with all 101,632 weights written out, and
`file` declares 1024-1024-10 (1,058,816 weights) read from a generated safetensors file.
All share one target directory, so the dependencies are built once; then each crate alone is
rebuilt under `/usr/bin/time -v` and the difference in wall time is the cost of the weights.

    python3 benches/compile_time.py            # prints JSON
"""

import json
import pathlib
import re
import shutil
import struct
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent


def declaration(n_inputs, sizes):
    lines = [f"    struct Big<f32> {{\n        input: {n_inputs},"]
    fan_in, k = n_inputs, 0
    for size in sizes:
        rows = []
        for _ in range(size):
            row = []
            for _ in range(fan_in):
                k += 1
                row.append(f"{(k * 7919 % 201) / 1000 - 0.1:.3f}")
            rows.append("[" + ", ".join(row) + "]")
        bias = ", ".join(f"{(n % 7) / 10 - 0.3:.1f}" for n in range(size))
        lines.append(f"        dense {size} relu {{ weights: [{', '.join(rows)}], bias: [{bias}] }},")
        fan_in = size
    lines.append("    }")
    return "\n".join(lines)


TOY = """    struct Big<f32> {
        input: 2,
        dense 3 relu { weights: [[1, -1], [2, 1], [-1, 3]], bias: [0.5, -1, 0] },
        dense 1 identity { weights: [[1, -2, 1]], bias: [0.5] },
    }"""

FILE_SIZES = (1024, [1024, 10])

FILE = """    struct Big<f32> {
        input: 1024,
        dense 1024 relu { weights: file("model.safetensors", "0.weight"), bias: file("model.safetensors", "0.bias") },
        dense 10 identity { weights: file("model.safetensors", "1.weight"), bias: file("model.safetensors", "1.bias") },
    }"""


def safetensors_model(n_inputs, sizes):
    """A safetensors file with `<k>.weight` and `<k>.bias` (float32) for each layer."""
    header, chunks, at, fan_in, k = {}, [], 0, n_inputs, 0
    for layer, size in enumerate(sizes):
        for name, count in ((f"{layer}.weight", size * fan_in), (f"{layer}.bias", size)):
            values = []
            for _ in range(count):
                k += 1
                values.append((k * 7919 % 201) / 10000 - 0.01)
            chunk = struct.pack(f"<{count}f", *values)
            shape = [size, fan_in] if name.endswith("weight") else [size]
            header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [at, at + len(chunk)]}
            chunks.append(chunk)
            at += len(chunk)
        fan_in = size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


MAIN = """use dropout::network;

network! {
%s
}

fn main() {
    let net = Box::new(Big::new());
    let x = [0.5_f32; Big::N_INPUTS];
    println!("{:?}", net.forward(&x));
}
"""


def make_crate(directory, name, body):
    (directory / "src").mkdir(parents=True)
    (directory / "Cargo.toml").write_text(
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2024"\n\n'
        f'[dependencies]\ndropout = {{ package = "dropout-nn", path = "{ROOT}" }}\n'
    )
    (directory / "src" / "main.rs").write_text(MAIN % body)


def timed_build(directory, target):
    (directory / "src" / "main.rs").touch()
    result = subprocess.run(
        ["/usr/bin/time", "-v", "cargo", "build", "--release", "--quiet"],
        cwd=directory,
        env={**__import__("os").environ, "CARGO_TARGET_DIR": str(target)},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.exit(f"build failed in {directory}:\n{result.stderr}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)", result.stderr)
    hours, minutes, seconds = wall.groups()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr).group(1)
    return {"wall_s": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds), "max_rss_mb": int(rss) / 1024}


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="dropout-c1-"))
    try:
        target = work / "target"
        make_crate(work / "small", "small", TOY)
        make_crate(work / "big", "big", declaration(784, [128, 10]))
        make_crate(work / "file", "file", FILE)
        (work / "file" / "model.safetensors").write_bytes(safetensors_model(*FILE_SIZES))
        # Build the dependencies once, then time each crate alone (best of three).
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=work / "small",
                       env={**__import__("os").environ, "CARGO_TARGET_DIR": str(target)}, check=True)
        small = min((timed_build(work / "small", target) for _ in range(3)), key=lambda r: r["wall_s"])
        big = min((timed_build(work / "big", target) for _ in range(3)), key=lambda r: r["wall_s"])
        file = min((timed_build(work / "file", target) for _ in range(3)), key=lambda r: r["wall_s"])
        source_kb = (work / "big" / "src" / "main.rs").stat().st_size / 1024
        json.dump(
            {
                "weights": 784 * 128 + 128 * 10,
                "source_kb": round(source_kb),
                "small_build_s": small["wall_s"],
                "big_build_s": big["wall_s"],
                "extra_build_s": round(big["wall_s"] - small["wall_s"], 2),
                "big_max_rss_mb": round(big["max_rss_mb"]),
                "file_weights": 1024 * 1024 + 1024 * 10,
                "file_build_s": file["wall_s"],
                "file_extra_build_s": round(file["wall_s"] - small["wall_s"], 2),
                "file_max_rss_mb": round(file["max_rss_mb"]),
                "command": "/usr/bin/time -v cargo build --release (each crate alone, best of 3)",
            },
            sys.stdout,
            indent=2,
        )
        print()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
