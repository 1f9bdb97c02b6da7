"""Accuracy of shipped int8 artifacts on today's test sets, side by side.

Every artifact is scored by the serving runtime (onnxruntime, as the worker runs it) on
the fixed test sets of ``models/splits/splits.json``, the analyst headline set included.
Prints a Markdown table (accuracy; macro-F1 for the sentiment sets; top-3 for topics).

    python bench/accuracy.py --also fast=export/artifacts/student-int8-fast
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from core.labels import SENTIMENT_LABELS, TOPIC_LABELS
from export.runtime import OnnxClassifier, default_artifact_dir
from models.data import DEFAULT_DATA_DIR
from models.metrics import classification_report
from models.splits import DEFAULT_SPLITS, SplitFile, eval_sets


def score(artifact: Path, data_dir: Path) -> dict[str, str]:
    classifier = OnnxClassifier.from_artifact(artifact)
    out: dict[str, str] = {}
    for name, (task, examples) in eval_sets(SplitFile.read(DEFAULT_SPLITS), data_dir).items():
        results = classifier.classify([e.text for e in examples])
        labels = np.array([getattr(e, task) for e in examples])
        if task == "sentiment":
            pred = np.array([SENTIMENT_LABELS.index(r.sentiment) for r in results])
            r = classification_report(labels, pred, SENTIMENT_LABELS)
            out[name] = f"{r['accuracy']:.3f} / F1 {r['macro_f1']:.3f}"
        else:
            pred = np.array([TOPIC_LABELS.index(r.topic) for r in results])
            r = classification_report(labels, pred, TOPIC_LABELS)
            # topic_probs holds the top-k topics, most likely first
            top3 = np.mean(
                [
                    TOPIC_LABELS[lab] in list(res.topic_probs)[:3]
                    for lab, res in zip(labels, results, strict=True)
                ]
            )
            out[name] = f"{r['accuracy']:.3f} / top-3 {top3:.3f}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--also", action="append", default=[], metavar="NAME=ARTIFACT")
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    a = ap.parse_args()
    artifacts = {"default": default_artifact_dir()} | {
        k: Path(v) for k, v in (x.split("=", 1) for x in a.also)
    }
    rows = {name: score(path, a.data_dir) for name, path in artifacts.items()}
    sets = list(next(iter(rows.values())))
    print("| artifact | " + " | ".join(sets) + " |")
    print("|---" * (len(sets) + 1) + "|")
    for name, r in rows.items():
        print(f"| {name} | " + " | ".join(r[s] for s in sets) + " |")


if __name__ == "__main__":
    main()
