"""A tiny-config train -> soft labels -> distill -> evaluate run through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.cli import app
from models.soft_labels import SoftLabels

pytestmark = pytest.mark.slow

TINY = ["--model", "tiny", "--max-train-examples", "384", "--batch-size", "16", "--threads", "1"]


def _run(args: list[str]) -> None:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_tiny_train_distill_evaluate(data_dir: Path, need_minilm: None, tmp_path: Path) -> None:
    teacher = tmp_path / "teacher"
    common = ["--data-dir", str(data_dir)]
    _run(
        [
            "train-teacher",
            *TINY,
            *common,
            "--output-dir",
            str(teacher),
            "--epochs",
            "4",
            "--lr",
            "1e-3",
            "--head-lr",
            "3e-3",
            "--checkpoint-every",
            "20",
        ]
    )
    summary = json.loads((teacher / "train_summary.json").read_text())
    losses = summary["loss_history"]
    assert len(losses) >= 3
    assert losses[-1] < losses[0]  # it learns
    assert set(summary["validation"]) == {
        "phrasebank_50agree",
        "twitter_sentiment",
        "twitter_topic",
        "fiqa",
        "semeval_headlines",
        "sentfin_agree",
    }

    # rerunning the same command resumes the finished run: no extra steps
    _run(
        [
            "train-teacher",
            *TINY,
            *common,
            "--output-dir",
            str(teacher),
            "--epochs",
            "4",
            "--lr",
            "1e-3",
            "--head-lr",
            "3e-3",
            "--checkpoint-every",
            "20",
            "--no-validate",
        ]
    )
    assert json.loads((teacher / "train_summary.json").read_text())["steps"] == summary["steps"]

    soft = tmp_path / "soft.npz"
    student = tmp_path / "student"
    _run(
        [
            "distill",
            "--teacher",
            str(teacher),
            "--soft-labels",
            str(soft),
            *common,
            "--student",
            "tiny",
            "--num-layers",
            "1",
            "--max-train-examples",
            "384",
            "--batch-size",
            "16",
            "--epochs",
            "1",
            "--threads",
            "1",
            "--output-dir",
            str(student),
        ]
    )
    labels = SoftLabels.load(soft)
    assert labels.sentiment.shape[1] == 3 and labels.topic.shape[1] == 20
    sources = {s for s, _ in labels.keys}
    assert "unlabeled_fin_headlines/guardian_headlines.csv" in sources
    assert soft.stat().st_size < 8 * 2**20
    student_summary = json.loads((student / "train_summary.json").read_text())
    assert student_summary["config"]["include_transfer"] is True

    card = tmp_path / "card"
    _run(["evaluate", "--model", str(student), "--card-dir", str(card), *common])
    data = json.loads((card / "card.json").read_text())
    for name in ("phrasebank_allagree", "twitter_sentiment", "twitter_topic", "fiqa"):
        m = data["metrics"][name]
        assert 0.0 <= m["accuracy"] <= 1.0
        assert "confusion_matrix" in m and "per_class_f1" in m and "ece" in m
    assert data["lexicon_baseline"]["phrasebank_allagree"]["accuracy"] > 0.5
    assert (card / "README.md").read_text().startswith("# finsent model card")


def test_missing_teacher_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["distill", "--teacher", str(tmp_path / "nope"), "--soft-labels", str(tmp_path / "s.npz")],
    )
    assert result.exit_code == 1
    assert "train-teacher" in result.output


def test_help_for_every_command() -> None:
    for cmd in ("prepare-data", "train-teacher", "distill", "evaluate"):
        result = CliRunner().invoke(app, [cmd, "--help"])
        assert result.exit_code == 0


def _digest(run: Path) -> str:
    return (run / "replica-0.sha256").read_text().strip()


def test_seeded_and_resumable(data_dir: Path, need_minilm: None, tmp_path: Path) -> None:
    args = [
        *TINY,
        "--data-dir",
        str(data_dir),
        "--epochs",
        "1.5",
        "--no-validate",
        "--max-train-examples",
        "96",
        "--checkpoint-every",
        "100",
    ]
    _run(["train-teacher", *args, "--output-dir", str(tmp_path / "a")])
    _run(["train-teacher", *args, "--output-dir", str(tmp_path / "b")])
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")  # same seed, same weights

    # interrupted after 4 steps (inside the first epoch), then resumed across the epoch
    # boundary: it ends with exactly the weights of the uninterrupted run
    _run(["train-teacher", *args, "--output-dir", str(tmp_path / "c"), "--stop-after", "4"])
    assert not (tmp_path / "c" / "model").exists()
    _run(["train-teacher", *args, "--output-dir", str(tmp_path / "c")])
    assert _digest(tmp_path / "c") == _digest(tmp_path / "a")

    _run(["train-teacher", *args, "--output-dir", str(tmp_path / "d"), "--seed", "14"])
    assert _digest(tmp_path / "d") != _digest(tmp_path / "a")


def test_resume_refuses_other_settings(data_dir: Path, need_minilm: None, tmp_path: Path) -> None:
    args = [
        *TINY,
        "--data-dir",
        str(data_dir),
        "--no-validate",
        "--max-train-examples",
        "64",
        "--output-dir",
        str(tmp_path / "r"),
    ]
    _run(["train-teacher", *args, "--stop-after", "1"])
    result = CliRunner().invoke(app, ["train-teacher", *args, "--lr", "0.1"])
    assert result.exit_code == 1
    assert "different settings (lr)" in result.output
