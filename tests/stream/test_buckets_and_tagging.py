from __future__ import annotations

from datetime import UTC, datetime

from core.schemas import ArticleScored, EntityMention
from stream.buckets import bucket_increments, bucket_start
from stream.tagging import tag_tickers


def _scored(
    sentiment: str, score: float, when: datetime, tickers: tuple[str, ...] = ()
) -> ArticleScored:
    return ArticleScored(
        article_id="a" * 64,
        source="wire",
        title="t",
        published_at=when,
        model_name="m",
        model_version="v",
        sentiment=sentiment,
        p_negative=0.0,
        p_neutral=1.0,
        p_positive=0.0,  # type: ignore[arg-type]
        score=score,
        topic="Earnings",
        received_at=when,
        scored_at=when,
        entities=tuple(EntityMention(ticker=t, start=0, end=1) for t in tickers),
    )


def test_bucket_start_aligns_to_the_epoch() -> None:
    moment = datetime(2026, 11, 23, 12, 34, 56, tzinfo=UTC)
    assert bucket_start(moment, 60) == datetime(2026, 11, 23, 12, 34, tzinfo=UTC)
    assert bucket_start(moment, 3600) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert bucket_start(moment, 86400) == datetime(2026, 11, 23, tzinfo=UTC)


def test_increments_aggregate_per_scope_and_width() -> None:
    t = datetime(2026, 11, 23, 12, 0, 10, tzinfo=UTC)
    rows = [
        _scored("negative", -0.8, t, ("AAPL",)),
        _scored("positive", 0.5, t),
        _scored("negative", -0.2, t, ("AAPL", "MSFT")),
    ]
    inc = bucket_increments(rows, (60, 3600))
    market = {k.width_s: v for k, v in inc.items() if k.scope_kind == "market"}
    assert market[60].n_total == 3 and market[60].n_negative == 2 and market[60].n_positive == 1
    assert abs(market[3600].score_sum - (-0.5)) < 1e-9
    aapl = [v for k, v in inc.items() if k.scope_key == "AAPL" and k.width_s == 60]
    assert aapl[0].n_total == 2
    assert {k.scope_kind for k in inc} == {"market", "topic", "source", "ticker"}


def test_cashtags_and_exchange_tickers_with_spans() -> None:
    title = "$AAPL and NASDAQ:MSFT rise; $5 coffee and (NYSE: IBM) too"
    mentions = tag_tickers(title)
    assert [m.ticker for m in mentions] == ["AAPL", "MSFT", "IBM"]
    for m in mentions:
        assert m.ticker in title[m.start : m.end]


def test_title_mentions_outrank_summary_and_hints_come_last() -> None:
    mentions = tag_tickers("Nothing here", "but $TSLA in the body", hinted=("GM",))
    assert [(m.ticker, m.in_title) for m in mentions] == [("TSLA", False), ("GM", False)]
    assert mentions[0].relevance < 1.0
