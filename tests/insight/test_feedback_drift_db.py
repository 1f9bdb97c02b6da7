"""Feedback and drift on the real PostgreSQL: label -> export -> retrain input, and the
drift rule over a crafted shifted stream."""

from __future__ import annotations

import csv
import hashlib
import io
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from core.db import session_scope
from core.errors import ConfigError
from core.tables.articles import ArticleRow, ArticleScoreRow
from insight.feedback import add_label, export_csv, labels_in_force, split_of
from stream.drift import DriftReference, daily_drift, drift_alerts

pytestmark = pytest.mark.integration

DAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
WORDS = ["shares", "profit", "rise", "fall", "bank", "market", "deal", "rates"]


def _articles(
    db: Engine,
    n: int,
    *,
    source: str,
    mix: tuple[float, float, float],
    conf: float,
    seed: int,
    words: list[str] = WORDS,
) -> list[str]:
    rng = random.Random(seed)
    ids = []
    with session_scope(db) as s:
        for i in range(n):
            aid = hashlib.sha256(f"{source}-{seed}-{i}".encode()).hexdigest()
            when = DAY + timedelta(minutes=i)
            s.add(
                ArticleRow(
                    id=aid,
                    source=source,
                    title=" ".join(rng.choices(words, k=7)),
                    language="en",
                    published_at=when,
                    fetched_at=when,
                )
            )
            label = rng.choices(range(3), weights=mix)[0]
            p = [(1 - conf) / 2] * 3
            p[label] = conf
            s.add(
                ArticleScoreRow(
                    article_id=aid,
                    model_version="v1",
                    model_name="test",
                    sentiment=("negative", "neutral", "positive")[label],
                    p_negative=p[0],
                    p_neutral=p[1],
                    p_positive=p[2],
                    score=p[2] - p[0],
                    topic="Markets",
                    topic_probs={"Markets": 1.0},
                    scored_at=when,
                )
            )
            ids.append(aid)
    return ids


def test_feedback_round_trip_label_export_retrain_input(db: Engine, tmp_path: Path) -> None:
    from models.data import load_user_csv

    ids = _articles(db, 40, source="wire", mix=(1, 1, 1), conf=0.8, seed=1)
    add_label(db, ids[0], "sentiment", "Negative", by="ana", model_version="v1")
    add_label(db, ids[0], "topic", "m&a | investments", by="ana")
    add_label(db, ids[1], "sentiment", "neutral", by="bob")
    add_label(db, ids[1], "sentiment", "positive", by="cy")  # relabel: newest wins
    with pytest.raises(ConfigError):
        add_label(db, ids[2], "sentiment", "bullish", by="ana")
    with pytest.raises(ConfigError):
        add_label(db, "nope", "sentiment", "neutral", by="ana")
    with pytest.raises(ConfigError):
        add_label(db, ids[2], "sentiment", "neutral", by=" ")

    records = {r.article_id: r for r in labels_in_force(db)}
    assert set(records) == {ids[0], ids[1]}
    assert (records[ids[0]].sentiment, records[ids[0]].topic) == ("negative", "M&A | Investments")
    assert (records[ids[1]].sentiment, records[ids[1]].labeled_by) == ("positive", "cy")

    path = tmp_path / "labels.csv"
    text = export_csv(db, path)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["article_id"] for r in rows] == sorted([ids[0], ids[1]])
    assert {r["split"] for r in rows} <= {"train", "holdout"}
    assert rows[0]["split"] == split_of(rows[0]["article_id"])

    # the export is a training CSV the models package reads as is
    examples = load_user_csv(path)
    by_text = {e.text: e for e in examples}
    first = by_text[records[ids[0]].text]
    assert first.sentiment == 0 and first.topic == 13
    assert by_text[records[ids[1]].text].sentiment == 2


def test_drift_alert_on_a_shifted_stream_and_not_on_an_unshifted_one(db: Engine) -> None:
    vocab = frozenset(WORDS)
    _articles(db, 120, source="steady", mix=(0.3, 0.4, 0.3), conf=0.85, seed=2)
    _articles(
        db,
        120,
        source="shifted",
        mix=(0.85, 0.1, 0.05),
        conf=0.45,
        seed=3,
        words=WORDS[:3] + ["zorbix", "quantexa", "blorp"],
    )
    ref = DriftReference(
        model_version="v1",
        n=5000,
        labels={"negative": 0.3, "neutral": 0.4, "positive": 0.3},
        mean_confidence=0.85,
        low_confidence=0.5,
        low_confidence_share=0.0,
        confidence_hist=[0.0, 0.0, 0.0, 0.0, 1.0, 0.0],
        oov_share=0.0,
    )
    groups = daily_drift(
        db, ref, since=DAY - timedelta(days=1), until=DAY + timedelta(days=1), vocabulary=vocab
    )
    by_source = {g.source: g for g in groups}
    assert set(by_source) == {"steady", "shifted", "(all)"}
    assert by_source["steady"].n == 120 and by_source["steady"].oov_share == 0.0
    assert by_source["shifted"].oov_share is not None and by_source["shifted"].oov_share > 0.3
    assert by_source["shifted"].low_confidence_share == 1.0
    alerts = drift_alerts([by_source["steady"], by_source["shifted"]], level=0.25)
    assert [a.source for a in alerts] == ["shifted"]
    assert by_source["steady"].max_psi < 0.1
