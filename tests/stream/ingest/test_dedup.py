"""The bounded memory of published ids."""

from __future__ import annotations

import hashlib

import pytest

from stream.ingest.dedup import RecentIds


def aid(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def test_remembers_and_evicts_least_recently_seen():
    ids = RecentIds(capacity=3)
    assert [ids.add(aid(n)) for n in (1, 2, 3)] == [True, True, True]
    assert ids.add(aid(1)) is False  # a repeat, and now the most recent
    assert ids.add(aid(4)) is True  # evicts 2, the least recently seen
    assert aid(2) not in ids and aid(1) in ids and len(ids) == 3
    assert ids.add(aid(2)) is True


def test_discard_lets_an_id_through_again():
    ids = RecentIds(capacity=10)
    ids.add(aid(1))
    ids.discard(aid(1))
    assert ids.add(aid(1)) is True


def test_capacity_must_be_positive():
    with pytest.raises(ValueError):
        RecentIds(0)
