from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.data import SOURCES, dedup_key, load_source
from models.splits import DEFAULT_SPLITS, SplitFile, eval_sets, make_splits, training_examples


@pytest.fixture(scope="module")
def split(data_dir: Path) -> SplitFile:
    s = SplitFile.read(DEFAULT_SPLITS)
    s.verify(data_dir, SOURCES)  # the committed ids belong to these exact files
    return s


@pytest.fixture(scope="module")
def keys(data_dir: Path, split: SplitFile) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {
        "train": set(),
        "validation": set(),
        "test": set(),
        "transfer": set(),
    }
    for source in split.sources:
        by_row = {e.row: dedup_key(e.text) for e in load_source(data_dir, source)}
        for name in out:
            out[name] |= {by_row[r] for r in split.rows(source, name)}
    return out


def test_committed_split_is_reproducible(data_dir: Path, split: SplitFile) -> None:
    fresh = make_splits(data_dir, seed=split.data["seed"])
    assert json.dumps(fresh.data, sort_keys=True) == json.dumps(split.data, sort_keys=True)


def test_splits_partition_each_file(split: SplitFile) -> None:
    for source, info in split.sources.items():
        ids = [r for rows in info["splits"].values() for r in rows]
        assert len(ids) == len(set(ids)) == info["rows"], source


def test_no_test_text_anywhere_in_training(keys: dict[str, set[str]]) -> None:
    assert not keys["test"] & keys["train"]
    assert not keys["test"] & keys["validation"]
    assert not keys["test"] & keys["transfer"]
    assert not keys["validation"] & keys["train"]


def test_phrasebank_levels_share_one_split(data_dir: Path, split: SplitFile) -> None:
    pb = "financial_phrasebank/Sentences_"
    all_test = {
        e.text
        for e in load_source(data_dir, pb + "AllAgree.txt")
        if e.row in set(split.rows(pb + "AllAgree.txt", "test"))
    }
    fifty_test = {
        e.text
        for e in load_source(data_dir, pb + "50Agree.txt")
        if e.row in set(split.rows(pb + "50Agree.txt", "test"))
    }
    assert all_test <= fifty_test
    share = len(split.rows(pb + "50Agree.txt", "test")) / 4846
    assert 0.17 < share < 0.23  # the seeded ~20% test split


def test_training_set_and_permissive_only(data_dir: Path, split: SplitFile) -> None:
    full = training_examples(split, data_dir)
    mit = training_examples(split, data_dir, permissive_only=True)
    assert any(e.source.startswith("financial_phrasebank") for e in full)
    assert not any(e.source.startswith("financial_phrasebank") for e in mit)
    assert all(e.sentiment is not None or e.topic is not None for e in full)


def test_eval_sets(data_dir: Path, split: SplitFile) -> None:
    sets = eval_sets(split, data_dir)
    assert set(sets) == {
        "phrasebank_allagree",
        "phrasebank_50agree",
        "twitter_sentiment",
        "twitter_topic",
        "fiqa",
        "semeval_headlines",
        "sentfin_agree",
        "analyst_sentiment",
        "analyst_topic",
    }
    assert len(sets["twitter_topic"][1]) == 4117
    assert len(sets["analyst_sentiment"][1]) == len(sets["analyst_topic"][1]) >= 400
    # the headline sets' seeded test parts: about a fifth of each
    assert 200 < len(sets["fiqa"][1]) < 260
    assert 1800 < len(sets["sentfin_agree"][1]) < 2100
    validation = eval_sets(split, data_dir, which="validation")
    assert {"sentfin_agree", "fiqa", "semeval_headlines"} <= set(validation)
    assert not {"analyst_sentiment", "analyst_topic"} & set(validation)


def test_headline_sets_train_and_their_tests_stay_out(
    data_dir: Path, split: SplitFile, keys: dict[str, set[str]]
) -> None:
    """SEntFiN, FiQA and SemEval train the model; their test parts and the analyst set
    are never in training, validation or transfer, not even as a near-duplicate (case,
    punctuation and spacing differ) in another set."""
    train = training_examples(split, data_dir)
    datasets = {SOURCES[e.source].dataset for e in train}
    assert {"sentfin", "fiqa", "semeval"} <= datasets
    mit = training_examples(split, data_dir, permissive_only=True)
    assert "semeval" not in {SOURCES[e.source].dataset for e in mit}  # licence not verified
    for name in ("sentfin_agree", "fiqa", "semeval_headlines", "analyst_sentiment"):
        _, examples = eval_sets(split, data_dir, names=[name])[name]
        test = {dedup_key(e.text) for e in examples}
        assert not test & (keys["train"] | keys["validation"] | keys["transfer"]), name
    assert split.sources["analyst_set/headlines.csv"]["counts"] == {"test": 420}


def test_near_duplicates_across_sets_share_a_split(data_dir: Path, split: SplitFile) -> None:
    """A headline in SemEval and in FiQA (or twice in SemEval) lands in one split only."""
    where: dict[str, set[str]] = {}
    for source in split.sources:
        rows = {e.row: dedup_key(e.text) for e in load_source(data_dir, source)}
        for name in ("train", "validation", "test"):
            for r in split.rows(source, name):
                where.setdefault(rows[r], set()).add(name)
    assert all(len(names) == 1 for names in where.values())


def test_mixed_sentfin_headlines_are_transfer_rows_only(data_dir: Path, split: SplitFile) -> None:
    rows = {e.row: e for e in load_source(data_dir, "sentfin/SEntFiN.csv")}
    transfer = split.rows("sentfin/SEntFiN.csv", "transfer")
    assert transfer and all(rows[r].sentiment is None for r in transfer)
    for name in ("train", "validation", "test"):
        assert all(rows[r].sentiment is not None for r in split.rows("sentfin/SEntFiN.csv", name))
    # a transfer row repeating another training text is merged into it, by text
    with_transfer = {
        dedup_key(e.text) for e in training_examples(split, data_dir, include_transfer=True)
    }
    without = {dedup_key(e.text) for e in training_examples(split, data_dir)}
    mixed = {dedup_key(rows[r].text) for r in transfer}
    assert mixed <= with_transfer
    assert mixed - without


def test_user_csv_gets_split(data_dir: Path, tmp_path: Path) -> None:
    p = tmp_path / "own.csv"
    p.write_text(
        "text,label\n" + "".join(f"company {i} reports results,neutral\n" for i in range(50))
    )
    s = make_splits(data_dir, extra_csvs=[p])
    user = [k for k in s.sources if k.startswith("user:")]
    assert len(user) == 1
    assert sum(s.sources[user[0]]["counts"].values()) == 50
