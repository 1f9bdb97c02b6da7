"""A tiny random-init student, exported once per session (a few seconds on 2 cores).

A random network's logits are near-ties, which quantization noise flips at random; a
trained model is decisive. Scaling the random heads makes the tiny model decisive too,
so the int8-vs-fp32 agreement checks test the pipeline, not the luck of a tie.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from export.parity import LabelledSet

pytest.importorskip("torch")

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
TEXTS = [f"{c} {e}" for c, e in itertools.product(COMPANIES, EVENTS)]  # 64 headlines


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch

    from models.modeling import tiny_model

    model = tiny_model(num_layers=2, hidden=32, seed=0)
    with torch.no_grad():
        for head in (model.sentiment_head, model.topic_head):
            head.weight.mul_(40.0)
    return model.save(tmp_path_factory.mktemp("tiny-student"))


@pytest.fixture(scope="session")
def eval_sets() -> dict[str, LabelledSet]:
    return {
        "toy_sentiment": LabelledSet("sentiment", TEXTS[::2], [i % 3 for i in range(32)]),
        "toy_topic": LabelledSet("topic", TEXTS[1::2], [i % 20 for i in range(32)]),
    }


@pytest.fixture(scope="session")
def exported(tiny_checkpoint: Path, eval_sets: dict[str, LabelledSet], tmp_path_factory):
    from export.build import build_artifact
    from export.config import ExportConfig

    out = tmp_path_factory.mktemp("artifact") / "student-int8"
    # the default presets, plus static QDQ (not tried by default) to keep it covered
    presets = (*ExportConfig().quantization, "static-qdq")
    return build_artifact(
        tiny_checkpoint,
        out,
        parity_texts=TEXTS,
        eval_sets=eval_sets,
        calibration_texts=TEXTS,
        config=ExportConfig(quantization=presets),
        work_dir=tmp_path_factory.mktemp("work"),
        version="tiny-test-1",
    )


@pytest.fixture(scope="session")
def artifact(exported) -> Path:
    path: Path = exported.artifact
    return path
