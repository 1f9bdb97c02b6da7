"""Structured pruning: the neurons kept are the ones that matter, and the narrowed
model is still an ordinary encoder that saves, reloads and trains."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from core.errors import ModelError
from models.batching import Encoded, encode
from models.cli import app
from models.config import TrainConfig
from models.data import Example
from models.modeling import MultiTaskModel, tiny_model
from models.pruning import (
    ffn_activation_importance,
    ffn_weight_importance,
    narrow_ffn,
    prune_ffn,
)
from models.train import build_model

HEADLINES = [
    "Shares of Acme fell 12% after the profit warning",
    "Fed holds rates steady, signals cuts later this year",
    "Oil jumps as OPEC extends output curbs",
    "Bank X beats estimates on trading revenue",
    "Regulator fines broker for misleading clients",
    "Chipmaker raises guidance on strong AI demand",
]


def _ffn(model: MultiTaskModel, i: int) -> tuple[torch.nn.Linear, torch.nn.Linear]:
    up = model.encoder.get_submodule(f"encoder.layer.{i}.intermediate.dense")
    down = model.encoder.get_submodule(f"encoder.layer.{i}.output.dense")
    assert isinstance(up, torch.nn.Linear) and isinstance(down, torch.nn.Linear)
    return up, down


def _calibration(model: MultiTaskModel) -> Encoded:
    return encode([Example("t", i, t) for i, t in enumerate(HEADLINES)], model.tokenizer, 32)


def _outputs(model: MultiTaskModel) -> tuple[torch.Tensor, torch.Tensor]:
    enc = model.tokenizer(HEADLINES, padding=True, return_tensors="pt")
    model.eval()
    with torch.no_grad():
        return model(enc["input_ids"], enc["attention_mask"])  # type: ignore[no-any-return]


@pytest.fixture
def tiny(need_minilm: None) -> MultiTaskModel:
    return tiny_model(num_layers=2, hidden=32)  # intermediate 64


def test_keeps_the_highest_scoring_neurons_in_order(tiny: MultiTaskModel) -> None:
    up, down = _ffn(tiny, 0)
    w_up, w_down = up.weight.detach().clone(), down.weight.detach().clone()
    scores = [torch.arange(64.0), torch.arange(64.0).flip(0)]
    prune_ffn(tiny.encoder, 16, scores)

    up, down = _ffn(tiny, 0)
    assert torch.equal(up.weight, w_up[48:])
    assert torch.equal(down.weight, w_down[:, 48:])
    assert _ffn(tiny, 1)[0].out_features == 16
    assert tiny.encoder.config.intermediate_size == 16


def test_neurons_that_never_reach_the_output_go_first_and_outputs_stay(
    tiny: MultiTaskModel,
) -> None:
    # half the neurons of every layer write nothing to the residual stream: pruning
    # exactly those must leave every logit unchanged
    for i in range(2):
        _ffn(tiny, i)[1].weight.data[:, :32] = 0.0
    before = _outputs(tiny)
    importance = ffn_activation_importance(tiny, _calibration(tiny))
    assert all(bool((s[:32] == 0).all()) and bool((s[32:] > 0).all()) for s in importance)

    prune_ffn(tiny.encoder, 32, importance)
    after = _outputs(tiny)
    for a, b in zip(before, after, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_activations_tell_what_weights_cannot(tiny: MultiTaskModel) -> None:
    # neuron 5: large weights but a bias that keeps GELU at ~0 for every token
    up, _ = _ffn(tiny, 0)
    up.weight.data[5] *= 10.0
    up.bias.data[5] = -1e4
    by_weight = ffn_weight_importance(tiny.encoder)[0]
    by_activation = ffn_activation_importance(tiny, _calibration(tiny))[0]
    assert int(by_weight.argmax()) == 5
    assert float(by_activation[5]) == pytest.approx(0.0, abs=1e-6)


def test_narrowed_model_saves_and_reloads(tiny: MultiTaskModel, tmp_path: Path) -> None:
    narrow_ffn(tiny, 24, _calibration(tiny))
    before = _outputs(tiny)
    tiny.save(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["intermediate_size"] == 24
    assert json.loads((tmp_path / "finsent_model.json").read_text())["intermediate_size"] == 24
    loaded = MultiTaskModel.load(tmp_path)
    for a, b in zip(before, _outputs(loaded), strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_width_out_of_range_is_an_error(tiny: MultiTaskModel) -> None:
    with pytest.raises(ModelError, match="intermediate_size must be in 1..64"):
        prune_ffn(tiny.encoder, 65, ffn_weight_importance(tiny.encoder))


@pytest.mark.slow
def test_distill_continues_a_trained_student_with_narrower_ffn(
    data_dir: Path, need_minilm: None, tmp_path: Path
) -> None:
    common = [
        "distill", "--hard-only", "--data-dir", str(data_dir), "--max-train-examples", "128",
        "--batch-size", "16", "--epochs", "1", "--threads", "1",
    ]  # fmt: skip

    def run(*args: str) -> None:
        result = CliRunner().invoke(app, [*common, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    run("--student", "tiny", "--output-dir", str(tmp_path / "wide"))
    wide = MultiTaskModel.load(tmp_path / "wide" / "model")
    run("--student", str(tmp_path / "wide" / "model"), "--intermediate-size", "16",
        "--output-dir", str(tmp_path / "narrow"))  # fmt: skip

    narrow = MultiTaskModel.load(tmp_path / "narrow" / "model")
    assert narrow.encoder.config.intermediate_size == 16
    assert narrow.meta["continued_from"] == str(tmp_path / "wide" / "model")
    # continued, not restarted: the trained heads come along (a fresh build seeds new ones)
    built = build_model(TrainConfig(model=str(tmp_path / "wide" / "model"), output_dir=tmp_path))
    for name in ("sentiment_head", "topic_head"):
        assert torch.equal(getattr(built, name).weight, getattr(wide, name).weight)
    summary = json.loads((tmp_path / "narrow" / "train_summary.json").read_text())
    assert summary["config"]["intermediate_size"] == 16
