"""A tiny random-init student, exported once per session (a few seconds on 2 cores).

A random network's logits are near-ties, which quantization noise flips at random; a
trained model is decisive. Scaling the random heads makes the tiny model decisive too,
so the int8-vs-fp32 agreement checks test the pipeline, not the luck of a tie.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from export.parity import LabelledSet
from tests.tiny_model import TEXTS, toy_eval_sets
from tests.tiny_model import tiny_checkpoint as build_tiny_checkpoint

pytest.importorskip("torch")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-student"), num_layers=2, seed=0)


@pytest.fixture(scope="session")
def eval_sets() -> dict[str, LabelledSet]:
    return toy_eval_sets()


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
