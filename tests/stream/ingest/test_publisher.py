"""Publishing to a real broker (the embedded Tansu unless KAFKA_BOOTSTRAP_SERVERS is set)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from core.config import IngestSettings, KafkaSettings
from core.schemas import Article
from core.services.topics import ensure_topics
from stream.ingest.feed_config import FeedConfig
from stream.ingest.feeds import FeedPoller
from stream.ingest.normalize import make_article
from stream.ingest.publisher import ArticlePublisher, use_idempotence
from tests.factories import read_topic
from tests.stream.ingest.conftest import FeedServer

SENTINEL_TITLE = "sentinel: the last message of the test"


def kafka_settings(prefix: str) -> KafkaSettings:
    # one partition: the sentinel, sent last, is read last
    return KafkaSettings(
        raw_topic=f"{prefix}.raw",
        scored_topic=f"{prefix}.scored",
        dlq_topic=f"{prefix}.dlq",
        partitions=1,
    )


def article(n: int) -> Article:
    return make_article(
        source="Test Wire",
        title=f"Headline {n} about Apple",
        url=f"https://publisher.test/{n}",
        published_at=datetime(2026, 11, 23, 10, n, tzinfo=UTC),
        tickers=["AAPL"],
    )


def read_until_sentinel(bootstrap: str, topic: str, at_least: int) -> list[Article]:
    records = read_topic(bootstrap, topic, at_least + 1)
    for record in records:
        assert record.key == Article.model_validate_json(record.value).id.encode()
    articles = [Article.model_validate_json(r.value) for r in records]
    assert articles and articles[-1].title == SENTINEL_TITLE, "sentinel not reached"
    return articles[:-1]


def test_use_idempotence():
    assert use_idempotence(KafkaSettings(), embedded_broker=True) is False
    assert use_idempotence(KafkaSettings(), embedded_broker=False) is True
    forced = KafkaSettings(idempotent_producer=True)
    assert use_idempotence(forced, embedded_broker=True) is True
    assert use_idempotence(KafkaSettings(idempotent_producer=False), embedded_broker=False) is False


@pytest.mark.integration
def test_articles_arrive_keyed_by_id_and_repeats_are_not_sent(kafka_bootstrap, topic_prefix):
    kafka = kafka_settings(topic_prefix)
    ensure_topics(kafka_bootstrap, kafka)
    originals = [article(n) for n in range(5)]
    with ArticlePublisher(kafka_bootstrap, kafka, idempotent=False, dedup_capacity=100) as pub:
        sent = [pub.publish(a) for a in originals + originals[:3]]
        # a re-fetch of the same story later: other fetch time, same id
        refetched = originals[4].model_copy(update={"fetched_at": datetime.now(UTC)})
        sent.append(pub.publish(refetched))
        pub.publish(make_article(source="t", title=SENTINEL_TITLE, url="https://publisher.test/z"))
        pub.flush()
        stats = pub.stats
    assert sent == [True] * 5 + [False] * 4
    assert (stats.published, stats.skipped, stats.failed) == (6, 4, 0)

    received = read_until_sentinel(kafka_bootstrap, kafka.raw_topic, 5)
    assert received == originals


@pytest.mark.integration
def test_a_feed_repeating_items_reaches_the_topic_once_per_item(
    kafka_bootstrap, topic_prefix, feed_server: FeedServer
):
    kafka = kafka_settings(topic_prefix)
    ensure_topics(kafka_bootstrap, kafka)
    config = FeedConfig(
        name="repeat", url=feed_server.url("/repeat.xml"), allow_private=("127.0.0.1",)
    )
    poller = FeedPoller([config], IngestSettings(request_timeout_s=5))

    with ArticlePublisher.from_settings(
        kafka_bootstrap, kafka, embedded_broker=True, dedup_capacity=1000
    ) as pub:

        async def three_polls() -> None:
            async with poller:
                for _ in range(3):
                    for item in (await poller.poll(config)).articles:
                        pub.publish(item)

        asyncio.run(three_polls())
        pub.publish(make_article(source="t", title=SENTINEL_TITLE, url="https://publisher.test/z"))
        pub.flush()
        assert pub.stats.skipped == 4

    received = read_until_sentinel(kafka_bootstrap, kafka.raw_topic, 5)
    titles = [a.title for a in received]
    assert len(titles) == len(set(titles)) == 5
    assert all(t.startswith("Story number ") for t in titles)
