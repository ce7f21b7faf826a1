#!/usr/bin/env python3
"""Times the evaluation workloads of BENCHMARKS.md in numpy and prints JSON medians.

    .venv/bin/python benches/peers/numpy_peer.py            # every workload
    .venv/bin/python benches/peers/numpy_peer.py B1         # only these
    .venv/bin/python benches/peers/numpy_peer.py --default-threads B1   # BLAS's own thread count

A forward pass is `a = relu(W @ a + b)` per layer (`X @ W.T + b` for batches), float32, with
BLAS limited to one thread through the environment variables set below before numpy loads.
The output names the BLAS library and the kernel it chose for this CPU (threadpoolctl's
report); `benches/run.py` runs this script without `OPENBLAS_CORETYPE` or
`OPENBLAS_L2_SIZE`, so that OpenBLAS picks its own kernel.
"""

import json
import os
import platform
import sys

DEFAULT_THREADS = "--default-threads" in sys.argv
if not DEFAULT_THREADS:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from timing import median_ns  # noqa: E402  (the timing loop every peer shares)


def network(sizes, rng):
    return [
        (rng.uniform(-0.1, 0.1, (sizes[k + 1], sizes[k])).astype(np.float32),
         rng.uniform(-0.1, 0.1, sizes[k + 1]).astype(np.float32))
        for k in range(len(sizes) - 1)
    ]


def forward(layers, x):
    for k, (w, b) in enumerate(layers):
        x = w @ x + b
        if k < len(layers) - 1:
            x = np.maximum(x, 0)
    return x


def forward_batch(layers, x):
    for k, (w, b) in enumerate(layers):
        x = x @ w.T + b
        if k < len(layers) - 1:
            x = np.maximum(x, 0)
    return x


def blas():
    """The BLAS numpy calls, and the kernel it uses on this CPU."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl is not installed)"
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return f"{info.get('internal_api')} {info.get('version')}, {info.get('architecture')} kernel"
    return "unknown"


def blas_threads():
    """How many threads the BLAS uses."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return info.get("num_threads")
    return None


def main():
    wanted = set(sys.argv[1:]) - {"--default-threads"}
    rng = np.random.default_rng(0)
    toy = network([2, 3, 3, 2, 1], rng)
    mnist = network([784, 128, 10], rng)
    deep = network([64, 256, 256, 10], rng)
    workloads = {
        "T1": lambda: forward(toy, np.ones(2, np.float32)),
        "T2": lambda b=rng.uniform(-1, 1, (4096, 2)).astype(np.float32): forward_batch(toy, b),
        "M2": lambda x=rng.uniform(-1, 1, 784).astype(np.float32): forward(mnist, x),
        "M3": lambda x=rng.uniform(-1, 1, 64).astype(np.float32): forward(deep, x),
        "B1": lambda b=rng.uniform(-1, 1, (1024, 784)).astype(np.float32): forward_batch(mnist, b),
    }
    results = {key: median_ns(fn) for key, fn in workloads.items() if not wanted or key in wanted}
    json.dump({"peer": f"numpy {np.__version__}", "python": platform.python_version(), "blas": blas(),
               "threads": blas_threads(), "median_ns": results}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
