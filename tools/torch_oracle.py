#!/usr/bin/env python3
"""Writes tests/torch_oracle.rs: networks built and evaluated by PyTorch, as `network!` declarations.

Each network is a random `nn.Sequential` of Dropout / Linear / activation modules in float32 or
float64, with PyTorch's default initialisation; twenty more are of the dropout family (SELU
with AlphaDropout, ELU, GELU, SiLU, Softplus), from a generator of their own, and twelve more of
ReLU6 and Hardsigmoid, from a third. For several random inputs the script records
PyTorch's output in evaluation mode (`model.eval()`) and under given dropout masks, applied the
way PyTorch's dropout applies its own: x * mask / (1 - p). The Rust file declares the same
networks with their literal weights and turns every recorded case into a `test` block, so that
`cargo test` checks this crate against PyTorch without needing Python.

Usage (PyTorch installs from PyPI):

    python3 -m venv .venv && .venv/bin/pip install torch numpy
    .venv/bin/python tools/torch_oracle.py            # rewrites tests/torch_oracle.rs

Every fifth network also gets a plain `#[test]` of inputs holding NaN, +∞ or −∞ (which `test`
blocks cannot hold): in evaluation mode, and under masks that keep the non-finite unit and, where
the input has a dropout site, that drop it (PyTorch's x · 0 is NaN for a non-finite x). Those cases
come from a second generator, so that the other cases stay as they are.

The output depends only on the seed below and the PyTorch version, which the file header records.
"""

import copy
import pathlib
import subprocess
import random
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from torch_common import describe, masked_forward, vector  # noqa: E402

SEED = 20261127
N_NETWORKS = 60
N_INPUTS_PER_NETWORK = 3
N_MASKS_PER_INPUT = 2
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "torch_oracle.rs"

HIDDEN_ACTIVATIONS = ["relu", "leaky_relu", "sigmoid", "tanh", "identity"]
OUTPUT_ACTIVATIONS = ["identity", "sigmoid", "tanh", "softmax", "relu"]
PROBABILITIES = [0.0, 0.1, 0.25, 0.5, 0.8]
# The dropout family: more networks, from their own generator (so that the ones above stay as
# they are), with these activations and alpha dropout after SELU layers.
N_FAMILY = 20
FAMILY_ACTIVATIONS = ["selu", "selu", "elu", "gelu", "silu", "softplus", "relu", "tanh"]
FAMILY_OUTPUTS = ["identity", "selu", "elu", "gelu", "silu", "softplus"]
# The piecewise-linear activations of quantized networks, ReLU6 and Hardsigmoid: more networks, from
# a generator of their own (so that the ones above stay as they are).
N_PIECEWISE = 12
PIECEWISE_ACTIVATIONS = ["relu6", "hard_sigmoid", "relu6", "hard_sigmoid", "relu", "tanh"]
PIECEWISE_OUTPUTS = ["relu6", "hard_sigmoid", "identity"]


def activation_module(name, alpha):
    return {
        "selu": torch.nn.SELU(),
        "elu": torch.nn.ELU(alpha if alpha is not None else 1.0),
        "gelu": torch.nn.GELU(),
        "silu": torch.nn.SiLU(),
        "softplus": torch.nn.Softplus(),
        "relu6": torch.nn.ReLU6(),
        "hard_sigmoid": torch.nn.Hardsigmoid(),
        "relu": torch.nn.ReLU(),
        "leaky_relu": torch.nn.LeakyReLU(alpha),
        "sigmoid": torch.nn.Sigmoid(),
        "tanh": torch.nn.Tanh(),
        "identity": torch.nn.Identity(),
        "softmax": torch.nn.Softmax(dim=-1),
    }[name]


class Site:
    """A dropout site of a random network: its probability, and whether it is alpha dropout."""

    def __init__(self, p, alpha):
        self.p, self.alpha = p, alpha

    def module(self):
        return torch.nn.AlphaDropout(self.p) if self.alpha else torch.nn.Dropout(self.p)

    def declared(self):
        return f"{'alpha_dropout' if self.alpha else 'dropout'}(p = {self.p})"


def random_network(rng, index, family=False, activations=None):
    dtype = torch.float32 if index % 2 == 0 else torch.float64
    depth = rng.randint(1, 4)
    sizes = [rng.randint(1, 12) for _ in range(depth + 1)]
    hidden, outputs = (FAMILY_ACTIVATIONS, FAMILY_OUTPUTS) if family else (HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS)
    if activations is not None:
        hidden, outputs = activations
    modules, layers = [], []
    input_site = (
        Site(rng.choice(PROBABILITIES[:4] if family else PROBABILITIES), family and rng.random() < 0.5)
        if rng.random() < 0.5
        else None
    )
    if input_site is not None:
        modules.append(input_site.module())
    for k in range(depth):
        last = k == depth - 1
        activation = rng.choice(outputs if last else hidden)
        if activation == "leaky_relu":
            alpha = rng.choice([0.01, 0.1, 0.2])
        elif activation == "elu":
            alpha = rng.choice([0.5, 1.0, 1.5])
        else:
            alpha = None
        linear = torch.nn.Linear(sizes[k], sizes[k + 1], dtype=dtype)
        modules += [linear, activation_module(activation, alpha)]
        site = None
        if not last and rng.random() >= 0.3:
            site = Site(rng.choice(PROBABILITIES[:4] if family else PROBABILITIES), activation == "selu")
        if site is not None:
            modules.append(site.module())
        layers.append((linear, activation, alpha, site))
    return torch.nn.Sequential(*modules), dtype, sizes, input_site, layers


def declaration(name, model, dtype, sizes, input_site, layers, rng):
    scalar = "f32" if dtype == torch.float32 else "f64"
    lines = [f"    /// `{describe(model)}`", f"    struct {name}<{scalar}> {{"]
    head = f"        input: {sizes[0]},"
    if input_site is not None:
        head += f" {input_site.declared()},"
    lines.append(head)
    for linear, activation, alpha, site in layers:
        act = f"{activation}({alpha})" if activation in ("leaky_relu", "elu") else activation
        weights = ", ".join(vector(row, dtype) for row in linear.weight.detach().numpy())
        bias = vector(linear.bias.detach().numpy(), dtype)
        tail = f" {site.declared()}," if site is not None else ""
        lines.append(f"        dense {linear.out_features} {act} {{ weights: [{weights}], bias: {bias} }},{tail}")

    site_sizes = ([sizes[0]] if input_site is not None else []) + [
        linear.out_features for linear, _, _, site in layers if site is not None
    ]
    site_ps = ([input_site.p] if input_site is not None else []) + [
        site.p for _, _, _, site in layers if site is not None
    ]
    model.eval()
    with torch.no_grad():
        for i in range(N_INPUTS_PER_NETWORK):
            x = torch.randn(sizes[0], dtype=dtype, generator=GENERATOR)
            y = model(x)
            lines.append(f"        test eval_{i} {{ input: {vector(x.numpy(), dtype)}, expect: {vector(y.numpy(), dtype)} }}")
            if not site_sizes:
                continue
            for j in range(N_MASKS_PER_INPUT):
                masks = [
                    torch.tensor([1.0 if rng.random() >= p else 0.0 for _ in range(size)], dtype=dtype)
                    for size, p in zip(site_sizes, site_ps)
                ]
                y = masked_forward(model, x, masks)
                bits = ", ".join("[" + ", ".join(str(int(b)) for b in m.tolist()) + "]" for m in masks)
                lines.append(
                    f"        test masked_{i}_{j} {{ input: {vector(x.numpy(), dtype)}, masks: [{bits}], "
                    f"expect: {vector(y.numpy(), dtype)} }}"
                )
    lines.append("    }")
    return "network! {\n" + "\n".join(lines) + "\n}\n"


def ieee(model, x, masks, y):
    """`y` with one exception: PyTorch's float32 GELU gives NaN at +∞ where its float64 GELU, and
    the formula x·Φ(x) in IEEE arithmetic, give +∞. Where the float64 pass of the same network
    is ±∞ and the float32 one NaN, this takes the float64 value (the crate computes +∞)."""
    if x.dtype != torch.float32 or not any(isinstance(m, torch.nn.GELU) for m in model):
        return y
    wide = copy.deepcopy(model).double()
    with torch.no_grad():
        y64 = wide(x.double()) if masks is None else masked_forward(wide, x.double(), [m.double() for m in masks])
    return torch.where(torch.isnan(y) & torch.isinf(y64), y64.float(), y)


def non_finite_test(name, model, dtype, sizes, input_site, layers, rng, generator):
    """A `#[test]` of inputs with NaN or ±∞, in evaluation mode and under masks."""
    scalar = "f32" if dtype == torch.float32 else "f64"
    input_p = input_site.p if input_site is not None else None
    fields = (["input"] if input_p is not None else []) + [
        f"h{k + 1}" for k, (_, _, _, site) in enumerate(layers) if site is not None
    ]
    site_sizes = ([sizes[0]] if input_p is not None else []) + [
        linear.out_features for linear, _, _, site in layers if site is not None
    ]
    lines = [f"#[test]", f"fn {name.lower()}_non_finite() {{", f"    let net = {name}::new();"]
    model.eval()
    with torch.no_grad():
        for bad in (float("nan"), float("inf"), float("-inf")):
            x = torch.randn(sizes[0], dtype=dtype, generator=generator)
            at = rng.randrange(sizes[0])
            x[at] = bad
            lines.append(f"    let x: [{scalar}; {sizes[0]}] = {vector(x.numpy(), dtype)};")
            lines.append(f"    expect(&net.forward(&x), &{vector(ieee(model, x, None, model(x)).numpy(), dtype)});")
            if not fields:
                continue
            for drop_it in ([False, True] if input_p is not None else [False]):
                masks = [
                    torch.tensor([1.0 if rng.random() >= 0.3 else 0.0 for _ in range(size)], dtype=dtype)
                    for size in site_sizes
                ]
                if input_p is not None:
                    masks[0][at] = 0.0 if drop_it else 1.0
                y = ieee(model, x, masks, masked_forward(model, x, masks))
                bits = ", ".join(
                    f"{field}: [" + ", ".join("true" if b else "false" for b in m.tolist()) + "]"
                    for field, m in zip(fields, masks)
                )
                lines.append(f"    let masks = {name}Masks {{ {bits} }};")
                lines.append(f"    expect(&net.forward_masked(&x, &masks), &{vector(y.numpy(), dtype)});")
    lines.append("}")
    return "\n".join(lines) + "\n"


EXPECT = """
/// NaN where PyTorch gives NaN, the same infinity where it gives one, and elsewhere agreement
/// within the default tolerance of a `test` block.
#[track_caller]
fn expect<T: dropout::Float>(got: &[T], want: &[T]) {
    let tolerance = T::SCALAR.test_tolerance();
    let agrees = got.len() == want.len()
        && got.iter().zip(want).all(|(&g, &w)| {
            let (g, w) = (g.to_f64(), w.to_f64());
            if w.is_nan() {
                g.is_nan()
            } else if w.is_infinite() {
                g == w
            } else {
                (g - w).abs() <= tolerance * w.abs().max(1.0)
            }
        });
    assert!(agrees, "the network computed {got:?}, PyTorch {want:?}");
}
"""


def main():
    global GENERATOR
    rng = random.Random(SEED)
    torch.manual_seed(SEED)
    GENERATOR = torch.Generator().manual_seed(SEED)
    torch.set_num_threads(1)
    blocks, networks = [], []
    for index in range(N_NETWORKS):
        model, dtype, sizes, input_site, layers = random_network(rng, index)
        blocks.append(declaration(f"Torch{index:02}", model, dtype, sizes, input_site, layers, rng))
        networks.append((f"Torch{index:02}", model, dtype, sizes, input_site, layers))
    family_rng = random.Random(SEED + 2)
    for index in range(N_NETWORKS, N_NETWORKS + N_FAMILY):
        model, dtype, sizes, input_site, layers = random_network(family_rng, index, family=True)
        blocks.append(declaration(f"Torch{index:02}", model, dtype, sizes, input_site, layers, family_rng))
        networks.append((f"Torch{index:02}", model, dtype, sizes, input_site, layers))
    piecewise_rng = random.Random(SEED + 4)
    first_piecewise = N_NETWORKS + N_FAMILY
    for index in range(first_piecewise, first_piecewise + N_PIECEWISE):
        model, dtype, sizes, input_site, layers = random_network(
            piecewise_rng, index, activations=(PIECEWISE_ACTIVATIONS, PIECEWISE_OUTPUTS)
        )
        blocks.append(declaration(f"Torch{index:02}", model, dtype, sizes, input_site, layers, piecewise_rng))
        networks.append((f"Torch{index:02}", model, dtype, sizes, input_site, layers))
    non_finite_rng = random.Random(SEED + 1)
    non_finite_generator = torch.Generator().manual_seed(SEED + 1)
    non_finite = [
        non_finite_test(*network, non_finite_rng, non_finite_generator)
        for index, network in enumerate(networks[:N_NETWORKS])
        if index % 5 == 0
    ]
    family_non_finite_rng = random.Random(SEED + 3)
    family_non_finite_generator = torch.Generator().manual_seed(SEED + 3)
    non_finite += [
        non_finite_test(*network, family_non_finite_rng, family_non_finite_generator)
        for index, network in enumerate(networks[N_NETWORKS:first_piecewise])
        if index % 4 == 0
    ]
    piecewise_non_finite_rng = random.Random(SEED + 5)
    piecewise_non_finite_generator = torch.Generator().manual_seed(SEED + 5)
    non_finite += [
        non_finite_test(*network, piecewise_non_finite_rng, piecewise_non_finite_generator)
        for index, network in enumerate(networks[first_piecewise:])
        if index % 3 == 0
    ]
    header = f"""//! Networks built and evaluated by PyTorch {torch.__version__} (seed {SEED}), declared with their
//! literal weights. Every `test` block holds PyTorch's output for one input, in evaluation mode or
//! under the given masks (applied as x · mask / (1 − p)); the default tolerances, 1e-5 for f32 and
//! 1e-12 for f64 relative to max(1, |expected|), are the agreement bounds. The `*_non_finite`
//! tests hold inputs with NaN or ±∞: the network must give NaN and infinities where PyTorch does,
//! with one exception: PyTorch's float32 GELU gives NaN at +∞ where its float64 GELU (and the
//! formula in IEEE arithmetic) gives +∞, which is what this crate computes in both types.
//!
//! Generated by `tools/torch_oracle.py`; do not edit. Regenerate with
//! `python3 -m venv .venv && .venv/bin/pip install torch numpy && .venv/bin/python tools/torch_oracle.py`.
#![expect(
    clippy::unreadable_literal,
    reason = "PyTorch's numbers, written as the shortest decimals that read back exactly"
)]
#![expect(
    clippy::too_many_lines,
    reason = "a generated test holds each of PyTorch's non-finite cases for one network"
)]

use dropout::network;

"""
    OUT.write_text(header + "\n".join(blocks) + "\n" + "\n".join(non_finite) + EXPECT)
    subprocess.run(["rustfmt", "--edition", "2024", str(OUT)], check=True)
    n_tests = sum(block.count("        test ") for block in blocks)
    n_non_finite = sum(test.count("expect(&") for test in non_finite)
    print(
        f"wrote {OUT} ({N_NETWORKS + N_FAMILY + N_PIECEWISE} networks, {n_tests} cases, {n_non_finite} non-finite cases)",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
