"""Tokenised examples and length-bucketed, seeded batches.

Headlines are short and uneven; sorting within buckets of ~50 batches keeps padding
small (STACK-NOTES: MPNet goes from 3.6 to 6.1 examples/s), while shuffling the
buckets' batches keeps the order random. The batch order of an epoch is a pure
function of (seed, epoch), so a resumed run skips exactly the batches already done,
and every DDP replica computes the same list and takes its own share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from models.data import Example, training_text
from models.losses import IGNORE

__all__ = ["Batch", "Encoded", "collate", "encode", "make_batches"]


@dataclass
class Encoded:
    input_ids: list[list[int]]
    sentiment: np.ndarray  # int64, IGNORE where missing
    topic: np.ndarray
    keys: list[tuple[str, int]]
    pad_id: int

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> list[int]:
        return [len(x) for x in self.input_ids]


@dataclass
class Batch:
    input_ids: Tensor
    attention_mask: Tensor
    sentiment: Tensor
    topic: Tensor
    index: Tensor  # positions in the Encoded set (to look up soft labels)


def encode(examples: Sequence[Example], tokenizer: object, max_length: int) -> Encoded:
    texts = [training_text(e.text) for e in examples]
    enc = tokenizer(texts, truncation=True, max_length=max_length)  # type: ignore[operator]
    sent = np.array([IGNORE if e.sentiment is None else e.sentiment for e in examples], np.int64)
    topic = np.array([IGNORE if e.topic is None else e.topic for e in examples], np.int64)
    pad = int(tokenizer.pad_token_id)  # type: ignore[attr-defined]
    return Encoded(list(enc["input_ids"]), sent, topic, [e.key for e in examples], pad)


def make_batches(
    lengths: Sequence[int], batch_size: int, *, seed: int, epoch: int, bucket: int = 50
) -> list[list[int]]:
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    batches: list[list[int]] = []
    span = batch_size * bucket
    for start in range(0, len(order), span):
        chunk = sorted(order[start : start + span].tolist(), key=lambda i: lengths[i])
        batches += [chunk[j : j + batch_size] for j in range(0, len(chunk), batch_size)]
    perm = rng.permutation(len(batches))
    return [batches[i] for i in perm]


def collate(data: Encoded, idx: Sequence[int]) -> Batch:
    width = max(len(data.input_ids[i]) for i in idx)
    ids = torch.full((len(idx), width), data.pad_id, dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for r, i in enumerate(idx):
        seq = data.input_ids[i]
        ids[r, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[r, : len(seq)] = 1
    index = torch.tensor(list(idx), dtype=torch.long)
    return Batch(
        ids,
        mask,
        torch.from_numpy(data.sentiment[index.numpy()]),
        torch.from_numpy(data.topic[index.numpy()]),
        index,
    )
