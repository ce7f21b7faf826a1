#!/usr/bin/env python3
"""Exports a PyTorch `nn.Sequential` to safetensors and prints the matching `network!` declaration.

    python3 -m venv .venv && .venv/bin/pip install torch safetensors
    .venv/bin/python tools/export_torch.py model.pt model.safetensors --name Net

`model.pt` is a whole module saved with `torch.save(model, "model.pt")`. Supported modules:
`Linear`, `ReLU`, `LeakyReLU`, `ELU`, `SELU`, `GELU()` (the exact form), `SiLU`, `Softplus()` (β = 1,
threshold 20), `Sigmoid`, `Tanh`, `Identity`, `Softmax(dim=-1)` (last layer only), `Dropout` and
`AlphaDropout`, in the order Dropout? (Linear activation? Dropout?)+; float32 or float64.

The declaration reads each layer's `weight` and `bias` from the file, under the names of the
module's `state_dict` (`0.weight`, `0.bias`, …): the macro checks every shape and dtype at
compile time. The path in the declaration is relative to the Rust crate's directory; pass
`--path-in-declaration` when the file is not at the same relative path there.

From Python, `export(model, path, name)` returns the declaration as a string.
"""

import argparse
import pathlib
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from torch_common import describe  # noqa: E402

def gelu(module):
    if module.approximate != "none":
        raise ValueError(f"GELU(approximate={module.approximate!r}) is not supported: only the exact form")
    return "gelu"


def softplus(module):
    if module.beta != 1 or module.threshold != 20:
        raise ValueError(f"Softplus(beta={module.beta}, threshold={module.threshold}) is not supported: only the defaults")
    return "softplus"


ACTIVATIONS = {
    torch.nn.ReLU: lambda m: "relu",
    torch.nn.LeakyReLU: lambda m: f"leaky_relu({m.negative_slope!r})",
    torch.nn.ELU: lambda m: f"elu({float(m.alpha)!r})",
    torch.nn.SELU: lambda m: "selu",
    torch.nn.GELU: gelu,
    torch.nn.SiLU: lambda m: "silu",
    torch.nn.Softplus: softplus,
    torch.nn.Sigmoid: lambda m: "sigmoid",
    torch.nn.Tanh: lambda m: "tanh",
    torch.nn.Identity: lambda m: "identity",
}


def site(module):
    """The `network!` site of a Dropout or AlphaDropout module, or None for any other module."""
    if isinstance(module, torch.nn.AlphaDropout):
        return f"alpha_dropout(p = {module.p!r})"
    if isinstance(module, torch.nn.Dropout):
        return f"dropout(p = {module.p!r})"
    return None


def layers_of(model):
    """[(index, Linear, activation text, site text or None)], and the input's site or None."""
    modules = list(model.named_children())
    layers, input_site, k = [], None, 0
    if modules and site(modules[0][1]) is not None:
        input_site, k = site(modules[0][1]), 1
    while k < len(modules):
        index, linear = modules[k]
        if not isinstance(linear, torch.nn.Linear):
            raise ValueError(f"module {index} is {linear}; expected Linear (supported: {', '.join(c.__name__ for c in ACTIVATIONS)}, Softmax, Dropout, AlphaDropout)")
        k += 1
        activation = "identity"
        if k < len(modules):
            module = modules[k][1]
            if type(module) in ACTIVATIONS:
                activation, k = ACTIVATIONS[type(module)](module), k + 1
            elif isinstance(module, torch.nn.Softmax):
                if module.dim not in (-1, None) and module.dim != 1:
                    raise ValueError(f"module {modules[k][0]}: only Softmax over the last dimension is supported")
                activation, k = "softmax", k + 1
        after = None
        if k < len(modules) and site(modules[k][1]) is not None:
            after, k = site(modules[k][1]), k + 1
        layers.append((index, linear, activation, after))
    if not layers:
        raise ValueError("the model has no Linear layer")
    if layers[-1][3] is not None:
        raise ValueError("a Dropout after the last layer has no counterpart in network!: remove it")
    return layers, input_site


def export(model, path, name="Net", path_in_declaration=None, visibility="pub "):
    """Writes `model`'s parameters to `path` (safetensors) and returns its `network!` declaration."""
    layers, input_site = layers_of(model)
    dtypes = {linear.weight.dtype for _, linear, _, _ in layers}
    if dtypes == {torch.float32}:
        scalar = "f32"
    elif dtypes == {torch.float64}:
        scalar = "f64"
    else:
        raise ValueError(f"parameters must all be float32 or all float64, found {dtypes}")
    tensors = {}
    for index, linear, _, _ in layers:
        tensors[f"{index}.weight"] = linear.weight.detach().contiguous()
        tensors[f"{index}.bias"] = linear.bias.detach().contiguous()
    save_file(tensors, str(path), metadata={"exported_by": "dropout tools/export_torch.py"})
    source = path_in_declaration or str(path)
    lines = [f"    /// Exported from PyTorch: `{describe(model)}`.", f"    {visibility}struct {name}<{scalar}> {{"]
    head = f"        input: {layers[0][1].in_features},"
    if input_site is not None:
        head += f" {input_site},"
    lines.append(head)
    for index, linear, activation, after in layers:
        tail = f" {after}," if after is not None else ""
        lines.append(
            f"        l{index}: dense {linear.out_features} {activation} {{\n"
            f"            weights: file(\"{source}\", \"{index}.weight\"),\n"
            f"            bias: file(\"{source}\", \"{index}.bias\"),\n"
            f"        }},{tail}"
        )
    lines.append("    }")
    return "network! {\n" + "\n".join(lines) + "\n}\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a module saved with torch.save(model, path)")
    parser.add_argument("output", help="the safetensors file to write")
    parser.add_argument("--name", default="Net", help="the Rust struct's name")
    parser.add_argument("--path-in-declaration", help="the file's path relative to the Rust crate")
    args = parser.parse_args()
    model = torch.load(args.model, weights_only=False)
    if not isinstance(model, torch.nn.Sequential):
        sys.exit(f"{args.model} holds a {type(model).__name__}, not an nn.Sequential")
    try:
        print(export(model, args.output, args.name, args.path_in_declaration))
    except ValueError as err:
        sys.exit(f"cannot export: {err}")


if __name__ == "__main__":
    main()
