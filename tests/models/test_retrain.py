"""`finsent model retrain` on a tiny student: analysts' labels reach the training data,
the candidate is exported, both models are judged on the same sets, a decision is
recorded (promotion rules themselves: test_promote)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from insight.feedback import add_label, labels_in_force, split_of
from models.retrain import RetrainConfig, augmented_splits, retrain
from stream.lexicon import LexiconClassifier
from stream.registry import ModelRegistry
from tests.insight.test_feedback_drift_db import _articles

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _label_some(db: Engine, n: int = 30) -> list[str]:
    ids = _articles(db, n, source="wire", mix=(1, 1, 1), conf=0.8, seed=7)
    for i, aid in enumerate(ids):
        add_label(db, aid, "sentiment", ("negative", "neutral", "positive")[i % 3], by="ana")
    return ids


def test_analysts_train_labels_become_training_rows_and_holdout_never_does(
    db: Engine, tmp_path: Path
) -> None:
    pytest.importorskip("torch")
    from models.data import DEFAULT_DATA_DIR
    from models.splits import DEFAULT_SPLITS, SplitFile, training_examples

    ids = _label_some(db)
    records = labels_in_force(db)
    path, n = augmented_splits(DEFAULT_SPLITS, records, tmp_path, exclude_texts=set())
    train_texts = {r.text for r in records if r.split == "train"}
    holdout_texts = {r.text for r in records if r.split == "holdout"}
    assert n == sum(split_of(a) == "train" for a in ids) > 0
    split = SplitFile.read(path)
    user = [s for s in split.sources if s.startswith("user:")]
    assert len(user) == 1
    try:
        examples = training_examples(split, DEFAULT_DATA_DIR)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"shared data unavailable: {exc}")
    texts = {e.text for e in examples if e.source == user[0]}
    # duplicates of other training texts merge by key; ours are unique random titles
    assert texts == train_texts
    assert not texts & holdout_texts


def test_retrain_tiny_student_end_to_end(db: Engine, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    _label_some(db, 40)
    registry = ModelRegistry(tmp_path / "registry")
    cfg = RetrainConfig(
        output_dir=tmp_path / "runs",
        student="tiny",
        num_layers=1,
        epochs=1,
        batch_size=16,
        max_train_examples=64,
        threads=1,
        max_eval=24,
        version="rt-test",
        enforce_export_gates=False,
    )
    try:
        result = retrain(db, cfg, current=LexiconClassifier(), registry=registry)
    except Exception as exc:
        if "data file" in str(exc) or "split file" in str(exc):
            pytest.skip(f"shared data unavailable: {exc}")
        raise
    assert result.artifact is not None and (result.artifact / "model.onnx").is_file()
    assert set(result.current.fixed) == set(result.candidate.fixed) >= {"twitter_topic"}
    assert result.candidate.analysts is not None and result.candidate.analysts_n > 0
    assert result.decision.reasons
    saved = json.loads((tmp_path / "runs" / "rt-test" / "retrain.json").read_text())
    assert saved["decision"]["promote"] == result.decision.promote
    events = registry.history()
    assert events and events[-1]["version"] == "rt-test"
    if result.promoted:
        current = registry.current()
        assert current is not None and current.version == "rt-test"
        assert (result.artifact / "drift_reference.json").is_file()
    else:
        assert registry.current() is None and events[-1]["event"] == "refused"


def test_retrain_with_teacher_soft_labels_dry_run(db: Engine, tmp_path: Path) -> None:
    """The distillation path: soft labels for the fixed training rows (stand-ins for the
    teacher's), none for the analysts' rows (they carry hard labels only)."""
    pytest.importorskip("torch")
    import numpy as np

    from models.data import DEFAULT_DATA_DIR
    from models.soft_labels import SoftLabels
    from models.splits import DEFAULT_SPLITS, SplitFile, training_examples

    try:
        examples = training_examples(
            SplitFile.read(DEFAULT_SPLITS), DEFAULT_DATA_DIR, include_transfer=True
        )
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"shared data unavailable: {exc}")
    rng = np.random.default_rng(0)
    soft = tmp_path / "teacher_logits.npz"
    SoftLabels(
        [e.key for e in examples],
        rng.normal(size=(len(examples), 3)),
        rng.normal(size=(len(examples), 20)),
        {"teacher": "random stand-in"},
    ).save(soft)
    _label_some(db, 20)
    registry = ModelRegistry(tmp_path / "registry")
    cfg = RetrainConfig(
        output_dir=tmp_path / "runs",
        student="tiny",
        num_layers=1,
        soft_labels=soft,
        epochs=1,
        batch_size=16,
        max_train_examples=64,
        threads=1,
        max_eval=16,
        version="rt-soft",
        promote=False,
        enforce_export_gates=False,
    )
    result = retrain(db, cfg, current=LexiconClassifier(), registry=registry)
    assert not result.promoted and registry.current() is None
    assert not any("soft labels" in n for n in result.notes)
    assert registry.history()[-1]["event"] in {"refused", "dry-run"}
