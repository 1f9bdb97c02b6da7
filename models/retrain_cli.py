"""``finsent model retrain`` (merged into the ``model`` group by app/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.cli_support import fail
from core.config import get_settings
from core.errors import FinsentError

__all__ = ["app"]

app = typer.Typer(help="Retrain from analysts' feedback.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True)


@app.command()
def retrain(
    student: Annotated[str, typer.Option(help="minilm, tiny or a model folder")] = "minilm",
    num_layers: Annotated[int | None, typer.Option(help="first N layers of MiniLM-L6")] = 6,
    soft_labels: Annotated[
        Path | None, typer.Option(help="teacher logits (default: the committed file)")
    ] = None,
    epochs: Annotated[float, typer.Option()] = 1.0,
    batch_size: Annotated[int, typer.Option()] = 32,
    max_train_examples: Annotated[int | None, typer.Option()] = None,
    max_eval: Annotated[
        int | None, typer.Option(help="texts per fixed test set in the comparison (seeded)")
    ] = 2000,
    tolerance: Annotated[float, typer.Option(help="allowed drop per fixed set, points")] = 0.5,
    output_dir: Annotated[Path, typer.Option()] = Path("runs/retrain"),
    version: Annotated[str | None, typer.Option()] = None,
    dry_run: Annotated[bool, typer.Option(help="decide and report; never promote")] = False,
    threads: Annotated[int | None, typer.Option()] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
    splits: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Distil a new student from the teacher's soft labels plus the analysts' labels,
    evaluate it against the current model, and promote it only if it is not worse on
    any fixed test set by more than TOLERANCE points and better on the analysts'
    held-out labels. Reloading workers (FINSENT_MODEL__HOT_RELOAD=true) pick it up."""
    from core.db import make_engine
    from core.services import resolve_database_url
    from insight.service import current_classifier
    from models.retrain import RetrainConfig
    from models.retrain import retrain as run_retrain
    from stream.registry import registry_for

    settings = get_settings()
    cfg = RetrainConfig(
        output_dir=output_dir,
        student=student,
        num_layers=num_layers,
        soft_labels=soft_labels,
        epochs=epochs,
        batch_size=batch_size,
        max_train_examples=max_train_examples,
        threads=threads,
        data_dir=data_dir,
        splits=splits,
        max_eval=max_eval,
        tolerance=tolerance,
        version=version,
        promote=not dry_run,
    )
    try:
        engine = make_engine(resolve_database_url(settings), pool_size=1)
        try:
            result = run_retrain(
                engine,
                cfg,
                current=current_classifier(settings),
                registry=registry_for(settings),
                console=console,
            )
        finally:
            engine.dispose()
    except FinsentError as exc:
        raise fail(exc) from exc
    table = Table("test set", result.current.version, result.candidate.version, "points")
    for name, (old, new, delta) in result.decision.deltas.items():
        table.add_row(name, f"{old:.4f}", f"{new:.4f}", f"{delta:+.2f}")
    table.add_row(
        f"analysts' holdout (n={result.candidate.analysts_n})",
        "-" if result.current.analysts is None else f"{result.current.analysts:.4f}",
        "-" if result.candidate.analysts is None else f"{result.candidate.analysts:.4f}",
        "",
    )
    console.print(table)
    for note in result.notes:
        console.print(f"[yellow]note:[/] {note}")
    verdict = "[green]promoted[/]" if result.promoted else "[red]not promoted[/]"
    console.print(f"{verdict}: " + "; ".join(result.decision.reasons))
    typer.echo(json.dumps({"version": result.version, "promoted": result.promoted}))
