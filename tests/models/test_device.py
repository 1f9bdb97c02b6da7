"""The configured device is where training and inference really run.

Self-contained (no conftest fixtures) so that it runs on a GPU machine that has torch but
not the rest of the stack: ``pytest --noconftest tests/models/test_device.py``. It covers
the CPU everywhere and, where torch sees one, CUDA.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from core.errors import ConfigError
from models.config import TrainConfig
from models.data import DEFAULT_DATA_DIR, Example
from models.device import resolve_device
from models.inference import predict_logits
from models.modeling import MultiTaskModel, tiny_model
from models.train import train

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
DATA = Path(os.environ.get("FINSENT_TEST_DATA_DIR", DEFAULT_DATA_DIR))
TEXTS = ["Acme recalls 2 million cars", "Fed holds rates steady", "Shares jump 12% on record sales"]


def test_auto_follows_what_torch_sees() -> None:
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(ConfigError):
        resolve_device("tpu")
    # a CUDA device that does not exist is an error, not a silent CPU run
    with pytest.raises(ConfigError):
        resolve_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("device", DEVICES)
def test_predict_logits_runs_on_the_device_and_matches_cpu(device: str) -> None:
    model = tiny_model(seed=3)
    examples = [Example("t", i, t) for i, t in enumerate(TEXTS)]
    ref_s, ref_t = predict_logits(model, examples, device="cpu")
    sent, topic = predict_logits(model, examples, device=device)
    assert next(model.parameters()).device.type == device
    assert torch.allclose(torch.from_numpy(sent), torch.from_numpy(ref_s), atol=1e-4)
    assert torch.allclose(torch.from_numpy(topic), torch.from_numpy(ref_t), atol=1e-4)


@pytest.mark.parametrize("device", DEVICES)
def test_a_single_process_run_trains_on_the_configured_device(device: str, tmp_path: Path) -> None:
    if not (DATA / "README.md").is_file():
        pytest.fail(f"shared data not found at {DATA} (set FINSENT_TEST_DATA_DIR)")
    cfg = TrainConfig(
        model="tiny",
        output_dir=tmp_path / "run",
        data_dir=DATA,
        max_train_examples=64,
        batch_size=16,
        epochs=1,
        threads=1,
        validate=False,
        device=device,
    )
    final = train(cfg)
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["device"].startswith(device)
    # what was trained on the device loads back on the CPU
    assert next(MultiTaskModel.load(final).parameters()).device.type == "cpu"
