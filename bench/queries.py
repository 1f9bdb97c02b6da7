"""Benchmark of the dashboard's and the API's queries on a large PostgreSQL.

    python bench/queries.py                       # 1,000,000 articles, embedded PostgreSQL
    python bench/queries.py --articles 100000     # smaller
    DATABASE_URL=postgresql://... python bench/queries.py

Generates N articles over ~400 days (scores, 1-2 tickers each) with server-side
``generate_series`` and derives ``sentiment_buckets`` for every scope and width with
``INSERT ... SELECT ... GROUP BY`` (what the worker would have written), then times each
query of ``dashboard.queries`` for 24h, 30d and 1y ranges (p50/p95 over --repeat runs,
warm cache) and prints the EXPLAIN of what really ran, flagging sequential scans.

Against DATABASE_URL it creates and uses a database named ``finsent_bench`` (dropped
with --drop); the embedded server keeps its data in --data-dir so a rerun skips loading.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from core import migrate  # noqa: E402
from core.config import Settings  # noqa: E402
from dashboard.queries.articles import ArticleFilters, article_page  # noqa: E402
from dashboard.queries.health import health  # noqa: E402
from dashboard.queries.heatmap import heatmap  # noqa: E402
from dashboard.queries.movers import movers  # noqa: E402
from dashboard.queries.series import series  # noqa: E402
from dashboard.timerange import TimeRange, resolve_range  # noqa: E402

BENCH_DB = "finsent_bench"
SPAN_DAYS = 400
N_TICKERS = 200
N_SOURCES = 20
TOPICS = 20
WIDTHS = (60, 3600, 86400)
RANGES = ("24h", "30d", "1y")
# the fixed "now" of the data set, so reruns measure the same rows
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

# ------------------------------------------------------------------ data generation
# Server-side generation: one statement per table, no Python row loop.
ARTICLES_SQL = """
INSERT INTO articles (id, source, url, title, summary, language, published_at, fetched_at,
                      ingested_at, tickers_hinted, story_id, is_novel)
SELECT md5(i::text) || md5((i + 7)::text),
       'source-' || (i % :n_sources),
       'https://bench.example.com/a/' || i,
       'Headline ' || i || ' on T' || ((i * 7) % :n_tickers) ||
         CASE i % 5 WHEN 0 THEN ' plunges after guidance cut' WHEN 1 THEN ' beats estimates'
                    WHEN 2 THEN ' faces probe' WHEN 3 THEN ' holds steady' ELSE ' rallies' END,
       NULL, 'en',
       :now - make_interval(secs => i::float8 * :span_s / :n),
       :now - make_interval(secs => i::float8 * :span_s / :n),
       :now, '{}', NULL, true
FROM generate_series(1, :n) AS i
"""
SCORES_SQL = """
INSERT INTO article_scores (article_id, model_version, model_name, sentiment, p_negative,
                            p_neutral, p_positive, score, topic, topic_probs, scored_at)
SELECT md5(i::text) || md5((i + 7)::text), 'bench-1', 'finsent-student',
       CASE WHEN h < 30 THEN 'negative' WHEN h < 70 THEN 'neutral' ELSE 'positive' END,
       CASE WHEN h < 30 THEN 0.8 ELSE 0.1 END,
       CASE WHEN h >= 30 AND h < 70 THEN 0.8 ELSE 0.1 END,
       CASE WHEN h >= 70 THEN 0.8 ELSE 0.1 END,
       CASE WHEN h < 30 THEN -0.7 WHEN h < 70 THEN 0.0 ELSE 0.7 END,
       'topic-' || (i % :topics), '{}'::jsonb, :now
FROM (SELECT i, (i * 37 + i / 1000) % 100 AS h FROM generate_series(1, :n) AS i) AS g
"""
ENTITIES_SQL = """
INSERT INTO article_entities (article_id, ticker, span_start, span_end, mention, in_title,
                              relevance, sentiment)
SELECT md5(i::text) || md5((i + 7)::text), 'T' || t, 0, 4, 'T' || t, true, 1.0, NULL
FROM generate_series(1, :n) AS i
CROSS JOIN LATERAL (
    SELECT (i * 7) % :n_tickers AS t
    UNION ALL
    SELECT (i * 13 + 1) % :n_tickers
    WHERE i % 3 = 0 AND (i * 13 + 1) % :n_tickers <> (i * 7) % :n_tickers
) AS tickers
"""
# One GROUP BY per (scope kind, width): the counters the worker keeps incrementally.
BUCKETS_SQL = """
INSERT INTO sentiment_buckets (scope_kind, scope_key, width_s, bucket_start, n_total,
                               n_negative, n_neutral, n_positive, score_sum)
SELECT :kind, {key}, :width,
       date_bin(make_interval(secs => :width), a.published_at, TIMESTAMPTZ '1970-01-01 UTC'),
       count(*), count(*) FILTER (WHERE s.sentiment = 'negative'),
       count(*) FILTER (WHERE s.sentiment = 'neutral'),
       count(*) FILTER (WHERE s.sentiment = 'positive'), sum(s.score)
FROM articles a JOIN article_scores s ON s.article_id = a.id {join}
GROUP BY 2, 4
"""
SCOPES = {
    "market": ("'all'", ""),
    "topic": ("s.topic", ""),
    "source": ("a.source", ""),
    "ticker": ("e.ticker", "JOIN article_entities e ON e.article_id = a.id"),
}


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def load(engine: Engine, n: int) -> None:
    params = {
        "n": n,
        "now": NOW,
        "span_s": SPAN_DAYS * 86400,
        "n_tickers": N_TICKERS,
        "n_sources": N_SOURCES,
        "topics": TOPICS,
    }
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE articles, sentiment_buckets CASCADE"))
    for name, sql in (
        ("articles", ARTICLES_SQL),
        ("scores", SCORES_SQL),
        ("entities", ENTITIES_SQL),
    ):
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text(sql), params)
        _log(f"loaded {name} in {time.perf_counter() - started:.1f} s")
    for kind, (key, join) in SCOPES.items():
        for width in WIDTHS:
            started = time.perf_counter()
            with engine.begin() as conn:
                # the scope expression is one of four constants above, never user input
                conn.execute(
                    text(BUCKETS_SQL.format(key=key, join=join)), {"kind": kind, "width": width}
                )
            _log(f"buckets {kind}/{width}s in {time.perf_counter() - started:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        counts = {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()  # noqa: S608 - fixed names
            for t in ("articles", "article_entities", "sentiment_buckets")
        }
    _log(f"rows: {counts}")


# ------------------------------------------------------------------ timing


@dataclass
class Captured:
    statements: list[tuple[str, Any]]

    def reset(self) -> None:
        self.statements.clear()


def capture(engine: Engine) -> Captured:
    """Record the SQL and parameters each query sends, to EXPLAIN exactly that."""
    captured = Captured([])

    @event.listens_for(engine, "before_cursor_execute")
    def _record(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        captured.statements.append((statement, parameters))

    return captured


def bench_queries(rng: TimeRange) -> dict[str, Callable[[Connection], object]]:
    hot_ticker, topic, source = "T7", "topic-3", "source-5"
    return {
        "series market": lambda c: series(c, "market", [], rng),
        "series ticker": lambda c: series(c, "ticker", [hot_ticker], rng),
        "series topic": lambda c: series(c, "topic", [topic], rng),
        "series 3 tickers": lambda c: series(c, "ticker", ["T1", "T2", "T3"], rng),
        "heatmap topics": lambda c: heatmap(c, "topic", rng),
        "movers tickers": lambda c: movers(c, "ticker", rng),
        "movers topics": lambda c: movers(c, "topic", rng),
        "articles newest": lambda c: article_page(
            c, ArticleFilters(start=rng.start, end=rng.end), limit=50
        ),
        "articles ticker": lambda c: article_page(
            c, ArticleFilters(start=rng.start, end=rng.end, tickers=[hot_ticker]), limit=50
        ),
        "articles topic+neg": lambda c: article_page(
            c,
            ArticleFilters(start=rng.start, end=rng.end, topics=[topic], sentiments=["negative"]),
            limit=50,
        ),
        "articles source": lambda c: article_page(
            c, ArticleFilters(start=rng.start, end=rng.end, sources=[source]), limit=50
        ),
        "articles text": lambda c: article_page(
            c, ArticleFilters(start=rng.start, end=rng.end, text="probe"), limit=50
        ),
        # the worst case of a substring search: no match, every title of the range is read
        "articles text none": lambda c: article_page(
            c, ArticleFilters(start=rng.start, end=rng.end, text="zzzz"), limit=50
        ),
    }


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def explain(conn: Connection, statement: str, parameters: Any) -> list[str]:
    # EXPLAIN of the captured statement, same parameters (psycopg server-side binding)
    result = conn.exec_driver_sql("EXPLAIN " + statement, parameters)
    return [row[0] for row in result]


def scans(plan: list[str]) -> str:
    found = []
    for line in plan:
        stripped = line.strip().lstrip("-> ").strip().removeprefix("Parallel ")
        for kind in ("Index Only Scan", "Index Scan", "Bitmap Index Scan", "Seq Scan"):
            if stripped.startswith(kind):
                # "Index Scan using ix_name on table" -> keep the index/table part
                found.append(stripped.split("  (")[0])
                break
    return "; ".join(dict.fromkeys(found))


def run(engine: Engine, repeat: int, show_plans: bool) -> None:
    captured = capture(engine)
    results: list[tuple[str, str, float, float, int, str]] = []
    with engine.connect() as conn:
        health_times = []
        for _ in range(repeat):
            started = time.perf_counter()
            health(conn, now=NOW)
            health_times.append((time.perf_counter() - started) * 1000)
        for preset in RANGES:
            rng = resolve_range(preset=preset, now=NOW)
            for name, query in bench_queries(rng).items():
                query(conn)  # warm-up, and the statements to explain
                captured.reset()
                query(conn)
                statements = list(captured.statements)
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    out = query(conn)
                    times.append((time.perf_counter() - started) * 1000)
                rows = len(out) if isinstance(out, list) else len(getattr(out, "rows", []))
                plan = [line for s, p in statements for line in explain(conn, s, p)]
                results.append(
                    (
                        preset,
                        name,
                        statistics.median(times),
                        percentile(times, 95),
                        rows,
                        scans(plan),
                    )
                )
                if show_plans and preset == "1y":
                    print(f"\n--- EXPLAIN {name} (1y)")
                    print("\n".join(plan))
    print()
    print(f"{'range':<6} {'query':<20} {'p50 ms':>8} {'p95 ms':>8} {'rows':>6}  scans")
    for preset, name, p50, p95, rows, how in results:
        flag = "  <-- SEQ SCAN" if "Seq Scan" in how else ""
        print(f"{preset:<6} {name:<20} {p50:8.1f} {p95:8.1f} {rows:6d}  {how}{flag}")
    print(
        f"{'-':<6} {'health':<20} {statistics.median(health_times):8.1f} "
        f"{percentile(health_times, 95):8.1f}"
    )
    series_results = [r for r in results if r[1].startswith("series")]
    worst = max(series_results, key=lambda r: r[3])
    verdict = "PASS" if worst[3] < 100 else "FAIL"
    print(f"\nseries p95 worst: {worst[3]:.1f} ms ({worst[0]} {worst[1]}): {verdict}")
    print("target: p95 < 100 ms for every series query")


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """A URL of a database for the benchmark: DATABASE_URL's server, or embedded."""
    import os

    url = args.database_url or os.environ.get("DATABASE_URL")
    if url:
        # Settings normalises postgres:// URLs to the psycopg 3 driver
        server_url = str(Settings(database_url=url).database_url.get_secret_value())  # type: ignore[union-attr]
        yield _bench_database(server_url, drop=args.drop)
        return
    from core.services import Services

    settings = Settings(data_dir=args.data_dir)
    with Services(settings, kafka=False) as services:
        yield _bench_database(str(services.database_url), drop=args.drop)


def _bench_database(server_url: str, *, drop: bool) -> str:
    url = make_url(server_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": BENCH_DB}
            ).first()
            if exists and drop:
                conn.execute(text(f'DROP DATABASE "{BENCH_DB}" WITH (FORCE)'))
                exists = None
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{BENCH_DB}"'))
    finally:
        admin.dispose()
    return url.set(database=BENCH_DB).render_as_string(hide_password=False)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "finsent-bench"
    )
    parser.add_argument("--drop", action="store_true", help="recreate the bench database")
    parser.add_argument("--reload", action="store_true", help="regenerate even if loaded")
    parser.add_argument("--plans", action="store_true", help="print every 1y EXPLAIN")
    args = parser.parse_args()
    with database(args) as url:
        migrate.upgrade(url)
        engine = create_engine(url, pool_size=2)
        try:
            with engine.connect() as conn:
                have = conn.execute(text("SELECT count(*) FROM articles")).scalar_one()
            if have != args.articles or args.reload:
                _log(f"generating {args.articles:,} articles (have {have:,})")
                load(engine, args.articles)
            else:
                _log(f"reusing {have:,} articles already loaded")
            with engine.connect() as conn:
                buckets = conn.execute(text("SELECT count(*) FROM sentiment_buckets")).scalar_one()
                pg = conn.execute(text("SHOW server_version")).scalar_one()
            _log(
                f"PostgreSQL {pg}; {args.articles:,} articles, {buckets:,} bucket rows; "
                f"{args.repeat} timed runs per query, warm cache"
            )
            run(engine, args.repeat, args.plans)
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
