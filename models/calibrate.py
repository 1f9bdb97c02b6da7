"""How much evidence a polar sentiment needs, set on validation data only.

A student distilled on tweets and PhraseBank sentences tends to call polar headlines
neutral. One number corrects that: an offset added to the neutral logit, chosen to
maximise the sentiment macro-F1 over every validation set pooled. The offset is written
into the sentiment head's bias, so the PyTorch model, its ONNX export and the served
int8 artifact all apply it with no extra code, and recorded in the model's metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from core.labels import SENTIMENT_LABELS
from models.inference import predict_logits
from models.metrics import classification_report
from models.modeling import MultiTaskModel
from models.splits import SplitFile, eval_sets

__all__ = ["NEUTRAL", "apply_neutral_offset", "best_neutral_offset", "validation_logits"]

NEUTRAL = SENTIMENT_LABELS.index("neutral")
GRID = np.round(np.arange(-3.0, 3.0001, 0.05), 2)


def validation_logits(
    model: MultiTaskModel, splits: Path, data_dir: Path, *, max_length: int = 64
) -> tuple[np.ndarray, np.ndarray]:
    """Sentiment logits and labels of every validation set with sentiment labels, pooled."""
    logits, labels = [], []
    for _, (task, examples) in eval_sets(
        SplitFile.read(splits), data_dir, which="validation"
    ).items():
        if task != "sentiment":
            continue
        sent, _ = predict_logits(model, examples, max_length=max_length)
        logits.append(sent)
        labels.append(np.array([e.sentiment for e in examples], dtype=np.int64))
    return np.concatenate(logits), np.concatenate(labels)


def _macro_f1(logits: np.ndarray, labels: np.ndarray, offset: float) -> float:
    shifted = logits.copy()
    shifted[:, NEUTRAL] += offset
    return float(classification_report(labels, shifted.argmax(1), SENTIMENT_LABELS)["macro_f1"])


def best_neutral_offset(logits: np.ndarray, labels: np.ndarray) -> tuple[float, dict[float, float]]:
    """The offset of the grid with the best macro-F1 (the smallest |offset| on ties)."""
    scores = {float(o): _macro_f1(logits, labels, float(o)) for o in GRID}
    best = max(scores, key=lambda o: (round(scores[o], 6), -abs(o)))
    return best, scores


def apply_neutral_offset(model: MultiTaskModel, offset: float, report: dict[str, Any]) -> None:
    """Add ``offset`` to the neutral logit through the head's bias; record it (cumulative)."""
    with torch.no_grad():
        model.sentiment_head.bias[NEUTRAL] += offset
    done = model.meta.get("calibration", {})
    total = round(float(done.get("neutral_offset", 0.0)) + offset, 4)
    model.meta["calibration"] = {**report, "neutral_offset": total}
