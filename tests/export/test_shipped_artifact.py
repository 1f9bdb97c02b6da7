"""The int8 student committed in export/artifacts/student-int8: the worker's default.

Runs offline from a clean clone (no torch, no data folder). Skipped only while no
artifact has been exported yet.
"""

from __future__ import annotations

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
