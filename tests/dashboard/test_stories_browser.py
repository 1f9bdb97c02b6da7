"""The stories page in a real headless Chromium, on the seeded database plus one story."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from sqlalchemy import Engine

from tests.dashboard.browser import BROWSER, TIMEOUT, assert_no_console_errors, serve, wait_for
from tests.dashboard.seed import Seeded
from tests.dashboard.stories_seed import COPIES, seed_story

pytestmark = BROWSER


@pytest.fixture(scope="module")
def story_db(seeded_db: tuple[Engine, Seeded]) -> Engine:
    engine, seeded = seeded_db
    seed_story(engine, seeded.now)
    return engine


@pytest.fixture
def duo(dash_duo, story_db: Engine):
    yield serve(dash_duo, story_db, "#kpi-articles")
    assert_no_console_errors(dash_duo)


def test_the_stories_page_lists_a_seeded_story_and_links_its_articles(duo) -> None:
    duo.find_element("a.nav-link[href='/stories']").click()
    duo.wait_for_element("#stories-table .story-row", timeout=TIMEOUT)
    first = duo.find_element("#stories-table .story-row")
    assert first.find_element(By.CSS_SELECTOR, ".story-title").text == COPIES[0]
    assert first.find_element(By.CSS_SELECTOR, ".story-articles").text == "3"
    assert first.find_element(By.CSS_SELECTOR, ".story-sources").text == "3"
    spread = first.find_element(By.CSS_SELECTOR, ".story-spread").text
    assert "→" in spread and "2 h 0 min" in spread, spread
    assert [c.text for c in first.find_elements(By.CSS_SELECTOR, ".chip")] == ["NVDA"]
    assert "first by rss" in first.text
    assert "stories" in duo.find_element("#stories-sub").text

    # the copies, first report first, each a link to its article
    first.find_element(By.TAG_NAME, "summary").click()
    copies = first.find_elements(By.CSS_SELECTOR, ".story-copy")
    assert [c.text for c in copies] == list(COPIES)
    copies[2].click()
    duo.wait_for_text_to_equal("#article-title", COPIES[2], timeout=TIMEOUT)


def test_the_ticker_filter_and_time_zone_apply_to_stories(duo) -> None:
    duo.driver.get(duo.server_url + "/stories?range=24h&tickers=TSLA")
    wait_for(
        lambda: (
            duo.find_elements("#stories-table .story-row") or duo.find_elements("#stories-none")
        ),
        "no stories table",
    )
    titles = [e.text for e in duo.find_elements("#stories-table .story-title")]
    assert titles and COPIES[0] not in titles and all("TSLA" in t for t in titles)

    duo.driver.get(duo.server_url + "/stories?range=24h&tickers=NVDA&tz=Asia%2FTokyo")
    row = wait_for(
        lambda: [r for r in duo.find_elements("#stories-table .story-row") if COPIES[0] in r.text],
        "the story is not listed under NVDA",
    )[0]
    assert "JST" in row.find_element(By.CSS_SELECTOR, ".story-spread").text
