"""Teacher side of distillation: resolve the teacher, write its soft labels once.

The student itself is trained by :func:`models.train.train` with ``soft_labels`` set
(hard-label cross-entropy plus temperature-scaled KL to these logits)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from core.errors import ConfigError
from models.config import TrainConfig
from models.data import file_sha256
from models.inference import predict_logits
from models.modeling import LABELS_FILE, MultiTaskModel
from models.soft_labels import SoftLabels
from models.splits import SplitFile, training_examples

__all__ = ["ensure_soft_labels", "resolve_model_dir"]


def resolve_model_dir(path: Path, *, console: Console | None = None) -> Path:
    """A model folder as is; a run folder's final ``model/``; or, while the run is still
    going, a model materialised from its latest checkpoint (``model-step<N>/``)."""
    if (path / LABELS_FILE).is_file():
        return path
    if (path / "model" / LABELS_FILE).is_file():
        return path / "model"
    state_file = path / "checkpoint" / "state.pt"
    if not state_file.is_file():
        raise ConfigError(
            f"{path} is neither a model folder nor a run folder with a checkpoint: "
            f"run `finsent model train-teacher` first"
        )
    from models.train import build_model

    position = json.loads((path / "checkpoint" / "position.json").read_text())
    out = path / f"model-step{position['step']}"
    if (out / LABELS_FILE).is_file():
        return out
    cfg = TrainConfig.read(path / "train_config.json")
    model = build_model(cfg)
    state = torch.load(state_file, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"], strict=False)
    model.meta.update({"checkpoint_step": position["step"], "total_steps": position["total_steps"]})
    model.eval()
    model.save(out)
    if console:
        console.log(
            f"materialised {out} from the checkpoint at step "
            f"{position['step']}/{position['total_steps']}"
        )
    return out


def ensure_soft_labels(
    teacher: Path,
    out: Path,
    splits: Path,
    data_dir: Path,
    *,
    relabel: bool = False,
    max_unlabeled: int | None = None,
    seed: int = 13,
    batch_size: int = 64,
    max_length: int = 64,
    device: str = "auto",
    precision: str = "fp32",
    console: Console | None = None,
) -> Path:
    """Write the teacher's logits over the transfer set (every training row of every
    source plus the unlabelled headlines; never a validation or test row)."""
    if out.is_file() and not relabel:
        if console:
            console.log(f"using existing soft labels {out} (--relabel to recompute)")
        return out
    model_dir = resolve_model_dir(teacher, console=console)
    model = MultiTaskModel.load(model_dir)
    split = SplitFile.read(splits)
    examples = training_examples(split, data_dir, include_transfer=True)
    unlabeled = [i for i, e in enumerate(examples) if e.sentiment is None and e.topic is None]
    if max_unlabeled is not None and len(unlabeled) > max_unlabeled:
        # teacher inference is the slow part on a CPU: a seeded sample of the
        # unlabelled headlines keeps it bounded (labelled rows are always kept)
        rng = np.random.default_rng(seed)
        drop = set(rng.choice(unlabeled, len(unlabeled) - max_unlabeled, replace=False).tolist())
        examples = [e for i, e in enumerate(examples) if i not in drop]
    with Progress(
        TextColumn("[bold]soft labels"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=console is None or not console.is_terminal,
    ) as progress:
        task = progress.add_task("soft", total=len(examples))
        sent, topic = predict_logits(
            model,
            examples,
            batch_size=batch_size,
            max_length=max_length,
            progress=progress,
            task_id=task,
            device=device,
            precision=precision,
        )
    meta = {
        "teacher": str(model_dir),
        "teacher_meta": model.meta,
        "splits_sha256": file_sha256(splits),
        "labels": {"sentiment": list(model.sentiment_labels), "topic": list(model.topic_labels)},
        "rows": len(examples),
        "max_unlabeled": max_unlabeled,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "dtype": "float16 logits (no temperature applied)",
        "device": str(next(model.parameters()).device),
        "precision": precision,
    }
    SoftLabels([e.key for e in examples], sent, topic, meta).save(out)
    if console:
        agree = np.mean(
            [
                sent[i].argmax() == e.sentiment
                for i, e in enumerate(examples)
                if e.sentiment is not None
            ]
        )
        console.log(
            f"wrote {out}: {len(examples)} rows; teacher agrees with {agree:.3f} of train labels"
        )
    return out
