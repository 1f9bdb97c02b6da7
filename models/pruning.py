"""Structured pruning for students: fewer layers, narrower feed-forward blocks.

Both keep the model an ordinary BERT/MPNet encoder whose ``config.json`` describes its
shape (``num_hidden_layers``, ``intermediate_size``), so it saves, loads and exports to
ONNX like any other. On a CPU the feed-forward block is two thirds of a layer's matmul
work for headline-length inputs (2 x hidden x 4*hidden against 4 x hidden x hidden for
attention's projections), which makes it the next thing to cut once layers are few.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from core.errors import ModelError

if TYPE_CHECKING:
    from transformers import PreTrainedModel

    from models.batching import Encoded
    from models.modeling import MultiTaskModel

__all__ = [
    "ffn_activation_importance",
    "ffn_weight_importance",
    "narrow_ffn",
    "prune_ffn",
    "prune_layers",
]


def _layers(encoder: PreTrainedModel) -> nn.ModuleList:
    layers = getattr(getattr(encoder, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList):
        raise ModelError(f"cannot prune {type(encoder).__name__}: no encoder.layer list")
    return layers


def _ffn(layer: nn.Module) -> tuple[nn.Linear, nn.Linear]:
    """(hidden -> intermediate, intermediate -> hidden) of a BERT or MPNet layer."""
    up = getattr(getattr(layer, "intermediate", None), "dense", None)
    down = getattr(getattr(layer, "output", None), "dense", None)
    if not isinstance(up, nn.Linear) or not isinstance(down, nn.Linear):
        raise ModelError(f"{type(layer).__name__} has no intermediate/output dense pair")
    return up, down


def prune_layers(encoder: PreTrainedModel, num_layers: int) -> PreTrainedModel:
    """Keep the first ``num_layers`` transformer layers (layer pruning for students)."""
    layers = _layers(encoder)
    if not 1 <= num_layers <= len(layers):
        raise ModelError(f"num_layers must be in 1..{len(layers)}, got {num_layers}")
    encoder.encoder.layer = nn.ModuleList(list(layers)[:num_layers])  # type: ignore[union-attr]
    encoder.config.num_hidden_layers = num_layers
    return encoder


def ffn_weight_importance(encoder: PreTrainedModel) -> list[Tensor]:
    """Per layer, per intermediate neuron: |incoming row| x |outgoing column|.

    Data-free; used when no text is at hand (rebuilding a pruned run's shape before its
    checkpoint overwrites every weight)."""
    scores = []
    for layer in _layers(encoder):
        up, down = _ffn(layer)
        scores.append(up.weight.detach().norm(dim=1) * down.weight.detach().norm(dim=0))
    return scores


@torch.inference_mode()
def ffn_activation_importance(
    model: MultiTaskModel, data: Encoded, *, sample: int = 2048, batch_size: int = 64
) -> list[Tensor]:
    """Per layer, per intermediate neuron: mean |activation| over real tokens of
    ``sample`` training texts x the norm of the neuron's outgoing weights — a first-order
    estimate of how much the layer's output moves without it."""
    from models.batching import collate

    layers = _layers(model.encoder)
    sums = [torch.zeros(_ffn(layer)[0].out_features) for layer in layers]
    tokens = 0
    mask_now: list[Tensor] = []

    def hook(i: int) -> object:
        def record(_m: nn.Module, _inp: object, out: Tensor) -> None:
            m = mask_now[0].unsqueeze(-1).to(out.dtype)
            sums[i] += (out.abs() * m).sum(dim=(0, 1)).float()

        return record

    # the activation (GELU) module's output is what the down projection sees
    handles = [
        getattr(layer, "intermediate").register_forward_hook(hook(i))  # noqa: B009
        for i, layer in enumerate(layers)
    ]
    was_training = model.training
    model.eval()
    try:
        # evenly spaced over the set (it is grouped by source), sorted to pad little
        step = max(1, len(data) // sample)
        order = sorted(range(0, len(data), step)[:sample], key=lambda i: len(data.input_ids[i]))
        for start in range(0, len(order), batch_size):
            b = collate(data, order[start : start + batch_size])
            mask_now[:] = [b.attention_mask]
            model.encoder(input_ids=b.input_ids, attention_mask=b.attention_mask)
            tokens += int(b.attention_mask.sum())
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return [
        (s / max(tokens, 1)) * _ffn(layer)[1].weight.detach().norm(dim=0)
        for s, layer in zip(sums, layers, strict=True)
    ]


def _narrow(linear: nn.Linear, keep: Tensor, *, dim: int) -> nn.Linear:
    weight = linear.weight.detach().index_select(dim, keep).clone()
    out_f, in_f = weight.shape
    new = nn.Linear(in_f, out_f, bias=linear.bias is not None)
    new.weight = nn.Parameter(weight, requires_grad=linear.weight.requires_grad)
    if linear.bias is not None:
        bias = linear.bias.detach()
        new.bias = nn.Parameter(
            (bias.index_select(0, keep) if dim == 0 else bias).clone(),
            requires_grad=linear.bias.requires_grad,
        )
    return new


def prune_ffn(encoder: PreTrainedModel, keep: int, importance: Sequence[Tensor]) -> PreTrainedModel:
    """Keep the ``keep`` most important intermediate neurons of every layer.

    The same width in every layer, so ``config.intermediate_size`` still describes the
    model and it reloads with ``from_pretrained``."""
    layers = _layers(encoder)
    if len(importance) != len(layers):
        raise ModelError(f"{len(importance)} importance vectors for {len(layers)} layers")
    width = int(encoder.config.intermediate_size)
    if not 1 <= keep <= width:
        raise ModelError(f"intermediate_size must be in 1..{width}, got {keep}")
    if keep == width:
        return encoder
    for layer, score in zip(layers, importance, strict=True):
        up, down = _ffn(layer)
        # sorted: neurons keep their relative order (easier to compare runs)
        idx = torch.topk(score, keep).indices.sort().values
        setattr(layer.get_submodule("intermediate"), "dense", _narrow(up, idx, dim=0))  # noqa: B010
        setattr(layer.get_submodule("output"), "dense", _narrow(down, idx, dim=1))  # noqa: B010
    encoder.config.intermediate_size = keep
    return encoder


def narrow_ffn(model: MultiTaskModel, keep: int, calibration: Encoded | None = None) -> None:
    """Prune ``model``'s feed-forward blocks to ``keep`` neurons, chosen by their
    activations on ``calibration`` texts, or by their weights when there are none."""
    importance = (
        ffn_activation_importance(model, calibration)
        if calibration is not None
        else ffn_weight_importance(model.encoder)
    )
    prune_ffn(model.encoder, keep, importance)
    model.meta["intermediate_size"] = keep
