#!/usr/bin/env python3
"""Writes tests/fixtures/tflite_tables.rs: a Keras MLP with tanh and sigmoid hidden layers,
quantized by TensorFlow's converter, with what the converter chose for every tensor and what
TFLite Micro and TensorFlow's reference kernels compute for it.

The converter writes a `Dense(…, activation="tanh")` as `FULLY_CONNECTED` (its output is the
pre-activation, calibrated) followed by `TANH` (output scale 1/128, zero point 0), and sigmoid as
`LOGISTIC` (1/256, −128). An int8 twin that `network!` makes of the same float weights computes
these activations by a table of the real function; `tests/twin.rs` holds the twin's
quantization to the converter's and counts how many of its outputs equal the interpreters',
whose `LOGISTIC` and `TANH` compute in fixed point of their own.

Usage (TensorFlow and TFLite Micro install from PyPI):

    python3 -m venv .venv && .venv/bin/pip install tensorflow-cpu tflite-micro numpy
    .venv/bin/python tools/tflite_tables.py

It writes `models/tables.tflite`, `models/float/tables.safetensors` (`k.weight`, `k.bias`, and the
200 calibration rows `x`), `models/softmax_output.tflite` (an operator the import refuses) and the
Rust fixture, with both interpreters' outputs for `models/sigmoid_output.tflite` too. The output depends only on the seed below and the
versions the fixture's header records. It also converts sigmoid and tanh alone, calibrated on six
ranges, and prints on how many of the 256 int8 inputs at each scale the interpreters differ from
the rounded real function (with TensorFlow 2.21 and the tflite-micro the header names: none).
"""

import importlib.metadata
import pathlib
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import tflite_int8 as base  # noqa: E402  (shares the build, conversion and interpreters)

np, tf = base.np, base.tf

SEED = 20261207
NAME = "tables"
LAYERS = [(8, "tanh"), (8, "sigmoid"), (2, "linear")]
INPUTS = 2
OUT = base.ROOT / "tests/fixtures/tflite_tables.rs"


def tensor_records(flatbuffer):
    """Every operator of the converted model with its output tensor's quantization, and the
    FULLY_CONNECTED operators' integers."""
    interpreter = tf.lite.Interpreter(
        model_content=flatbuffer,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    )
    interpreter.allocate_tensors()
    details = {t["index"]: t for t in interpreter.get_tensor_details()}
    records = []
    for op in interpreter._get_ops_details():
        y = details[op["outputs"][0]]
        record = {
            "op": op["op_name"],
            "scale": float(y["quantization"][0]),
            "zero_point": int(y["quantization"][1]),
        }
        if op["op_name"] == "FULLY_CONNECTED":
            _, w, b = (details[i] for i in op["inputs"][:3])
            record["weights"] = interpreter.get_tensor(w["index"]).astype(int).tolist()
            record["bias"] = interpreter.get_tensor(b["index"]).astype(int).tolist()
            record["weight_scales"] = [float(s) for s in w["quantization_parameters"]["scales"]]
        records.append(record)
    return records


def activation_alone(activation, low, high):
    """A model of `activation` alone (int8 in and out, calibrated on [low, high]): how many of
    the 256 int8 inputs TFLite Micro and TensorFlow's reference kernels map to another value
    than the rounded real function, as a twin's table computes it."""
    model = tf.keras.Sequential([tf.keras.Input((1,)), tf.keras.layers.Activation(activation)])
    rows = np.linspace(low, high, 200, dtype=np.float32)[:, None]
    flatbuffer = base.convert(model, rows)
    interpreter = tf.lite.Interpreter(model_content=flatbuffer)
    interpreter.allocate_tensors()
    s_in, z_in = interpreter.get_input_details()[0]["quantization"]
    s_out, z_out = interpreter.get_output_details()[0]["quantization"]
    inputs = [np.array([q], dtype=np.int8) for q in range(-128, 128)]
    real = np.float64(s_in) * (np.arange(-128, 128) - z_in)
    value = np.tanh(real) if activation == "tanh" else 1.0 / (1.0 + np.exp(-real))
    steps = value / np.float64(s_out)
    table = np.clip(z_out + np.sign(steps) * np.floor(np.abs(steps) + 0.5), -128, 127)
    micro_out = np.array(base.run_micro(flatbuffer, inputs))[:, 0]
    reference = np.array(base.run_reference(flatbuffer, inputs))[:, 0]
    return int(np.sum(micro_out != table)), int(np.sum(reference != table))


def softmax_model(rng):
    """A model whose output is a SOFTMAX: an operator the import does not read, for its error."""
    model, calibration = base.build(rng, 2, [(4, "relu"), (3, "softmax")])
    flatbuffer = base.convert(model, calibration)
    (base.MODELS_DIR / "softmax_output.tflite").write_bytes(flatbuffer)


def main():
    rng = np.random.default_rng(SEED)
    tf.keras.utils.set_random_seed(SEED)
    model, calibration = base.build(rng, INPUTS, LAYERS)
    flatbuffer = base.convert(model, calibration)
    (base.MODELS_DIR / f"{NAME}.tflite").write_bytes(flatbuffer)
    base.write_safetensors(base.MODELS_DIR / "float" / f"{NAME}.safetensors", model, calibration[:200])
    records = tensor_records(flatbuffer)
    ops = [r["op"] for r in records]
    if ops != ["FULLY_CONNECTED", "TANH", "FULLY_CONNECTED", "LOGISTIC", "FULLY_CONNECTED"]:
        raise SystemExit(f"unexpected operators {ops}")
    inputs = [np.array([a, b], dtype=np.int8) for a in range(-128, 128, 8) for b in range(-125, 128, 8)]
    inputs += [np.array([v, w], dtype=np.int8) for v in (-128, 127) for w in (-128, 127)]
    micro_out = base.run_micro(flatbuffer, inputs)
    reference = base.run_reference(flatbuffer, inputs)

    def rows(values):
        return ", ".join("&" + base.rust_list(row) for row in values)

    lines = [
        "// @generated by tools/tflite_tables.py; do not edit.",
        f"// TensorFlow {tf.__version__}, tflite-micro {importlib.metadata.version('tflite-micro')}, numpy {np.__version__}.",
        "//! A Keras MLP with tanh and sigmoid hidden layers as TensorFlow's converter quantized it",
        "//! (`models/tables.tflite`): each operator's output quantization, the integers of its",
        "//! `FULLY_CONNECTED` operators, and what TFLite Micro and TensorFlow's reference kernels",
        "//! compute for it.",
        "#![allow(clippy::unreadable_literal, dead_code)]",
        "",
        "/// One operator: its name, its output's scale and zero point, and for `FULLY_CONNECTED`",
        "/// its int8 weights (`[out][in]`), int32 bias and per-channel weight scales.",
        "pub struct Op {",
        "    pub name: &'static str,",
        "    pub scale: f32,",
        "    pub zero_point: i32,",
        "    pub weights: &'static [&'static [i8]],",
        "    pub bias: &'static [i32],",
        "    pub weight_scales: &'static [f32],",
        "}",
        "",
        "pub const OPS: &[Op] = &[",
    ]
    for r in records:
        lines += [
            "    Op {",
            f"        name: \"{r['op']}\",",
            f"        scale: {base.rust_f32(r['scale'])},",
            f"        zero_point: {r['zero_point']},",
            f"        weights: &[{rows(r.get('weights', []))}],",
            f"        bias: &{base.rust_list(r.get('bias', []))},",
            f"        weight_scales: &[{', '.join(base.rust_f32(s) for s in r.get('weight_scales', []))}],",
            "    },",
        ]
    lines += ["];", ""]
    lines += base.rust_outputs("outputs", inputs, micro_out, reference, "i8")
    # The sigmoid-output model of tools/tflite_int8.py (2 → 4 relu → 1 sigmoid): both
    # interpreters' outputs on the same kind of grid, for its import.
    sigmoid = (base.MODELS_DIR / "sigmoid_output.tflite").read_bytes()
    lines += [""] + base.rust_outputs(
        "sigmoid_output", inputs, base.run_micro(sigmoid, inputs), base.run_reference(sigmoid, inputs), "i8"
    )
    lines = [line.replace("Outputs<i8> = Outputs {", "super::tflite_outputs::Outputs<i8> = super::tflite_outputs::Outputs {") for line in lines]
    OUT.write_text("\n".join(lines) + "\n")
    subprocess.run(["rustfmt", "--edition", "2024", str(OUT)], check=True)
    softmax_model(rng)
    # The model written back by `dropout::io::to_tflite`: both interpreters must compute what
    # they compute for the converter's file.
    subprocess.run(["cargo", "run", "--quiet", "--example", "export_tflite", "--",
                    str(base.MODELS_DIR / "exported")], cwd=base.ROOT, check=True)
    exported = (base.MODELS_DIR / "exported" / f"{NAME}.tflite").read_bytes()
    if base.run_micro(exported, inputs) != micro_out or base.run_reference(exported, inputs) != reference:
        raise SystemExit("the exported model computes other outputs than the converter's")
    differing = sum(r != m for r, m in zip(reference, micro_out))
    print(f"wrote {OUT}: {len(inputs)} inputs, {differing} where the interpreters differ", file=sys.stderr)
    ranges = [(-1, 1), (-4, 4), (-8, 8), (-3, 10), (-20, 20), (-0.1, 0.3)]
    for activation in ("sigmoid", "tanh"):
        apart = [activation_alone(activation, low, high) for low, high in ranges]
        print(
            f"{activation} alone at {len(ranges)} input scales: TFLite Micro differs from the table on "
            f"{sum(m for m, _ in apart)} of {256 * len(ranges)} inputs, the reference kernels on {sum(r for _, r in apart)}",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
