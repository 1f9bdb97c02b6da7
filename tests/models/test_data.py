from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from core.errors import ConfigError
from models.data import (
    ANALYST_SET,
    NEG,
    NEU,
    POS,
    SOURCES,
    dedup_key,
    load_source,
    load_user_csv,
    parse_decisions,
    score_to_label,
    training_text,
)

# rows and label counts from each folder's SOURCE.txt (sentiment: negative, neutral, positive)
EXPECTED = {
    "financial_phrasebank/Sentences_50Agree.txt": (4846, {NEG: 604, NEU: 2879, POS: 1363}),
    "financial_phrasebank/Sentences_66Agree.txt": (4217, None),
    "financial_phrasebank/Sentences_75Agree.txt": (3453, None),
    "financial_phrasebank/Sentences_AllAgree.txt": (2264, {NEG: 303, NEU: 1391, POS: 570}),
    "twitter_fin_news_sentiment/sent_train.csv": (9543, {NEG: 1442, POS: 1923, NEU: 6178}),
    "twitter_fin_news_sentiment/sent_valid.csv": (2388, {NEG: 347, POS: 475, NEU: 1566}),
    "twitter_fin_news_topic/topic_train.csv": (16990, None),
    "twitter_fin_news_topic/topic_valid.csv": (4117, None),
    "sentfin/SEntFiN.csv": (10753, None),
    "fiqa_2018_task1/task1_headline_ABSA_train.json": (336, None),
    "fiqa_2018_task1/task1_headline_ABSA_test.json": (100, None),
    "fiqa_2018_task1/task1_post_ABSA_train.json": (575, None),
    "fiqa_2018_task1/task1_post_ABSA_test.json": (100, None),
    "semeval2017_task5_headlines/SemEval2017Task5Headlines.json": (1142, None),
    "unlabeled_fin_headlines/cnbc_headlines.csv": (2800, None),
    "unlabeled_fin_headlines/guardian_headlines.csv": (17800, None),
    "analyst_set/headlines.csv": (420, {NEG: 140, NEU: 140, POS: 140}),
}


def test_every_source_has_an_expectation() -> None:
    assert set(EXPECTED) == set(SOURCES)


@pytest.mark.parametrize("source", sorted(EXPECTED))
def test_loader_rows_and_labels(data_dir: Path, source: str) -> None:
    rows, counts = EXPECTED[source]
    examples = load_source(data_dir, source)
    assert len(examples) == rows
    assert len({e.row for e in examples}) == rows
    assert all(e.text.strip() for e in examples)
    info = SOURCES[source]
    sent = Counter(e.sentiment for e in examples)
    if counts is not None:
        assert dict(sent) == counts
    if "sentiment" in info.tasks:
        assert set(sent) - {None} == {NEG, NEU, POS}
    else:
        assert set(sent) == {None}
    topics = {e.topic for e in examples}
    if "topic" in info.tasks:
        assert topics == set(range(20))
    else:
        assert topics == {None}


def test_phrasebank_is_latin1_and_nested(data_dir: Path) -> None:
    pb = "financial_phrasebank/Sentences_"
    allagree = {e.text for e in load_source(data_dir, pb + "AllAgree.txt")}
    fifty = {e.text for e in load_source(data_dir, pb + "50Agree.txt")}
    assert allagree <= fifty
    assert any(ch in t for t in fifty for ch in "äöé")  # decoded as latin-1, not mojibake


def test_sentfin_tolerant_parser(data_dir: Path) -> None:
    examples = load_source(data_dir, "sentfin/SEntFiN.csv")
    # 14,405 entity labels; headlines whose entities disagree carry no label
    assert sum(e.sentiment is None for e in examples) > 0
    assert parse_decisions("{'Dr Reddy's': 'positive', 'Cipla': 'negative'}") == {
        "Dr Reddy's": "positive",
        "Cipla": "negative",
    }


def test_score_cut() -> None:
    assert score_to_label(-0.5) == NEG
    assert score_to_label(0.05) == NEU
    assert score_to_label(0.3) == POS


def test_text_cleaning() -> None:
    t = "$AAPL up &amp; away  https://t.co/abc123"
    assert training_text(t) == "$AAPL up & away"
    assert dedup_key("Shares ROSE , 5 %") == dedup_key("shares rose 5%")


def test_user_csv(tmp_path: Path) -> None:
    p = tmp_path / "mine.csv"
    p.write_text("text,label,topic\nprofits soar,positive,Earnings\nmeh,1,\n")
    ex = load_user_csv(p)
    assert [(e.sentiment, e.topic) for e in ex] == [(POS, 5), (NEU, None)]
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nx,great\n")
    with pytest.raises(ConfigError, match="unknown label"):
        load_user_csv(bad)
    with pytest.raises(ConfigError, match="needs a 'text' column"):
        (tmp_path / "nolabel.csv").write_text("text\nx\n")
        load_user_csv(tmp_path / "nolabel.csv")


def test_missing_data_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--data-dir"):
        load_source(tmp_path, "sentfin/SEntFiN.csv")


def test_analyst_set_is_balanced_and_documented(data_dir: Path) -> None:
    """Written for finsent (not copied from a data set): >= 400 headlines, the three
    sentiments balanced, every topic with every sentiment, a labelling guide beside it."""
    examples = load_source(data_dir, ANALYST_SET)
    assert len(examples) >= 400
    sentiments = Counter(e.sentiment for e in examples)
    assert max(sentiments.values()) - min(sentiments.values()) <= len(examples) * 0.02
    per_topic = Counter((e.topic, e.sentiment) for e in examples)
    assert all(per_topic[(t, s)] >= 3 for t in range(20) for s in (NEG, NEU, POS))
    assert len({dedup_key(e.text) for e in examples}) == len(examples)
    guide = (SOURCES[ANALYST_SET].root or data_dir) / "analyst_set" / "GUIDE.md"
    text = guide.read_text()
    assert "investor" in text and "Never train" in text
    # nothing in it repeats a text of the shared data sets
    shared = {
        dedup_key(e.text)
        for source in SOURCES
        if source != ANALYST_SET
        for e in load_source(data_dir, source)
    }
    assert not {dedup_key(e.text) for e in examples} & shared
