"""Metrics of a model (and the lexicon baseline) on the fixed test or validation sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from models.data import DEFAULT_DATA_DIR
from models.inference import predict_logits
from models.metrics import classification_report, softmax
from models.modeling import MultiTaskModel
from models.splits import DEFAULT_SPLITS, SplitFile, eval_sets

__all__ = ["evaluate_model"]


def evaluate_model(
    model: MultiTaskModel,
    splits: Path = DEFAULT_SPLITS,
    data_dir: Path = DEFAULT_DATA_DIR,
    *,
    which: str = "test",
    names: list[str] | None = None,
    batch_size: int = 64,
    max_length: int = 64,
    device: str | None = None,
    precision: str = "fp32",
) -> dict[str, Any]:
    """name -> report (accuracy, macro-F1, per-class F1, confusion matrix, ECE)."""
    split = SplitFile.read(splits)
    results: dict[str, Any] = {}
    for name, (task, examples) in eval_sets(split, data_dir, which=which, names=names).items():
        sent, topic = predict_logits(
            model,
            examples,
            batch_size=batch_size,
            max_length=max_length,
            device=device,
            precision=precision,
        )
        logits = sent if task == "sentiment" else topic
        labels = np.array([getattr(e, task) for e in examples], dtype=np.int64)
        probs = softmax(logits)
        label_names = model.sentiment_labels if task == "sentiment" else model.topic_labels
        report = classification_report(labels, probs.argmax(axis=1), label_names, probs)
        if task == "topic":
            top3 = np.argsort(-logits, axis=1)[:, :3]
            report["top3_accuracy"] = float((top3 == labels[:, None]).any(axis=1).mean())
        results[name] = {"task": task, **_round(report)}
    return results


def _round(report: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in report.items()}
