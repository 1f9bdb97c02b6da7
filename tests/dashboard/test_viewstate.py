"""The view in the URL: what a query string may hold, and what the controls make of it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dashboard.compare import MAX_LINES, Line, chart_lines
from dashboard.components.controls import Controls
from dashboard.components.theme import fmt_time, wall_time
from dashboard.components.urlsync import control_values
from dashboard.viewstate import ViewState, parse_view, time_zone


def test_a_link_without_view_keys_leaves_the_controls_alone() -> None:
    assert parse_view("") is None
    assert parse_view("?symbol=AAPL") is None
    assert parse_view("?q=buyback&ticker=AAPL") is None  # the search page's own keys


def test_every_control_is_read_back() -> None:
    view = parse_view(
        "?range=7d&step=3600&topics=Earnings,M%26A+%7C+Investments&tickers=aapl&tickers=TSLA"
        "&sources=wire&sentiment=negative&tz=Europe%2FBerlin&compare=1"
    )
    assert view == ViewState(
        preset="7d",
        step=3600,
        topics=("Earnings", "M&A | Investments"),
        tickers=("AAPL", "TSLA"),
        sources=("wire",),
        sentiments=("negative",),
        tz="Europe/Berlin",
        compare=True,
    )
    assert control_values(view)[9:] == [["on"], [], []]  # compare, sectors, events


def test_event_types_are_read_back_and_unknown_ones_dropped() -> None:
    view = parse_view("?events=recall,bogus&events=probe,recall")
    assert view == ViewState(events=("recall", "probe"))
    assert control_values(view)[-1] == ["recall", "probe"]


def test_an_absolute_range_needs_a_valid_start() -> None:
    view = parse_view("?range=custom&from=2026-11-01&to=2026-11-05")
    assert view is not None
    assert (view.preset, view.start_date, view.end_date) == ("custom", "2026-11-01", "2026-11-05")
    # dates without the preset still mean an absolute range; an end before the start is dropped
    view = parse_view("?from=2026-11-05&to=2026-11-01")
    assert view is not None and (view.preset, view.start_date, view.end_date) == (
        "custom",
        "2026-11-05",
        None,
    )
    view = parse_view("?range=custom&from=yesterday")
    assert view is not None and (view.preset, view.start_date) == ("24h", None)


def test_malformed_values_fall_back_one_by_one() -> None:
    view = parse_view(
        "?range=2h&step=61&topics=Nope,Macro&tickers=$$$,MSFT,MSFT&sources=<b>&sentiment=angry"
        "&tz=Mars/Olympus&compare=maybe&unknown=1&range=7d"
    )
    assert view == ViewState(topics=("Macro",), tickers=("MSFT",))
    assert parse_view("?step=-3600&tz=") == ViewState()
    assert parse_view("&".join(["tickers=A"] * 1000)) == ViewState()  # too many fields


def test_the_time_zone_moves_dates_and_labels() -> None:
    assert time_zone("Not/AZone") is UTC and time_zone(None) is UTC
    moment = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert fmt_time(moment) == "2026-11-23 23:30 UTC"
    assert fmt_time(moment, ZoneInfo("Asia/Tokyo")) == "2026-11-24 08:30 JST"
    assert wall_time(moment, ZoneInfo("Asia/Tokyo")) == datetime(2026, 11, 24, 8, 30)
    # an absolute range is whole days in the chosen zone
    controls = Controls.from_values(
        "custom", "2026-11-02", "2026-11-03", None, (), (), (), (), "Asia/Tokyo", []
    )
    rng = controls.time_range(now=datetime(2026, 11, 23, tzinfo=UTC))
    assert rng.start == datetime(2026, 11, 1, 15, tzinfo=UTC)
    assert rng.end == datetime(2026, 11, 3, 15, tzinfo=UTC)


def test_chart_lines_sum_unless_compared() -> None:
    title, lines = chart_lines(tickers=["AAPL", "TSLA"], topics=["Macro"])
    assert title == "AAPL, TSLA" and lines == [Line("AAPL, TSLA", "ticker", ("AAPL", "TSLA"))]
    _, lines = chart_lines(tickers=["AAPL", "TSLA"], compare=True)
    assert lines == [Line("AAPL", "ticker", ("AAPL",)), Line("TSLA", "ticker", ("TSLA",))]
    # a sector is its tickers; an unknown sector has none
    members = {"Tech": ["AAPL", "MSFT"], "Autos": ["TSLA"]}
    _, lines = chart_lines(sectors=["Tech", "Autos"], sector_tickers=members)
    assert lines == [Line("Tech, Autos", "ticker", ("AAPL", "MSFT", "TSLA"))]
    _, lines = chart_lines(sectors=["Tech", "Nope"], sector_tickers=members, compare=True)
    assert lines == [Line("Tech", "ticker", ("AAPL", "MSFT")), Line("Nope", "ticker", ())]
    # one key compared is just that key; no filter is the market
    assert chart_lines(sources=["wire"], compare=True)[1] == [Line("wire", "source", ("wire",))]
    assert chart_lines(compare=True) == ("Market", [Line("Market", "market", ())])
    many = [f"T{i}" for i in range(MAX_LINES + 3)]
    assert len(chart_lines(tickers=many, compare=True)[1]) == MAX_LINES
    assert parse_view("?sectors=Information+Technology,Bad%3Cb%3E") == ViewState(
        sectors=("Information Technology",)
    )
