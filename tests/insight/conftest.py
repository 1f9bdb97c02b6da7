"""A tiny random-init student exported to int8 ONNX once per session (a few seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny_model import TEXTS, tiny_checkpoint, toy_eval_sets


def build_tiny_artifact(tmp: pytest.TempPathFactory, version: str, seed: int) -> Path:
    pytest.importorskip("torch")
    from export.build import build_artifact

    checkpoint = tiny_checkpoint(tmp.mktemp(f"ckpt-{version}"), num_layers=1, seed=seed)
    sets = toy_eval_sets()
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
