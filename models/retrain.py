"""``finsent model retrain``: distil a new student from the teacher's soft labels plus the
analysts' labels, export it, judge it against the current model, promote it or say why not.

1. The analysts' labels in force are exported; the ``train`` slice (seeded hash of the
   article id, :func:`insight.feedback.split_of`) joins the training data as a
   user source of an augmented copy of the fixed split file; the ``holdout`` slice is
   never trained on. Labelled texts that repeat a fixed test text are dropped.
2. The student is trained by :func:`models.train.train` (hard labels + temperature-
   scaled KL to the teacher's logits when the soft-label file exists) and exported to
   int8 ONNX by :func:`export.build.build_artifact`.
3. Current and candidate are scored through the same :class:`~core.classifier.Classifier`
   interface (what serves is what is judged) on the fixed test sets (macro-F1, an equal
   seeded sample per set when ``max_eval`` is set) and on the holdout (accuracy over
   its sentiment and topic labels).
4. :func:`models.promote.decide`; on acceptance the registry pointer moves and
   reloading workers swap between batches. Every decision goes to the registry history.

torch and the training modules are imported inside the functions that need them; a
serving install never loads this module (``finsent model retrain`` imports it lazily).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from sqlalchemy import Engine

from core.classifier import Classifier
from core.errors import ConfigError
from core.labels import SENTIMENT_LABELS, TOPIC_LABELS
from insight.feedback import LabelRecord, labels_in_force
from models.promote import Decision, MetricReport, decide
from stream.registry import ModelRegistry

__all__ = [
    "LabelledTexts",
    "RetrainConfig",
    "RetrainResult",
    "augmented_splits",
    "evaluate_classifier",
    "retrain",
]

ANALYSTS_SOURCE = "analysts"


@dataclass
class RetrainConfig:
    output_dir: Path = Path("runs/retrain")
    # student encoder: "minilm", "tiny" (tests) or a model directory to start from
    student: str = "minilm"
    num_layers: int | None = 6
    # teacher logits; None: models/soft_labels/teacher_logits.npz if it exists
    soft_labels: Path | None = None
    epochs: float = 1.0
    batch_size: int = 32
    lr: float = 1e-4
    head_lr: float = 1e-3
    max_train_examples: int | None = None
    threads: int | None = None
    data_dir: Path | None = None
    splits: Path | None = None
    # texts per fixed test set for the comparison (seeded; None: all of them)
    max_eval: int | None = 2000
    tolerance: float = 0.5
    version: str | None = None
    # False: decide and report, never move the pointer (a dry run)
    promote: bool = True
    enforce_export_gates: bool = True
    seed: int = 13


@dataclass(frozen=True)
class LabelledTexts:
    task: str
    texts: list[str]
    labels: list[int]


@dataclass
class RetrainResult:
    version: str
    artifact: Path | None
    current: MetricReport
    candidate: MetricReport
    decision: Decision
    promoted: bool
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "artifact": str(self.artifact) if self.artifact else None,
            "current": {
                "version": self.current.version,
                "fixed": dict(self.current.fixed),
                "analysts": self.current.analysts,
            },
            "candidate": {
                "version": self.candidate.version,
                "fixed": dict(self.candidate.fixed),
                "analysts": self.candidate.analysts,
                "analysts_n": self.candidate.analysts_n,
            },
            "decision": self.decision.to_dict(),
            "promoted": self.promoted,
            "notes": self.notes,
        }


def _predict(classifier: Classifier, task: str, texts: Sequence[str]) -> list[int]:
    out: list[int] = []
    for at in range(0, len(texts), 64):
        for c in classifier.classify(list(texts[at : at + 64])):
            if task == "sentiment":
                out.append(SENTIMENT_LABELS.index(c.sentiment))
            else:
                out.append(TOPIC_LABELS.index(c.topic) if c.topic in TOPIC_LABELS else -1)
    return out


def _macro_f1(labels: Sequence[int], preds: Sequence[int], k: int) -> float:
    y, p = np.asarray(labels), np.asarray(preds)
    f1s = []
    for c in range(k):
        if not (y == c).any():
            continue  # macro-F1 over the classes the set contains (as models.metrics)
        tp = float(((y == c) & (p == c)).sum())
        prec = tp / max(float((p == c).sum()), 1.0)
        rec = tp / float((y == c).sum())
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def evaluate_classifier(
    classifier: Classifier, sets: dict[str, LabelledTexts]
) -> dict[str, dict[str, float]]:
    """name -> {macro_f1, accuracy, n} through the serving interface."""
    out: dict[str, dict[str, float]] = {}
    for name, s in sets.items():
        preds = _predict(classifier, s.task, s.texts)
        k = len(SENTIMENT_LABELS) if s.task == "sentiment" else len(TOPIC_LABELS)
        out[name] = {
            "macro_f1": round(_macro_f1(s.labels, preds, k), 4),
            "accuracy": round(float(np.mean(np.asarray(preds) == np.asarray(s.labels))), 4),
            "n": float(len(s.labels)),
        }
    return out


def _analysts_accuracy(classifier: Classifier, holdout: Sequence[LabelRecord]) -> float | None:
    hits = total = 0
    for task in ("sentiment", "topic"):
        rows = [r for r in holdout if getattr(r, task) is not None]
        if not rows:
            continue
        names = SENTIMENT_LABELS if task == "sentiment" else TOPIC_LABELS
        gold = [names.index(getattr(r, task)) for r in rows]
        preds = _predict(classifier, task, [r.text for r in rows])
        hits += sum(int(a == b) for a, b in zip(gold, preds, strict=True))
        total += len(rows)
    return hits / total if total else None


def fixed_test_sets(
    data_dir: Path, splits: Path, *, which: str = "test", max_eval: int | None, seed: int
) -> dict[str, LabelledTexts]:
    from models.splits import SplitFile, eval_sets

    out: dict[str, LabelledTexts] = {}
    for name, (task, examples) in eval_sets(SplitFile.read(splits), data_dir, which=which).items():
        if name.startswith("user_"):
            continue
        if max_eval is not None and len(examples) > max_eval:
            examples = random.Random(f"{seed}:{name}").sample(examples, max_eval)
        out[name] = LabelledTexts(
            task, [e.text for e in examples], [getattr(e, task) for e in examples]
        )
    return out


def augmented_splits(
    splits: Path, records: Sequence[LabelRecord], work: Path, *, exclude_texts: set[str]
) -> tuple[Path, int]:
    """A copy of the fixed split file plus the analysts' ``train`` rows as one more
    training source (a CSV ``models.data.load_user_csv`` reads). Returns (path, rows)."""
    from models.data import USER_PREFIX, dedup_key, file_sha256

    work.mkdir(parents=True, exist_ok=True)
    csv_path = (work / "analysts-train.csv").resolve()
    rows = [r for r in records if r.split == "train" and dedup_key(r.text) not in exclude_texts]
    with csv_path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["text", "label", "topic"])
        for r in rows:
            writer.writerow([r.text, r.sentiment or "", r.topic or ""])
    data = json.loads(splits.read_text())
    if rows:
        data["sources"][USER_PREFIX + str(csv_path)] = {
            "sha256": file_sha256(csv_path),
            "rows": len(rows),
            "dataset": ANALYSTS_SOURCE,
            "licence": "internal (analysts' labels)",
            "permissive": True,
            "role": "train",
            "counts": {"train": len(rows)},
            "splits": {"train": list(range(len(rows)))},
        }
    out = work / "splits.json"
    out.write_text(json.dumps(data) + "\n")
    return out, len(rows)


def retrain(
    engine: Engine,
    cfg: RetrainConfig,
    *,
    current: Classifier,
    registry: ModelRegistry,
    console: Console | None = None,
) -> RetrainResult:
    from export.build import build_artifact
    from export.config import ExportConfig
    from export.parity import LabelledSet
    from export.runtime import OnnxClassifier
    from models.config import TrainConfig
    from models.data import DEFAULT_DATA_DIR, dedup_key
    from models.soft_labels import DEFAULT_SOFT_LABELS
    from models.splits import DEFAULT_SPLITS
    from models.train import train

    console = console or Console(stderr=True)
    notes: list[str] = []
    data_dir = cfg.data_dir or DEFAULT_DATA_DIR
    splits = cfg.splits or DEFAULT_SPLITS
    version = cfg.version or "student-rt-" + datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    run = cfg.output_dir / version
    if run.exists():
        raise ConfigError(f"{run} exists: choose another --version")

    tests = fixed_test_sets(data_dir, splits, max_eval=cfg.max_eval, seed=cfg.seed)
    if not tests:
        raise ConfigError("no fixed test sets found: check --data-dir and --splits")
    test_keys = {dedup_key(t) for s in tests.values() for t in s.texts}
    records = labels_in_force(engine)
    holdout = [r for r in records if r.split == "holdout"]
    aug, n_train = augmented_splits(splits, records, run / "feedback", exclude_texts=test_keys)
    console.log(f"analysts' labels: {n_train} for training, {len(holdout)} held out")
    if not holdout:
        notes.append("no held-out analyst labels yet: promotion needs some (label more articles)")

    soft = cfg.soft_labels or (DEFAULT_SOFT_LABELS if DEFAULT_SOFT_LABELS.is_file() else None)
    if soft is None:
        notes.append("no teacher soft labels found: the student was trained on hard labels only")
    train_cfg = TrainConfig(
        model=cfg.student,
        num_layers=cfg.num_layers,
        output_dir=run / "student",
        data_dir=data_dir,
        splits=aug,
        soft_labels=soft,
        include_transfer=soft is not None,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        head_lr=cfg.head_lr,
        max_train_examples=cfg.max_train_examples,
        threads=cfg.threads,
        seed=cfg.seed,
        validate=False,
    )
    model_dir = train(train_cfg, console=console)

    validation = fixed_test_sets(data_dir, splits, which="validation", max_eval=256, seed=cfg.seed)
    calibration = [t for s in validation.values() for t in s.texts][:512]
    parity = random.Random(cfg.seed).sample(
        [t for s in tests.values() for t in s.texts],
        min(64, sum(len(s.texts) for s in tests.values())),
    )
    result = build_artifact(
        model_dir,
        run / "artifact",
        parity_texts=parity,
        eval_sets={k: LabelledSet(v.task, v.texts, v.labels) for k, v in tests.items()},
        calibration_texts=calibration or parity,
        config=ExportConfig(max_length=train_cfg.max_length),
        work_dir=run / "onnx",
        version=version,
        enforce_gates=cfg.enforce_export_gates,
    )
    candidate_clf = OnnxClassifier.from_artifact(result.artifact)

    console.log(f"evaluating {current.model_version} and {version} on {len(tests)} fixed sets")
    cur_eval = evaluate_classifier(current, tests)
    cur_version = current.model_version  # after classify: a reloading wrapper's real model
    cand_eval = evaluate_classifier(candidate_clf, tests)
    cur_report = MetricReport.from_evaluation(
        cur_version, cur_eval, _analysts_accuracy(current, holdout), len(holdout)
    )
    cand_report = MetricReport.from_evaluation(
        version, cand_eval, _analysts_accuracy(candidate_clf, holdout), len(holdout)
    )
    decision = decide(cur_report, cand_report, tolerance=cfg.tolerance)
    promoted = False
    if decision.promote and cfg.promote:
        _write_reference(candidate_clf, result.artifact, calibration)
        registry.promote(version, result.artifact, reason="; ".join(decision.reasons))
        promoted = True
    else:
        registry.record(
            {
                "event": "refused" if not decision.promote else "dry-run",
                "version": version,
                "artifact_dir": str(result.artifact),
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "reasons": decision.reasons,
            }
        )
    out = RetrainResult(
        version, result.artifact, cur_report, cand_report, decision, promoted, notes
    )
    (run / "retrain.json").write_text(json.dumps(out.to_dict(), indent=2) + "\n")
    return out


def _write_reference(classifier: Classifier, artifact: Path, texts: Sequence[str]) -> None:
    """The drift reference of the new model, beside its artifact (validation texts)."""
    from stream.drift import load_vocabulary, reference_from_texts

    if texts:
        reference_from_texts(classifier, texts, vocabulary=load_vocabulary(artifact)).save(artifact)
