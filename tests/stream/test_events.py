"""The event tagger on hand-written headlines: what it must tag, what it must not; and the
backfill that tags articles stored before tagging existed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from core.events import EVENT_LABELS, EVENT_TYPES, parse_event
from core.schemas import Article, ArticleScored
from stream.events import EVENT_PATTERNS, tag_events
from stream.persist import BatchWrite, persist_batch
from tests.factories import count

POSITIVE: list[tuple[str, str]] = [
    ("Acme sued by shareholders over accounting", "lawsuit"),
    ("Investors file class-action lawsuit against Globex", "lawsuit"),
    ("Ford recalls 300,000 SUVs over brake defect", "recall"),
    ("FDA announces recall of contaminated baby formula", "recall"),
    ("Intel cuts full-year revenue outlook as PC demand slumps", "guidance_cut"),
    ("Retailer issues profit warning ahead of holidays", "guidance_cut"),
    ("Nvidia raises its annual revenue forecast on AI demand", "guidance_raise"),
    ("Apple upgraded to buy at Goldman", "rating_upgrade"),
    ("Analysts upgrade Boeing after delivery rebound", "rating_upgrade"),
    ("Moody's downgrades Evergrande to junk", "rating_downgrade"),
    ("Tesla downgraded to sell by UBS", "rating_downgrade"),
    ("Intel suspends its quarterly dividend", "dividend_cut"),
    ("Chemical maker slashes dividend by half", "dividend_cut"),
    ("Coca-Cola raises quarterly dividend for 62nd year", "dividend_raise"),
    ("Microsoft agrees to buy Activision for $69 billion", "merger"),
    ("Pfizer completes acquisition of Seagen", "merger"),
    ("Disney CEO steps down after two years", "management_change"),
    ("Board appoints new chief financial officer", "management_change"),
    ("Property developer defaults on dollar bonds", "default"),
    ("Retail chain files for Chapter 11 bankruptcy", "default"),
    ("Miner misses coupon payment on notes", "default"),
    ("Meta to lay off 10,000 employees", "layoffs"),
    ("Bank announces 5,000 job cuts", "layoffs"),
    ("SEC opens probe into trading app", "probe"),
    ("Regulators investigating Boeing over 737 MAX door", "probe"),
    ("Apple unveils $110 billion share buyback", "buyback"),
    ("Company to repurchase up to $5 billion of its shares", "buyback"),
    ("Arm files for IPO in New York", "ipo"),
    ("Chipmaker prepares to go public next month", "ipo"),
    # a denial in another clause leaves the event standing
    ("Acme denies wrongdoing, but regulators open probe", "probe"),
]

NEGATIVE: list[tuple[str, str]] = [
    ("Toyota says no recall is needed after brake review", "recall"),
    ("CEO recalls that the early days were hard", "recall"),
    ("Bank denies probe into its trading desk", "probe"),
    ("Regulator rules out investigation of merger", "probe"),
    ("Automaker has no plans for layoffs this year", "layoffs"),
    ("Layoffs ruled out by chief executive", "layoffs"),
    ("Utility won't cut its dividend, CFO says", "dividend_cut"),
    ("Company does not cut guidance despite slowdown", "guidance_cut"),
    ("New software upgrade brings battery savings", "rating_upgrade"),
    ("Settings reset to default on iPhone update", "default"),
    ("Stocks rise as inflation cools", "merger"),
    ("Shares of Acme rose 3% on strong earnings", "lawsuit"),
    ("Goldman cuts Apple price target to $180", "guidance_cut"),
    ("NASA space probe reaches Jupiter", "probe"),
]


@pytest.mark.parametrize(("headline", "event"), POSITIVE)
def test_tags_the_event_a_headline_reports(headline: str, event: str) -> None:
    assert event in tag_events(headline)


@pytest.mark.parametrize(("headline", "event"), NEGATIVE)
def test_leaves_untagged_what_a_headline_negates_or_does_not_report(
    headline: str, event: str
) -> None:
    assert event not in tag_events(headline)


def test_a_plain_market_headline_has_no_event() -> None:
    assert tag_events("Stocks edge higher as investors await Fed decision") == []


def test_the_summary_counts_and_events_come_in_vocabulary_order() -> None:
    events = tag_events(
        "Acme shares tumble",
        "The company recalled 2 million heaters. It also faces a lawsuit from dealers.",
    )
    assert events == ["lawsuit", "recall"]


def test_every_event_type_has_patterns_and_a_label() -> None:
    assert set(EVENT_PATTERNS) == set(EVENT_TYPES) == set(EVENT_LABELS)


def test_parse_event_accepts_spellings_and_names_the_known_types() -> None:
    assert parse_event("Guidance-Cut") == "guidance_cut"
    with pytest.raises(ValueError, match="unknown event type 'recal'.*recall"):
        parse_event("recal")


@pytest.mark.integration
def test_backfill_tags_articles_stored_before_tagging_once(db: Engine, cli: CliRunner) -> None:
    from app.cli import app

    headlines = [
        "Acme recalls 40,000 space heaters over fire risk",
        "Acme says no recall is needed for its scooters",
        "Beta Corp cuts its dividend and announces layoffs",
        "Stocks edge higher as investors await Fed decision",
    ]
    now = datetime.now(UTC)
    articles = [
        Article(
            id=hashlib.sha256(t.encode()).hexdigest(),
            source="wire",
            title=t,
            published_at=now,
            fetched_at=now,
        )
        for t in headlines
    ]
    scores = [
        ArticleScored(
            article_id=a.id,
            source=a.source,
            title=a.title,
            published_at=now,
            model_name="test",
            model_version="1",
            sentiment="neutral",
            p_negative=0.1,
            p_neutral=0.8,
            p_positive=0.1,
            score=0.0,
            topic="Markets",
            received_at=now,
            scored_at=now,
        )
        for a in articles
    ]
    # stored as a worker from before event tagging stored them: without events
    persist_batch(db, BatchWrite(articles, scores, []), (60,))
    assert count(db, "SELECT count(*) FROM article_events") == 0

    first = cli.invoke(app, ["db", "backfill-events"])
    again = cli.invoke(app, ["db", "backfill-events"])
    assert first.exit_code == 0, first.output
    assert "4 articles read, 3 event tags added" in first.stdout
    assert "4 articles read, 0 event tags added" in again.stdout
    with db.connect() as conn:
        tagged = conn.execute(
            text(
                "SELECT a.title, e.event FROM article_events e JOIN articles a ON a.id = article_id"
            )
        ).all()
    assert sorted(tagged) == [
        (headlines[0], "recall"),
        (headlines[2], "dividend_cut"),
        (headlines[2], "layoffs"),
    ]
