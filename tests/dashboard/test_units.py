"""Pure pieces: time ranges, controls, auth, CSV, links, and the live-refresh guard."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine

from core.csvout import to_csv
from core.errors import ConfigError
from dashboard.auth import AuthConfig, is_loopback, require_safe_binding
from dashboard.components.tables import safe_href
from dashboard.timerange import RangeError, resolve_range

NOW = datetime(2026, 11, 23, 12, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("preset", "width", "step"),
    [
        ("15m", 60, 60),
        ("1h", 60, 60),
        ("6h", 60, 300),
        ("24h", 60, 900),
        ("7d", 3600, 3600),
        ("30d", 3600, 21600),
        ("90d", 86400, 86400),
        ("1y", 86400, 604800),
    ],
)
def test_presets_pick_a_stored_width_and_a_step(preset: str, width: int, step: int) -> None:
    rng = resolve_range(preset=preset, now=NOW)
    assert (rng.width_s, rng.step_s) == (width, step)
    assert rng.start.timestamp() % step == 0 and rng.end == NOW
    assert rng.points <= 200


def test_explicit_step_reads_the_coarsest_width_that_divides_it() -> None:
    assert resolve_range(preset="7d", step_s=300, now=NOW).width_s == 60
    assert resolve_range(preset="24h", step_s=86400, now=NOW).width_s == 86400
    assert resolve_range(start=datetime(2026, 11, 1), step_s=7200, now=NOW).width_s == 3600


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"preset": "x"},
        {"preset": "0h"},
        {"preset": "24h", "step_s": 61},
        {"preset": "1y", "step_s": 60},
        {"start": NOW, "end": NOW - timedelta(hours=1)},
        {"preset": "24h", "start": NOW},
        {"preset": "9999d"},
    ],
)
def test_bad_ranges_say_why(kwargs: dict[str, object]) -> None:
    with pytest.raises(RangeError) as err:
        resolve_range(now=NOW, **kwargs)  # type: ignore[arg-type]
    assert str(err.value)


def test_auth() -> None:
    auth = AuthConfig(username="ann", password="pw", api_token="tok")  # noqa: S106
    basic = "Basic " + base64.b64encode(b"ann:pw").decode()
    assert auth.check_basic(basic) == "ann"
    assert auth.check_basic("Basic " + base64.b64encode(b"ann:no").decode()) is None
    assert auth.check_basic("Basic !!!") is None and auth.check_basic(None) is None
    assert auth.allows_api("Bearer tok") and auth.allows_api(basic)
    assert not auth.allows_api("Bearer nope") and not auth.allows_api(None)
    assert AuthConfig().allows_api(None)  # off by default
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")  # noqa: S104
    require_safe_binding("127.0.0.1", AuthConfig())
    require_safe_binding("0.0.0.0", AuthConfig(username="a", password="b" * 12))  # noqa: S104, S106
    with pytest.raises(ConfigError):
        require_safe_binding("0.0.0.0", AuthConfig(api_token="only-a-token"))  # noqa: S104, S106


def test_csv_neutralises_spreadsheet_formulas() -> None:
    text = to_csv([{"title": '=HYPERLINK("http://x")', "n": 1}], ["title", "n"])
    assert text.splitlines()[1].startswith("\"'=HYPERLINK")


def test_csv_guards_only_formula_starts_and_keeps_empty_cells_empty() -> None:
    import csv
    import io

    columns = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    row = {
        "a": "",
        "b": None,
        "c": "+1",
        "d": "-2",
        "e": "@SUM(A1)",
        "f": "\tx",
        "g": "\rx",
        "h": -0.5,
        "i": ["AAPL", "MSFT"],
    }
    [out] = list(csv.DictReader(io.StringIO(to_csv([row], columns))))
    assert out == {
        "a": "",
        "b": "",
        "c": "'+1",
        "d": "'-2",
        "e": "'@SUM(A1)",
        "f": "'\tx",
        "g": "'\rx",
        "h": "-0.5",
        "i": "AAPL;MSFT",
    }
    assert to_csv([{"a": "", "b": "plain"}], ["a", "b"]).splitlines()[1] == ",plain"


def test_only_http_links_are_rendered() -> None:
    assert safe_href("https://a.example/x") == "https://a.example/x"
    assert safe_href("javascript:alert(1)") is None and safe_href(None) is None


def test_every_refreshing_callback_pauses_the_timer_while_it_runs() -> None:
    from dash._callback import GLOBAL_CALLBACK_LIST

    from dashboard.app import create_dash_app

    app = create_dash_app(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    # before the first request the callbacks wait in Dash's global list, after it in the app's
    refreshing = [
        c
        for c in [*GLOBAL_CALLBACK_LIST, *app._callback_list]
        if any(i["id"] == "tick" and i["property"] == "n_intervals" for i in c["inputs"])
    ]
    assert len(refreshing) >= 4  # overview, drill-down, alerts, health
    for c in refreshing:
        assert c["running"]["running"] == {"tick.disabled": True}
        assert c["running"]["runningOff"] == {"tick.disabled": False}


def test_markup_in_a_source_name_stays_text_in_the_chart() -> None:
    from dashboard.components.figures import sentiment_figure
    from dashboard.queries.series import SeriesPoint

    name = '<a href="javascript:alert(1)">Wire</a>'
    point = SeriesPoint(
        bucket_start=datetime(2026, 1, 1, tzinfo=UTC),
        n_total=2,
        n_negative=1,
        n_neutral=0,
        n_positive=1,
        score_sum=0.0,
    )
    fig = sentiment_figure([point], [], uirevision="x", title=name)
    names = [trace.name for trace in fig.data if trace.name]
    # plotly renders <a> in legends as a link; the escaped form displays the name as typed
    assert all("<a" not in n for n in names)
    assert any("&lt;a href=" in n for n in names)


def test_search_highlight_builds_mark_elements_and_keeps_markup_as_text() -> None:
    from dash import html

    from dashboard.pages.search import highlight

    parts = highlight("<b>x</b> shares <<slide>> after <<guidance>> <<cut>>")
    assert parts[0] == "<b>x</b> shares "  # a plain string: React escapes it
    marks = [p for p in parts if isinstance(p, html.Mark)]
    assert [m.children for m in marks] == ["slide", "guidance", "cut"]
    assert highlight("no match marked") == ["no match marked"]
    assert highlight("") == []
