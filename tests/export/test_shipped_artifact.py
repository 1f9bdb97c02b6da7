"""The int8 student committed in export/artifacts/student-int8: the worker's default.

Runs offline from a clean clone (no torch, no data folder). Skipped only while no
artifact has been exported yet.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.config import ModelSettings
from export.card import read_card
from export.runtime import OnnxClassifier, default_artifact_dir

ARTIFACT = default_artifact_dir()
pytestmark = pytest.mark.skipif(
    not (ARTIFACT / "card.json").is_file(), reason="no shipped artifact yet"
)


@pytest.fixture(scope="module")
def shipped() -> OnnxClassifier:
    return OnnxClassifier.from_artifact(None, ModelSettings(intra_op_threads=1))


def test_card_parity_and_size():
    card = read_card(ARTIFACT)
    assert card.parity["fp32_max_abs_diff"] <= 1e-4
    assert card.parity["int8_max_drop_points"] <= 0.5
    assert card.size_bytes < 40 * 2**20
    assert card.graph["census"]["float"] == 0


def test_int8_label_agreement_gate():
    card = read_card(ARTIFACT)
    agreement = card.parity["int8_label_agreement"]
    assert card.parity["passed"]
    assert agreement["sentiment"] >= 0.99
    assert agreement["topic"] >= 0.99


def test_shipped_model_reads_headlines(shipped):
    out = shipped.classify(
        [
            "Company X shares soar 20% after record quarterly profit and raised guidance",
            "Company X plunges after it files for bankruptcy and fires 5,000 workers",
            "",
        ]
    )
    assert out[0].sentiment == "positive" and out[0].score > 0
    assert out[1].sentiment == "negative" and out[1].score < 0
    assert out[2].sentiment == "neutral"
    assert shipped.model_version == read_card(ARTIFACT).model_version


def _analyst_scores(classifier: OnnxClassifier) -> tuple[float, float]:
    """(sentiment macro-F1, topic accuracy) on the analyst headline set, in points."""
    from core.labels import SENTIMENT_LABELS, TOPIC_LABELS
    from models.data import ANALYST_SET, DEFAULT_DATA_DIR, load_source
    from models.metrics import classification_report

    examples = load_source(DEFAULT_DATA_DIR, ANALYST_SET)  # in the repository, not shared/
    out = classifier.classify([e.text for e in examples])
    truth = np.array([e.sentiment for e in examples])
    pred = np.array([SENTIMENT_LABELS.index(c.sentiment) for c in out])
    f1 = classification_report(truth, pred, SENTIMENT_LABELS)["macro_f1"]
    topics = np.mean(
        [TOPIC_LABELS.index(c.topic) == e.topic for c, e in zip(out, examples, strict=True)]
    )
    return 100 * f1, 100 * float(topics)


def test_analyst_set_gate(shipped):
    """The default model on headlines written for finsent (models/analyst_set), as recorded
    in its card by the export: sentiment macro-F1 83.4, topic accuracy 60.2 (2026-12-04).
    The issue's targets (85 / 75) are not met; this gate keeps what was reached."""
    recorded = read_card(ARTIFACT).metrics["onnx_int8"]
    f1, topic = _analyst_scores(shipped)
    assert f1 == pytest.approx(recorded["analyst_sentiment"]["macro_f1"], abs=0.5)
    assert topic == pytest.approx(recorded["analyst_topic"]["accuracy"], abs=0.5)
    assert f1 >= 83.0
    assert topic >= 60.0


def test_fast_preset_is_the_narrow_student_and_reads_headlines_worse():
    fast = OnnxClassifier.from_artifact(None, ModelSettings(preset="fast", intra_op_threads=1))
    assert read_card(default_artifact_dir("fast")).source["encoder"]["layers"] == 3
    assert read_card(ARTIFACT).source["encoder"]["layers"] == 6
    f1_fast, _ = _analyst_scores(fast)
    f1, _ = _analyst_scores(OnnxClassifier.from_artifact(None, ModelSettings(intra_op_threads=1)))
    assert f1 - f1_fast >= 10.0  # what the fast preset trades: measured 83.4 vs 64.5
