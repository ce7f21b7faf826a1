#!/usr/bin/env python3
"""PyTorch's side of the digits comparison in README.md ("Monte Carlo dropout, measured"): the
network of examples/uncertainty.rs trained with the same recipe over 5 seeds, measured the same
way, printed as the README's table (mean ± standard deviation over the seeds) with the median
training time.

The recipe is the example's: 64 → 128 relu → dropout(0.5) → 128 relu → dropout(0.5) → 10; the
same 1,200 training digits (the indices `cargo run --release --example uncertainty -- --split`
writes) and the same 597 test digits, grey levels / 16; Adam (learning rate 1e-3, betas 0.9 and
0.999, eps 1e-8), 40 epochs, batches of 32 reshuffled every epoch, softmax cross-entropy; the
deterministic pass (`model.eval()`) and MC dropout over T = 100 masked passes
(`model.train()`, no gradients); accuracy, NLL, Brier score and ECE over 15 equal-width bins of
the top probability. Weights start from PyTorch's default initialisation (the example's are
He-uniform, drawn from its own generator): the seeds change the initial weights, the order of
the batches and the masks on both sides. Training runs on one thread
(`torch.set_num_threads(1)`), as the example's trainer does.

Usage (PyTorch and numpy from PyPI):

    python3 -m venv .venv && .venv/bin/pip install torch numpy
    .venv/bin/python tools/uncertainty_torch.py
"""

import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn

ROOT = pathlib.Path(__file__).resolve().parent.parent
SEEDS, EPOCHS, BATCH, LR, PASSES, BINS, P = 5, 40, 32, 1e-3, 100, 15, 0.5


def load():
    data = np.loadtxt(ROOT / "examples/data/digits.csv", delimiter=",", skiprows=1)
    x = (data[:, :64] / 16.0).astype(np.float32)
    y = data[:, 64].astype(np.int64)
    with tempfile.TemporaryDirectory() as tmp:
        split = pathlib.Path(tmp) / "split.txt"
        subprocess.run(
            ["cargo", "run", "--quiet", "--release", "--example", "uncertainty", "--",
             "--split", str(split)],
            cwd=ROOT,
            check=True,
        )
        train = np.array([int(line) for line in split.read_text().split()])
    test = np.setdiff1d(np.arange(len(y)), train)
    return x, y, train, test


def scores(probs, labels):
    top = probs.max(axis=1)
    right = probs.argmax(axis=1) == labels
    onehot = np.eye(probs.shape[1])[labels]
    bins = np.minimum((top * BINS).astype(int), BINS - 1)
    ece = sum(
        abs(right[bins == b].mean() - top[bins == b].mean()) * (bins == b).mean()
        for b in range(BINS)
        if (bins == b).any()
    )
    nll = -np.log(probs[np.arange(len(labels)), labels]).mean()
    brier = ((probs - onehot) ** 2).sum(axis=1).mean()
    return np.array([right.mean(), nll, brier, ece])


def run(seed, x, y, train, test):
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Dropout(P),
        nn.Linear(128, 128), nn.ReLU(), nn.Dropout(P),
        nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x[train]), torch.from_numpy(y[train])
    start = time.perf_counter()
    model.train()
    for _ in range(EPOCHS):
        order = torch.randperm(len(train))
        for i in range(0, len(train), BATCH):
            batch = order[i : i + BATCH]
            optimizer.zero_grad()
            loss(model(xt[batch]), yt[batch]).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    xs = torch.from_numpy(x[test])
    with torch.no_grad():
        model.eval()
        det = torch.softmax(model(xs).double(), dim=1).numpy()
        model.train()
        mc = np.mean(
            [torch.softmax(model(xs).double(), dim=1).numpy() for _ in range(PASSES)], axis=0
        )
    return scores(det, y[test]), scores(mc, y[test]), seconds


def main():
    torch.set_num_threads(1)
    x, y, train, test = load()
    runs = [run(seed, x, y, train, test) for seed in range(SEEDS)]
    print(f"| PyTorch {torch.__version__.split('+')[0]}, {SEEDS} seeds | accuracy | NLL | Brier | ECE (15 bins) |")
    print("|---|---|---|---|---|")
    for k, name in enumerate(["deterministic", f"MC dropout, T = {PASSES}"]):
        values = np.array([r[k] for r in runs])
        mean, std = values.mean(axis=0), values.std(axis=0, ddof=1)
        cells = " | ".join(f"{m:.4f} ± {s:.4f}" for m, s in zip(mean, std))
        print(f"| {name} | {cells} |")
    times = sorted(r[2] for r in runs)
    print(f"\ntraining time, median of {SEEDS}: {times[len(times) // 2]:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
