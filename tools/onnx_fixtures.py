#!/usr/bin/env python3
"""Writes the ONNX models in models/onnx/ and tests/fixtures/onnx_outputs.rs: what onnxruntime
computes for them.

Imports. PyTorch `nn.Sequential` MLPs (with `Dropout` layers, which evaluation-mode exports
leave out) are exported with both of PyTorch's exporters: TorchScript (`dynamo=False`, opset 17)
and the default one (`dynamo=True`, opset 20), each with a dynamic batch dimension:

- `classifier`: 4-16-8-3, relu, tanh, identity (the README's example);
- `zoo`: 3 inputs, then one layer of 6 for every activation PyTorch exports (leaky_relu(0.2),
  elu(0.7), selu, sigmoid, hard_sigmoid, gelu, softplus, silu, relu6, tanh) and softmax(4);
- `matmul`: a module computing `x @ W + b` (TorchScript writes `MatMul` and `Add`);
- `regressor_f64`: 2-8-1 tanh in double precision;
- `classifier_external`: `classifier`'s TorchScript file saved again with its initializers as
  external data (`classifier_external.onnx.data`);
- `unsupported`: a layer followed by `LayerNorm` (`LayerNormalization`), which the compile-fail
  cases in `tests/ui/onnx/` import to see the error naming it.

onnxruntime runs every file on inputs that include zeros and values beyond softplus's
threshold; `tests/onnx.rs` checks `forward` against the outputs (1e-5 relative for f32).

Exports. The script then runs `cargo run --example export_onnx -- models/onnx/exported` (the
networks `to_onnx` and `to_onnx_masked` write, and int8 networks as QDQ models from
`to_onnx_quantized`), checks each written file with `onnx.checker`
(full check, with shape inference) and records onnxruntime's outputs for them, with the masks
it drew for the masked ones; `tests/onnx.rs` checks that the committed files are what the
library writes today and that its passes agree with onnxruntime on them. Last, it runs the
README's Python block ("To a serving stack") on the exported toy network and checks its output.

Usage (PyTorch, onnx and onnxruntime install from PyPI):

    python3 -m venv .venv && .venv/bin/pip install torch onnx onnxruntime onnxscript numpy
    .venv/bin/python tools/onnx_fixtures.py

The output depends only on the seed below and the versions the file header records.
"""

import contextlib
import importlib.metadata
import io
import logging
import pathlib
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import torch
from torch import nn

SEED = 20261204
ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "models/onnx"
EXPORTED = MODELS / "exported"
OUT = ROOT / "tests/fixtures/onnx_outputs.rs"


def sequential(sizes, activations, dropout=0.0):
    layers = []
    for fan_in, size, activation in zip(sizes, sizes[1:], activations):
        layers.append(nn.Linear(fan_in, size))
        if activation is not None:
            layers.append(activation)
        if dropout and size != sizes[-1]:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class MatMul(nn.Module):
    """x @ W + b, twice: TorchScript writes `MatMul` and `Add` for each layer."""

    def __init__(self):
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(3, 5) * 0.5)
        self.b1 = nn.Parameter(torch.randn(5) * 0.1)
        self.w2 = nn.Parameter(torch.randn(5, 2) * 0.5)
        self.b2 = nn.Parameter(torch.randn(2) * 0.1)

    def forward(self, x):
        return torch.relu(x @ self.w1 + self.b1) @ self.w2 + self.b2


def export(module, example, path, dynamo):
    module.eval()
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(
                module,
                (example,),
                str(path),
                dynamo=True,
                opset_version=20,
                input_names=["x"],
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                external_data=False,
            )
        else:
            torch.onnx.export(
                module,
                (example,),
                str(path),
                dynamo=False,
                opset_version=17,
                input_names=["x"],
                output_names=["y"],
                dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
            )


def inputs(rng, width, dtype):
    rows = [np.zeros(width), np.full(width, 25.0), np.full(width, -25.0)]
    rows += list(rng.normal(0.0, 2.0, size=(13, width)))
    return np.array(rows, dtype=dtype)


def run(path, x, feeds=None):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: x}
    feed.update(feeds or {})
    (y,) = session.run(None, feed)
    return y


def literal(v, dtype):
    if dtype == np.int8:
        return str(int(v))
    v = dtype(v)
    if np.isnan(v):
        return "f32::NAN" if dtype == np.float32 else "f64::NAN"
    text = repr(float(v)) if dtype == np.float64 else str(v)
    if "e" not in text and "." not in text and "inf" not in text:
        text += ".0"
    return text


def rows(values, dtype, indent):
    pad = " " * indent
    lines = [
        f"{pad}&[{', '.join(literal(v, dtype) for v in row)}],"
        for row in np.asarray(values).reshape(len(values), -1)
    ]
    return "\n".join(lines)


def constant(name, x, y, dtype, masks=None):
    ty = {np.float32: "f32", np.float64: "f64", np.int8: "i8"}[dtype]
    out = [f"pub const {name}: Outputs<{ty}> = Outputs {{", "    inputs: &["]
    out += [rows(x, dtype, 8), "    ],", "    masks: &["]
    for site in masks or []:
        out += ["        &[", rows(site, dtype, 12), "        ],"]
    out += ["    ],", "    onnxruntime: &[", rows(y, dtype, 8), "    ],", "};", ""]
    return "\n".join(out)


def main():
    logging.disable(logging.WARNING)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    MODELS.mkdir(parents=True, exist_ok=True)
    consts = []

    nets = {
        "classifier": (
            sequential([4, 16, 8, 3], [nn.ReLU(), nn.Tanh(), None], dropout=0.2),
            4,
        ),
        "zoo": (
            sequential(
                [3] + [6] * 10 + [4],
                [
                    nn.LeakyReLU(0.2),
                    nn.ELU(0.7),
                    nn.SELU(),
                    nn.Sigmoid(),
                    nn.Hardsigmoid(),
                    nn.GELU(),
                    nn.Softplus(),
                    nn.SiLU(),
                    nn.ReLU6(),
                    nn.Tanh(),
                    nn.Softmax(dim=-1),
                ],
            ),
            3,
        ),
    }
    for name, (module, width) in nets.items():
        x = inputs(rng, width, np.float32)
        for suffix, dynamo in [("torchscript", False), ("dynamo", True)]:
            path = MODELS / f"{name}_{suffix}.onnx"
            export(module, torch.zeros(2, width), path, dynamo)
            onnx.checker.check_model(onnx.load(path), full_check=True)
            consts.append(constant(f"{name}_{suffix}".upper(), x, run(path, x), np.float32))

    module = MatMul()
    path = MODELS / "matmul.onnx"
    export(module, torch.zeros(2, 3), path, dynamo=False)
    x = inputs(rng, 3, np.float32)
    consts.append(constant("MATMUL", x, run(path, x), np.float32))

    module = sequential([2, 8, 1], [nn.Tanh(), None]).double()
    path = MODELS / "regressor_f64.onnx"
    export(module, torch.zeros(2, 2, dtype=torch.float64), path, dynamo=False)
    x = inputs(rng, 2, np.float64)
    consts.append(constant("REGRESSOR_F64", x, run(path, x), np.float64))

    model = onnx.load(MODELS / "classifier_torchscript.onnx")
    path = MODELS / "classifier_external.onnx"
    data = "classifier_external.onnx.data"
    (MODELS / data).unlink(missing_ok=True)
    onnx.save_model(
        model,
        str(path),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=data,
        size_threshold=0,
    )
    x = inputs(rng, 4, np.float32)
    consts.append(constant("CLASSIFIER_EXTERNAL", x, run(path, x), np.float32))

    module = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    export(module, torch.zeros(2, 3), MODELS / "unsupported.onnx", dynamo=False)

    consts += exported(rng)
    readme_python()

    versions = ", ".join(
        f"{package} {importlib.metadata.version(package)}"
        for package in ["torch", "onnx", "onnxruntime", "numpy"]
    )
    header = f"""// @generated by tools/onnx_fixtures.py; do not edit.
// {versions}.
//! What onnxruntime computes for the models in `models/onnx/` and `models/onnx/exported/`.
#![allow(clippy::unreadable_literal, clippy::approx_constant, dead_code)]

/// Inputs of one model, the masks of its mask inputs (one list of rows per dropout site, one
/// row per input row) and onnxruntime's outputs.
pub struct Outputs<T: 'static> {{
    pub inputs: &'static [&'static [T]],
    pub masks: &'static [&'static [&'static [T]]],
    pub onnxruntime: &'static [&'static [T]],
}}
"""
    OUT.write_text(header + "\n" + "\n".join(consts))
    subprocess.run(["rustfmt", "--edition", "2024", str(OUT)], check=True)
    print(f"wrote {OUT.relative_to(ROOT)}")


# The files examples/export_onnx.rs writes.
EXPORTS = [
    "toy",
    "toy_masked",
    "classifier",
    "classifier_masked",
    "zoo",
    "family",
    "family_masked",
    "sine_qdq",
    "sine_float_io_qdq",
    "per_tensor_qdq",
]


def int8_inputs(rng, width):
    """int8 rows: the extremes, zero and values drawn over the whole range."""
    rows = [np.full(width, -128), np.full(width, 127), np.zeros(width)]
    rows += list(rng.integers(-128, 128, size=(61, width)))
    return np.array(rows, dtype=np.int8)


def mask_input(rng, name, shape, dtype):
    """Values for a mask input of `to_onnx_masked`'s model, one row per input row: 0/1 bits
    (keep 0.7) for `mask.*` and `connections.*`, Gaussian noise N(1, 0.5²) for `noise.*`."""
    if name.startswith("noise."):
        return rng.normal(1.0, 0.5, size=shape).astype(dtype)
    return (rng.random(shape) < 0.7).astype(dtype)


def exported(rng):
    EXPORTED.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "cargo", "run", "--quiet", "--features", "onnx,tflite",
            "--example", "export_onnx", "--", str(EXPORTED),
        ],
        cwd=ROOT,
        check=True,
    )
    consts = []
    for name in EXPORTS:
        path = EXPORTED / f"{name}.onnx"
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        x_info, *mask_infos = model.graph.input
        elem = x_info.type.tensor_type.elem_type
        dtype = {
            onnx.TensorProto.DOUBLE: np.float64,
            onnx.TensorProto.FLOAT: np.float32,
            onnx.TensorProto.INT8: np.int8,
        }[elem]
        width = x_info.type.tensor_type.shape.dim[1].dim_value
        x = int8_inputs(rng, width) if dtype == np.int8 else inputs(rng, width, dtype)
        feeds, masks = {}, []
        for info in mask_infos:
            dims = [d.dim_value for d in info.type.tensor_type.shape.dim[1:]]
            values = mask_input(rng, info.name, (len(x), *dims), dtype)
            feeds[info.name] = values
            masks.append(values.reshape(len(x), -1))
        y = run(path, x, feeds)
        consts.append(constant(f"EXPORTED_{name.upper()}", x, y, dtype, masks))
    return consts


def readme_python():
    """Runs the README's Python block ("To a serving stack") as it is, in a directory holding
    the model repository the README's Rust block writes, and checks that it prints what the
    block's comment says."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### To a serving stack", 1)[1]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]
    expected = block.rsplit("print(y)  # ", 1)[1].split(",", 1)[0]
    with tempfile.TemporaryDirectory() as tmp:
        model = pathlib.Path(tmp) / "model_repository/toy/1/model.onnx"
        model.parent.mkdir(parents=True)
        shutil.copy(EXPORTED / "toy.onnx", model)
        printed = subprocess.run(
            [sys.executable, "-c", block], cwd=tmp, check=True, capture_output=True, text=True
        ).stdout.strip()
    if printed != expected:
        sys.exit(f"the README's Python block prints {printed}, its comment says {expected}")
    print(f"the README's Python block prints {printed}")


if __name__ == "__main__":
    sys.exit(main())
