"""``finsent entities train-sentiment`` (merged into the ``entities`` group by app/cli.py):
training lives with the models, the weights it writes ship with stream/entities.

The trainer is imported inside the command: a serving install has no training stack.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from core.cli_support import fail
from core.errors import FinsentError

__all__ = ["app"]

app = typer.Typer(no_args_is_help=True, pretty_exceptions_show_locals=False)


@app.command("train-sentiment")
def train_sentiment(
    data_dir: Annotated[
        Path | None, typer.Option(help="a copy of shared/data (default: ../shared/data)")
    ] = None,
    write: Annotated[
        bool, typer.Option("--write", help="replace the shipped weights and metrics")
    ] = False,
    out_dir: Annotated[
        Path | None, typer.Option(help="write weights and metrics here instead")
    ] = None,
) -> None:
    """Train entity-level sentiment on SEntFiN and evaluate it against the headline label.

    Its inputs include the lexicon classifier's probabilities, whatever model the worker
    serves (the stream scores entities with the lexicon's too); the headline baseline in
    the report is the lexicon's headline label."""
    from models import entity_sentiment
    from models.data import DEFAULT_DATA_DIR
    from stream.entities.sentiment import DEFAULT_WEIGHTS
    from stream.lexicon import LexiconClassifier

    classifier = LexiconClassifier()
    weights = metrics = None
    if write:
        weights = DEFAULT_WEIGHTS
        metrics = DEFAULT_WEIGHTS.with_name("entity_sentiment_metrics.json")
    elif out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        weights, metrics = out_dir / "entity_sentiment.npz", out_dir / "metrics.json"
    try:
        report = entity_sentiment.run(
            classifier,
            data_dir or DEFAULT_DATA_DIR,
            weights_out=weights,
            metrics_out=metrics,
        )
    except FinsentError as exc:
        raise fail(exc) from exc
    typer.echo(json.dumps(report["results"], indent=2))
