"""``finsent dashboard`` (serve the UI and the API) and ``finsent query series|articles|alerts``.

The query commands call the same functions as the API (``dashboard.queries``), directly
on the database; they print a table, CSV or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

import typer
from sqlalchemy import Connection

from core.cli_support import fail
from core.config import get_settings
from core.errors import FinsentError

__all__ = ["app"]

app = typer.Typer(help="Dashboard and history queries.", no_args_is_help=True)
query_app = typer.Typer(
    help="Query history from PostgreSQL: sentiment series, articles, alert events.",
    no_args_is_help=True,
)
app.add_typer(query_app, name="query")

OutputFormat = Literal["table", "csv", "json"]
FormatOption = Annotated[
    str, typer.Option("--format", "-f", help="table, csv or json", case_sensitive=False)
]
RangeOption = Annotated[
    str | None, typer.Option("--range", "-r", help="preset: 15m, 1h, 24h, 7d, 30d, 1y, ...")
]
StartOption = Annotated[datetime | None, typer.Option(help="ISO start (UTC if naive)")]
EndOption = Annotated[datetime | None, typer.Option(help="ISO end, exclusive (default now)")]
T = TypeVar("T")


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except FinsentError as exc:
        raise fail(str(exc)) from exc
    except ValueError as exc:  # RangeError and bad cursors are ValueErrors with a clear message
        raise fail(str(exc)) from exc


def _engine() -> Any:
    from core.services import resolve_database_url
    from dashboard.server import make_server_engine

    return make_server_engine(resolve_database_url(get_settings()))


@contextmanager
def _connect() -> Iterator[Connection]:
    """One connection for one command; the engine is disposed so nothing outlives it."""
    engine = _run(_engine)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


SHORT_PATH = 24  # characters of a URL's path a table shows


def short_url(url: str) -> str:
    """``https://www.example.com/2026/12/a-long-slug?utm=x`` as ``example.com/2026/12/a-long-sl…``:
    enough to recognise in a table; csv and json keep the whole URL."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url if len(url) <= SHORT_PATH else url[: SHORT_PATH - 1] + "…"
    host = parts.netloc.rsplit("@", 1)[-1].removeprefix("www.")
    path = parts.path.rstrip("/")
    if len(path) > SHORT_PATH:
        path = path[: SHORT_PATH - 1] + "…"
    return host + path


def _cell(column: str, value: Any) -> str:
    """A value as a table shows it: probabilities and scores to 2 decimals, URLs short."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if column == "url" and isinstance(value, str):
        return short_url(value)
    return str(value)


def _emit(rows: Sequence[dict[str, Any]], columns: Sequence[str], fmt: str, title: str) -> None:
    fmt = fmt.lower()
    if fmt == "json":
        typer.echo(json.dumps(list(rows), default=str, indent=2))
    elif fmt == "csv":
        from core.csvout import to_csv

        typer.echo(to_csv(rows, columns), nl=False)
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(c, row.get(c)) for c in columns))
        Console().print(table)
    else:
        raise fail(f"unknown format {fmt!r}: table, csv or json")


@app.command()
def dashboard(
    host: Annotated[str | None, typer.Option(help="bind address (default from settings)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default from settings)")] = None,
) -> None:
    """Serve the dashboard at / and the history API at /api/v1 (blocks)."""
    import uvicorn

    from dashboard.auth import AuthConfig, require_safe_binding
    from dashboard.server import create_server, secured

    settings = get_settings().dashboard
    host = host or settings.host
    port = port or settings.port
    auth = AuthConfig.from_settings(settings)
    _run(lambda: require_safe_binding(host, auth))
    if bool(settings.ssl_certfile) != bool(settings.ssl_keyfile):
        raise fail("HTTPS needs both FINSENT_DASHBOARD__SSL_CERTFILE and __SSL_KEYFILE")
    server = secured(
        create_server(_run(_engine), auth), auth, bind_host=host, extra_hosts=settings.allowed_hosts
    )
    scheme = "https" if settings.ssl_certfile else "http"
    typer.secho(f"finsent dashboard on {scheme}://{host}:{port}/  (API: /api/v1/docs)", err=True)
    uvicorn.run(
        server,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        ssl_certfile=str(settings.ssl_certfile) if settings.ssl_certfile else None,
        ssl_keyfile=str(settings.ssl_keyfile) if settings.ssl_keyfile else None,
        # X-Forwarded-* only from a proxy on this machine (the documented TLS setup)
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )


@query_app.command("series")
def query_series(
    scope: Annotated[
        str, typer.Option(help="market, topic, ticker, source or sector (its tickers summed)")
    ] = "market",
    key: Annotated[list[str] | None, typer.Option(help="scope key; repeat to sum several")] = None,
    range_: RangeOption = None,
    start: StartOption = None,
    end: EndOption = None,
    step: Annotated[int | None, typer.Option(help="seconds per point (multiple of 60)")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Sentiment per time step for a scope."""
    from dashboard.components.export import SERIES_COLUMNS, series_rows
    from dashboard.queries.sectors import sector_series
    from dashboard.queries.series import series
    from dashboard.timerange import resolve_range

    if scope not in ("market", "topic", "ticker", "source", "sector"):
        raise fail("scope must be market, topic, ticker, source or sector")
    keys = list(key or [])
    if scope != "market" and not keys:
        raise fail(f"--scope {scope} needs --key")
    rng = _run(
        lambda: resolve_range(
            preset=range_ or (None if start else "24h"), start=start, end=end, step_s=step
        )
    )
    with _connect() as conn:
        if scope == "sector":
            tickers, points = _run(lambda: sector_series(conn, keys, rng))
        else:
            points = series(conn, scope, keys, rng)  # type: ignore[arg-type]
    label = scope if scope == "market" else f"{scope} {', '.join(keys)}"
    if scope == "sector":
        label += f" ({', '.join(tickers)})"
    _emit(series_rows(points), SERIES_COLUMNS, fmt, f"{label}: {len(points)} points")


@query_app.command("articles")
def query_articles(
    ticker: Annotated[list[str] | None, typer.Option(help="repeatable")] = None,
    topic: Annotated[list[str] | None, typer.Option(help="repeatable")] = None,
    source: Annotated[list[str] | None, typer.Option(help="repeatable")] = None,
    sentiment: Annotated[list[str] | None, typer.Option(help="negative/neutral/positive")] = None,
    text: Annotated[str | None, typer.Option("--q", help="title/summary contains")] = None,
    event: Annotated[
        list[str] | None, typer.Option(help="event type, repeatable: recall, lawsuit, ...")
    ] = None,
    range_: RangeOption = None,
    start: StartOption = None,
    end: EndOption = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 20,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of a previous page")] = None,
    fmt: FormatOption = "table",
) -> None:
    """Articles newest first, with their latest score."""
    from core.events import parse_event
    from dashboard.components.export import ARTICLE_COLUMNS, article_rows
    from dashboard.queries.articles import ArticleFilters, article_page, decode_cursor
    from dashboard.queries.scopes import normalise_tickers
    from dashboard.timerange import resolve_range

    try:
        events = [parse_event(e) for e in event or ()]
    except ValueError as exc:
        raise fail(str(exc)) from exc
    bad = set(sentiment or ()) - {"negative", "neutral", "positive"}
    if bad:
        raise fail(f"unknown sentiment {sorted(bad)}: negative, neutral or positive")
    rng = (
        _run(lambda: resolve_range(preset=range_, start=start, end=end))
        if range_ or start
        else None
    )
    after = _run(lambda: decode_cursor(cursor)) if cursor else None
    filters = ArticleFilters(
        start=rng.start if rng else None,
        end=rng.end if rng else None,
        tickers=normalise_tickers(ticker or ()),
        topics=list(topic or ()),
        sources=list(source or ()),
        sentiments=list(sentiment or ()),
        text=text,
        events=events,
    )
    with _connect() as conn:
        page = article_page(conn, filters, limit=limit, cursor=after)
    _emit(article_rows(page.rows), ARTICLE_COLUMNS, fmt, f"{len(page.rows)} articles")
    if page.next_cursor and fmt.lower() == "table":
        typer.secho(f"more: --cursor {page.next_cursor}", err=True)


@query_app.command("search")
def query_search(
    words: Annotated[str, typer.Argument(help='words, "a phrase", a OR b, -word')],
    ticker: Annotated[str | None, typer.Option()] = None,
    start: StartOption = None,
    end: EndOption = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    fmt: FormatOption = "table",
) -> None:
    """Headlines matching a search, best first (full text; trigram similarity fallback)."""
    from dashboard.queries.search import search_headlines

    with _connect() as conn:
        hits = search_headlines(conn, words, ticker=ticker, start=start, end=end, limit=limit)
    rows = [
        {"published_at": h.published_at.isoformat(), "rank": f"{h.rank:.3f}",
         "source": h.source, "title": h.snippet, "id": h.id, "match": h.match}
        for h in hits
    ]  # fmt: skip
    columns = ["published_at", "rank", "source", "title", "id", "match"]
    _emit(rows, columns, fmt, f"{len(hits)} headlines")


@query_app.command("alerts")
def query_alerts(
    range_: RangeOption = "7d",
    start: StartOption = None,
    end: EndOption = None,
    scope: Annotated[str | None, typer.Option(help="market, topic, ticker or source")] = None,
    key: Annotated[str | None, typer.Option(help="scope key, e.g. AAPL")] = None,
    rule_id: Annotated[int | None, typer.Option(min=1)] = None,
    state: Annotated[list[str] | None, typer.Option(help="firing, resolved, ...")] = None,
    limit: Annotated[int, typer.Option(min=1, max=5000)] = 100,
    fmt: FormatOption = "table",
) -> None:
    """Alert state transitions, newest first."""
    from dashboard.queries.alerts import alert_events
    from dashboard.timerange import resolve_range

    rng = _run(lambda: resolve_range(preset=None if start else range_, start=start, end=end))
    with _connect() as conn:
        events = alert_events(
            conn,
            start=rng.start,
            end=rng.end,
            scope_kind=scope,
            scope_key=key,
            rule_id=rule_id,
            states=list(state or ()),
            limit=limit,
        )
    rows = [{**e.model_dump(), "at": e.at.isoformat()} for e in events]
    columns = [
        "at",
        "rule_name",
        "severity",
        "scope_kind",
        "scope_key",
        "from_state",
        "to_state",
        "value",
        "reason",
        "rule_id",
        "id",
    ]
    _emit(rows, columns, fmt, f"{len(rows)} alert events")
