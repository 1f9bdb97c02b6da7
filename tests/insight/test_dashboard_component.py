"""The dashboard's explanation, label form and drift section, called as plain functions."""

from __future__ import annotations

from typing import Any

import pytest
from dash import html
from sqlalchemy import Engine, text

from dashboard import context
from dashboard.components.explanation import (
    highlighted_words,
    render_drift,
    run_explanation,
    save_label,
    word_colour,
)
from insight.explain import explain
from stream.lexicon import LexiconClassifier
from tests.insight.test_feedback_drift_db import _articles


def _texts(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    children = getattr(node, "children", None)
    if children is None:
        return []
    if not isinstance(children, list):
        children = [children]
    return [t for c in children for t in _texts(c)]


def test_words_are_spans_coloured_by_weight_and_markup_stays_text() -> None:
    title = "<script>alert(1)</script> shares plunge"
    ex = explain(LexiconClassifier(), title).to_dict()
    div = highlighted_words(title, ex["words"])
    spans = [c for c in div.children if isinstance(c, html.Span)]
    assert [s.children for s in spans] == title.split()
    assert "".join(_texts(div)) == title  # plain strings: React escapes them
    plunge = spans[-1]
    style = plunge.style  # type: ignore[attr-defined]
    assert style["backgroundColor"].startswith("rgba(220,38,38")
    assert word_colour(0.0, 1.0).endswith(",0.00)")


def test_drift_section_renders_alerts_and_notes() -> None:
    group = {
        "day": "2026-11-23",
        "source": "wild",
        "n": 40,
        "labels": {"negative": 1.0, "neutral": 0.0, "positive": 0.0},
        "mean_confidence": 0.4,
        "low_confidence_share": 1.0,
        "oov_share": None,
        "psi": {"labels": 2.0},
        "max_psi": 2.0,
    }
    out = render_drift([group], ["model-drift: wild ..."], 0.25)
    assert "model-drift: wild ..." in _texts(out)
    assert "run `finsent drift reference`" in _texts(
        render_drift([], [], 0.25, "run `finsent drift reference`")
    )


@pytest.mark.integration
def test_explain_and_label_callbacks(db: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import get_settings

    # the lexicon: the assertions below pin what its explanation says
    monkeypatch.setenv("FINSENT_MODEL__CLASSIFIER", "lexicon")
    get_settings.cache_clear()
    ids = _articles(db, 2, source="wire", mix=(1, 1, 1), conf=0.8, seed=21)
    with db.begin() as conn:
        conn.execute(
            text("UPDATE articles SET title = 'Profit jumps on record sales' WHERE id = :i"),
            {"i": ids[0]},
        )
    context.set_engine(db)
    out = run_explanation(1, ids[0])
    assert "Profit" in _texts(out) and any("lexicon-1" in t for t in _texts(out))
    status = save_label(1, {"id": ids[0], "version": "v1"}, "positive", "Earnings", None)
    assert status.startswith("saved sentiment = positive, topic = Earnings")
    assert save_label(1, {"id": ids[0], "version": "v1"}, None, None, None).startswith("choose")
    get_settings.cache_clear()
    with db.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM article_labels WHERE labeled_by = 'local'")
        ).scalar_one()
    assert n == 2


@pytest.mark.integration
def test_version_comparison_section(db: Engine) -> None:
    from dashboard.components.explanation import compare_selected, list_versions

    ids = _articles(db, 4, source="wire", mix=(1, 1, 1), conf=0.8, seed=22)
    with db.begin() as conn:  # a second version re-scored two of them, one differently
        conn.execute(
            text(
                "INSERT INTO article_scores SELECT article_id, 'v2', model_name, 'positive', "
                "p_negative, p_neutral, p_positive, score, topic, topic_probs, "
                "scored_at + interval '1 hour' FROM article_scores WHERE article_id = ANY(:ids)"
            ),
            {"ids": ids[:2]},
        )
    context.set_engine(db)
    options, _, a, b = list_versions(None)
    assert options == ["v2", "v1"] and (a, b) == ("v1", "v2")
    texts = " ".join(_texts(compare_selected("v1", "v2")))
    assert "2 articles scored by both" in texts


def _weights(**by_word: tuple[float, float]) -> dict[str, Any]:
    """An explanation dict whose words carry the given (sentiment, topic) weights."""
    text = " ".join(by_word)
    words, pos = [], 0
    for word, (sentiment, topic) in by_word.items():
        words.append(
            {"word": word, "start": pos, "end": pos + len(word), "sentiment": sentiment,
             "support": 0.0, "topic": topic}
        )  # fmt: skip
        pos += len(word) + 1
    return {"text": text, "words": words, "topic": "Earnings", "sentiment": "negative",
            "score": -0.5, "model_version": "t", "evaluated": len(words),
            "total_words": len(words), "elapsed_ms": 1.0, "notes": []}  # fmt: skip


def test_the_word_lists_sign_agrees_with_the_highlight_and_skips_stop_words() -> None:
    from dashboard.components.explanation import render_explanation

    ex = _weights(
        shares=(0.05, 0.2), plunge=(-0.4, 0.3), after=(-0.9, 0.8), weak=(-0.2, -0.1),
        results=(0.1, 0.5), **{"as": (0.7, 0.6)},
    )  # fmt: skip
    out = render_explanation(ex)
    sentiment_text = next(d for d in out.children if getattr(d, "className", "") == "xai-text")
    highlight = {
        span.children: span.style["backgroundColor"]  # type: ignore[attr-defined]
        for span in sentiment_text.children
        if isinstance(span, html.Span)
    }
    for key in ("sentiment", "topic"):
        items = [
            li for ul in out.children if isinstance(ul, html.Ul) for li in ul.children
            if li.className == f"xai-top-{key}"
        ]  # fmt: skip
        listed = [li.children[0].children for li in items]
        assert "after" not in listed and "as" not in listed, listed
        for li in items:
            word_span, number = li.children
            weight = float(number)
            colour = word_span.style["backgroundColor"]
            assert colour.startswith("rgba(22,163,74" if weight > 0 else "rgba(220,38,38"), li
            if key == "sentiment":
                assert colour == highlight[word_span.children]
    sentiment_list = [
        li.children[0].children for ul in out.children if isinstance(ul, html.Ul)
        for li in ul.children if li.className == "xai-top-sentiment"
    ]  # fmt: skip
    assert sentiment_list == ["plunge", "weak", "results", "shares"]
