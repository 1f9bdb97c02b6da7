"""One hostile message through the real broker, worker and database: it is scored or
dead-lettered with its stage, and the worker keeps going (never a crash loop or a stall)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import string
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from core.schemas import MAX_ENTITIES, DeadLetter
from stream.persist import BatchWrite, persist_batch
from tests.factories import (
    article_payload,
    isolated_worker,
    publish,
    read_topic,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def hostile_worker(
    tmp_path_factory: pytest.TempPathFactory, services: Any
) -> Iterator[tuple[str, Path]]:
    with isolated_worker(services, tmp_path_factory.mktemp("hostile"), "hostile") as (prefix, log):
        yield prefix, log


def _payload(**fields: Any) -> dict[str, Any]:
    base = article_payload(int(uuid.uuid4().int % 10**9))
    base["id"] = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    return base | fields


def _article_ids(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT id FROM articles")).scalars())


def _dead(engine: Engine, key: str) -> list[tuple[str, str]]:
    # a dead letter's raw bytes are the message: find it by the id it carried
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT stage, error, raw FROM dead_letters")).all()
    return [(stage, error) for stage, error, raw in rows if key.encode() in raw]


def test_times_without_a_utc_equivalent_are_dead_lettered_not_fatal(
    hostile_worker: tuple[str, Path], engine: Engine, kafka_bootstrap: str
) -> None:
    prefix, _ = hostile_worker
    bad = [
        _payload(published_at="0001-01-01T00:00:00+01:00"),
        _payload(fetched_at="9999-12-31T23:30:00-01:00"),
        _payload(published_at="1985-06-01T00:00:00Z"),
    ]
    good = _payload()
    publish(
        kafka_bootstrap,
        f"{prefix}.raw",
        [(None, json.dumps(p).encode()) for p in [*bad, good]],
    )
    wait_for(lambda: good["id"] in _article_ids(engine), 120, "the good article after the bad")
    for p in bad:
        wait_for(lambda p=p: bool(_dead(engine, p["id"])), 30, "the dead letter")
        [(stage, error)] = _dead(engine, p["id"])
        assert stage == "validate"
        assert "time" in error
    assert not {p["id"] for p in bad} & _article_ids(engine)


def test_an_article_with_thousands_of_tickers_neither_stalls_nor_oversizes(
    hostile_worker: tuple[str, Path], engine: Engine, kafka_bootstrap: str
) -> None:
    prefix, _ = hostile_worker
    symbols = ["".join(t) for t in itertools.product(string.ascii_uppercase, repeat=3)]
    hinted = _payload(tickers=symbols[:15_000])
    # every one a cashtag the tagger finds: thousands of entities before the cap
    named = _payload(title="Stocks move", summary=" ".join(f"${s}" for s in symbols[:16_000]))
    after = _payload()
    publish(
        kafka_bootstrap,
        f"{prefix}.raw",
        [(None, json.dumps(p).encode()) for p in [hinted, named, after]],
    )
    wait_for(lambda: after["id"] in _article_ids(engine), 180, "the article after the big ones")
    [(stage, error)] = _dead(engine, hinted["id"])
    assert (stage, "tickers" in error) == ("validate", True)
    assert named["id"] in _article_ids(engine)
    records = read_topic(kafka_bootstrap, f"{prefix}.scored", 2, timeout_s=60)
    scored = {r.key.decode(): r for r in records}
    assert named["id"] in scored
    assert len(json.loads(scored[named["id"]].value)["entities"]) == MAX_ENTITIES
    assert len(scored[named["id"]].value) < 1_000_000


def test_a_time_far_in_the_future_is_clamped_to_when_it_arrived(
    hostile_worker: tuple[str, Path], engine: Engine, kafka_bootstrap: str
) -> None:
    prefix, _ = hostile_worker
    future = _payload(published_at="9999-12-31T00:00:00Z", fetched_at="9000-01-01T00:00:00Z")
    near = datetime.now(UTC) + timedelta(hours=2)  # a clock a little ahead stays as it is
    ahead = _payload(published_at=near.isoformat())
    sent = datetime.now(UTC)
    publish(
        kafka_bootstrap, f"{prefix}.raw", [(None, json.dumps(p).encode()) for p in [future, ahead]]
    )
    wait_for(lambda: {future["id"], ahead["id"]} <= _article_ids(engine), 120, "both articles")
    with engine.connect() as conn:
        published, fetched = conn.execute(
            text("SELECT published_at, fetched_at FROM articles WHERE id = :id"),
            {"id": future["id"]},
        ).one()
        kept = conn.execute(
            text("SELECT published_at FROM articles WHERE id = :id"), {"id": ahead["id"]}
        ).scalar_one()
    assert sent - timedelta(seconds=5) <= published <= datetime.now(UTC)
    assert sent - timedelta(seconds=5) <= fetched <= datetime.now(UTC)
    assert abs(kept - near) < timedelta(seconds=1)


def test_articles_the_database_refuses_each_keep_their_own_dead_letter(
    hostile_worker: tuple[str, Path], engine: Engine, kafka_bootstrap: str
) -> None:
    prefix, _ = hostile_worker
    # a real refusal from PostgreSQL for these titles only
    with engine.begin() as conn:
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION refuse_marked() RETURNS trigger AS $$ BEGIN "
                "IF NEW.title LIKE '%refuse-me%' THEN RAISE EXCEPTION 'refused by test'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER refuse_marked BEFORE INSERT ON articles "
                "FOR EACH ROW EXECUTE FUNCTION refuse_marked()"
            )
        )
    try:
        refused = [_payload(title=f"refuse-me {i}") for i in range(3)]
        good = _payload()
        publish(
            kafka_bootstrap,
            f"{prefix}.raw",
            [(None, json.dumps(p).encode()) for p in [*refused, good]],
        )
        wait_for(lambda: good["id"] in _article_ids(engine), 120, "the good article")
        with engine.connect() as conn:
            letters = conn.execute(
                text(
                    'SELECT partition, "offset", error FROM dead_letters '
                    "WHERE stage = 'persist' AND topic = :topic"
                ),
                {"topic": f"{prefix}.raw"},
            ).all()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER refuse_marked ON articles"))
            conn.execute(text("DROP FUNCTION refuse_marked()"))
    assert len(letters) == 3
    assert all(partition >= 0 and offset >= 0 for partition, offset, _ in letters)
    assert len({(p, o) for p, o, _ in letters}) == 3
    assert all("refused by test" in error for *_, error in letters)


def _letter(raw: bytes, *, offset: int, stage: str = "validate") -> DeadLetter:
    return DeadLetter(
        stage=stage,  # type: ignore[arg-type]
        error="bad",
        topic="t.raw",
        partition=0,
        offset=offset,
        raw_b64=base64.b64encode(raw).decode(),
    )


def test_dead_letters_at_a_reused_position_are_all_kept_and_redeliveries_once(
    db: Engine,
) -> None:
    # an embedded broker restarted at offset 0 hands out positions it used before
    first, second = _letter(b"first", offset=0), _letter(b"second", offset=0)
    persist_batch(db, BatchWrite([], [], [first]), [60])
    persist_batch(db, BatchWrite([], [], [first, second]), [60])  # a redelivery, and a new one
    huge = _letter(b"x" * 5_000_000, offset=1)
    persist_batch(db, BatchWrite([], [], [huge]), [60])
    with db.connect() as conn:
        rows = conn.execute(
            text('SELECT "offset", length(raw), raw_size FROM dead_letters ORDER BY id')
        ).all()
    assert [r[0] for r in rows] == [0, 0, 1]
    # the database keeps a bounded prefix of a huge message, and says how big it was
    assert rows[2][1] <= 256 * 1024 and rows[2][2] == 5_000_000


def test_a_bidirectional_override_in_a_source_is_dead_lettered(
    hostile_worker: tuple[str, Path], engine: Engine, kafka_bootstrap: str
) -> None:
    prefix, _ = hostile_worker
    reversed_source = _payload(source="wire\u202eexe.txt")
    good = _payload(source='<b onmouseover="x">Wire</b>')
    publish(
        kafka_bootstrap,
        f"{prefix}.raw",
        [(None, json.dumps(p).encode()) for p in [reversed_source, good]],
    )
    wait_for(lambda: good["id"] in _article_ids(engine), 120, "the article after")
    [(stage, error)] = _dead(engine, reversed_source["id"])
    assert stage == "validate" and "bidirectional" in error
