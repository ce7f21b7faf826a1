#!/usr/bin/env python3
"""Writes tests/torch_losses.rs: PyTorch's cross-entropy losses and their gradients on the logits,
for networks whose output layer applies the loss's own link.

`dense 4 softmax` trained with `Loss::SoftmaxCrossEntropy` must be exactly PyTorch's
`CrossEntropyLoss` on the layer's logits, and `dense 2 sigmoid` with
`Loss::BinaryCrossEntropyWithLogits` exactly `BCEWithLogitsLoss` on its logits: the link is applied
once. For each, the file holds a batch with dropout masks (applied as x · mask / (1 − p)), the
targets, PyTorch's loss and the gradient of every weight and bias, and PyTorch's evaluation-mode
loss.

Usage (PyTorch installs from PyPI):

    python3 -m venv .venv && .venv/bin/pip install torch numpy
    .venv/bin/python tools/torch_losses.py            # rewrites tests/torch_losses.rs
"""

import pathlib
import subprocess
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from torch_common import describe, masked_forward, vector  # noqa: E402

SEED = 20261128
ROWS = 6
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "torch_losses.rs"
DTYPE = torch.float64


def matrix(rows):
    return "[" + ", ".join(vector(row, DTYPE) for row in rows) + "]"


def case(name, model, link, loss_name, loss_module, targets, generator):
    """A declaration of `model` (its last Linear followed by `link`) and a test of the loss."""
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    lines = [f"network! {{", f"    /// `{describe(model)}`, then `{link}` in the declaration.", f"    struct {name}<f64> {{"]
    modules = list(model)
    head = f"        input: {linears[0].in_features},"
    if isinstance(modules[0], torch.nn.Dropout):
        head += f" dropout(p = {modules[0].p}),"
    lines.append(head)
    activations, sites = [], []
    for k, module in enumerate(modules):
        if not isinstance(module, torch.nn.Linear):
            continue
        after = modules[k + 1] if k + 1 < len(modules) else None
        activation = {torch.nn.Tanh: "tanh", torch.nn.ReLU: "relu"}.get(type(after), link)
        dropout = modules[k + 2] if k + 2 < len(modules) and isinstance(modules[k + 2], torch.nn.Dropout) else None
        tail = f" dropout(p = {dropout.p})," if dropout is not None else ""
        weights, bias = module.weight.detach().numpy(), module.bias.detach().numpy()
        lines.append(
            f"        dense {module.out_features} {activation} {{ weights: {matrix(weights)}, bias: {vector(bias, DTYPE)} }},{tail}"
        )
        activations.append(activation)
    lines += ["    }", "}", ""]

    dropouts = [m for m in modules if isinstance(m, torch.nn.Dropout)]
    fields = []
    if isinstance(modules[0], torch.nn.Dropout):
        fields.append(("input", linears[0].in_features))
    layer_index = 0
    for k, module in enumerate(modules):
        if isinstance(module, torch.nn.Linear):
            layer_index += 1
            dropout = modules[k + 2] if k + 2 < len(modules) and isinstance(modules[k + 2], torch.nn.Dropout) else None
            if dropout is not None:
                fields.append((f"h{layer_index}", module.out_features))

    x = torch.randn(ROWS, linears[0].in_features, dtype=DTYPE, generator=generator)
    masks = [
        (torch.rand(ROWS, size, dtype=DTYPE, generator=generator) >= dropout.p).to(DTYPE)
        for (_, size), dropout in zip(fields, dropouts)
    ]
    model.zero_grad()
    loss = loss_module(masked_forward(model, x, masks), targets)
    loss.backward()
    model.eval()
    with torch.no_grad():
        eval_loss = loss_module(model(x), targets)

    snake = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    upper = snake.upper()

    def nested(rows):
        return "&[" + ", ".join("&" + vector(row, DTYPE) for row in rows) + "]"

    mask_rows = []
    for r in range(ROWS):
        bits = ", ".join(
            f"{field}: [" + ", ".join("true" if b else "false" for b in m[r].tolist()) + "]"
            for (field, _), m in zip(fields, masks)
        )
        mask_rows.append(f"{name}Masks {{ {bits} }}")
    lines.append(f"const {upper}: Case<{name}Masks> = Case {{")
    lines.append(f"    x: {nested(x.numpy())},")
    lines.append(f"    targets: {nested(targets.numpy())},")
    lines.append(f"    masks: &[{', '.join(mask_rows)}],")
    lines.append(f"    loss: Loss::{loss_name},")
    lines.append(f"    pytorch_loss: {vector([loss.item()], DTYPE)[1:-1]},")
    weights = ", ".join(nested(linear.weight.grad.numpy()) for linear in linears)
    biases = ", ".join("&" + vector(linear.bias.grad.numpy(), DTYPE) for linear in linears)
    lines.append(f"    pytorch_weight_gradients: &[{weights}],")
    lines.append(f"    pytorch_bias_gradients: &[{biases}],")
    lines.append(f"    pytorch_evaluation_loss: {vector([eval_loss.item()], DTYPE)[1:-1]},")
    lines.append("};")
    lines.append("")
    lines.append("#[test]")
    lines.append(f"fn {snake}_loss_and_gradients_are_pytorchs() {{")
    lines.append(f"    {upper}.check(&{name}::new());")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    torch.manual_seed(SEED)
    generator = torch.Generator().manual_seed(SEED)
    torch.set_num_threads(1)
    softmax_model = torch.nn.Sequential(
        torch.nn.Dropout(0.2),
        torch.nn.Linear(3, 5, dtype=DTYPE),
        torch.nn.Tanh(),
        torch.nn.Dropout(0.5),
        torch.nn.Linear(5, 4, dtype=DTYPE),
    )
    # One-hot rows and soft rows: CrossEntropyLoss takes class probabilities.
    soft = torch.softmax(torch.randn(ROWS, 4, dtype=DTYPE, generator=generator), dim=1)
    one_hot = torch.nn.functional.one_hot(torch.arange(ROWS) % 4, 4).to(DTYPE)
    softmax_targets = torch.where(torch.arange(ROWS).unsqueeze(1) % 2 == 0, one_hot, soft)
    sigmoid_model = torch.nn.Sequential(
        torch.nn.Linear(3, 5, dtype=DTYPE),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.25),
        torch.nn.Linear(5, 2, dtype=DTYPE),
    )
    sigmoid_targets = torch.rand(ROWS, 2, dtype=DTYPE, generator=generator)
    blocks = [
        case("SoftmaxOutput", softmax_model, "softmax", "SoftmaxCrossEntropy",
             torch.nn.CrossEntropyLoss(), softmax_targets, generator),
        case("SigmoidOutput", sigmoid_model, "sigmoid", "BinaryCrossEntropyWithLogits",
             torch.nn.BCEWithLogitsLoss(), sigmoid_targets, generator),
    ]
    header = f"""//! A `softmax` output trained with softmax cross-entropy and a `sigmoid` output trained with binary
//! cross-entropy meet their losses on the logits, exactly as PyTorch {torch.__version__}'s
//! `CrossEntropyLoss` and `BCEWithLogitsLoss`: the loss, the gradient of every weight and bias under
//! dropout masks, and the evaluation-mode loss agree within 1e-12 of max(1, |PyTorch's|).
//!
//! Generated by `tools/torch_losses.py` (seed {SEED}); do not edit. Regenerate with
//! `python3 -m venv .venv && .venv/bin/pip install torch numpy && .venv/bin/python tools/torch_losses.py`.

#![expect(
    clippy::unreadable_literal,
    reason = "PyTorch's numbers, written as the shortest decimals that read back exactly"
)]

use dropout::train::{{Loss, evaluate, gradients_batch}};
use dropout::{{Network, network}};
use ndarray::Array2;

/// A batch, its masks and targets, and what PyTorch computed for them.
struct Case<M: 'static> {{
    x: &'static [&'static [f64]],
    targets: &'static [&'static [f64]],
    masks: &'static [M],
    loss: Loss,
    pytorch_loss: f64,
    /// Per layer, per neuron, per input.
    pytorch_weight_gradients: &'static [&'static [&'static [f64]]],
    /// Per layer, per neuron.
    pytorch_bias_gradients: &'static [&'static [f64]],
    pytorch_evaluation_loss: f64,
}}

impl<M> Case<M> {{
    fn check<N: Network<Scalar = f64, Masks = M>>(&self, net: &N) {{
        let matrix = |rows: &[&[f64]]| {{
            Array2::from_shape_fn((rows.len(), rows[0].len()), |(r, c)| rows[r][c])
        }};
        let (x, targets) = (matrix(self.x), matrix(self.targets));
        let (loss, grads) = gradients_batch(net, &x, self.masks, &targets, self.loss).unwrap();
        close(loss, self.pytorch_loss);
        for (layer, (weights, biases)) in self
            .pytorch_weight_gradients
            .iter()
            .zip(self.pytorch_bias_gradients)
            .enumerate()
        {{
            for (neuron, (row, &bias)) in weights.iter().zip(*biases).enumerate() {{
                for (input, &want) in row.iter().enumerate() {{
                    close(grads.weight(layer, neuron, input).unwrap(), want);
                }}
                close(grads.bias(layer, neuron).unwrap(), bias);
            }}
        }}
        let evaluation = evaluate(net, (&x, &targets), self.loss).unwrap();
        close(evaluation, self.pytorch_evaluation_loss);
    }}
}}

#[track_caller]
fn close(got: f64, want: f64) {{
    assert!((got - want).abs() <= 1e-12 * want.abs().max(1.0), "{{got}} vs PyTorch's {{want}}");
}}

"""
    OUT.write_text(header + "\n".join(blocks))
    subprocess.run(["rustfmt", "--edition", "2024", str(OUT)], check=True)
    print(f"wrote {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
