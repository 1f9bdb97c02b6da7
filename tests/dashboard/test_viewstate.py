"""The view in the URL: what a query string may hold, and what the controls make of it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

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
    assert control_values(view)[-1] == ["on"]


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
