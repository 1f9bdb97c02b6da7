"""Dead letters replayed to the input topic through the real broker, from the function
and from `finsent deadletters`."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from app.cli import app
from core.config import get_settings
from stream.deadletters import list_dead_letters, replay_dead_letters
from tests.factories import count, read_topic
from tests.stream.deadletter_helpers import REPLAYABLE, REPLAYABLE_KEY, store_dead_letters

pytestmark = pytest.mark.integration


@pytest.fixture
def kafka_env(
    kafka_bootstrap: str, database_url: str, topic_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Settings wired to the test broker and database, with an input topic of this test's own."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap)
    monkeypatch.setenv("FINSENT_EMBEDDED_BROKER", "true")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FINSENT_KAFKA__RAW_TOPIC", f"{topic_prefix}.raw")
    get_settings.cache_clear()
    return f"{topic_prefix}.raw"


def test_replay_publishes_the_raw_message_and_marks_it(
    db: Engine, kafka_bootstrap: str, kafka_env: str
) -> None:
    ids = store_dead_letters(db)
    outcome = replay_dead_letters(db, get_settings(), [ids["replayable"], ids["cut"], 999_999])

    assert outcome.topic == kafka_env and outcome.replayed == [ids["replayable"]]
    assert "bytes were kept" in outcome.skipped[ids["cut"]]
    assert outcome.skipped[999_999] == "no such dead letter"
    [record] = read_topic(kafka_bootstrap, kafka_env, expected=1)
    assert (record.key, record.value) == (REPLAYABLE_KEY.encode(), REPLAYABLE)
    with db.connect() as conn:
        replayed = {v.id for v in list_dead_letters(conn) if v.replayed_at is not None}
    assert replayed == {ids["replayable"]}

    # replayed once: not again unless asked
    again = replay_dead_letters(db, get_settings(), [ids["replayable"]])
    assert again.replayed == [] and "already replayed" in again.skipped[ids["replayable"]]
    assert replay_dead_letters(db, get_settings(), [ids["replayable"]], again=True).replayed
    assert len(read_topic(kafka_bootstrap, kafka_env, expected=2)) == 2


def test_a_broker_that_is_not_there_marks_nothing(
    db: Engine, kafka_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.errors import ServiceError
    from core.services.process import free_port

    ids = store_dead_letters(db)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{free_port()}")
    get_settings.cache_clear()
    with pytest.raises(ServiceError):
        replay_dead_letters(db, get_settings(), [ids["replayable"]])
    assert count(db, "SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL") == 0


def test_the_cli_lists_exports_and_replays(
    db: Engine, kafka_bootstrap: str, kafka_env: str
) -> None:
    ids = store_dead_letters(db)
    root = logging.getLogger()
    handlers = list(root.handlers)
    runner = CliRunner()
    try:
        listed = runner.invoke(app, ["deadletters", "list"])
        assert listed.exit_code == 0, listed.output
        assert "3 dead letter(s)" in listed.stdout and "classify" in listed.stdout

        exported = runner.invoke(app, ["deadletters", "list", "--csv"])
        rows = {int(r["id"]): r for r in csv.DictReader(io.StringIO(exported.stdout))}
        replayable = rows[ids["replayable"]]
        assert json.loads(replayable["raw"]) == json.loads(REPLAYABLE)
        assert (replayable["error"], replayable["source"]) == (
            "RuntimeError: the model fell over",
            "Reuters",
        )
        assert rows[ids["cut"]]["truncated"] == "True"
        assert len(rows[ids["cut"]]["raw"]) == 32_000  # what a spreadsheet cell holds

        done = runner.invoke(app, ["deadletters", "replay", str(ids["replayable"])])
        assert done.exit_code == 0, done.output
        assert f"replayed 1 to {kafka_env}: {ids['replayable']}" in done.stdout
        assert len(read_topic(kafka_bootstrap, kafka_env, expected=1)) == 1

        refused = runner.invoke(app, ["deadletters", "replay", str(ids["cut"])])
        assert refused.exit_code == 1 and "bytes were kept" in refused.output
    finally:
        # `finsent` configures logging onto the runner's stream, which closes after invoke
        root.handlers[:] = handlers
