"""Dead letters written the way the worker writes them (scoring's letter, persist's writer)."""

from __future__ import annotations

import json

from sqlalchemy import Engine, text

from core.schemas import MAX_DEAD_RAW_BYTES
from stream.persist import BatchWrite, persist_batch
from stream.scoring import RawMessage, dead_letter
from tests.factories import article_payload

# a valid article that failed in classification (a model bug): worth replaying once fixed
REPLAYABLE = json.dumps(article_payload(4242, source="Reuters")).encode()
REPLAYABLE_KEY = json.loads(REPLAYABLE)["id"]
# a message cut to the raw budget: its tail is lost, it cannot be replayed
HUGE = b'{"title": "' + b"x" * (MAX_DEAD_RAW_BYTES + 10) + b'"}'


def store_dead_letters(engine: Engine, topic: str = "news.raw") -> dict[str, int]:
    """Three letters: replayable (classify), malformed (decode), cut (validate); their ids."""
    letters = [
        dead_letter(
            RawMessage(topic, 0, 11, REPLAYABLE_KEY.encode(), REPLAYABLE),
            "classify",
            "RuntimeError: the model fell over",
        ),
        dead_letter(RawMessage(topic, 0, 12, b"bad-1", b"\xff\xfe garbage"), "decode", "not UTF-8"),
        dead_letter(RawMessage(topic, 1, 13, None, HUGE), "validate", "title: too long").capped(),
    ]
    persist_batch(engine, BatchWrite([], [], letters), (60,))
    with engine.connect() as conn:
        ids = {r.stage: r.id for r in conn.execute(text("SELECT stage, id FROM dead_letters"))}
    return {"replayable": ids["classify"], "malformed": ids["decode"], "cut": ids["validate"]}
