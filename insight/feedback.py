"""Analysts' labels: store one, list those in force, export them as a training CSV.

The CSV is what ``models.data.load_user_csv`` reads (``text``, ``label``, ``topic``;
extra columns are ignored), plus ``article_id``, who/when, and ``split``: a seeded hash
of the article id puts ~20% of articles in ``holdout``, the slice a retrained model is
judged on and never trained on. The hash keeps an article in the same slice whatever
else gets labelled later.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, func, select

from core.db import session_scope
from core.errors import ConfigError
from core.labels import SENTIMENT_LABELS, TOPIC_LABELS
from core.tables.articles import ArticleRow
from core.tables.feedback import ArticleLabelRow

__all__ = [
    "CSV_COLUMNS",
    "LabelRecord",
    "Task",
    "add_label",
    "export_csv",
    "labels_in_force",
    "split_of",
]

Task = Literal["sentiment", "topic"]
CSV_COLUMNS = ("article_id", "text", "label", "topic", "labeled_by", "labeled_at", "split")
HOLDOUT_SHARE = 0.2
_SEED = "finsent-feedback-13"


def split_of(article_id: str, holdout_share: float = HOLDOUT_SHARE) -> str:
    digest = hashlib.sha256(f"{_SEED}:{article_id}".encode()).digest()
    return "holdout" if int.from_bytes(digest[:8], "big") / 2**64 < holdout_share else "train"


def _normalise(task: str, label: str) -> str:
    if task == "sentiment":
        v = label.strip().lower()
        if v not in SENTIMENT_LABELS:
            raise ConfigError(f"sentiment label {label!r} is not one of {list(SENTIMENT_LABELS)}")
        return v
    if task == "topic":
        by_lower = {t.lower(): t for t in TOPIC_LABELS}
        if label.strip().lower() not in by_lower:
            raise ConfigError(f"topic {label!r} is not one of the {len(TOPIC_LABELS)} topics")
        return by_lower[label.strip().lower()]
    raise ConfigError(f"task {task!r} is not sentiment or topic")


def add_label(
    engine: Engine,
    article_id: str,
    task: str,
    label: str,
    *,
    by: str,
    model_version: str | None = None,
    note: str | None = None,
) -> int:
    """Store one label (a new row: the newest per article and task is in force)."""
    value = _normalise(task, label)
    if not by.strip():
        raise ConfigError("a label needs the analyst's name (who)")
    with session_scope(engine) as session:
        if session.get(ArticleRow, article_id) is None:
            raise ConfigError(f"no article {article_id!r}")
        row = ArticleLabelRow(
            article_id=article_id,
            task=task,
            label=value,
            labeled_by=by.strip()[:200],
            model_version=model_version,
            note=note,
        )
        session.add(row)
        session.flush()
        return int(row.id)


@dataclass(frozen=True, slots=True)
class LabelRecord:
    article_id: str
    text: str
    sentiment: str | None
    topic: str | None
    labeled_by: str
    labeled_at: datetime
    split: str


def article_text(title: str, summary: str | None) -> str:
    # what the worker classifies (stream.scoring): the title, with the summary's start
    # when the title alone is terse; training on the same text keeps labels aligned
    if summary and len(title) < 40:
        return f"{title}. {summary[:300]}"
    return title


def labels_in_force(
    engine: Engine, *, article_ids: Sequence[str] | None = None
) -> list[LabelRecord]:
    """One record per labelled article: its newest sentiment and newest topic label."""
    newest = (
        select(
            ArticleLabelRow.article_id,
            ArticleLabelRow.task,
            ArticleLabelRow.label,
            ArticleLabelRow.labeled_by,
            ArticleLabelRow.labeled_at,
            func.row_number()
            .over(
                partition_by=(ArticleLabelRow.article_id, ArticleLabelRow.task),
                order_by=(ArticleLabelRow.labeled_at.desc(), ArticleLabelRow.id.desc()),
            )
            .label("rank"),
        )
    ).subquery()
    stmt = (
        select(newest, ArticleRow.title, ArticleRow.summary)
        .join(ArticleRow, ArticleRow.id == newest.c.article_id)
        .where(newest.c.rank == 1)
        .order_by(newest.c.article_id)
    )
    if article_ids is not None:
        stmt = stmt.where(newest.c.article_id.in_(list(article_ids)))
    merged: dict[str, dict[str, object]] = {}
    with engine.connect() as conn:
        for r in conn.execute(stmt):
            rec = merged.setdefault(
                r.article_id,
                {
                    "text": article_text(r.title, r.summary),
                    "sentiment": None,
                    "topic": None,
                    "labeled_by": r.labeled_by,
                    "labeled_at": r.labeled_at,
                },
            )
            rec[r.task] = r.label
            if r.labeled_at > rec["labeled_at"]:
                rec["labeled_by"], rec["labeled_at"] = r.labeled_by, r.labeled_at
    return [
        LabelRecord(
            article_id=aid,
            text=str(rec["text"]),
            sentiment=rec["sentiment"],  # type: ignore[arg-type]
            topic=rec["topic"],  # type: ignore[arg-type]
            labeled_by=str(rec["labeled_by"]),
            labeled_at=rec["labeled_at"],  # type: ignore[arg-type]
            split=split_of(aid),
        )
        for aid, rec in merged.items()
    ]


def export_csv(engine: Engine, path: Path | None = None, *, split: str | None = None) -> str:
    """The labels in force as CSV (written to ``path`` too when given); ``split``
    keeps only ``train`` or ``holdout`` rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in labels_in_force(engine):
        if split is not None and r.split != split:
            continue
        writer.writerow(
            [
                r.article_id,
                r.text,
                r.sentiment or "",
                r.topic or "",
                r.labeled_by,
                r.labeled_at.isoformat(),
                r.split,
            ]
        )
    out = buf.getvalue()
    if path is not None:
        path.write_text(out, encoding="utf-8")
    return out
