"""Parity checks between the PyTorch model and its graphs (numpy + onnxruntime only;
the PyTorch logits are passed in, so this module imports no torch).

Gates (ExportConfig): fp32 ONNX vs PyTorch max |logit difference| <= 1e-4 on a held-out
batch; int8 vs fp32 label agreement >= 99%; no test metric (accuracy, macro-F1 per
test set) down by more than 0.5 points.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from export.config import OUTPUT_NAMES
from export.runtime import classifier_text, pad_batch

__all__ = [
    "GraphRunner",
    "LabelledSet",
    "accuracy_f1",
    "label_agreement",
    "max_abs_diff",
    "metric_drops",
]

Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class LabelledSet:
    """One test set: texts, gold label ids and which head they score."""

    task: str  # "sentiment" | "topic"
    texts: list[str]
    labels: list[int]


class GraphRunner:
    """Runs an ONNX graph on texts the way the runtime does (same cleaning, tokenizer,
    truncation, length-sorted per-batch padding), returning logits in input order."""

    def __init__(
        self,
        model: Path,
        tokenizer: Path,
        *,
        max_length: int,
        preprocessing: Sequence[str],
        pad_id: int,
        threads: int = 0,
    ) -> None:
        ort.set_default_logger_severity(3)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(
            str(model), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_length)
        self.preprocessing = tuple(preprocessing)
        self.max_chars = max_length * 16
        self.pad_id = pad_id

    def encode(self, texts: Sequence[str]) -> tuple[Array, Array]:
        cleaned = [
            classifier_text(t, preprocessing=self.preprocessing, max_chars=self.max_chars)
            for t in texts
        ]
        return pad_batch(self.tokenizer.encode_batch(cleaned), self.pad_id)

    def run(self, input_ids: Array, attention_mask: Array) -> tuple[Array, Array]:
        sent, topic = self.session.run(
            list(OUTPUT_NAMES), {"input_ids": input_ids, "attention_mask": attention_mask}
        )
        return np.asarray(sent), np.asarray(topic)

    def logits(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        on_batch: Callable[[int], None] | None = None,
    ) -> tuple[Array, Array]:
        cleaned = [
            classifier_text(t, preprocessing=self.preprocessing, max_chars=self.max_chars)
            for t in texts
        ]
        encs = self.tokenizer.encode_batch(cleaned)
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        sent: Array | None = None
        topic: Array | None = None
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            s, t = self.run(*pad_batch([encs[i] for i in idx], self.pad_id))
            if sent is None or topic is None:
                sent = np.zeros((len(encs), s.shape[1]), np.float32)
                topic = np.zeros((len(encs), t.shape[1]), np.float32)
            sent[idx] = s
            topic[idx] = t
            if on_batch is not None:
                on_batch(len(idx))
        if sent is None or topic is None:
            raise ValueError("no texts")
        return sent, topic


def max_abs_diff(a: Array, b: Array) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


def label_agreement(a: Array, b: Array) -> float:
    """Share of rows whose argmax label is the same."""
    return float(np.mean(np.argmax(a, axis=1) == np.argmax(b, axis=1)))


def accuracy_f1(logits: Array, labels: Sequence[int]) -> dict[str, float]:
    """Accuracy and macro-F1 (over the classes present in the gold labels), in points."""
    gold = np.asarray(labels, np.int64)
    pred = np.argmax(logits, axis=1)
    f1s = []
    for c in np.unique(gold):
        tp = float(np.sum((pred == c) & (gold == c)))
        fp = float(np.sum((pred == c) & (gold != c)))
        fn = float(np.sum((pred != c) & (gold == c)))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return {
        "accuracy": round(100.0 * float(np.mean(pred == gold)), 3),
        "macro_f1": round(100.0 * float(np.mean(f1s)), 3),
    }


def metric_drops(
    reference: Mapping[str, Mapping[str, float]], candidate: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, float]]:
    """Points lost per test set and metric (positive = candidate worse)."""
    return {
        name: {m: round(ref[m] - candidate[name][m], 3) for m in ref}
        for name, ref in reference.items()
    }
