#!/usr/bin/env python3
"""Writes tests/fixtures/formula.safetensors and tests/fixtures/formula.json for tests/files.rs.

    python3 tools/layout_fixture.py

Every value follows a formula that tests/files.rs computes again, so the test can check each
weight the macro embedded. The values are small dyadic fractions, exact in float32. The hidden
layer has 130 neurons: two full panels of 64 and a partial one. Needs only the standard library.
"""

import json
import pathlib
import struct

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

INPUTS, HIDDEN, OUTPUTS = 3, 130, 2


def weight(neuron, inp, layer):
    """Mirrors `weight` in tests/files.rs."""
    return ((neuron * 31 + inp * 17 + layer * 5) % 101 - 50) / 64


def bias(neuron):
    """Mirrors `bias` in tests/files.rs."""
    return (neuron % 7 - 3) / 8


def safetensors(tensors):
    """The safetensors encoding of `{name: (shape, values)}` as float32, little-endian."""
    header, data = {}, b""
    for name, (shape, values) in tensors.items():
        chunk = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(chunk)]}
        data += chunk
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def main():
    FIXTURES.mkdir(parents=True, exist_ok=True)
    hidden_w = [weight(n, i, 0) for n in range(HIDDEN) for i in range(INPUTS)]
    hidden_b = [bias(n) for n in range(HIDDEN)]
    out_w = [weight(n, i, 1) for n in range(OUTPUTS) for i in range(HIDDEN)]
    (FIXTURES / "formula.safetensors").write_bytes(
        safetensors({
            "hidden.weight": ([HIDDEN, INPUTS], hidden_w),
            "hidden.bias": ([HIDDEN], hidden_b),
            "head.weight": ([OUTPUTS, HIDDEN], out_w),
        })
    )
    small = {
        "weight": [[weight(n, i, 2) for i in range(INPUTS)] for n in range(OUTPUTS)],
        "bias": [bias(n) for n in range(OUTPUTS)],
    }
    (FIXTURES / "formula.json").write_text(json.dumps(small) + "\n")


if __name__ == "__main__":
    main()
