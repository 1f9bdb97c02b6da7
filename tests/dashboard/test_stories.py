"""The stories of a range, read from the clusters the worker's writer built."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from dashboard.components.theme import fmt_spread
from dashboard.queries.stories import range_stories, story_articles
from tests.dashboard.seed import Seeded
from tests.dashboard.stories_seed import COPIES, seed_story

pytestmark = pytest.mark.integration


def test_a_story_reported_three_times_is_one_row(seeded: Seeded, db: Engine) -> None:
    seed_story(db, seeded.now)
    day = (seeded.now - timedelta(hours=24), seeded.now + timedelta(minutes=1))
    with db.connect() as conn:
        stories = range_stories(conn, *day)
        top = stories[0]
        assert (top.n_articles, top.n_sources, top.tickers) == (3, 3, ("NVDA",))
        assert (top.first_title, top.first_source) == (COPIES[0], "rss")
        assert top.first_published_at == seeded.now - timedelta(hours=3)
        assert top.last_published_at == seeded.now - timedelta(hours=1)
        # every other seeded headline is its own story, counted once
        assert all(s.n_articles == 1 for s in stories[1:])
        assert {s.first_title for s in stories} >= {COPIES[0]}
        assert not {s.first_title for s in stories} & set(COPIES[1:])

        copies = story_articles(conn, [top.id])[top.id]
        assert [c.title for c in copies] == list(COPIES)
        assert [c.is_novel for c in copies] == [True, False, False]

        # the ticker filter, the range and the minimum size all narrow it
        assert top.id in {s.id for s in range_stories(conn, *day, tickers=["NVDA"])}
        assert top.id not in {s.id for s in range_stories(conn, *day, tickers=["TSLA"])}
        early = (seeded.now - timedelta(hours=24), seeded.now - timedelta(hours=4))
        assert top.id not in {s.id for s in range_stories(conn, *early)}
        # the range meets the story's span: still listed when only its last copy is inside
        late = (seeded.now - timedelta(hours=1, minutes=30), seeded.now)
        assert top.id in {s.id for s in range_stories(conn, *late)}
        assert [s.id for s in range_stories(conn, *day, min_articles=2)] == [top.id]
        assert story_articles(conn, []) == {}


def test_spread_reads_as_hours_and_days() -> None:
    assert fmt_spread(timedelta(0)) == "–"
    assert fmt_spread(timedelta(minutes=45)) == "45 min"
    assert fmt_spread(timedelta(hours=2, minutes=5)) == "2 h 5 min"
    assert fmt_spread(timedelta(days=2, hours=4, minutes=9)) == "2 d 4 h"
