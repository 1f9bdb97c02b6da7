"""Pure parts of insight: explanations over the lexicon, the CLI's usage errors, stop
words in rankings."""

from __future__ import annotations

from collections.abc import Sequence

from core.classifier import Classification
from insight.explain import deletion_check, explain, split_words
from stream.lexicon import LexiconClassifier

HEADLINES = [
    "Apple shares plunge after weak earnings and lower guidance for the year",
    "Tesla beats estimates as deliveries surge to a record in the quarter",
    "Exxon cuts outlook as crude prices fall and margins shrink further",
    "Microsoft raises dividend after record quarterly profit and strong growth",
    "JPMorgan faces probe over trading losses in its London unit",
    "Nvidia rallies on strong demand and upbeat forecast for data centres",
]


def test_explanation_words_and_weights_point_the_right_way() -> None:
    ex = explain(LexiconClassifier(), "Apple shares plunge after weak earnings")
    assert [w.word for w in ex.words] == ["Apple", "shares", "plunge", "after", "weak", "earnings"]
    assert ex.sentiment == "negative" and not ex.truncated
    by_word = {w.word: w for w in ex.words}
    # deleting "plunge" makes the text less negative: it pushed the score down
    assert by_word["plunge"].sentiment < 0 and by_word["plunge"].support > 0
    assert by_word["Apple"].sentiment == 0
    assert {w.word for w in ex.top_support(2)} == {"plunge", "weak"}


def test_explanation_is_bounded_by_words_and_time() -> None:
    text = " ".join(["profit"] * 200)
    ex = explain(LexiconClassifier(), text, max_words=10)
    assert ex.evaluated == 10 and ex.total_words == 200 and ex.truncated
    slow = explain(_Slow(), text, max_words=200, budget_s=0.05)
    assert slow.truncated and slow.evaluated < 200 and any("budget" in n for n in slow.notes)


class _Slow(LexiconClassifier):
    def classify(self, texts: Sequence[str]) -> list[Classification]:
        import time

        time.sleep(0.03)
        return super().classify(texts)


def test_deleting_top_words_changes_more_than_random_words_on_the_lexicon() -> None:
    check = deletion_check(LexiconClassifier(), HEADLINES * 3, k=3)
    assert check.n == 18
    assert check.top_rate > check.random_rate


def test_split_words_keeps_offsets() -> None:
    text = "  $AAPL  jumps, 5%!"
    assert [text[s:e] for _, s, e in split_words(text)] == ["$AAPL", "jumps,", "5%!"]


def test_explain_says_what_to_give() -> None:
    import re

    from typer.testing import CliRunner

    from app.cli import app

    def error(argv: list[str]) -> str:
        result = CliRunner().invoke(app, argv, env={"COLUMNS": "200"})
        assert result.exit_code == 2
        return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())

    nothing = error(["explain"])
    assert "give an ARTICLE_ID or --text" in nothing and "not both" not in nothing
    assert "not both" in error(["explain", "abc", "--text", "x"])


def test_rankings_leave_stop_words_out() -> None:
    from insight.explain import Explanation, WordWeight, is_stop_word

    def w(word: str, sentiment: float, topic: float) -> WordWeight:
        return WordWeight(word, 0, len(word), sentiment, abs(sentiment), topic)

    ex = Explanation(
        text="", model_name="m", model_version="v", sentiment="negative", score=-0.5,
        confidence=0.9, topic="Earnings", topic_probability=0.8,
        words=[w("After", -0.9, 0.9), w("as,", 0.8, 0.8), w("plunge", -0.4, 0.1),
               w("not", -0.3, 0.05), w("profit", 0.2, 0.3)],
        evaluated=5, total_words=5, truncated=False, elapsed_ms=1.0,
    )  # fmt: skip
    assert [x.word for x in ex.top_sentiment(3)] == ["plunge", "not", "profit"]
    assert [x.word for x in ex.top_topic(2)] == ["profit", "plunge"]
    assert [x.word for x in ex.top_support(1)] == ["plunge"]
    assert is_stop_word("(After") and not is_stop_word("down") and not is_stop_word("not")
