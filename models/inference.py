"""Batched, length-sorted inference for evaluation and soft labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from models.batching import collate, encode
from models.data import Example
from models.device import autocast, resolve_device
from models.modeling import MultiTaskModel

__all__ = ["predict_logits"]


def predict_logits(
    model: MultiTaskModel,
    examples: Sequence[Example],
    *,
    batch_size: int = 64,
    max_length: int = 64,
    progress: object | None = None,
    task_id: object | None = None,
    device: str | None = None,
    precision: str = "fp32",
) -> tuple[np.ndarray, np.ndarray]:
    """(sentiment logits [N, 3], topic logits [N, 20]) as float32, in input order.

    ``device`` moves the model there first (``auto``: CUDA when available); None keeps
    it where it is. Inputs always follow the model's device."""
    if device is not None:
        model.to(resolve_device(device))
    where = next(model.parameters()).device
    data = encode(examples, model.tokenizer, max_length)
    lengths = data.lengths  # a property that builds the list: once, not per key
    order = sorted(range(len(data)), key=lengths.__getitem__)
    sent = np.zeros((len(data), len(model.sentiment_labels)), np.float32)
    topic = np.zeros((len(data), len(model.topic_labels)), np.float32)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            b = collate(data, idx)
            with autocast(str(where), precision):
                s, t = model(b.input_ids.to(where), b.attention_mask.to(where))
            sent[idx] = s.float().cpu().numpy()
            topic[idx] = t.float().cpu().numpy()
            if progress is not None:
                progress.advance(task_id, len(idx))  # type: ignore[attr-defined]
    model.train(was_training)
    return sent, topic
