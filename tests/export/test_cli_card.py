"""`finsent model export` end to end on the tiny checkpoint, and the card it writes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import export
from export.card import read_card, sha256_file

CSV = """text,label,topic
Apple shares jump after earnings beat,positive,Earnings
Bank fined over fraud,negative,Legal | Regulation
Fed holds rates steady,neutral,Fed | Central Banks
Oil slides as demand slows,negative,Energy | Oil
Tesla names new chief financial officer,neutral,Personnel Change
"""


def test_public_api_is_pinned():
    assert sorted(export.__all__) == [
        "ModelCard",
        "OnnxClassifier",
        "default_artifact_dir",
        "read_card",
    ]
    for name in export.__all__:
        assert getattr(export, name) is not None


def test_card_describes_every_file(artifact):
    card = read_card(artifact)
    names = {p.name for p in artifact.iterdir()} - {"card.json"}
    expected = {"model.onnx", "tokenizer.json", "labels.json", "parity.json"}
    assert set(card.files) == names == expected
    for name, entry in card.files.items():
        assert entry["sha256"] == sha256_file(artifact / name)
        assert entry["bytes"] == (artifact / name).stat().st_size
    raw = json.loads((artifact / "card.json").read_text())
    assert raw["size_bytes"] == sum(e["bytes"] for e in card.files.values())
    assert card.inputs["max_length"] == 128
    assert card.inputs["preprocessing"] == ["html_unescape", "strip_urls", "collapse_whitespace"]
    assert card.graph["opset"] >= 17
    assert card.graph["census"]["float"] == 0
    assert set(card.metrics) >= {"onnx_fp32", "onnx_int8"}
    assert card.parity["fp32_max_abs_diff"] <= 1e-4
    assert card.parity["passed"] is True
    labels = json.loads((artifact / "labels.json").read_text())
    assert len(labels["sentiment"]) == 3 and len(labels["topic"]) == 20


def test_cli_export_then_verify(tiny_checkpoint, tmp_path):
    from export.cli import app

    csv = tmp_path / "eval.csv"
    csv.write_text(CSV)
    out = tmp_path / "artifact"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "export",
            "--checkpoint", str(tiny_checkpoint),
            "--out", str(out),
            "--work-dir", str(tmp_path / "work"),
            "--eval-csv", str(csv),
            "--quantization", "dynamic-per-channel",
            "--version", "cli-test",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert read_card(out).model_version == "cli-test"
    assert not list(out.glob("*fp32*")), "fp32 graphs stay in the work directory"
    result = runner.invoke(app, ["verify-artifact", str(out)])
    assert result.exit_code == 0, result.output
    assert "cli-test on CPUExecutionProvider" in result.output


def test_cli_unknown_preset_is_a_clear_error(tiny_checkpoint, tmp_path):
    from export.cli import app

    result = CliRunner().invoke(
        app,
        ["export", "--checkpoint", str(tiny_checkpoint), "--quantization", "int4-magic",
         "--out", str(tmp_path / "x")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "unknown quantization preset" in result.output


@pytest.mark.parametrize("opset", [13, 16])
def test_old_opsets_are_refused(opset):
    from core.errors import ConfigError
    from export.config import ExportConfig

    with pytest.raises(ConfigError, match="opset"):
        ExportConfig(opset=opset)
