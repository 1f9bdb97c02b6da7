"""Shareable views in a real headless Chromium: the URL carries the controls, both ways."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import Engine, text

from tests.dashboard.browser import BROWSER, TIMEOUT, assert_no_console_errors, serve, wait_for
from tests.dashboard.seed import Seeded

pytestmark = BROWSER


@pytest.fixture
def duo(dash_duo, seeded_db: tuple[Engine, Seeded]):
    yield serve(dash_duo, seeded_db[0], "#kpi-articles")
    assert_no_console_errors(dash_duo)


def query(duo) -> dict[str, list[str]]:
    return parse_qs(urlparse(duo.driver.current_url).query)


def checked_preset(duo) -> str:
    return str(
        duo.driver.execute_script(
            "return document.querySelector('#range-preset input:checked').value;"
        )
    )


def open_url(duo, path: str) -> None:
    duo.driver.get(duo.server_url + path)
    duo.wait_for_element("#kpi-articles", timeout=TIMEOUT)


def test_a_url_sets_the_controls_and_a_control_sets_the_url(duo) -> None:
    open_url(duo, "/?range=7d&step=3600&tickers=AAPL&sentiment=negative")
    wait_for(lambda: "AAPL" in duo.find_element("#overview-sub").text, "tickers not applied")
    assert checked_preset(duo) == "7d"
    assert "step 1h" in duo.find_element("#overview-sub").text
    # the sentiment filter reached the article list: only negative headlines
    badges = wait_for(
        lambda: [e.text for e in duo.find_elements("#latest-table .badge")], "no headlines"
    )
    assert all(b.lower().startswith("negative") for b in badges), badges
    assert duo.driver.execute_script(
        "return document.querySelector('#f-sentiment input[value=negative]').checked;"
    )

    # a control changed: the URL follows, and the other parameters stay
    duo.find_element("#range-preset label:nth-child(6)").click()  # 30d
    wait_for(lambda: query(duo).get("range") == ["30d"], "the URL never followed")
    assert query(duo)["tickers"] == ["AAPL"] and query(duo)["step"] == ["3600"]

    # back: the previous view, in the URL and in the controls
    duo.driver.back()
    wait_for(lambda: query(duo).get("range") == ["7d"], "back did not restore the URL")
    wait_for(lambda: checked_preset(duo) == "7d", "back did not restore the range")
    duo.driver.forward()
    wait_for(lambda: checked_preset(duo) == "30d", "forward did not restore the range")


def test_navigation_keeps_the_view_and_the_page_keeps_its_own_keys(duo) -> None:
    open_url(duo, "/?range=6h&tickers=TSLA")
    wait_for(lambda: "TSLA" in duo.find_element("#overview-sub").text, "tickers not applied")
    duo.find_element("a.nav-link[href='/search']").click()
    duo.wait_for_element("#search-hint", timeout=TIMEOUT)
    # the bare link got the view added, in place of the entry (no back-button trap)
    wait_for(lambda: query(duo).get("range") == ["6h"], "the view was not carried over")
    assert urlparse(duo.driver.current_url).path == "/search"
    assert checked_preset(duo) == "6h"
    duo.driver.get(duo.server_url + "/ticker?symbol=MSFT&range=7d")
    duo.wait_for_text_to_equal("#scope-key", "MSFT", timeout=TIMEOUT)
    wait_for(lambda: checked_preset(duo) == "7d", "the ticker page's range was not applied")
    assert query(duo)["symbol"] == ["MSFT"]


def test_malformed_parameters_fall_back_to_defaults(duo) -> None:
    open_url(
        duo,
        "/?range=2x&step=7&tickers=%24%24%24&sentiment=angry&tz=Mars%2FOlympus&from=soon&x=%00",
    )
    wait_for(lambda: "Market" in duo.find_element("#overview-sub").text, "no overview")
    assert checked_preset(duo) == "24h"
    assert "UTC" in duo.find_element("#overview-sub").text
    # the URL is rewritten to what is shown
    wait_for(lambda: query(duo).get("range") == ["24h"], "the URL was not normalised")
    assert "tickers" not in query(duo) and "tz" not in query(duo)


def _first_latest_time(duo) -> str:
    return str(duo.find_element("#latest-table tbody tr td").text)


def _chart_x0(duo) -> str:
    return str(
        duo.driver.execute_script(
            "const g = document.querySelector('#index-chart .js-plotly-plot');"
            "return g && g.data && g.data.length ? g.data[0].x[0] : '';"
        )
    )


def test_the_time_zone_moves_axis_and_table_times(duo) -> None:
    open_url(duo, "/?range=24h")
    utc_cell = wait_for(
        lambda: (c := _first_latest_time(duo)).endswith("UTC") and c, "no UTC times"
    )
    utc_x = wait_for(lambda: _chart_x0(duo), "no chart")
    duo.driver.execute_script("window.dash_clientside.set_props('tz', {value: 'Asia/Tokyo'});")
    tokyo_cell = wait_for(
        lambda: (c := _first_latest_time(duo)).endswith("JST") and c, "the table kept UTC"
    )
    tokyo_x = wait_for(lambda: (x := _chart_x0(duo)) != utc_x and x, "the axis kept UTC")
    wait_for(lambda: query(duo).get("tz") == ["Asia/Tokyo"], "the zone is not in the URL")

    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace(" ", "T")[:16])

    # the newest headline may change between the two reads; the axis start may not
    assert parse(tokyo_x) - parse(utc_x) == timedelta(hours=9)
    assert parse(tokyo_cell[:16]) - parse(utc_cell[:16]) >= timedelta(hours=9)
    assert "JST" in duo.find_element("#overview-sub").text


def _traces(duo) -> list[str]:
    return list(
        duo.driver.execute_script(
            "const g = document.querySelector('#index-chart .js-plotly-plot');"
            "return g && g.data ? g.data.map(t => t.name) : [];"
        )
    )


def test_compare_draws_one_line_per_ticker(duo) -> None:
    open_url(duo, "/?range=24h&tickers=AAPL,TSLA,MSFT")
    summed = wait_for(lambda: (t := _traces(duo)) and "AAPL" not in t and t, "no summed chart")
    assert any("index" in name for name in summed)  # the one summed index and its volume
    duo.find_element("#compare input").click()
    names = wait_for(lambda: (t := _traces(duo)) == ["AAPL", "TSLA", "MSFT"] and t, "no lines")
    assert names == ["AAPL", "TSLA", "MSFT"]
    wait_for(lambda: query(duo).get("compare") == ["1"], "compare is not in the URL")
    # each line is that ticker's own series: as many points as its own chart has
    lengths = duo.driver.execute_script(
        "return document.querySelector('#index-chart .js-plotly-plot').data.map(t => t.x.length);"
    )
    assert all(n > 10 for n in lengths), lengths


def test_sectors_sum_their_tickers_and_compare_side_by_side(
    duo, seeded_db: tuple[Engine, Seeded]
) -> None:
    from stream.entities.catalogue import CatalogueEntry, import_catalogue

    db, seeded = seeded_db
    import_catalogue(
        db,
        [
            CatalogueEntry("AAPL", "Apple Inc.", sector="Tech"),
            CatalogueEntry("MSFT", "Microsoft", sector="Tech"),
            CatalogueEntry("TSLA", "Tesla", sector="Autos"),
            CatalogueEntry("NVDA", "Nvidia"),
        ],
    )
    open_url(duo, "/?range=7d&sectors=Tech")
    wait_for(lambda: "Tech" in duo.find_element("#overview-sub").text, "sector not applied")
    # the sector's articles are its tickers' (each seeded article names one ticker)
    with db.connect() as conn:
        expected = conn.execute(
            text(
                "SELECT count(*) FROM article_entities e JOIN articles a ON a.id = e.article_id "
                "WHERE e.ticker IN ('AAPL', 'MSFT') AND a.published_at >= :since"
            ),
            {"since": seeded.now - timedelta(days=6, hours=23)},
        ).scalar_one()
    shown = wait_for(
        lambda: int(duo.find_element("#kpi-articles .kpi-value").text.replace(",", "")),
        "no count",
    )
    assert expected > 0 and expected <= shown <= expected + 2  # the range's edge moves
    assert {c.text for c in duo.find_elements("#latest-table .chip")} <= {"AAPL", "MSFT"}

    open_url(duo, "/?range=7d&sectors=Tech,Autos&compare=1")
    wait_for(lambda: _traces(duo) == ["Tech", "Autos"], "no line per sector")
