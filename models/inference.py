"""Batched, length-sorted inference for evaluation and soft labels."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from models.batching import collate, encode
from models.data import Example
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
) -> tuple[np.ndarray, np.ndarray]:
    """(sentiment logits [N, 3], topic logits [N, 20]) as float32, in input order."""
    data = encode(examples, model.tokenizer, max_length)
    order = sorted(range(len(data)), key=lambda i: data.lengths[i])
    sent = np.zeros((len(data), len(model.sentiment_labels)), np.float32)
    topic = np.zeros((len(data), len(model.topic_labels)), np.float32)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            b = collate(data, idx)
            s, t = model(b.input_ids, b.attention_mask)
            sent[idx] = s.float().numpy()
            topic[idx] = t.float().numpy()
            if progress is not None:
                progress.advance(task_id, len(idx))  # type: ignore[attr-defined]
    model.train(was_training)
    return sent, topic
