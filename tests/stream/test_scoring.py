"""From raw messages to scores and dead letters, without I/O."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence

from core.classifier import Classification
from core.labels import TOPIC_LABELS
from stream.lexicon import _TOPIC_KEYWORDS, LexiconClassifier
from stream.scoring import RawMessage, score_batch
from tests.factories import MALFORMED, article_payload


def _msg(value: bytes | None, offset: int = 0) -> RawMessage:
    return RawMessage(topic="news.raw", partition=0, offset=offset, key=b"k", value=value)


def test_valid_articles_are_scored_and_malformed_ones_dead_lettered_with_reason() -> None:
    good = [_msg(json.dumps(article_payload(i)).encode(), i) for i in range(5)]
    bad = [_msg(raw, 100 + i) for i, raw in enumerate(MALFORMED)] + [_msg(None, 200)]
    batch = score_batch(good + bad, LexiconClassifier())

    assert len(batch.scores) == 5 and len(batch.articles) == 5
    assert len(batch.dead_letters) == len(bad)
    by_offset = {d.offset: d for d in batch.dead_letters}
    assert by_offset[101].stage == "decode" and "UTF-8" in by_offset[101].error
    assert by_offset[100].stage == "validate" and "JSON" in by_offset[100].error
    assert "id" in by_offset[104].error  # too short an id names the field
    assert "published_at" in by_offset[107].error  # a naive time is refused
    assert "control characters" in by_offset[109].error
    assert by_offset[200].stage == "decode"
    # the raw bytes travel with the letter, so nothing is lost
    assert base64.b64decode(by_offset[101].raw_b64) == MALFORMED[1]


def test_a_repeat_inside_one_batch_is_scored_once() -> None:
    payload = json.dumps(article_payload(1)).encode()
    batch = score_batch([_msg(payload, 0), _msg(payload, 1)], LexiconClassifier())
    assert len(batch.scores) == 1


def test_scores_carry_model_version_signed_score_and_tickers() -> None:
    batch = score_batch([_msg(json.dumps(article_payload(0)).encode())], LexiconClassifier())
    (scored,) = batch.scores
    assert scored.model_version == "lexicon-1"
    assert scored.sentiment == "negative"  # "Apple shares plunge after earnings miss"
    assert abs(scored.score - (scored.p_positive - scored.p_negative)) < 1e-9
    assert [e.ticker for e in scored.entities] == ["AAPL"]


class _Picky:
    """A classifier that fails on one text: the others must still be scored."""

    model_name = "picky"
    model_version = "picky-1"

    def classify(self, texts: Sequence[str]) -> list[Classification]:
        if any("Exxon" in t for t in texts):
            raise ValueError("cannot score Exxon")
        return LexiconClassifier().classify(texts)


def test_a_classifier_failure_dead_letters_only_the_culprit() -> None:
    messages = [_msg(json.dumps(article_payload(i)).encode(), i) for i in range(8)]
    batch = score_batch(messages, _Picky())
    assert len(batch.scores) == 7
    (letter,) = batch.dead_letters
    assert letter.stage == "classify" and "Exxon" in letter.error and letter.offset == 3


def test_lexicon_topics_are_real_topic_labels() -> None:
    assert set(_TOPIC_KEYWORDS) <= set(TOPIC_LABELS)


def test_a_reason_quoting_a_nul_byte_is_still_storable(db) -> None:  # type: ignore[no-untyped-def]
    """Found by the fuzz test: the validation error quotes the offending key verbatim."""
    from sqlalchemy import text

    from stream.persist import persist_batch

    batch = score_batch([_msg(b'{"\\u0000": 1}')], LexiconClassifier())
    (letter,) = batch.dead_letters
    assert "\x00" not in letter.error
    persist_batch(db, batch, (60,))
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dead_letters")).scalar_one() == 1
