"""A tiny random-init student exported to int8 ONNX once per session (a few seconds)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

COMPANIES = ["Apple", "Tesla", "Barclays", "Shell", "Nvidia", "HSBC", "Siemens", "Toyota"]
EVENTS = [
    "shares jump after earnings beat estimates",
    "cuts full-year outlook as demand slows",
    "to buy rival in $4 billion deal",
    "faces probe over accounting practices",
    "names new chief executive",
    "raises dividend by 10%",
    "bonds rally as yields fall",
    "holds annual meeting in London",
]
TEXTS = [f"{c} {e}" for c, e in itertools.product(COMPANIES, EVENTS)]


def build_tiny_artifact(tmp: pytest.TempPathFactory, version: str, seed: int) -> Path:
    pytest.importorskip("torch")
    import torch

    from export.build import build_artifact
    from export.parity import LabelledSet
    from models.modeling import tiny_model

    model = tiny_model(num_layers=1, hidden=32, seed=seed)
    with torch.no_grad():  # decisive logits, so int8 noise does not flip near-ties
        for head in (model.sentiment_head, model.topic_head):
            head.weight.mul_(40.0)
    checkpoint = model.save(tmp.mktemp(f"ckpt-{version}"))
    sets = {
        "toy_sentiment": LabelledSet("sentiment", TEXTS[::2], [i % 3 for i in range(32)]),
        "toy_topic": LabelledSet("topic", TEXTS[1::2], [i % 20 for i in range(32)]),
    }
    result = build_artifact(
        checkpoint,
        tmp.mktemp(f"artifact-{version}") / "student-int8",
        parity_texts=TEXTS,
        eval_sets=sets,
        calibration_texts=TEXTS,
        work_dir=tmp.mktemp(f"work-{version}"),
        version=version,
        enforce_gates=False,
    )
    path: Path = result.artifact
    return path


@pytest.fixture(scope="session")
def tiny_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_artifact(tmp_path_factory, "tiny-insight-1", seed=0)
