"""``finsent model ...``: prepare-data, train-teacher, distill, calibrate, evaluate.

torch and transformers are imported inside the commands: ``finsent --help`` stays fast
and works without the ``train`` extra.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from core.cli_support import FAILED, fail
from core.errors import FinsentError

__all__ = ["app"]

app = typer.Typer(
    help="Train, distil and evaluate the sentiment + topic model.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)

TRAIN_EXTRA = 'pip install -e ".[train]"'

DataDir = Annotated[
    Path | None,
    typer.Option(help="Folder holding the shared data sets (default: ../shared/data)."),
]
SplitsOpt = Annotated[
    Path | None, typer.Option(help="Split file (default: models/splits/splits.json).")
]
DeviceOpt = Annotated[
    str,
    typer.Option(help="auto (CUDA when torch sees a GPU), cpu, cuda or cuda:N."),
]
PrecisionOpt = Annotated[
    str, typer.Option(help="fp32 or bf16 (autocast; no faster for headlines on an H200).")
]
TopicBalanceOpt = Annotated[
    float | None,
    typer.Option(
        help="Class-balanced topic loss: weights (n/(k*n_c))**POWER; 0 plain, 1 inverse "
        "frequency (default 0.5)."
    ),
]


def _need_train_extra() -> None:
    missing = [
        m for m in ("torch", "transformers", "safetensors") if not importlib.util.find_spec(m)
    ]
    if missing:
        console.print(
            f"[red]missing {', '.join(missing)}[/]: install the training extra: {TRAIN_EXTRA}"
        )
        raise typer.Exit(2)


def _defaults(data_dir: Path | None, splits: Path | None) -> tuple[Path, Path]:
    from models.data import DEFAULT_DATA_DIR
    from models.splits import DEFAULT_SPLITS

    return data_dir or DEFAULT_DATA_DIR, splits or DEFAULT_SPLITS


@app.command("prepare-data")
def prepare_data(
    data_dir: DataDir = None,
    splits: SplitsOpt = None,
    extra_csv: Annotated[
        list[Path] | None,
        typer.Option(help="Your own CSV (text,label and/or text,topic); repeatable."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split assignment.")] = 13,
) -> None:
    """Make the fixed, seeded splits (row ids + sha256 per file; no text) and check leakage."""
    from models.splits import make_splits

    data, out = _defaults(data_dir, splits)
    try:
        split = make_splits(data, seed=seed, extra_csvs=extra_csv or [])
    except FinsentError as e:
        raise fail(e, FAILED) from e
    split.write(out)
    for source, info in split.sources.items():
        console.print(f"{source}: {info['counts']}")
    console.print(f"exclusions: {split.data['exclusions']}")
    console.print(f"wrote {out}")


def _train_options(**kw: object) -> object:
    from models.config import TrainConfig

    return TrainConfig(**{k: v for k, v in kw.items() if v is not None})  # type: ignore[arg-type]


@app.command("train-teacher")
def train_teacher(
    output_dir: Annotated[Path, typer.Option(help="Run folder (checkpoints, final model).")] = Path(
        "runs/teacher"
    ),
    model: Annotated[str, typer.Option(help="mpnet, minilm, tiny or a model folder.")] = "mpnet",
    epochs: Annotated[float, typer.Option(help="Passes over the training set.")] = 1.0,
    batch_size: Annotated[int, typer.Option()] = 32,
    lr: Annotated[float, typer.Option(help="Encoder learning rate.")] = 3e-5,
    head_lr: Annotated[float, typer.Option(help="Learning rate of the two heads.")] = 5e-4,
    max_length: Annotated[int, typer.Option(help="Tokens per text (truncation).")] = 64,
    num_layers: Annotated[int | None, typer.Option(help="Keep only the first N layers.")] = None,
    freeze_layers: Annotated[int, typer.Option(help="Freeze the lowest N layers.")] = 0,
    permissive_only: Annotated[
        bool, typer.Option(help="Train on MIT-licensed data only (no PhraseBank).")
    ] = False,
    seed: Annotated[int, typer.Option()] = 13,
    checkpoint_every: Annotated[int, typer.Option(help="Checkpoint every N steps.")] = 200,
    threads: Annotated[int | None, typer.Option(help="torch threads per process.")] = None,
    max_train_examples: Annotated[
        int | None, typer.Option(help="Subsample the training set (tiny runs).")
    ] = None,
    validate: Annotated[bool, typer.Option(help="Score the validation sets at the end.")] = True,
    stop_after: Annotated[
        int | None, typer.Option(help="Stop after N more steps (checkpointed); rerun resumes.")
    ] = None,
    topic_balance: TopicBalanceOpt = None,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "fp32",
    data_dir: DataDir = None,
    splits: SplitsOpt = None,
) -> None:
    """Fine-tune the teacher (MPNet-base) on all labelled data. Rerun to resume.

    Runs under torchrun too: torchrun --nproc_per_node 2 -m models.cli train-teacher ...
    """
    _need_train_extra()
    from models.train import train

    data, split = _defaults(data_dir, splits)
    try:
        cfg = _train_options(
            output_dir=output_dir,
            model=model,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            head_lr=head_lr,
            max_length=max_length,
            num_layers=num_layers,
            freeze_layers=freeze_layers,
            permissive_only=permissive_only,
            seed=seed,
            checkpoint_every=checkpoint_every,
            threads=threads,
            max_train_examples=max_train_examples,
            validate=validate,
            data_dir=data,
            splits=split,
            stop_after=stop_after,
            topic_balance=topic_balance,
            device=device,
            precision=precision,
        )
        final = train(cfg, console=console)  # type: ignore[arg-type]
    except FinsentError as e:
        raise fail(e, FAILED) from e
    console.print(
        f"teacher model: {final}" if final.name != "checkpoint" else f"checkpoint: {final}"
    )


@app.command()
def distill(
    teacher: Annotated[
        Path,
        typer.Option(help="Teacher model folder, or its run folder (uses the latest checkpoint)."),
    ] = Path("runs/teacher"),
    soft_labels: Annotated[
        Path | None,
        typer.Option(help="Teacher logits file (default: models/soft_labels/teacher_logits.npz)."),
    ] = None,
    relabel: Annotated[
        bool, typer.Option(help="Recompute the soft labels even if the file exists.")
    ] = False,
    labels_only: Annotated[bool, typer.Option(help="Only write the soft labels.")] = False,
    max_unlabeled: Annotated[
        int | None,
        typer.Option(help="Label at most N unlabelled headlines (seeded sample; default all)."),
    ] = None,
    output_dir: Annotated[Path, typer.Option(help="Student run folder.")] = Path("runs/student"),
    student: Annotated[str, typer.Option(help="minilm, tiny or a model folder.")] = "minilm",
    num_layers: Annotated[
        int | None, typer.Option(help="Student depth: first N layers of MiniLM-L6.")
    ] = None,
    intermediate_size: Annotated[
        int | None,
        typer.Option(
            help="Feed-forward width: keep the N most active FFN neurons of every layer "
            "(MiniLM has 1536)."
        ),
    ] = None,
    epochs: Annotated[float, typer.Option()] = 2.0,
    batch_size: Annotated[int, typer.Option()] = 32,
    lr: Annotated[float, typer.Option()] = 1e-4,
    head_lr: Annotated[float, typer.Option()] = 1e-3,
    temperature: Annotated[float, typer.Option(help="Distillation temperature.")] = 2.0,
    alpha: Annotated[float, typer.Option(help="Weight of the hard-label loss.")] = 0.5,
    hard_only: Annotated[
        bool, typer.Option(help="No soft labels: a plain fine-tune of the student.")
    ] = False,
    permissive_only: Annotated[bool, typer.Option(help="MIT-licensed data only.")] = False,
    seed: Annotated[int, typer.Option()] = 13,
    checkpoint_every: Annotated[int, typer.Option()] = 200,
    threads: Annotated[int | None, typer.Option()] = None,
    max_train_examples: Annotated[int | None, typer.Option()] = None,
    topic_balance: TopicBalanceOpt = None,
    device: DeviceOpt = "auto",
    precision: PrecisionOpt = "fp32",
    data_dir: DataDir = None,
    splits: SplitsOpt = None,
) -> None:
    """Write the teacher's soft labels over the transfer set, then train the student on
    hard labels + temperature-scaled KL to them. Rerun to resume."""
    _need_train_extra()
    from models.distill import ensure_soft_labels
    from models.soft_labels import DEFAULT_SOFT_LABELS
    from models.train import train

    data, split = _defaults(data_dir, splits)
    soft_path = soft_labels or DEFAULT_SOFT_LABELS
    try:
        if not hard_only:
            ensure_soft_labels(
                teacher,
                soft_path,
                split,
                data,
                relabel=relabel,
                console=console,
                max_unlabeled=max_unlabeled,
                seed=seed,
                device=device,
                precision=precision,
            )
            if labels_only:
                return
        cfg = _train_options(
            output_dir=output_dir,
            model=student,
            num_layers=num_layers,
            intermediate_size=intermediate_size,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            head_lr=head_lr,
            temperature=temperature,
            alpha=alpha,
            soft_labels=None if hard_only else soft_path,
            include_transfer=not hard_only,
            permissive_only=permissive_only,
            seed=seed,
            checkpoint_every=checkpoint_every,
            threads=threads,
            max_train_examples=max_train_examples,
            topic_balance=topic_balance,
            device=device,
            precision=precision,
            data_dir=data,
            splits=split,
        )
        final = train(cfg, console=console)  # type: ignore[arg-type]
    except FinsentError as e:
        raise fail(e, FAILED) from e
    console.print(f"student model: {final}")


@app.command()
def calibrate(
    model: Annotated[Path, typer.Option(help="Model folder (or run folder) to calibrate.")] = Path(
        "runs/student"
    ),
    threads: Annotated[int | None, typer.Option(help="torch threads.")] = None,
    data_dir: DataDir = None,
    splits: SplitsOpt = None,
) -> None:
    """Set how much evidence a polar sentiment needs: the neutral-logit offset with the best
    macro-F1 on the validation sets (never a test set), written into the model."""
    _need_train_extra()
    import torch

    from models.calibrate import apply_neutral_offset, best_neutral_offset, validation_logits
    from models.distill import resolve_model_dir
    from models.modeling import MultiTaskModel

    data, split = _defaults(data_dir, splits)
    if threads:
        torch.set_num_threads(threads)
    try:
        model_dir = resolve_model_dir(model, console=console)
        net = MultiTaskModel.load(model_dir)
        logits, labels = validation_logits(net, split, data)
    except FinsentError as e:
        raise fail(e, FAILED) from e
    offset, scores = best_neutral_offset(logits, labels)
    report = {
        "method": "neutral-logit offset maximising pooled validation sentiment macro-F1",
        "validation_rows": int(len(labels)),
        "macro_f1_before": round(scores[0.0], 4),
        "macro_f1_after": round(scores[offset], 4),
    }
    apply_neutral_offset(net, offset, report)
    net.save(model_dir)
    console.print(
        f"neutral offset {offset:+.2f}: validation macro-F1 {scores[0.0]:.4f} -> "
        f"{scores[offset]:.4f} over {len(labels)} rows; wrote {model_dir}"
    )


@app.command()
def evaluate(
    model: Annotated[Path, typer.Option(help="Model folder (or run folder) to evaluate.")] = Path(
        "runs/student"
    ),
    card_dir: Annotated[
        Path | None,
        typer.Option(help="Write card.json + README.md here (default: models/cards/<run name>/)."),
    ] = None,
    which: Annotated[str, typer.Option(help="test or validation.")] = "test",
    lexicon: Annotated[
        bool, typer.Option(help="Also score the Loughran-McDonald baseline.")
    ] = True,
    sets: Annotated[
        list[str] | None,
        typer.Option(help="Only these test sets (repeatable; default all), e.g. twitter_topic."),
    ] = None,
    threads: Annotated[int | None, typer.Option(help="torch threads.")] = None,
    device: DeviceOpt = "auto",
    data_dir: DataDir = None,
    splits: SplitsOpt = None,
) -> None:
    """Accuracy, macro-F1, per-class F1, confusion matrix and ECE per test set; model card."""
    _need_train_extra()
    from models.card import write_card

    data, split = _defaults(data_dir, splits)
    if threads:
        import torch

        torch.set_num_threads(threads)
    try:
        paths = write_card(
            model,
            card_dir,
            split,
            data,
            which=which,
            lexicon=lexicon,
            console=console,
            names=sets,
            device=device,
        )
    except FinsentError as e:
        raise fail(e, FAILED) from e
    for p in paths:
        console.print(f"wrote {p}")


if __name__ == "__main__":  # torchrun -m models.cli ...
    app()
