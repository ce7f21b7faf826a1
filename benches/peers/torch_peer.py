#!/usr/bin/env python3
"""Times the BENCHMARKS.md workloads in PyTorch (eager, one thread) and prints JSON medians.

    python3 -m venv .venv && .venv/bin/pip install torch numpy threadpoolctl
    .venv/bin/python benches/peers/torch_peer.py            # every workload
    .venv/bin/python benches/peers/torch_peer.py B1 TR      # only these
    .venv/bin/python benches/peers/torch_peer.py --default-threads B1 TR   # PyTorch's own thread count

Each workload runs in blocks of calls sized to take about 20 ms; the median over 25 blocks of the
time per call is reported. The networks have the shapes of benches/workloads.rs, with PyTorch's
own initialisation (timings do not depend on the values).
"""

import json
import os
import platform
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from timing import median_ns  # noqa: E402

DEFAULT_THREADS = "--default-threads" in sys.argv
if not DEFAULT_THREADS:
    torch.set_num_threads(1)
torch.manual_seed(0)


def mlp(sizes, p=0.0, input_p=None):
    layers = []
    if input_p is not None:
        layers.append(torch.nn.Dropout(input_p))
    for k in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
            layers.append(torch.nn.Dropout(p))
    return torch.nn.Sequential(*layers)


def main():
    wanted = set(sys.argv[1:]) - {"--default-threads"}

    def measure(key, fn):
        if not wanted or key.split("/")[0] in wanted:
            results[key] = median_ns(fn)

    results = {}
    toy = mlp([2, 3, 3, 2, 1], p=0.5).eval()
    mnist = mlp([784, 128, 10], p=0.5, input_p=0.5).eval()
    deep = mlp([64, 256, 256, 10], p=0.5).eval()
    with torch.no_grad():
        x = torch.ones(2)
        measure("T1", lambda: toy(x))
        batch = torch.rand(4096, 2) * 2 - 1
        measure("T2", lambda: toy(batch))
        x784 = torch.rand(784) * 2 - 1
        measure("M2", lambda: mnist(x784))
        x64 = torch.rand(64) * 2 - 1
        measure("M3", lambda: deep(x64))
        batch784 = torch.rand(1024, 784) * 2 - 1
        measure("B1", lambda: mnist(batch784))
        # Training-mode forward passes: PyTorch multiplies by the mask whatever p is.
        mnist.train()
        measure("D1/p0.5", lambda: mnist(x784))
        for module in mnist:
            if isinstance(module, torch.nn.Dropout):
                module.p = 0.0
        measure("D1/p0", lambda: mnist(x784))

    deep.train()
    optimizer = torch.optim.SGD(deep.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    inputs = torch.rand(64, 64) * 2 - 1
    labels = torch.arange(64) % 10

    def step():
        optimizer.zero_grad()
        loss = loss_fn(deep(inputs), labels)
        loss.backward()
        optimizer.step()

    measure("TR", step)
    out = {
        "peer": f"PyTorch {torch.__version__}",
        "python": platform.python_version(),
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "median_ns": results,
    }
    json.dump(out, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
