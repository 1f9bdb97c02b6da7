"""``finsent ingest``: publish articles to Kafka ``news.raw`` from feeds, files or a scenario.

Heavy imports (kafka-python, feedparser, httpx) happen inside the commands so that
``finsent --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from core.cli_support import fail
from core.config import Settings, get_settings
from core.errors import ConfigError, FinsentError, IngestError
from core.schemas import Article
from stream.ingest.dedup import RecentIds

if TYPE_CHECKING:
    from stream.ingest.sources import ArticleSink, ArticleSource, PumpStats

__all__ = ["app"]

log = logging.getLogger(__name__)

app = typer.Typer(
    help="Publish articles to Kafka news.raw: RSS/Atom feeds, file replay, demo scenario.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)

DryRun = Annotated[
    bool,
    typer.Option("--dry-run", help="Write articles to stdout as JSON lines instead of Kafka."),
]


class _JsonLinesSink:
    """``--dry-run``: the articles that would be published, one JSON object per line."""

    def __init__(self, dedup_capacity: int) -> None:
        self._seen = RecentIds(dedup_capacity)

    def publish(self, article: Article) -> bool:
        if not self._seen.add(article.id):
            return False
        typer.echo(article.model_dump_json())
        return True

    def flush(self, timeout: float | None = None) -> None:
        return None


def _run(
    source: ArticleSource, settings: Settings, *, dry_run: bool, limit: int | None = None
) -> PumpStats | None:
    """Pump ``source`` into Kafka (or stdout); None when interrupted with Ctrl-C."""
    from stream.ingest.sources import pump

    sink: ArticleSink
    publisher = None
    if dry_run:
        sink = _JsonLinesSink(settings.ingest.dedup_capacity)
    else:
        from core.services import resolve_kafka
        from core.services.topics import ensure_topics
        from stream.ingest.publisher import ArticlePublisher

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # kafka-python 3 at import
            from kafka.errors import KafkaError

        target = resolve_kafka(settings)
        try:
            ensure_topics(target.bootstrap_servers, settings.kafka)
        except KafkaError as exc:
            raise IngestError(f"cannot reach Kafka at {target.bootstrap_servers}: {exc}") from exc
        publisher = ArticlePublisher.from_settings(
            target.bootstrap_servers,
            settings.kafka,
            embedded_broker=target.embedded,
            dedup_capacity=settings.ingest.dedup_capacity,
        )
        sink = publisher

    from stream.ingest.metrics import MetricsServer

    async def main() -> PumpStats:
        # SIGTERM (how `finsent demo` stops its children) ends the run like Ctrl-C: the
        # pump's cleanup flushes what was accepted instead of dying with it in a buffer
        task = asyncio.current_task()
        if task is not None:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await pump(source, sink, limit=limit)

    try:
        # dry runs publish nothing: no metrics
        with MetricsServer(0 if dry_run else settings.ingest.metrics_port):
            return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        log.info("stopped; what was accepted has been flushed")
        return None
    finally:
        if publisher is not None:
            publisher.close()


@app.command()
def feeds(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="YAML feed list (default: FINSENT_INGEST__FEEDS_FILE). "
            "See stream/ingest/feeds.example.yaml.",
            dir_okay=False,
        ),
    ] = None,
    once: Annotated[
        bool, typer.Option("--once", help="Poll every feed one time, then exit.")
    ] = False,
    dry_run: DryRun = False,
) -> None:
    """Poll RSS/Atom feeds, each at its own interval, and publish new articles.

    With --once the exit code is 1 when every feed failed.
    """
    from stream.ingest.feed_config import load_feeds
    from stream.ingest.feeds import FeedPoller

    settings = get_settings()
    path = config or settings.ingest.feeds_file
    try:
        if path is None:
            raise ConfigError("no feed list: pass --config FILE or set FINSENT_INGEST__FEEDS_FILE")
        feed_list = load_feeds(path)
        poller = FeedPoller(feed_list.feeds, settings.ingest, once=once)
        log.info("polling %d feeds from %s%s", len(feed_list.feeds), path, " once" if once else "")
        _run(poller, settings, dry_run=dry_run)
    except FinsentError as exc:
        raise fail(exc) from exc
    failed = [name for name, state in poller.states.items() if state.last_error]
    if failed:
        log.warning("%d of %d feeds failed: %s", len(failed), len(poller.states), ", ".join(failed))
    if once and failed and len(failed) == len(poller.states):
        raise typer.Exit(code=1)


@app.command()
def replay(
    file: Annotated[
        Path,
        typer.Argument(
            help="JSONL or CSV file (title; optional url, summary, source, published_at, tickers).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    speed: Annotated[
        float,
        typer.Option(
            help="Speed-up over the original pacing of published_at; 0 or inf: as fast as possible."
        ),
    ] = 1.0,
    limit: Annotated[
        int | None, typer.Option(help="Stop after publishing this many articles.", min=1)
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Source for rows without one (default: the file name).")
    ] = None,
    retime: Annotated[
        bool, typer.Option("--retime", help="Stamp articles with the replay time (live demo).")
    ] = False,
    dry_run: DryRun = False,
) -> None:
    """Replay a JSONL or CSV file of articles; bad rows are reported by line and skipped."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from stream.ingest.replay import ReplaySource

    if math.isnan(speed) or speed < 0:
        raise typer.BadParameter("must be 0, positive, or inf", param_hint="--speed")
    settings = get_settings()
    console = Console(stderr=True)
    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )
    task = progress.add_task(f"replaying {file.name}", total=None)
    try:
        with progress:
            src = ReplaySource(
                file,
                speed=speed,
                source=source,
                retime=retime,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
            _run(src, settings, dry_run=dry_run, limit=limit)
    except FinsentError as exc:
        raise fail(exc) from exc
    stats = src.stats
    log.info(
        "%s: %d rows, %d articles, %d bad rows skipped",
        file,
        stats.rows,
        stats.articles,
        stats.bad_rows,
    )


@app.command()
def scenario(
    rate: Annotated[float, typer.Option(help="Background headlines per second.", min=0.001)] = 1.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: run until Ctrl-C).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for a repeatable run (default: random, logged).")
    ] = None,
    burst_ticker: Annotated[
        str, typer.Option(help="Company the negative news burst is about.")
    ] = "TSLA",
    burst_at: Annotated[
        float, typer.Option(help="Seconds after the start when the burst begins.", min=0)
    ] = 60.0,
    burst_count: Annotated[int, typer.Option(help="Headlines in the burst.", min=1)] = 20,
    burst_window: Annotated[
        float, typer.Option(help="Seconds the burst is spread over.", min=0)
    ] = 30.0,
    burst: Annotated[bool, typer.Option(help="Include the negative news burst.")] = True,
    dry_run: DryRun = False,
) -> None:
    """Publish a built-in, offline live scenario of headlines with a scripted negative burst."""
    from stream.ingest.scenario import Burst, ScenarioSource

    settings = get_settings()
    try:
        source = ScenarioSource(
            rate=rate,
            duration_s=duration,
            seed=seed,
            burst=(
                Burst(burst_ticker.upper().lstrip("$"), burst_at, burst_count, burst_window)
                if burst
                else None
            ),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        _run(source, settings, dry_run=dry_run)
    except FinsentError as exc:
        raise fail(exc) from exc


if __name__ == "__main__":
    from core.logs import configure_logging

    configure_logging(get_settings().log_level)
    app()
