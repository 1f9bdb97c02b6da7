"""``finsent explain``, ``finsent label``, ``finsent labels list|export`` and
``finsent drift show|reference`` (merged into the root command by app/cli.py).

Heavy imports (onnxruntime, the models package) happen inside the commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from core.cli_support import fail
from core.config import get_settings
from core.errors import FinsentError

__all__ = ["app", "weighted_text"]

app = typer.Typer(help="Explanations, analysts' labels and drift.", no_args_is_help=True)
labels_app = typer.Typer(
    help="Analysts' labels: list, export as training CSV.", no_args_is_help=True
)
drift_app = typer.Typer(
    help="Model drift per day and source (PSI vs the training reference).", no_args_is_help=True
)
app.add_typer(labels_app, name="labels")
app.add_typer(drift_app, name="drift")
console = Console(soft_wrap=True)
T = TypeVar("T")
ID_HELP = "An article's id, or any unique prefix of it (at least 6 characters)"


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except FinsentError as exc:
        raise fail(exc) from exc


def _engine() -> Any:
    from core.db import make_engine
    from core.services import resolve_database_url

    return make_engine(resolve_database_url(get_settings()), pool_size=1)


def weighted_text(text: str, words: list[dict[str, Any]], key: str = "sentiment") -> Text:
    """The text with each word's background coloured by its weight (green: pushed
    positive / supported the topic; red: the other way)."""
    out = Text()
    pos = 0
    top = max((abs(w[key]) for w in words), default=0.0) or 1.0
    for w in words:
        out.append(text[pos : w["start"]])
        strength = min(1.0, abs(w[key]) / top)
        level = int(40 + 160 * strength)
        colour = f"rgb(0,{level},0)" if w[key] > 0 else f"rgb({level},0,0)"
        out.append(text[w["start"] : w["end"]], style=f"on {colour}" if w[key] else "")
        pos = w["end"]
    out.append(text[pos:])
    return out


@app.command()
def explain(
    article_id: Annotated[str | None, typer.Argument(help=ID_HELP)] = None,
    text: Annotated[str | None, typer.Option("--text", help="Explain this text instead")] = None,
    top: Annotated[int, typer.Option(help="words listed per head")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The words that pushed the sentiment and the topic most (occlusion over the
    current model, bounded by FINSENT_MODEL__EXPLAIN_MAX_WORDS / _BUDGET_S)."""
    from insight.service import explain_article, explain_text

    settings = get_settings()
    if article_id is None and text is None:
        raise typer.BadParameter("give an ARTICLE_ID or --text")
    if article_id is not None and text is not None:
        raise typer.BadParameter("give an ARTICLE_ID or --text, not both")
    if text is not None:
        ex = _run(lambda: explain_text(settings, text))
    else:
        assert article_id is not None  # noqa: S101 - narrowed above
        from core.article_ids import resolve_article_id

        engine = _run(_engine)
        try:
            ex = _run(
                lambda: explain_article(engine, settings, resolve_article_id(engine, article_id))
            )
        finally:
            engine.dispose()
    if as_json:
        typer.echo(json.dumps(ex.to_dict(), indent=2))
        return
    words = [{"start": w.start, "end": w.end, "sentiment": w.sentiment} for w in ex.words]
    console.print(weighted_text(ex.text, words))
    console.print(
        f"{ex.sentiment} (score {ex.score:+.3f}, confidence {ex.confidence:.2f}); "
        f"topic {ex.topic} ({ex.topic_probability:.2f}); model {ex.model_version}; "
        f"{ex.evaluated}/{ex.total_words} words in {ex.elapsed_ms:.0f} ms"
    )
    for note in ex.notes:
        console.print(f"[yellow]note:[/] {note}")
    table = Table("sentiment: word", "weight", "topic: word", "weight")
    sent, topic = ex.top_sentiment(top), ex.top_topic(top)
    for i in range(max(len(sent), len(topic))):
        s = sent[i] if i < len(sent) else None
        t = topic[i] if i < len(topic) else None
        table.add_row(
            s.word if s else "",
            f"{s.sentiment:+.3f}" if s else "",
            t.word if t else "",
            f"{t.topic:+.3f}" if t else "",
        )
    console.print(table)


@app.command()
def label(
    article_id: Annotated[str, typer.Argument(help=ID_HELP)],
    by: Annotated[str, typer.Option("--by", help="Who labels (analyst name)")],
    sentiment: Annotated[str | None, typer.Option(help="negative, neutral or positive")] = None,
    topic: Annotated[str | None, typer.Option(help="one of the 20 topics (any case)")] = None,
    note: Annotated[str | None, typer.Option(help="free text kept with the label")] = None,
) -> None:
    """Label an article's sentiment and/or topic (stored with who and when)."""
    from insight.feedback import add_label

    if sentiment is None and topic is None:
        raise typer.BadParameter("give --sentiment and/or --topic")
    from core.article_ids import resolve_article_id

    engine = _run(_engine)
    try:
        full_id = _run(lambda: resolve_article_id(engine, article_id))
        for task, value in (("sentiment", sentiment), ("topic", topic)):
            if value is not None:
                row = _run(partial(add_label, engine, full_id, task, value, by=by, note=note))
                console.print(f"label {row}: {task} = {value} by {by}")
    finally:
        engine.dispose()


@labels_app.command("list")
def labels_list(limit: Annotated[int, typer.Option()] = 50) -> None:
    """The labels in force (newest per article and task)."""
    from insight.feedback import labels_in_force

    engine = _run(_engine)
    try:
        rows = _run(lambda: labels_in_force(engine))
    finally:
        engine.dispose()
    table = Table("article", "sentiment", "topic", "by", "at", "split", "text")
    for r in rows[:limit]:
        table.add_row(
            r.article_id[:12],
            r.sentiment or "",
            r.topic or "",
            r.labeled_by,
            r.labeled_at.isoformat(timespec="seconds"),
            r.split,
            r.text[:60],
        )
    console.print(table)
    console.print(f"{len(rows)} labelled articles")


@labels_app.command("export")
def labels_export(
    out: Annotated[Path, typer.Argument(help="CSV file to write")],
    split: Annotated[str | None, typer.Option(help="only train or holdout rows")] = None,
) -> None:
    """Write the labels in force as a training CSV (text,label,topic,...)."""
    from insight.feedback import export_csv

    engine = _run(_engine)
    try:
        text = _run(lambda: export_csv(engine, out, split=split))
    finally:
        engine.dispose()
    console.print(f"wrote {out}: {text.count(chr(10)) - 1} rows")


@drift_app.command("show")
def drift_show(
    days: Annotated[int, typer.Option(help="days back (UTC)")] = 7,
    as_json: Annotated[bool, typer.Option("--json")] = False,
    check: Annotated[bool, typer.Option(help="exit 1 when the model-drift rule fires")] = False,
) -> None:
    """Per day and source: label shares, confidence, unknown words, PSI; drift alerts."""
    from insight.service import drift_report

    engine = _run(_engine)
    try:
        report = _run(lambda: drift_report(engine, get_settings(), days=days))
    finally:
        engine.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "level": report.level,
                    "note": report.note,
                    "groups": [g.to_dict() for g in report.groups],
                    "alerts": [a.message for a in report.alerts],
                },
                indent=2,
            )
        )
    else:
        if report.note:
            console.print(f"[yellow]{report.note}[/]")
        table = Table(
            "day", "source", "n", "neg/neu/pos", "mean conf", "low conf", "unknown", "max PSI"
        )
        for g in report.groups:
            table.add_row(
                g.day.isoformat(),
                g.source,
                str(g.n),
                "/".join(f"{g.labels[k]:.2f}" for k in ("negative", "neutral", "positive")),
                f"{g.mean_confidence:.2f}",
                f"{g.low_confidence_share:.2f}",
                "-" if g.oov_share is None else f"{g.oov_share:.2f}",
                f"{g.max_psi:.3f}",
            )
        console.print(table)
        for a in report.alerts:
            console.print(f"[red]FIRING[/] {a.message}")
    if check and report.alerts:
        raise typer.Exit(code=1)


@drift_app.command("reference")
def drift_reference(
    sample: Annotated[int, typer.Option(help="validation texts to score")] = 2000,
    data_dir: Annotated[Path | None, typer.Option()] = None,
    splits: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Score a seeded sample of the fixed validation sets with the current model and
    store the statistics as its drift reference."""
    import random

    from insight.service import current_classifier
    from models.data import DEFAULT_DATA_DIR
    from models.retrain import fixed_test_sets
    from models.splits import DEFAULT_SPLITS
    from stream.drift import load_vocabulary, reference_from_texts
    from stream.registry import current_artifact_dir, registry_for

    settings = get_settings()
    sets = _run(
        lambda: fixed_test_sets(
            data_dir or DEFAULT_DATA_DIR,
            splits or DEFAULT_SPLITS,
            which="validation",
            max_eval=None,
            seed=13,
        )
    )
    texts = sorted({t for s in sets.values() for t in s.texts})
    texts = random.Random(13).sample(texts, min(sample, len(texts)))
    artifact = current_artifact_dir(settings)
    ref = reference_from_texts(
        current_classifier(settings),
        texts,
        low_confidence=settings.model.low_confidence,
        vocabulary=load_vocabulary(artifact),
    )
    target = (
        artifact if artifact is not None and _writable(artifact) else registry_for(settings).root
    )
    target.mkdir(parents=True, exist_ok=True)
    console.print(f"wrote {ref.save(target)} ({ref.n} texts, model {ref.model_version})")


def _writable(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK)


@app.command("explain-check")
def explain_check(
    sample: Annotated[int, typer.Option(help="PhraseBank 50Agree test sentences (seeded)")] = 100,
    k: Annotated[int, typer.Option(help="words deleted")] = 3,
    artifact: Annotated[
        Path | None, typer.Option(help="ONNX artifact (default: the current model)")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option()] = None,
    splits: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """Faithfulness of explanations: how often deleting the top-k words flips or weakens
    (p(label) -0.1) the prediction, against deleting k random words."""
    import random

    from insight.explain import deletion_check
    from insight.service import current_classifier
    from models.data import DEFAULT_DATA_DIR
    from models.splits import DEFAULT_SPLITS, SplitFile, eval_sets

    settings = get_settings()
    if artifact is not None:
        from export.runtime import OnnxClassifier

        clf: Any = OnnxClassifier.from_artifact(artifact, settings.model)
    else:
        clf = current_classifier(settings)
    sets = _run(
        lambda: eval_sets(
            SplitFile.read(splits or DEFAULT_SPLITS),
            data_dir or DEFAULT_DATA_DIR,
            names=["phrasebank_50agree"],
        )
    )
    texts = [e.text for e in sets["phrasebank_50agree"][1]]
    texts = random.Random(13).sample(texts, min(sample, len(texts)))
    r = deletion_check(clf, texts, k=k)
    console.print(
        f"model {clf.model_version}, PhraseBank 50Agree test sample n={r.n}, k={k}: "
        f"top-{k} deletion flips or weakens {r.top_rate:.1%} (flips {r.top_flip_rate:.1%}); "
        f"random-{k} deletion {r.random_rate:.1%} (flips {r.random_flip_rate:.1%})"
    )
