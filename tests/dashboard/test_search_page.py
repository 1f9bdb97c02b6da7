"""The search page in a real headless Chromium (dash_duo), on the seeded database."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlalchemy import Engine, text

from tests.dashboard.browser import BROWSER, TIMEOUT, assert_no_console_errors, serve
from tests.dashboard.seed import XSS_TITLE, Seeded

pytestmark = BROWSER


@pytest.fixture
def duo(dash_duo, seeded_db: tuple[Engine, Seeded]):
    serve(dash_duo, seeded_db[0], "a.nav-link[href='/search']")
    dash_duo.find_element("a.nav-link[href='/search']").click()
    dash_duo.wait_for_element("#search-hint", timeout=TIMEOUT)  # an empty query: the hint
    yield dash_duo
    assert_no_console_errors(dash_duo)


def _search(duo, words: str) -> None:
    box = duo.find_element("#search-q")
    duo.clear_input(box)
    box.send_keys(words + Keys.ENTER)


def _rows(duo) -> list[tuple[str, list[str], str]]:
    """(headline, its highlighted words, tickers) of each result row."""
    out = []
    for row in duo.find_elements("#search-table tbody tr"):
        cell = row.find_element(By.CSS_SELECTOR, ".title")
        marks = [m.text for m in cell.find_elements(By.TAG_NAME, "mark")]
        out.append((cell.text, marks, row.find_elements(By.TAG_NAME, "td")[4].text))
    return out


def _wait_rows(duo, check: Callable[[list[tuple[str, list[str], str]]], bool], what: str):
    # the table is replaced when a search answers: retry reads that catch it mid-swap
    deadline = time.monotonic() + TIMEOUT
    rows: list[tuple[str, list[str], str]] = []
    while True:
        try:
            rows = _rows(duo)
            if rows and check(rows):
                return rows
        except StaleElementReferenceException:
            pass
        assert time.monotonic() < deadline, f"{what}: {rows[:5]!r}"
        time.sleep(0.2)


def test_a_phrase_shows_the_matching_headlines_highlighted(
    duo, seeded_db: tuple[Engine, Seeded]
) -> None:
    db, seeded = seeded_db
    _search(duo, '"guidance cut"')
    rows = _wait_rows(duo, lambda rs: all("guidance cut" in t for t, _, _ in rs), "no phrase hits")
    assert all(marks == ["guidance", "cut"] for _, marks, _ in rows), rows
    summary = duo.find_element("#search-summary").text
    assert summary.startswith(f"{len(rows)} headlines match · full-text match"), summary
    # every such headline of the range is there (the last 23 h are in the 24 h range for sure)
    with db.connect() as conn:
        expected = set(
            conn.execute(
                text(
                    "SELECT title FROM articles WHERE title LIKE '%guidance cut%' "
                    "AND published_at >= :since"
                ),
                {"since": seeded.now - timedelta(hours=23)},
            ).scalars()
        )
    shown = {t for t, _, _ in rows}
    assert len(expected) >= 30 and expected <= shown
    # the result links to its article, and the tickers column is filled
    assert all(tickers in {"AAPL", "TSLA", "MSFT", "NVDA"} for _, _, tickers in rows)
    link = duo.find_element("#search-table tbody tr a[target='_blank']")
    assert link.get_attribute("href").startswith("https://news.example.com/")


def test_a_negated_word_excludes_a_misspelling_falls_back_no_match_says_so(duo) -> None:
    _search(duo, "buyback")
    rows = _wait_rows(duo, lambda rs: all("buyback" in t for t, _, _ in rs), "no buyback hits")
    assert any("TSLA" in t for t, _, _ in rows)  # so the negation below has work to do

    _search(duo, "buyback -TSLA")
    rows = _wait_rows(
        duo, lambda rs: not any("TSLA" in t for t, _, _ in rs), "TSLA was not excluded"
    )
    assert all("buyback" in t and tickers != "TSLA" for t, _, tickers in rows)
    assert all(marks == ["buyback"] for _, marks, _ in rows)

    _search(duo, "regulatry")  # a misspelling: the similarity fallback, and the line says so
    rows = _wait_rows(duo, lambda rs: all("regulatory" in t for t, _, _ in rs), "no fallback")
    assert "similar spellings" in duo.find_element("#search-summary").text

    _search(duo, "zzzzqqqq")
    duo.wait_for_contains_text("#search-none", "No headline matches “zzzzqqqq”", timeout=TIMEOUT)
    assert duo.find_elements("#search-table") == []


def test_a_script_headline_is_shown_as_text(duo) -> None:
    _search(duo, "claims")
    rows = _wait_rows(duo, lambda rs: any("pwned" in t for t, _, _ in rs), "no XSS headline")
    assert [t for t, _, _ in rows] == [XSS_TITLE]
    assert "claims" in rows[0][1]  # highlighted, as a <mark> element
    assert duo.driver.find_elements(By.CSS_SELECTOR, "#search-table b, #search-table script") == []
    with pytest.raises(NoAlertPresentException):
        duo.driver.switch_to.alert.text  # noqa: B018 - raises when no alert() ran
    scripts = duo.driver.execute_script(
        "return Array.from(document.scripts).filter(s => s.text.includes('pwned')).length;"
    )
    assert scripts == 0
