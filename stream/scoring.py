"""From raw Kafka messages to scored articles and dead letters: one batch, no I/O.

Decoding, validation and classification failures become dead letters carrying the
raw bytes, the error and the stage; nothing is dropped silently.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from core.classifier import Classification, Classifier
from core.events import EventType
from core.labels import SentimentLabel
from core.schemas import (
    MAX_ENTITIES,
    Article,
    ArticleScored,
    DeadLetter,
    EntityMention,
    TopicProbability,
)
from stream import metrics
from stream.entities.sentiment import EntitySentimentScorer, EntitySpan
from stream.entities.tagger import EntityTagger
from stream.events import tag_events
from stream.lexicon import LexiconClassifier
from stream.persist import BatchWrite
from stream.tagging import tag_tickers

__all__ = ["RawMessage", "dead_letter", "score_batch"]

log = logging.getLogger(__name__)

# how much of an error message a dead letter keeps
_MAX_ERROR_CHARS = 2_000
_MAX_KEY_BYTES = 1_024
# a time further ahead than this is a wrong clock: it would top every "newest" list for ever
FUTURE_LIMIT = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


def dead_letter(message: RawMessage, stage: str, error: str) -> DeadLetter:
    """A dead letter for ``message``, with at most _MAX_ERROR_CHARS of reason and
    _MAX_KEY_BYTES of key (the whole record must fit the dead-letter topic)."""
    key = message.key[:_MAX_KEY_BYTES] if message.key is not None else None
    return DeadLetter(
        stage=stage,
        error=error[:_MAX_ERROR_CHARS],
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=key.decode("utf-8", "replace") if key is not None else None,
        raw_b64=base64.b64encode(message.value or b"").decode("ascii"),
    )


def _validate(message: RawMessage) -> Article | DeadLetter:
    if message.value is None:
        return dead_letter(message, "decode", "empty message (tombstone)")
    try:
        text = message.value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return dead_letter(message, "decode", f"not UTF-8: {exc}")
    try:
        return Article.model_validate_json(text)
    except ValidationError as exc:
        return dead_letter(message, "validate", _describe(exc))
    except Exception as exc:  # noqa: BLE001 - one message must never stop the worker
        return dead_letter(message, "validate", f"{type(exc).__name__}: {exc}")


def _clamped(article: Article, now: datetime) -> Article:
    """The article with times more than FUTURE_LIMIT ahead of ``now`` set to ``now``."""
    limit = now + FUTURE_LIMIT
    update: dict[str, datetime] = {}
    for field in ("published_at", "fetched_at"):
        if getattr(article, field) > limit:
            update[field] = now
            metrics.TIMES_CLAMPED.labels(field).inc()
    if update:
        log.info("clamped future %s of article %s", ", ".join(update), article.id)
        return article.model_copy(update=update)
    return article


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in err["loc"]) or "<message>"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def _text_of(article: Article) -> str:
    # the headline carries the sentiment; a short summary helps when the title is terse
    if article.summary and len(article.title) < 40:
        return f"{article.title}. {article.summary[:300]}"
    return article.title


def _classify(
    classifier: Classifier, articles: Sequence[Article]
) -> list[Classification | Exception]:
    texts = [_text_of(a) for a in articles]
    try:
        return list(classifier.classify(texts))
    except Exception:  # noqa: BLE001 - find the culprit one by one, keep the rest
        log.warning("classifier failed on a batch of %d; retrying one by one", len(texts))
    results: list[Classification | Exception] = []
    for text in texts:
        try:
            results.append(classifier.classify([text])[0])
        except Exception as exc:  # noqa: BLE001
            results.append(exc)
    return results


_ENTITY_FEATURES = LexiconClassifier()


def _with_entity_sentiment(
    classifier: Classifier,
    titles: Sequence[str],
    verdicts: Sequence[Classification],
    mentions: Sequence[list[EntityMention]],
) -> list[list[EntityMention]]:
    """Each entity's own label: a headline naming one company gives it the headline's
    label; one naming several asks the entity-level scorer; body-only mentions get none."""
    multi = [i for i, ms in enumerate(mentions) if sum(m.in_title for m in ms) >= 2]
    per_entity: dict[int, list[SentimentLabel]] = {}
    if multi:
        # The entity model's features include a classifier's probabilities for the headline
        # and the entity's clause. It was trained on the lexicon's (stream/entities/
        # entity_sentiment_metrics.json): scored with the same one whatever model the worker
        # serves, its inputs never shift under it when the served model changes.
        features = _ENTITY_FEATURES
        items = [
            (
                titles[i],
                [EntitySpan(m.start, m.end) for m in mentions[i] if m.in_title],
                features.classify([titles[i]])[0],
            )
            for i in multi
        ]
        try:
            labels = EntitySentimentScorer(features).score(items)
            per_entity = {i: list(lab) for i, lab in zip(multi, labels, strict=True)}
        except Exception:  # noqa: BLE001 - entity labels are an extra: keep the headline's
            log.warning("entity-level sentiment failed; entities keep the headline label")
    out: list[list[EntityMention]] = []
    for i, ms in enumerate(mentions):
        own = iter(per_entity.get(i, ()))
        updated = []
        for m in ms:  # the tagger lists title mentions first, in the order scored above
            label = next(own, verdicts[i].sentiment) if m.in_title else None
            updated.append(m.model_copy(update={"sentiment": label}))
        out.append(updated)
    return out


def _capped(mentions: list[EntityMention]) -> list[EntityMention]:
    if len(mentions) <= MAX_ENTITIES:
        return mentions
    title = [m for m in mentions if m.in_title]
    rest = sorted((m for m in mentions if not m.in_title), key=lambda m: -m.relevance)
    return (title + rest)[:MAX_ENTITIES]


def score_batch(
    messages: Sequence[RawMessage],
    classifier: Classifier,
    *,
    top_topics: int = 3,
    tagger: EntityTagger | None = None,
    entity_sentiment: bool = True,
) -> BatchWrite:
    received_at = datetime.now(UTC)
    articles: dict[str, Article] = {}
    origin: dict[str, RawMessage] = {}
    dead: list[DeadLetter] = []
    for message in messages:
        outcome = _validate(message)
        if isinstance(outcome, DeadLetter):
            dead.append(outcome)
        elif outcome.id not in articles:  # a repeat within the batch is scored once
            articles[outcome.id] = _clamped(outcome, received_at)
            origin[outcome.id] = message

    valid = list(articles.values())
    kept: list[Article] = []
    verdicts: list[Classification] = []
    for article, result in zip(valid, _classify(classifier, valid), strict=True):
        if isinstance(result, Exception):
            reason = f"{type(result).__name__}: {result}"
            dead.append(dead_letter(origin[article.id], "classify", reason))
            continue
        kept.append(article)
        verdicts.append(result)
    tagged: list[tuple[list[EntityMention], list[EventType]] | Exception] = []
    for article in kept:
        try:
            # the tagger lists title mentions first: the cut keeps the most relevant
            tagged.append(
                (
                    tag_tickers(article.title, article.summary, article.tickers, tagger),
                    tag_events(article.title, article.summary),
                )
            )
        except Exception as exc:  # noqa: BLE001 - a tagger bug dead-letters its one article
            tagged.append(exc)
    for i in reversed(range(len(kept))):
        failure = tagged[i]
        if isinstance(failure, Exception):
            message = origin[kept[i].id]
            reason = f"tagging: {type(failure).__name__}: {failure}"
            dead.append(dead_letter(message, "classify", reason))
            del kept[i], verdicts[i], tagged[i]
    mentions = [_capped(t[0]) for t in tagged if not isinstance(t, Exception)]
    events = [t[1] for t in tagged if not isinstance(t, Exception)]
    if entity_sentiment:
        mentions = _with_entity_sentiment(classifier, [a.title for a in kept], verdicts, mentions)
    scored: list[ArticleScored] = []
    stored: list[Article] = []
    scored_at = datetime.now(UTC)
    for article, result, entities, found in zip(kept, verdicts, mentions, events, strict=True):
        topics = sorted(result.topic_probs.items(), key=lambda kv: -kv[1])[:top_topics]
        try:
            scored.append(
                ArticleScored(
                    article_id=article.id,
                    source=article.source,
                    title=article.title,
                    url=article.url,
                    published_at=article.published_at,
                    model_name=classifier.model_name,
                    model_version=classifier.model_version,
                    sentiment=result.sentiment,
                    p_negative=result.p_negative,
                    p_neutral=result.p_neutral,
                    p_positive=result.p_positive,
                    score=max(-1.0, min(1.0, result.score)),
                    topic=result.topic,
                    topics=tuple(TopicProbability(topic=t, probability=p) for t, p in topics),
                    entities=tuple(entities),
                    events=tuple(found),
                    received_at=received_at,
                    scored_at=scored_at,
                )
            )
        except Exception as exc:  # noqa: BLE001 - e.g. a NaN probability: this article only
            dead.append(dead_letter(origin[article.id], "classify", f"{type(exc).__name__}: {exc}"))
            continue
        stored.append(article)
    return BatchWrite(
        articles=stored,
        scores=scored,
        dead_letters=dead,
        origins={a.id: origin[a.id] for a in stored},
    )
