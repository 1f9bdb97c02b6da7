"""The dashboard in a real headless Chromium (dash[testing]'s dash_duo)."""

from __future__ import annotations

import csv
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from selenium.common.exceptions import (
    NoAlertPresentException,
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.common.by import By
from sqlalchemy import Engine, text

from tests.dashboard.browser import BROWSER, TIMEOUT, assert_no_console_errors, serve
from tests.dashboard.seed import XSS_TITLE, Seeded

pytestmark = BROWSER

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def seeded(seeded_db: tuple[Engine, Seeded]) -> Seeded:
    return seeded_db[1]


@pytest.fixture
def duo(dash_duo, seeded_db: tuple[Engine, Seeded]):
    yield serve(dash_duo, seeded_db[0], "#kpi-articles")
    assert_no_console_errors(dash_duo)


def _kpi_articles(duo) -> int:
    return int(duo.find_element("#kpi-articles .kpi-value").text.replace(",", ""))


def _wait_kpi_positive(duo) -> int:
    duo.wait_for_element("#kpi-articles .kpi-value", timeout=TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while _kpi_articles(duo) == 0:
        assert time.monotonic() < deadline, "the overview never showed any article"
        time.sleep(0.2)
    return _kpi_articles(duo)


def _chart_x(duo, graph_id: str) -> list[str]:
    return duo.driver.execute_script(
        f"return document.querySelector('#{graph_id} .js-plotly-plot').data[0].x;"
    )


def _screenshot(duo, name: str, height: int = 1500) -> None:
    """Into docs/screenshots with UPDATE_SCREENSHOTS=1, else next to the downloads (so a
    plain test run leaves the committed images alone)."""
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else Path(duo.download_path)
    folder.mkdir(parents=True, exist_ok=True)
    duo.driver.set_window_size(1280, height)
    time.sleep(0.8)  # let plotly re-layout to the new width
    assert duo.driver.save_screenshot(str(folder / name))
    duo.driver.set_window_size(1280, 1000)


def test_overview_renders_with_data(duo, seeded: Seeded) -> None:
    total = _wait_kpi_positive(duo)
    assert total >= 60
    duo.wait_for_element("#index-chart .js-plotly-plot .scatterlayer .trace", timeout=TIMEOUT)
    duo.wait_for_element("#heatmap .js-plotly-plot .hm", timeout=TIMEOUT)
    duo.wait_for_element("#neg-tickers .mover-link", timeout=TIMEOUT)
    assert len(duo.find_elements("#latest-table tbody tr")) == 12
    assert "Market" in duo.find_element("#overview-sub").text
    _screenshot(duo, "overview.png", height=1750)


def test_drilldown_click_shows_the_tickers_articles(duo, seeded: Seeded) -> None:
    _wait_kpi_positive(duo)
    duo.wait_for_element("#neg-tickers .mover-link", timeout=TIMEOUT)
    link = next(e for e in duo.find_elements("#neg-tickers .mover-link") if e.text == "AAPL")
    link.click()
    duo.wait_for_text_to_equal("#scope-key", "AAPL", timeout=TIMEOUT)
    duo.wait_for_element("#articles-table tbody tr", timeout=TIMEOUT)
    # the view (range, filters) follows in the query string
    assert "/ticker?symbol=AAPL&range=24h" in duo.driver.current_url
    titles = [e.text for e in duo.find_elements("#articles-table tbody tr .title")]
    start = duo.driver.execute_script(
        "return document.querySelector('#scope-chart .js-plotly-plot').data[0].x[0];"
    )
    assert start is not None
    # the AAPL articles of the range, newest first (the last 23 h are in it for sure)
    expected = seeded.aapl_since(seeded.now - timedelta(hours=23))
    assert titles[: len(expected)] == sorted_newest(seeded, expected)
    assert all("AAPL" in row.text for row in duo.find_elements("#articles-table tbody tr"))
    duo.wait_for_element("#scope-alerts .state-firing", timeout=TIMEOUT)
    _screenshot(duo, "drilldown.png", height=1500)


def _trace_names(duo) -> list[str]:
    return duo.driver.execute_script(
        "const g = document.querySelector('#scope-chart .js-plotly-plot');"
        "return g && g.data ? g.data.map(t => t.name) : [];"
    )


def test_imported_prices_show_as_returns_under_the_tickers_sentiment(
    duo, seeded_db: tuple[Engine, Seeded]
) -> None:
    from stream.ingest.prices import PricePoint, store_prices

    db, seeded = seeded_db
    today = seeded.now.date()
    closes = {today - timedelta(days=d): 100.0 + d for d in range(10)}  # falling to today
    store_prices(
        db, [PricePoint(ticker="MSFT", day=d, close=c) for d, c in closes.items()], source="t"
    )
    base = closes[today - timedelta(days=2)]  # the last close before the 24 h range
    expected = [
        round(closes[d] / base - 1, 6) for d in sorted(closes) if d >= today - timedelta(days=1)
    ]
    duo.driver.get(f"{duo.server_url}/ticker?symbol=MSFT")
    duo.wait_for_text_to_equal("#scope-key", "MSFT", timeout=TIMEOUT)
    deadline = time.monotonic() + TIMEOUT
    while "Return (daily close)" not in (names := _trace_names(duo) or []):
        assert time.monotonic() < deadline, f"no return trace in {names}"
        time.sleep(0.2)
    shown = duo.driver.execute_script(
        "return document.querySelector('#scope-chart .js-plotly-plot').data"
        ".find(t => t.name === 'Return (daily close)').y;"
    )
    assert [round(y, 6) for y in shown] == expected and expected[-1] < 0

    duo.driver.get(f"{duo.server_url}/ticker?symbol=NVDA")  # no prices: no return panel
    duo.wait_for_text_to_equal("#scope-key", "NVDA", timeout=TIMEOUT)
    duo.wait_for_element("#articles-table tbody tr", timeout=TIMEOUT)
    assert "Return (daily close)" not in _trace_names(duo)


def sorted_newest(seeded: Seeded, titles: list[str]) -> list[str]:
    order = {t: when for when, t in seeded.aapl}
    return sorted(titles, key=lambda t: order[t], reverse=True)


def test_time_range_changes_the_series(duo, seeded: Seeded) -> None:
    day_total = _wait_kpi_positive(duo)
    day_x = _chart_x(duo, "index-chart")
    duo.find_element("#range-preset label:nth-child(6)").click()  # 30d
    deadline = time.monotonic() + TIMEOUT
    while _kpi_articles(duo) == day_total:
        assert time.monotonic() < deadline, "the 30d range never replaced the 24h series"
        time.sleep(0.2)
    month_x = _chart_x(duo, "index-chart")
    assert _kpi_articles(duo) == seeded.n_articles
    assert month_x[0] < day_x[0] and len(month_x) != len(day_x)
    assert "step 6h" in duo.find_element("#overview-sub").text


def test_csv_export_downloads_the_rows_shown(duo, seeded: Seeded) -> None:
    total = _wait_kpi_positive(duo)
    shown_x = _chart_x(duo, "index-chart")
    duo.find_element("#export-btn").click()
    target = Path(duo.download_path) / "finsent-series.csv"
    deadline = time.monotonic() + TIMEOUT
    while not target.exists():
        assert time.monotonic() < deadline, "no CSV was downloaded"
        time.sleep(0.2)
    rows = list(csv.DictReader(target.read_text().splitlines()))
    assert len(rows) == len(shown_x)
    assert sum(int(r["n_total"]) for r in rows) == total
    # plotly holds the timestamps as sent; same instants as the CSV's ISO strings
    assert [r["bucket_start"][:16] for r in rows] == [x.replace(" ", "T")[:16] for x in shown_x]


def test_script_headline_is_shown_as_text(duo, seeded: Seeded) -> None:
    _wait_kpi_positive(duo)
    duo.wait_for_element("#latest-table", timeout=TIMEOUT)
    cells = [e for e in duo.find_elements("#latest-table .title") if "pwned" in e.text]
    assert [c.text for c in cells] == [XSS_TITLE]
    assert duo.driver.find_elements(By.CSS_SELECTOR, "#latest-table b") == []
    with pytest.raises(NoAlertPresentException):
        duo.driver.switch_to.alert.text  # noqa: B018 - raises when no alert() ran
    # the article page shows it as its heading, as text
    cells[0].find_element(By.XPATH, "./ancestor::tr//a[@class='detail-link']").click()
    duo.wait_for_text_to_equal("#article-title", XSS_TITLE, timeout=TIMEOUT)
    scripts = duo.driver.execute_script(
        "return Array.from(document.scripts).filter(s => s.text.includes('pwned')).length;"
    )
    assert scripts == 0


def _open_alerts_page(duo) -> None:
    duo.find_element("a.nav-link[href='/alerts']").click()
    duo.wait_for_element("#silence-create", timeout=TIMEOUT)
    duo.wait_for_element("#silences-list > *", timeout=TIMEOUT)


def _fill_silence_form(duo, matchers: str, *, creator: str, comment: str) -> None:
    duo.find_element("#silence-matchers").send_keys(matchers)
    duo.find_element("#silence-creator").send_keys(creator)
    duo.find_element("#silence-comment").send_keys(comment)
    duo.find_element("#silence-create").click()


def test_a_silence_is_created_from_the_form_listed_and_expired(
    duo, seeded_db: tuple[Engine, Seeded]
) -> None:
    db = seeded_db[0]
    _open_alerts_page(duo)
    _fill_silence_form(duo, "ticker=~AAP.*\nseverity!=info", creator="ann", comment="earnings call")
    duo.wait_for_contains_text("#silences-list", "earnings call", timeout=TIMEOUT)
    listed = duo.find_element("#silences-table").text
    assert "ticker=~AAP.*" in listed and "severity!=info" in listed and "ann" in listed
    assert duo.find_element("#silences-error").text == ""

    with db.connect() as conn:
        [row] = conn.execute(
            text("SELECT * FROM silences WHERE comment = 'earnings call'")
        ).mappings()
    assert row["matchers"] == [
        {"name": "ticker", "op": "=~", "value": "AAP.*"},
        {"name": "severity", "op": "!=", "value": "info"},
    ]
    assert row["created_by"] == "ann" and row["rule_id"] is None and row["scope_key"] is None
    left = row["ends_at"] - datetime.now(UTC)
    assert timedelta(hours=1, minutes=55) < left <= timedelta(hours=2)

    # the live refresh may redraw the table between finding the button and clicking it
    deadline = time.monotonic() + TIMEOUT
    while "earnings call" in duo.find_element("#silences-list").text:
        assert time.monotonic() < deadline, "expiring never took effect"
        try:
            duo.find_element(f"#silence-{row['id']} button").click()
        except (StaleElementReferenceException, NoSuchElementException):
            pass
        time.sleep(0.5)
    duo.wait_for_contains_text("#silences-flash", f"Silence {row['id']} expired", timeout=TIMEOUT)
    with db.connect() as conn:
        ends_at = conn.execute(
            text("SELECT ends_at FROM silences WHERE id = :id"), {"id": row["id"]}
        ).scalar_one()
    assert ends_at <= datetime.now(UTC)


def test_a_bad_matcher_shows_the_error_and_creates_nothing(
    duo, seeded_db: tuple[Engine, Seeded]
) -> None:
    db = seeded_db[0]
    count = "SELECT count(*) FROM silences"
    with db.connect() as conn:
        before = conn.execute(text(count)).scalar_one()
    _open_alerts_page(duo)
    _fill_silence_form(duo, "team=markets\nteam:markets", creator="ann", comment="typo")
    duo.wait_for_contains_text("#silences-error", "'team:markets' is no matcher", timeout=TIMEOUT)
    assert duo.find_element("#silences-flash").text == ""
    assert duo.find_element("#silence-matchers").get_attribute("value").endswith("team:markets")
    with db.connect() as conn:
        assert conn.execute(text(count)).scalar_one() == before


def test_health_page_and_alert_acknowledgement(duo, seeded: Seeded) -> None:
    """Last in the module: it acknowledges the seeded alert."""
    duo.find_element("a.nav-link[href='/health']").click()
    duo.wait_for_text_to_equal("#kpi-provider .kpi-value", "CPU", timeout=TIMEOUT)
    assert duo.find_element("#kpi-rate .kpi-value").text == "12.5"
    _screenshot(duo, "health.png", height=900)
    duo.find_element("a.nav-link[href='/alerts']").click()
    duo.wait_for_element("#alerts-active .state-firing", timeout=TIMEOUT)
    _screenshot(duo, "alerts.png", height=1000)
    # the live refresh may redraw the table between finding the button and clicking it
    deadline = time.monotonic() + TIMEOUT
    while "ack by local" not in duo.find_element("#alerts-active").text:
        assert time.monotonic() < deadline, "acknowledging never took effect"
        try:
            duo.driver.find_element(
                By.XPATH, "//*[@id='alerts-active']//button[text()='Acknowledge']"
            ).click()
        except (StaleElementReferenceException, NoSuchElementException):
            pass
        time.sleep(0.5)
    duo.wait_for_contains_text("#alerts-active", "ack by local", timeout=TIMEOUT)


def _x_range(duo, graph_id: str) -> list[str]:
    return duo.driver.execute_script(
        f"return document.querySelector('#{graph_id} .js-plotly-plot').layout.xaxis.range;"
    )


def _wait_text(duo, selector: str, check, what: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while not check(text := duo.find_element(selector).text):
        assert time.monotonic() < deadline, f"{what}: {text!r}"
        time.sleep(0.2)
    return text


def test_market_wide_panels_say_so_and_the_heatmap_lines_up(duo, seeded: Seeded) -> None:
    _wait_kpi_positive(duo)
    duo.wait_for_element("#heatmap .js-plotly-plot .hm", timeout=TIMEOUT)
    assert duo.find_element("#heatmap-scope").text == ""  # no filter: nothing to explain
    # the topic heatmap's time axis is the index chart's: same range, cell edges on it
    index_range = _x_range(duo, "index-chart")
    assert index_range == _x_range(duo, "heatmap")

    # a ticker chosen in the filter bar (as its dropdown sets it)
    duo.driver.execute_script("window.dash_clientside.set_props('f-tickers', {value: ['AAPL']});")
    _wait_text(duo, "#heatmap-scope", lambda t: "Market-wide" in t, "no market-wide note")
    assert "ticker" in duo.find_element("#heatmap-scope").text
    assert "Market-wide" in duo.find_element("#topics-scope").text
    _wait_text(duo, "#overview-sub", lambda t: "AAPL" in t, "the chart never followed")
    assert _x_range(duo, "index-chart") == _x_range(duo, "heatmap")


def test_a_clicked_range_button_stays_readable(duo, seeded: Seeded) -> None:
    _wait_kpi_positive(duo)
    label = duo.find_element("#range-preset label:nth-child(5)")
    label.click()  # focused and checked now
    colours = duo.driver.execute_script(
        "const l = arguments[0]; const s = getComputedStyle(l);"
        "const inner = l.querySelector('span') || l;"
        "return [s.backgroundColor, getComputedStyle(inner).color];",
        label,
    )
    background, text_colour = colours
    assert text_colour == "rgb(255, 255, 255)", colours
    assert background not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), colours
