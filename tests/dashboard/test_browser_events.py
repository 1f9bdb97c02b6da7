"""The event filter and event chips, in a real headless Chromium (dash_duo)."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from sqlalchemy import Engine

from tests.dashboard.browser import BROWSER, TIMEOUT, assert_no_console_errors, serve
from tests.dashboard.seed import Seeded

pytestmark = BROWSER


@pytest.fixture
def duo(dash_duo, seeded_db: tuple[Engine, Seeded]):
    yield serve(dash_duo, seeded_db[0], "#latest-table tbody tr")
    assert_no_console_errors(dash_duo)


def _rows(duo) -> list[tuple[str, list[str]]]:
    """(title, event chips) of each row of the latest-articles table."""
    out = []
    for row in duo.find_elements("#latest-table tbody tr"):
        chips = [c.text for c in row.find_elements("css selector", ".event-chip")]
        out.append((row.find_element("css selector", ".title").text, chips))
    return out


def _wait_rows(duo, done) -> list[tuple[str, list[str]]]:
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            rows = _rows(duo)
            if rows and done(rows):
                return rows
        except StaleElementReferenceException:
            pass  # the table re-rendered under us
        assert time.monotonic() < deadline, f"the table never matched: {rows}"
        time.sleep(0.2)


def test_the_event_filter_narrows_the_latest_articles(duo, seeded_db) -> None:
    seeded: Seeded = seeded_db[1]
    before = _wait_rows(duo, lambda rows: len(rows) == 12)
    # unfiltered, the list mixes events (and shows their chips) with articles of none
    assert any(chips == [] for _, chips in before)
    assert any("Buyback" in chips for _, chips in before)

    duo.select_dcc_dropdown("#f-events", value="Probe / investigation")
    after = _wait_rows(duo, lambda rows: all(c == ["Probe / investigation"] for _, c in rows))
    assert len(after) == 12
    assert {t for t, _ in after} <= set(seeded.events["probe"])
    # the URL carries the filter, so a pasted link shows the same list
    assert "events=probe" in duo.driver.current_url

    # the article page lists its events too
    duo.find_element("#latest-table tbody tr .detail-link").click()
    duo.wait_for_element("#article-title", timeout=TIMEOUT)
    assert [c.text for c in duo.find_elements(".meta .event-chip")] == ["Probe / investigation"]
