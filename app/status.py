"""`finsent status`: services, throughput, dead letters, last article per source, alerts firing."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, inspect, select, text

from core.config import Settings
from core.db import make_engine
from core.errors import FinsentError
from core.services import resolve_database_url, resolve_kafka
from core.tables.articles import ArticleRow
from core.tables.worker import DeadLetterRow, WorkerStatusRow

__all__ = ["print_status"]


def _ago(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    seconds = (datetime.now(UTC) - moment).total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def print_status(settings: Settings, console: Console | None = None) -> bool:
    """Print what runs; False when the broker or the database is not there (`finsent
    status` then exits 1, so scripts can wait on it)."""
    console = console or Console()
    running = True
    try:
        kafka = resolve_kafka(settings)
        kind = "embedded" if kafka.embedded else "external"
        console.print(f"Kafka:      {kafka.bootstrap_servers} ({kind})")
    except FinsentError as exc:
        console.print(f"Kafka:      [red]{exc}")
        running = False
    try:
        url = resolve_database_url(settings)
    except FinsentError as exc:
        console.print(f"PostgreSQL: [red]{exc}")
        return False
    engine = make_engine(url, pool_size=1, connect_timeout_s=3)
    try:
        with engine.connect() as conn:
            console.print(f"PostgreSQL: {engine.url.render_as_string(hide_password=True)}")
            workers = Table(
                "worker",
                "model",
                "provider",
                "articles",
                "articles/s",
                "last batch",
                "updated",
                title="Workers",
            )
            for w in conn.execute(
                select(WorkerStatusRow).order_by(WorkerStatusRow.updated_at.desc())
            ).all():
                row = w[0] if not hasattr(w, "worker_id") else w
                workers.add_row(
                    row.worker_id,
                    f"{row.model_name} {row.model_version}",
                    row.provider,
                    str(row.articles_total),
                    f"{row.articles_per_s:.1f}",
                    f"{row.last_batch_size} in {row.last_batch_ms:.0f} ms",
                    _ago(row.updated_at),
                )
            console.print(workers)
            dead = conn.execute(select(func.count()).select_from(DeadLetterRow)).scalar_one()
            console.print(f"Dead letters: {dead}")
            sources = Table("source", "articles", "last article", title="Sources")
            query = select(
                ArticleRow.source, func.count(), func.max(ArticleRow.ingested_at)
            ).group_by(ArticleRow.source)
            for source, n, last in conn.execute(
                query.order_by(func.max(ArticleRow.ingested_at).desc())
            ):
                sources.add_row(source, str(n), _ago(last))
            console.print(sources)
            if inspect(conn).has_table("alert_state"):
                firing = conn.execute(
                    text("SELECT count(*) FROM alert_state WHERE state = 'firing'")
                ).scalar_one()
                console.print(f"Alerts firing: {firing}")
    except sa_exc.OperationalError as exc:
        console.print(f"PostgreSQL: [red]cannot connect: {str(exc.orig).strip()[:200]}")
        return False
    finally:
        engine.dispose()
    return running
