"""``finsent model export`` (and ``verify-artifact``): the artifact the product loads.

torch, onnx and the models package are imported inside the commands, so mounting this
app costs nothing and ``verify-artifact`` runs on a serving install (no torch).
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from core.cli_support import FAILED, fail
from core.errors import FinsentError

if TYPE_CHECKING:
    from export.parity import LabelledSet

__all__ = ["app"]

app = typer.Typer(help="Export the student to int8 ONNX and check artifacts.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)

TRAIN_EXTRA = 'pip install -e ".[train]"'
PARITY_BATCH = 64
SEED = 13


def _sample(texts: list[str], n: int, seed: int) -> list[str]:
    if len(texts) <= n:
        return list(texts)
    return random.Random(seed).sample(texts, n)


def _split_sets(
    data_dir: Path | None, splits: Path | None, which: str, cap: int | None
) -> dict[str, LabelledSet]:
    from export.parity import LabelledSet
    from models.data import DEFAULT_DATA_DIR
    from models.splits import DEFAULT_SPLITS, SplitFile, eval_sets

    split = SplitFile.read(splits or DEFAULT_SPLITS)
    out: dict[str, LabelledSet] = {}
    for name, (task, examples) in eval_sets(
        split, data_dir or DEFAULT_DATA_DIR, which=which
    ).items():
        if cap is not None and len(examples) > cap:
            examples = random.Random(f"{SEED}:{name}").sample(examples, cap)
        labels = [int(getattr(e, task)) for e in examples]
        out[name] = LabelledSet(task, [e.text for e in examples], labels)
    return out


def _training_max_length(model_dir: Path) -> int | None:
    """Serve with the truncation the model was trained with (train_config.json)."""
    import json

    for path in (model_dir / "train_config.json", model_dir.parent / "train_config.json"):
        if path.is_file():
            value = json.loads(path.read_text()).get("max_length")
            return int(value) if value else None
    return None


def _csv_sets(path: Path) -> dict[str, LabelledSet]:
    from export.parity import LabelledSet
    from models.data import load_user_csv

    examples = load_user_csv(path)
    out: dict[str, LabelledSet] = {}
    for task in ("sentiment", "topic"):
        rows = [e for e in examples if getattr(e, task) is not None]
        if rows:
            out[f"csv_{task}"] = LabelledSet(
                task, [e.text for e in rows], [int(getattr(e, task)) for e in rows]
            )
    return out


@app.command("export")
def export_command(
    checkpoint: Annotated[
        Path,
        typer.Option(
            help="Student model folder, or its run folder (final model/ or latest checkpoint)."
        ),
    ] = Path("runs/student"),
    out: Annotated[
        Path | None,
        typer.Option(help="Artifact folder (default: the shipped export/artifacts/student-int8)."),
    ] = None,
    work_dir: Annotated[
        Path | None, typer.Option(help="fp32 graphs and candidates (default: <checkpoint>/onnx).")
    ] = None,
    quantization: Annotated[
        list[str] | None,
        typer.Option(help="Presets to try (repeat), fastest first; the first passing one ships."),
    ] = None,
    opset: Annotated[int, typer.Option(help="ONNX opset (>= 17).")] = 17,
    max_length: Annotated[
        int | None,
        typer.Option(help="Truncation length in tokens (default: the training run's, else 128)."),
    ] = None,
    optimize: Annotated[bool, typer.Option(help="Offline transformer fusions.")] = True,
    fuse_attention: Annotated[
        bool, typer.Option(help="Also fuse attention (helps on CUDA; measured slower on CPU).")
    ] = False,
    version: Annotated[str | None, typer.Option(help="Model version (default: derived).")] = None,
    eval_csv: Annotated[
        Path | None,
        typer.Option(help="Labelled CSV (text,label[,topic]) instead of the fixed test splits."),
    ] = None,
    max_eval: Annotated[
        int | None, typer.Option(help="At most this many texts per test set (seeded sample).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Shared data folder.")] = None,
    splits: Annotated[Path | None, typer.Option(help="Split file.")] = None,
    threads: Annotated[int | None, typer.Option(help="torch threads while exporting.")] = None,
    allow_failed_gates: Annotated[
        bool,
        typer.Option(help="Write the artifact even if no int8 candidate passes (card says so)."),
    ] = False,
) -> None:
    """Export, optimize and quantize the student; gate it on parity; write the artifact
    (model.onnx, tokenizer.json, labels.json, parity.json, card.json)."""
    missing = [m for m in ("torch", "onnx", "transformers") if not importlib.util.find_spec(m)]
    if missing:
        console.print(f"[red]missing {', '.join(missing)}[/]: install {TRAIN_EXTRA}")
        raise typer.Exit(2)
    import torch
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from export.build import build_artifact
    from export.config import ExportConfig
    from export.runtime import default_artifact_dir
    from models.distill import resolve_model_dir

    if threads:
        torch.set_num_threads(threads)
    target = out or default_artifact_dir()
    try:
        model_dir = resolve_model_dir(checkpoint, console=console)
        config = ExportConfig(
            opset=opset,
            max_length=max_length or _training_max_length(model_dir) or 128,
            optimize=optimize,
            fuse_attention=fuse_attention,
            quantization=tuple(quantization or ExportConfig().quantization),
        )
        if eval_csv is not None:
            tests = _csv_sets(eval_csv)
            calibration = [t for s in tests.values() for t in s.texts]
        else:
            tests = _split_sets(data_dir, splits, "test", max_eval)
            validation = _split_sets(data_dir, splits, "validation", None)
            # calibration never sees a test text: validation texts only
            calibration = _sample([t for s in validation.values() for t in s.texts], 512, SEED)
        if not tests:
            raise typer.BadParameter("no labelled test texts found")
        held_out = _sample([t for s in tests.values() for t in s.texts], PARITY_BATCH, SEED)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            result = build_artifact(
                model_dir,
                target,
                parity_texts=held_out,
                eval_sets=tests,
                calibration_texts=calibration,
                config=config,
                work_dir=work_dir,
                version=version,
                progress=progress,
                enforce_gates=not allow_failed_gates,
            )
    except FinsentError as err:
        raise fail(err, FAILED) from err
    _report(result)


def _report(result: object) -> None:
    from rich.table import Table

    from export.build import ExportResult

    assert isinstance(result, ExportResult)  # noqa: S101 - narrowing for mypy
    card = result.card
    console.print(
        f"fp32 ONNX vs PyTorch: max |diff| {result.fp32_parity['max_abs_diff']:.2e} "
        f"(batch {result.fp32_parity['batch']})"
    )
    table = Table(title="int8 candidates vs fp32 ONNX")
    for col in ("preset", "MB", "quantized/float", "agree sent", "agree topic", "worst drop", "ok"):
        table.add_column(col)
    for c in result.candidates:
        worst = max((p for d in c.drops.values() for p in d.values()), default=0.0)
        table.add_row(
            c.preset + (" *" if c is result.chosen else ""),
            f"{c.bytes / 1e6:.1f}",
            f"{c.census.get('quantized', 0)}/{c.census.get('float', 0)}",
            f"{c.agreement['sentiment']:.4f}",
            f"{c.agreement['topic']:.4f}",
            f"{worst:+.2f}",
            "yes" if c.passed else "; ".join(c.failures),
        )
    console.print(table)
    console.print(
        f"wrote {result.artifact} ({card.size_bytes / 1e6:.1f} MB), "
        f"model {card.model_name} {card.model_version}"
    )


@app.command("verify-artifact")
def verify_artifact(
    path: Annotated[Path | None, typer.Argument(help="Artifact folder (default: shipped).")] = None,
) -> None:
    """Check an artifact's hashes, load it and classify two headlines (no torch needed)."""
    from core.config import ModelSettings
    from export.runtime import OnnxClassifier

    try:
        clf = OnnxClassifier.from_artifact(path, ModelSettings())
        results = clf.classify(["Shares soar after record profit", "Bank fined over fraud"])
    except FinsentError as err:
        raise fail(err, FAILED) from err
    console.print(f"{clf.model_name} {clf.model_version} on {clf.provider}")
    for r in results:
        console.print(f"  {r.sentiment:8s} score {r.score:+.3f}  topic {r.topic}")
