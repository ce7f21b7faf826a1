#!/usr/bin/env python3
"""Times 784-128-10 in onnxruntime, in f32 and quantized to int8 (QDQ, per-channel weights, int8
activations, the way `onnxruntime.quantization.quantize_static` writes it, run by onnxruntime's
MLAS kernels), on a batch of 1024 rows (B1, QB) and one row (M2, Q2), and prints JSON medians.

    .venv/bin/pip install onnx onnxruntime numpy
    .venv/bin/python benches/peers/onnxruntime_peer.py

Each is timed with onnxruntime's default thread count (every core) and with one intra-op
thread, as this crate's passes run on one; the machine's cores are in the output.
"""

import json
import os
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

sys.path.insert(0, os.path.dirname(__file__))
from timing import median_ns  # noqa: E402  (the timing loop every peer shares)


def model(rng):
    w1 = rng.uniform(-0.1, 0.1, (784, 128)).astype(np.float32)
    b1 = rng.uniform(-0.1, 0.1, 128).astype(np.float32)
    w2 = rng.uniform(-0.1, 0.1, (128, 10)).astype(np.float32)
    b2 = rng.uniform(-0.1, 0.1, 10).astype(np.float32)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["m1"]),
        helper.make_node("Add", ["m1", "b1"], ["z1"]),
        helper.make_node("Relu", ["z1"], ["a1"]),
        helper.make_node("MatMul", ["a1", "w2"], ["m2"]),
        helper.make_node("Add", ["m2", "b2"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 784])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])],
        [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


class Rows(CalibrationDataReader):
    def __init__(self, rows):
        self.rows = iter([{"x": row[None, :]} for row in rows])

    def get_next(self):
        return next(self.rows, None)


def session(path, threads):
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    # benches/run.py pins itself to one core; onnxruntime's default is every core the machine has.
    os.sched_setaffinity(0, range(os.cpu_count()))
    rng = np.random.default_rng(3)
    batch = rng.uniform(-1, 1, (1024, 784)).astype(np.float32)
    results = {"cores": os.cpu_count(), "onnxruntime": ort.__version__, "median_ns": {}}
    with tempfile.TemporaryDirectory() as dir:
        f32 = os.path.join(dir, "f32.onnx")
        int8 = os.path.join(dir, "int8.onnx")
        onnx.save(model(rng), f32)
        quantize_static(
            f32, int8, Rows(batch[:64]), quant_format=QuantFormat.QDQ, per_channel=True,
            activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
        )
        for name, path in (("f32", f32), ("int8", int8)):
            for threads, label in ((0, "default"), (1, "1 thread")):
                s = session(path, threads)
                one = batch[:1]
                results["median_ns"][f"{name} batch 1024, {label}"] = median_ns(lambda: s.run(None, {"x": batch}))
                results["median_ns"][f"{name} one row, {label}"] = median_ns(lambda: s.run(None, {"x": one}))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
