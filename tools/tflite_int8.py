#!/usr/bin/env python3
"""Writes dropout-runtime/src/int8/fixtures.rs: int8 MLPs quantized by TensorFlow's
converter, with what TFLite Micro and TensorFlow's reference kernels compute for them.

Each model is a Keras `Sequential` of `Dense` layers (relu, relu6 or linear hidden layers, 1 to
64 units), trained for a few epochs on a smooth random target, then converted with full integer
quantization (int8 weights per channel, int8 input and output, int32 bias). The script runs every
model on inputs that include -128 and 127 in each coordinate, in two interpreters:

- TFLite Micro (`tflite_micro.runtime`), whose kernels requantize with double rounding;
- TensorFlow's interpreter with `OpResolverType.BUILTIN_REF` (the reference kernels).

and records, per FULLY_CONNECTED operator, its int8 weights, int32 bias, per-channel weight
scales, input and output scales and zero points and fused activation, plus both interpreters'
int8 outputs. The Rust file holds them as constants; the kernel's tests recompute every output
from the recorded integers and scales and compare bit for bit, without Python.

It also writes each converted model to `models/<name>.tflite` (two more: float input and output
through QUANTIZE/DEQUANTIZE, and per-tensor weight scales) and both interpreters' outputs for
them to `tests/fixtures/tflite_outputs.rs`, against which `tests/int8.rs` holds networks that
`network!` imports from those files. Each model's float weights and the 200 rows it was
calibrated with go to `models/float/<name>.safetensors` (`k.weight`, `k.bias`, `x`): the
firmware's f32 sine and the int8 twins that `network!` quantizes itself use them.

Usage (TensorFlow and TFLite Micro install from PyPI):

    python3 -m venv .venv && .venv/bin/pip install tensorflow-cpu tflite-micro numpy
    .venv/bin/python tools/tflite_int8.py      # rewrites dropout-runtime/src/int8/fixtures.rs

The output depends only on the seed below and the versions the file header records.
"""

import importlib.metadata
import os
import pathlib
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np
import tensorflow as tf
from tflite_micro import runtime as micro

SEED = 20261204
ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "dropout-runtime/src/int8/fixtures.rs"
# The converted models, which `network!` imports with `from: tflite("models/….tflite")`, and
# what both interpreters compute for them.
MODELS_DIR = ROOT / "models"
OUTPUTS = ROOT / "tests/fixtures/tflite_outputs.rs"

# (name, inputs, [(units, activation), ...]); the last layer is linear.
MODELS = [
    ("sine", 1, [(16, "relu"), (16, "relu"), (1, "linear")]),
    ("relu6", 2, [(8, "relu6"), (4, "relu6"), (1, "linear")]),
    ("identity_hidden", 3, [(5, "linear"), (7, "relu"), (2, "linear")]),
    ("wide", 4, [(64, "relu"), (32, "relu6"), (3, "linear")]),
    ("one_unit", 1, [(1, "relu"), (1, "linear")]),
    ("deep", 2, [(12, "relu"), (12, "relu6"), (12, "linear"), (12, "relu"), (4, "linear")]),
]
# Models converted with other options: (name, inputs, layers, {"float_io", "per_tensor"}).
VARIANTS = [
    ("sine_float_io", 1, [(16, "relu"), (16, "relu"), (1, "linear")], {"float_io"}),
    ("per_tensor", 3, [(8, "relu"), (6, "relu6"), (2, "linear")], {"per_tensor"}),
    # A sigmoid output converts to FULLY_CONNECTED + LOGISTIC: only the file is written, for the
    # error an unsupported operator gives.
    ("sigmoid_output", 2, [(4, "relu"), (1, "sigmoid")], {"model_only"}),
]

ACTIVATIONS = {"relu": "Relu", "relu6": "Relu6", "linear": "Linear"}


def build(rng, inputs, layers):
    model = tf.keras.Sequential([tf.keras.Input((inputs,))])
    for units, activation in layers:
        act = tf.nn.relu6 if activation == "relu6" else activation
        model.add(tf.keras.layers.Dense(units, activation=act))
    x = rng.uniform(-2.0, 2.0, size=(512, inputs)).astype(np.float32)
    outputs = layers[-1][0]
    mix = rng.normal(size=(inputs, outputs)).astype(np.float32)
    y = np.sin(x @ mix) + 0.1 * (x @ mix) ** 2
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    return model, x


def convert(model, calibration, options=frozenset()):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if "per_tensor" in options:
        converter._experimental_disable_per_channel = True

    def representative():
        for row in calibration[:200]:
            yield [row[None, :]]

    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if "float_io" not in options:
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


def fully_connected_ops(interpreter):
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    ops = [op for op in interpreter._get_ops_details() if op["op_name"] == "FULLY_CONNECTED"]
    ends = {"QUANTIZE", "DEQUANTIZE"}
    if any(op["op_name"] not in ends | {"FULLY_CONNECTED"} for op in interpreter._get_ops_details()):
        raise SystemExit("unexpected operators")
    return details, ops


def layer_records(flatbuffer, activations):
    interpreter = tf.lite.Interpreter(
        model_content=flatbuffer,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    details, ops = fully_connected_ops(interpreter)
    records = []
    for op, activation in zip(ops, activations):
        x, w, b = (details[i] for i in op["inputs"][:3])
        y = details[op["outputs"][0]]
        weights = interpreter.get_tensor(w["index"])
        bias = interpreter.get_tensor(b["index"])
        wq = w["quantization_parameters"]
        if np.any(wq["zero_points"] != 0):
            raise SystemExit("weights with a zero point")
        records.append(
            {
                "weights": weights.astype(int).tolist(),
                "bias": bias.astype(int).tolist(),
                "weight_scales": [float(s) for s in wq["scales"]],
                "input_scale": float(x["quantization"][0]),
                "input_zero_point": int(x["quantization"][1]),
                "output_scale": float(y["quantization"][0]),
                "output_zero_point": int(y["quantization"][1]),
                "activation": ACTIVATIONS[activation],
            }
        )
    return records


def run_reference(flatbuffer, inputs):
    interpreter = tf.lite.Interpreter(
        model_content=flatbuffer,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
    )
    interpreter.allocate_tensors()
    inp = interpreter.get_input_details()[0]["index"]
    out = interpreter.get_output_details()[0]["index"]
    results = []
    for row in inputs:
        interpreter.set_tensor(inp, row[None, :])
        interpreter.invoke()
        results.append(interpreter.get_tensor(out)[0].tolist())
    return results


def run_micro(flatbuffer, inputs):
    interpreter = micro.Interpreter.from_bytes(flatbuffer)
    results = []
    for row in inputs:
        interpreter.set_input(row[None, :], 0)
        interpreter.invoke()
        results.append(interpreter.get_output(0)[0].tolist())
    return results


def test_inputs(rng, n_inputs):
    rows = [np.full(n_inputs, v, dtype=np.int8) for v in (-128, 127, 0, -1)]
    for k in range(n_inputs):
        for v in (-128, 127):
            row = rng.integers(-128, 128, size=n_inputs).astype(np.int8)
            row[k] = v
            rows.append(row)
    if n_inputs == 1:
        rows += [np.array([v], dtype=np.int8) for v in range(-128, 128)]
    else:
        rows += [rng.integers(-128, 128, size=n_inputs).astype(np.int8) for _ in range(60)]
    return rows


def float_inputs(rng):
    """Float inputs for a one-input model: the quantizer's clamps, its rounding ties, zero, and
    values across the training range."""
    values = [-1000.0, 1000.0, 0.0, -0.0, 1e-8, -3.4e38, 3.4e38]
    values += list(rng.uniform(-2.5, 2.5, size=120))
    return [np.array([v], dtype=np.float32) for v in values]


def write_safetensors(path, model, calibration):
    """The Keras model's float weights as safetensors, PyTorch's names and layout: `k.weight`
    [out, in] and `k.bias` for the k-th Dense layer, and the calibration rows as `x`."""
    import json
    import struct

    path.parent.mkdir(exist_ok=True)
    tensors = {"x": np.ascontiguousarray(calibration, dtype="<f4")}
    for k, layer in enumerate(model.layers):
        kernel, bias = layer.get_weights()
        tensors[f"{k}.weight"] = np.ascontiguousarray(kernel.T, dtype="<f4")
        tensors[f"{k}.bias"] = np.ascontiguousarray(bias, dtype="<f4")
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        data = tensors[name].tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def rust_list(values):
    return "[" + ", ".join(str(v) for v in values) + "]"


def rust_f32(v):
    """The shortest decimal that reads back as this f32."""
    text = np.format_float_scientific(np.float32(v), unique=True, trim="0")
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def rust_outputs(name, inputs, micro_out, reference, scalar):
    def rows(values):
        return ", ".join("&" + rust_list(row) for row in values)

    if scalar == "f32":
        def rust_list_f(values):
            return "[" + ", ".join(rust_f32(v) for v in values) + "]"

        def rows(values):  # noqa: F811
            return ", ".join("&" + rust_list_f(row) for row in values)

    return [
        f"pub const {name.upper()}: Outputs<{scalar}> = Outputs {{",
        f"    inputs: &[{rows([row.tolist() for row in inputs])}],",
        f"    micro: &[{rows(micro_out)}],",
        f"    reference: &[{rows(reference)}],",
        "};",
    ]


def exported_outputs(fixture_inputs):
    """Runs `cargo run --example export_tflite`, which writes the networks that `network!`
    imports from `models/` back out with `dropout::io::to_tflite`, and TFLite Micro and
    TensorFlow on those files; their outputs must be the originals'."""
    exported = MODELS_DIR / "exported"
    subprocess.run(
        ["cargo", "run", "--quiet", "--example", "export_tflite", "--", str(exported)],
        cwd=ROOT,
        check=True,
    )
    lines = []
    for path in sorted(exported.glob("*.tflite")):
        name = path.stem
        inputs = fixture_inputs[name]
        flatbuffer = path.read_bytes()
        original = (MODELS_DIR / f"{name}.tflite").read_bytes()
        micro_out = run_micro(flatbuffer, inputs)
        reference = run_reference(flatbuffer, inputs)
        if micro_out != run_micro(original, inputs) or reference != run_reference(original, inputs):
            raise SystemExit(f"{path}: the interpreters compute other outputs than for the original")
        scalar = "f32" if isinstance(micro_out[0][0], float) else "i8"
        lines += rust_outputs(f"exported_{name}", inputs, micro_out, reference, scalar)
        lines.append("")
    return lines


def main():
    rng = np.random.default_rng(SEED)
    tf.keras.utils.set_random_seed(SEED)
    versions = f"// TensorFlow {tf.__version__}, tflite-micro {importlib.metadata.version('tflite-micro')}, numpy {np.__version__}."
    lines = [
        "// @generated by tools/tflite_int8.py; do not edit.",
        "#![allow(clippy::unreadable_literal)]",
        versions,
        "",
        "use super::FusedActivation::*;",
        "use super::tests::{Fixture, Op};",
        "",
        "pub(super) const FIXTURES: &[Fixture] = &[",
    ]
    outputs = [
        "// @generated by tools/tflite_int8.py; do not edit.",
        versions,
        "//! What TFLite Micro and TensorFlow's reference kernels compute for the models in `models/`.",
        "#![allow(clippy::unreadable_literal, dead_code)]",
        "",
        "/// Inputs of one model and both interpreters' outputs for them.",
        "pub struct Outputs<T: 'static> {",
        "    pub inputs: &'static [&'static [T]],",
        "    pub micro: &'static [&'static [T]],",
        "    pub reference: &'static [&'static [T]],",
        "}",
        "",
    ]
    MODELS_DIR.mkdir(exist_ok=True)
    fixture_inputs = {}
    differing = 0
    total = 0
    for name, n_inputs, layers, options in [(*m, set()) for m in MODELS] + VARIANTS:
        model, calibration = build(rng, n_inputs, layers)
        flatbuffer = convert(model, calibration, options)
        (MODELS_DIR / f"{name}.tflite").write_bytes(flatbuffer)
        # The float model and the rows the converter calibrated with, for the int8 twins that
        # `network!` quantizes itself (`quantize: int8 as …`), checked against the converter.
        write_safetensors(MODELS_DIR / "float" / f"{name}.safetensors", model, calibration[:200])
        if "model_only" in options:
            continue
        records = layer_records(flatbuffer, [a for _, a in layers])
        float_io = "float_io" in options
        inputs = float_inputs(rng) if float_io else test_inputs(rng, n_inputs)
        fixture_inputs[name] = inputs
        reference = run_reference(flatbuffer, inputs)
        micro_out = run_micro(flatbuffer, inputs)
        outputs += rust_outputs(name, inputs, micro_out, reference, "f32" if float_io else "i8")
        outputs.append("")
        differing += sum(r != m for r, m in zip(reference, micro_out))
        total += len(inputs)
        if float_io:
            continue
        lines.append("    Fixture {")
        lines.append(f"        name: {name!r},".replace("'", '"'))
        lines.append("        ops: &[")
        for r in records:
            rows = ", ".join("&" + rust_list(row) for row in r["weights"])
            lines.append("            Op {")
            lines.append(f"                weights: &[{rows}],")
            lines.append(f"                bias: &{rust_list(r['bias'])},")
            lines.append(
                f"                weight_scales: &[{', '.join(rust_f32(s) for s in r['weight_scales'])}],"
            )
            lines.append(f"                input_scale: {rust_f32(r['input_scale'])},")
            lines.append(f"                input_zero_point: {r['input_zero_point']},")
            lines.append(f"                output_scale: {rust_f32(r['output_scale'])},")
            lines.append(f"                output_zero_point: {r['output_zero_point']},")
            lines.append(f"                activation: {r['activation']},")
            lines.append("            },")
        lines.append("        ],")
        lines.append(f"        inputs: &[{', '.join('&' + rust_list(row.tolist()) for row in inputs)}],")
        lines.append(f"        micro: &[{', '.join('&' + rust_list(row) for row in micro_out)}],")
        lines.append(f"        reference: &[{', '.join('&' + rust_list(row) for row in reference)}],")
        lines.append("    },")
    lines.append("];")
    lines.append("")
    outputs += exported_outputs(fixture_inputs)
    OUT.write_text("\n".join(lines))
    OUTPUTS.write_text("\n".join(outputs))
    for path in (OUT, OUTPUTS):
        subprocess.run(["rustfmt", "--edition", "2024", str(path)], check=True)
    print(f"wrote {OUT}, {OUTPUTS} and {len(MODELS) + len(VARIANTS)} models: {total} inputs, {differing} where the interpreters differ", file=sys.stderr)


if __name__ == "__main__":
    main()
