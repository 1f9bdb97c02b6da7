"""``finsent ingest`` commands, through typer's runner (stdout with --dry-run, or a real broker)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.config import get_settings
from core.schemas import Article
from stream.ingest.cli import app
from tests.factories import read_topic
from tests.stream.ingest.conftest import FeedServer

runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # the commands read get_settings(), which is cached; no `finsent up` state is found here
    monkeypatch.setenv("FINSENT_DATA_DIR", str(tmp_path / "data"))
    # in-process runs: no metrics server on the shared default port (test_metrics serves one)
    monkeypatch.setenv("FINSENT_INGEST__METRICS_PORT", "0")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def articles_of(output: str) -> list[Article]:
    return [Article.model_validate_json(line) for line in output.splitlines() if line.strip()]


@pytest.mark.parametrize("command", [[], ["feeds"], ["replay"], ["scenario"]])
def test_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_replay_dry_run(tmp_path):
    path = tmp_path / "news.jsonl"
    rows = [{"title": "Apple beats", "url": "https://a.test/1"}, {"title": "Apple beats",
            "url": "https://a.test/1"}, {"nope": 1}, {"title": "Tesla falls"}]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = runner.invoke(app, ["replay", str(path), "--speed", "0", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert [a.title for a in articles_of(result.stdout)] == ["Apple beats", "Tesla falls"]


def test_replay_limit(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("title\n" + "".join(f"headline {i}\n" for i in range(10)))
    result = runner.invoke(
        app, ["replay", str(path), "--speed", "inf", "--limit", "3", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert len(articles_of(result.stdout)) == 3


def test_replay_missing_file():
    result = runner.invoke(app, ["replay", "/nonexistent/news.jsonl", "--dry-run"])
    assert result.exit_code == 2


def write_feeds(tmp_path: Path, server: FeedServer, paths: list[str]) -> Path:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "feeds:\n"
        + "".join(
            f"  - name: f{i}\n    url: {server.url(p)}\n    allow_private: [127.0.0.1]\n"
            for i, p in enumerate(paths)
        )
    )
    return config


def test_feeds_once_dry_run_survives_a_bad_feed(tmp_path, feed_server):
    config = write_feeds(tmp_path, feed_server, ["/error500", "/atom.xml"])
    result = runner.invoke(app, ["feeds", "--config", str(config), "--once", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert [a.source for a in articles_of(result.stdout)] == ["f1", "f1"]


def test_feeds_once_all_failing_exits_1(tmp_path, feed_server):
    config = write_feeds(tmp_path, feed_server, ["/error500", "/malformed.xml"])
    result = runner.invoke(app, ["feeds", "--config", str(config), "--once", "--dry-run"])
    assert result.exit_code == 1


def test_feeds_bad_config_names_the_line(tmp_path):
    config = tmp_path / "feeds.yaml"
    config.write_text("feeds:\n  - name: a\n    url: https://a.test/\n    interval: never\n")
    result = runner.invoke(app, ["feeds", "--config", str(config), "--once"])
    assert result.exit_code == 2
    assert "feeds.yaml:4: feeds[0].interval" in result.stderr


def test_feeds_without_config():
    result = runner.invoke(app, ["feeds", "--once"])
    assert result.exit_code == 2
    assert "--config" in result.stderr


def test_scenario_dry_run_is_reproducible():
    args = ["scenario", "--dry-run", "--rate", "40", "--duration", "0.5", "--seed", "5",
            "--burst-at", "0", "--burst-window", "0.2", "--burst-count", "3",
            "--burst-ticker", "$nvda"]  # fmt: skip
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    titles = [a.title for a in articles_of(first.stdout)]
    assert sum("Nvidia" in t or "$NVDA" in t for t in titles) >= 3
    second = runner.invoke(app, args)
    assert [a.title for a in articles_of(second.stdout)] == titles


def test_scenario_unknown_ticker():
    result = runner.invoke(app, ["scenario", "--dry-run", "--burst-ticker", "ZZZZ"])
    assert result.exit_code == 2
    assert "unknown burst ticker" in result.output


def test_no_broker_is_a_clear_error(tmp_path):
    path = tmp_path / "news.jsonl"
    path.write_text('{"title": "x"}\n')
    result = runner.invoke(app, ["replay", str(path)])
    assert result.exit_code == 2
    assert "no Kafka broker" in result.stderr


@pytest.mark.integration
def test_replay_publishes_to_the_broker(tmp_path, monkeypatch, kafka_bootstrap, topic_prefix):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("FINSENT_KAFKA__RAW_TOPIC", f"{topic_prefix}.raw")
    monkeypatch.setenv("FINSENT_KAFKA__SCORED_TOPIC", f"{topic_prefix}.scored")
    monkeypatch.setenv("FINSENT_KAFKA__DLQ_TOPIC", f"{topic_prefix}.dlq")
    monkeypatch.setenv("FINSENT_KAFKA__IDEMPOTENT_PRODUCER", "false")
    get_settings.cache_clear()
    path = tmp_path / "news.jsonl"
    rows = [{"title": f"Microsoft story {i % 4}", "url": f"https://cli.test/{i % 4}"}
            for i in range(10)]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    result = runner.invoke(app, ["replay", str(path), "--speed", "0"])
    assert result.exit_code == 0, result.output

    records = read_topic(kafka_bootstrap, f"{topic_prefix}.raw", 4)
    titles = sorted(Article.model_validate_json(r.value).title for r in records)
    assert titles == [f"Microsoft story {i}" for i in range(4)]


@pytest.fixture
def taken_port() -> Iterator[int]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.integration
def test_a_taken_metrics_port_does_not_stop_replay(
    tmp_path, monkeypatch, caplog, taken_port, kafka_bootstrap, topic_prefix
):
    import logging
    import urllib.request

    from stream.ingest import metrics
    from stream.ingest.metrics import MetricsServer

    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("FINSENT_KAFKA__RAW_TOPIC", f"{topic_prefix}.raw")
    monkeypatch.setenv("FINSENT_KAFKA__SCORED_TOPIC", f"{topic_prefix}.scored")
    monkeypatch.setenv("FINSENT_KAFKA__DLQ_TOPIC", f"{topic_prefix}.dlq")
    monkeypatch.setenv("FINSENT_KAFKA__IDEMPOTENT_PRODUCER", "false")
    monkeypatch.setenv("FINSENT_INGEST__METRICS_PORT", str(taken_port))
    get_settings.cache_clear()
    served: list[int] = []

    class Scraped(MetricsServer):
        def __enter__(self) -> MetricsServer:
            super().__enter__()
            url = f"http://127.0.0.1:{self.port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - loopback
                assert b"finsent_ingest" in answer.read()
            served.append(self.port)
            return self

    monkeypatch.setattr(metrics, "MetricsServer", Scraped)
    path = tmp_path / "news.jsonl"
    path.write_text(json.dumps({"title": "Nvidia story", "url": "https://port.test/1"}) + "\n")
    with caplog.at_level(logging.INFO):
        result = runner.invoke(app, ["replay", str(path), "--speed", "0"])
    assert result.exit_code == 0, result.output
    assert served and served[0] not in (0, taken_port)
    assert f"metrics port {taken_port} is in use" in caplog.text
    assert f"127.0.0.1:{served[0]}/metrics" in caplog.text
    records = read_topic(kafka_bootstrap, f"{topic_prefix}.raw", 1)
    assert Article.model_validate_json(records[0].value).title == "Nvidia story"


@pytest.mark.integration
def test_replay_publishes_every_good_row_past_times_out_of_range(
    tmp_path, monkeypatch, kafka_bootstrap, topic_prefix
):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("FINSENT_KAFKA__RAW_TOPIC", f"{topic_prefix}.raw")
    monkeypatch.setenv("FINSENT_KAFKA__IDEMPOTENT_PRODUCER", "false")
    get_settings.cache_clear()
    path = tmp_path / "news.jsonl"
    bad_times = ['"0001-01-01T00:00:00+01:00"', "Infinity", "1e20", '"1985-01-01T00:00:00Z"']
    lines = [
        f'{{"title": "Bad time {i}", "url": "https://cli.test/bad/{i}", "published_at": {t}}}'
        for i, t in enumerate(bad_times)
    ]
    lines += [
        json.dumps({"title": f"Good story {i}", "url": f"https://cli.test/{i}"}) for i in range(3)
    ]
    path.write_text("\n".join(lines) + "\n")

    result = runner.invoke(app, ["replay", str(path), "--speed", "0"])
    assert result.exit_code == 0, result.output

    records = read_topic(kafka_bootstrap, f"{topic_prefix}.raw", 3)
    titles = sorted(Article.model_validate_json(r.value).title for r in records)
    assert titles == [f"Good story {i}" for i in range(3)]


def test_sigterm_stops_a_live_source_cleanly(tmp_path):
    """`finsent demo` stops its scenario child with SIGTERM: it must end like Ctrl-C."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINSENT_")}
    env["FINSENT_DATA_DIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "stream.ingest.cli", "scenario", "--dry-run", "--rate", "50",
         "--seed", "1"],
        cwd=Path(__file__).parents[3], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the source is running
        Article.model_validate_json(first)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert b"stopped; what was accepted has been flushed" in err


def test_the_readme_replay_example_replays(tmp_path):
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```jsonl\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "news.jsonl"
    path.write_text(example)
    result = runner.invoke(app, ["replay", str(path), "--speed", "0", "--dry-run"])
    assert result.exit_code == 0, result.output
    articles = articles_of(result.stdout)
    assert len(articles) == len(example.splitlines()) == 3
    assert articles[0].tickers == ("NVDA",) and articles[2].tickers == ("TSLA",)
