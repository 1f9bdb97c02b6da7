"""The dashboard's queries on the real embedded PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from dashboard.queries.alert_actions import acknowledge, silence
from dashboard.queries.alerts import active_alerts, alert_events, alert_rules
from dashboard.queries.article_detail import article_detail
from dashboard.queries.articles import ArticleFilters, article_page, article_select, decode_cursor
from dashboard.queries.health import health
from dashboard.queries.heatmap import heatmap
from dashboard.queries.movers import movers
from dashboard.queries.series import series
from dashboard.timerange import resolve_range
from tests.dashboard.seed import XSS_TITLE, Seeded

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def db(seeded_db: tuple[Engine, Seeded]) -> Engine:
    return seeded_db[0]


@pytest.fixture(scope="module")
def seeded(seeded_db: tuple[Engine, Seeded]) -> Seeded:
    return seeded_db[1]


def test_series_sums_buckets_into_steps(db: Engine, seeded: Seeded) -> None:
    rng = resolve_range(preset="24h", now=seeded.now)
    assert (rng.width_s, rng.step_s) == (60, 900)
    with db.connect() as conn:
        market = series(conn, "market", [], rng)
        hourly = series(
            conn, "market", [], resolve_range(preset="24h", step_s=3600, now=seeded.now)
        )
        aapl = series(conn, "ticker", ["AAPL"], rng)
    total = sum(p.n_total for p in market)
    assert total == seeded.count_since(rng.start) > 200
    assert sum(p.n_total for p in hourly) == seeded.count_since(rng.start.replace(minute=0))
    assert all(p.bucket_start.timestamp() % 900 == 0 for p in market)
    assert sum(p.n_total for p in aapl) == len(seeded.aapl_since(rng.start))
    assert all(-1 <= p.mean_score <= 1 and 0 <= p.negative_share <= 1 for p in market)


def test_long_ranges_read_coarse_buckets(db: Engine, seeded: Seeded) -> None:
    month = resolve_range(preset="30d", now=seeded.now)
    year = resolve_range(preset="1y", now=seeded.now)
    assert (month.width_s, year.width_s) == (3600, 86400)
    with db.connect() as conn:
        assert sum(p.n_total for p in series(conn, "market", [], year)) == seeded.n_articles
        assert sum(p.n_total for p in series(conn, "market", [], month)) == seeded.n_articles


def test_heatmap_and_movers(db: Engine, seeded: Seeded) -> None:
    rng = resolve_range(preset="24h", now=seeded.now)
    with db.connect() as conn:
        cells = heatmap(conn, "topic", rng)
        ranked = movers(conn, "ticker", rng)
    assert {c.scope_key for c in cells} == {
        "Earnings",
        "Macro",
        "M&A | Investments",
        "Stock Movement",
    }
    assert {m.scope_key for m in ranked} == {"AAPL", "TSLA", "MSFT", "NVDA"}
    assert all(m.prev_n_total > 0 and m.change is not None for m in ranked)
    with db.connect() as conn:  # a week or more ranks on daily buckets
        week = movers(conn, "ticker", resolve_range(preset="7d", now=seeded.now), min_articles=1)
    assert sum(m.n_total for m in week) >= sum(m.n_total for m in ranked)


def test_article_page_filters_and_paginates(db: Engine, seeded: Seeded) -> None:
    with db.connect() as conn:
        page = article_page(conn, ArticleFilters(tickers=["AAPL"]), limit=10)
        rest = article_page(
            conn,
            ArticleFilters(tickers=["AAPL"]),
            limit=500,
            cursor=decode_cursor(page.next_cursor or ""),
        )
        neg = article_page(
            conn, ArticleFilters(sentiments=["negative"], sources=["wire"]), limit=500
        )
        found = article_page(conn, ArticleFilters(text="<script>"), limit=5)
        none = article_page(conn, ArticleFilters(text="100%_"), limit=5)
    assert XSS_TITLE in [r.title for r in page.rows] and page.next_cursor is not None
    ids = [r.id for r in page.rows + rest.rows]
    assert len(ids) == len(set(ids)) and all(r.tickers == ["AAPL"] for r in page.rows + rest.rows)
    assert rest.next_cursor is None
    times = [r.published_at for r in page.rows + rest.rows]
    assert times == sorted(times, reverse=True)
    assert neg.rows and all(r.sentiment == "negative" and r.source == "wire" for r in neg.rows)
    assert [r.title for r in found.rows] == [XSS_TITLE]
    assert none.rows == []
    with pytest.raises(ValueError):
        decode_cursor("not-a-cursor")


def test_article_detail(db: Engine, seeded: Seeded) -> None:
    with db.connect() as conn:
        first = article_page(conn, ArticleFilters(), limit=1).rows[0]
        detail = article_detail(conn, first.id)
        assert article_detail(conn, "0" * 64) is None
    assert detail is not None and detail.scores[0].model_version == "test-1"
    assert detail.entities[0].ticker in first.tickers


def test_health(db: Engine, seeded: Seeded) -> None:
    with db.connect() as conn:
        h = health(conn, now=seeded.now)
    assert h.workers[0].provider == "CPUExecutionProvider"
    assert h.dead_letters == 0
    assert {s.source for s in h.sources} == {"wire", "blog", "rss"}
    assert all(s.last_published_at is not None for s in h.sources)


def test_alerts_ack_and_silence(db: Engine, seeded: Seeded) -> None:
    # one transaction, rolled back: the module's shared data stays as seeded
    with db.connect() as conn:
        events = alert_events(
            conn, start=seeded.now - timedelta(days=1), end=seeded.now + timedelta(minutes=1)
        )
        active = active_alerts(conn)
        rules = alert_rules(conn)
        assert acknowledge(conn, active[0].rule_id, "AAPL", by="analyst")
        assert not acknowledge(conn, active[0].rule_id, "NOPE", by="analyst")
        silence(conn, active[0].rule_id, "AAPL", duration=timedelta(hours=1), by="analyst")
        after = active_alerts(conn)
        conn.rollback()
    assert [e.to_state for e in events] == ["firing", "resolved"]
    assert events[0].reason and active[0].scope_key == "AAPL"
    assert rules[0].n_firing == 1 and rules[0].last_evaluated_at is not None
    assert after[0].acknowledged_by == "analyst" and after[0].silenced_until is not None


@pytest.mark.parametrize(
    "filters",
    [
        ArticleFilters(tickers=["AAPL"]),
        ArticleFilters(tickers=["AAPL", "MSFT"], sentiments=["negative"]),
        ArticleFilters(topics=["Macro"], sources=["wire"]),
        ArticleFilters(sources=["blog"], text="probe"),
    ],
)
def test_bucket_narrowing_never_changes_a_page(db: Engine, seeded: Seeded, filters) -> None:
    """Pages read inside the newest days that hold enough rows equal the plain query's."""
    with db.connect() as conn:
        for limit in (1, 5, 40):
            cursor = None
            for _ in range(3):
                page = article_page(conn, filters, limit=limit, cursor=cursor)
                plain = conn.execute(article_select(filters, limit=limit, cursor=cursor)).all()
                assert [r.id for r in page.rows] == [r.id for r in plain[:limit]]
                assert (page.next_cursor is not None) == (len(plain) > limit)
                if page.next_cursor is None:
                    break
                cursor = decode_cursor(page.next_cursor)
