"""Helpers shared by the PyTorch tools: describing a model, masked passes, Rust literals.

Needs only torch (and numpy for float32 literals).
"""

import torch


def describe(model):
    """`nn.Sequential(Dropout(p=0.25), Linear(3, 5), ReLU(), …)` on one line."""

    def one(module):
        if isinstance(module, torch.nn.Linear):
            return f"Linear({module.in_features}, {module.out_features})"
        if isinstance(module, torch.nn.Dropout):
            return f"Dropout(p={module.p})"
        if isinstance(module, torch.nn.AlphaDropout):
            return f"AlphaDropout(p={module.p})"
        return str(module)

    return "nn.Sequential(" + ", ".join(one(m) for m in model) + ")"


ALPHA = 1.7580993408473766


def masked_forward(model, x, masks):
    """A training pass with the given masks, one per Dropout or AlphaDropout module, as
    PyTorch's dropout does it (for alpha dropout, ATen's `_dropout_impl` with the mask as its
    noise)."""
    masks = iter(masks)
    for module in model:
        if isinstance(module, torch.nn.Dropout):
            x = x * next(masks) / (1.0 - module.p)
        elif isinstance(module, torch.nn.AlphaDropout):
            p, noise = module.p, next(masks).clone()
            a = 1.0 / ((ALPHA * ALPHA * p + 1) * (1 - p)) ** 0.5
            b = noise.add(-1).mul_(ALPHA * a).add_(ALPHA * a * p)
            noise.mul_(a)
            x = x * noise + b
        else:
            x = module(x)
    return x


def literal(value, dtype):
    """The shortest decimal that reads back as exactly this value of the given type; NaN and the
    infinities as the type's constants (`f32::NAN`)."""
    import math

    if math.isnan(value) or math.isinf(value):
        scalar = "f32" if dtype == torch.float32 else "f64"
        name = "NAN" if math.isnan(value) else ("INFINITY" if value > 0 else "NEG_INFINITY")
        return f"{scalar}::{name}"
    if dtype == torch.float32:
        import numpy as np

        return np.format_float_positional(np.float32(value), unique=True, trim="0")
    text = repr(float(value))
    return text if any(c in text for c in ".e") else text + ".0"


def vector(values, dtype):
    """A Rust array literal of `values`."""
    return "[" + ", ".join(literal(v, dtype) for v in values) + "]"
