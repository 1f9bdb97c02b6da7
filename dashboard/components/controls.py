"""The controls bar (range, step, filters) and how pages turn its values into queries.

The controls live in the app shell, outside the pages, so the range and filters survive
navigation between the overview and a drill-down; the URL mirrors them (urlsync).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

from dash import Input, dcc, html

from core.labels import TOPIC_LABELS
from dashboard.components.event_chips import event_options
from dashboard.timerange import PRESETS, STEPS_S, RangeError, TimeRange, resolve_range, step_label
from dashboard.viewstate import DEFAULT_PRESET, DEFAULT_TZ, SENTIMENTS, time_zone, time_zones

__all__ = [
    "CONTROL_INPUTS",
    "REFRESH_CHOICES",
    "VIEW_PROPS",
    "Controls",
    "controls_bar",
    "refresh_control",
]

REFRESH_CHOICES = (
    (0, "Paused"),
    (5_000, "5 s"),
    (15_000, "15 s"),
    (30_000, "30 s"),
    (60_000, "1 min"),
)
# the Inputs every data callback takes, in this order (see Controls.from_values)
CONTROL_INPUTS = [
    Input("range-preset", "value"),
    Input("range-dates", "start_date"),
    Input("range-dates", "end_date"),
    Input("step", "value"),
    Input("f-topics", "value"),
    Input("f-tickers", "value"),
    Input("f-sources", "value"),
    Input("f-sentiment", "value"),
    Input("tz", "value"),
    Input("compare", "value"),
    Input("f-sectors", "value"),
    Input("f-events", "value"),
    Input("tick", "n_intervals"),
]
# the components and props the URL mirrors, in the order of viewstate.VIEW_KEYS' controls
VIEW_PROPS = (
    ("range-preset", "value"),
    ("range-dates", "start_date"),
    ("range-dates", "end_date"),
    ("step", "value"),
    ("f-topics", "value"),
    ("f-tickers", "value"),
    ("f-sources", "value"),
    ("f-sentiment", "value"),
    ("tz", "value"),
    ("compare", "value"),
    ("f-sectors", "value"),
    ("f-events", "value"),
)


@dataclass(frozen=True)
class Controls:
    preset: str
    start_date: str | None
    end_date: str | None
    step: str | int | None
    topics: tuple[str, ...]
    tickers: tuple[str, ...]
    sources: tuple[str, ...]
    sentiments: tuple[str, ...]
    tz_name: str = DEFAULT_TZ
    compare: bool = False
    sectors: tuple[str, ...] = ()
    # event types (lawsuit, recall, ...): article lists only, buckets know no events
    events: tuple[str, ...] = ()

    @classmethod
    def from_values(cls, *values: Any) -> Controls:
        """From the values of CONTROL_INPUTS (the timer's, last, may be left out)."""
        preset, start_date, end_date, step, topics, tickers, sources, sentiments = values[:8]
        tz_name, compare, sectors, events = (list(values[8:12]) + [None] * 4)[:4]
        return cls(
            preset or DEFAULT_PRESET,
            start_date,
            end_date,
            step,
            tuple(topics or ()),
            tuple(tickers or ()),
            tuple(sources or ()),
            tuple(sentiments or ()),
            tz_name or DEFAULT_TZ,
            bool(compare),
            tuple(sectors or ()),
            tuple(events or ()),
        )

    @property
    def tz(self) -> tzinfo:
        """The zone times are shown in (and absolute dates are read in)."""
        return time_zone(self.tz_name)

    def time_range(self, now: datetime | None = None) -> TimeRange:
        """The range on screen; a bad absolute range falls back to the default preset.
        Absolute dates are whole days in the chosen time zone."""
        step_s = int(self.step) if self.step not in (None, "auto") else None
        try:
            if self.preset == "custom" and self.start_date:
                start = datetime.fromisoformat(self.start_date[:10]).replace(tzinfo=self.tz)
                end = (
                    datetime.fromisoformat(self.end_date[:10]).replace(tzinfo=self.tz)
                    + timedelta(days=1)
                    if self.end_date
                    else None
                )
                return resolve_range(start=start, end=end, step_s=step_s, now=now)
            preset = self.preset if self.preset != "custom" else DEFAULT_PRESET
            return resolve_range(preset=preset, step_s=step_s, now=now)
        except RangeError:
            return resolve_range(preset=DEFAULT_PRESET, now=now)

    @property
    def uirevision(self) -> str:
        # zoom survives a refresh, resets when what is shown changes
        return "|".join(
            [
                self.preset,
                str(self.start_date),
                str(self.end_date),
                str(self.step),
                *self.topics,
                "#",
                *self.tickers,
                "#",
                *self.sources,
                "#",
                *self.sectors,
                "#",
                self.tz_name,
                str(self.compare),
            ]
        )


def _dropdown(id: str, placeholder: str, options: Sequence[str]) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=id,
        options=[{"label": o, "value": o} for o in options],
        multi=True,
        placeholder=placeholder,
        className="filter",
    )


def controls_bar(
    tickers: Sequence[str], sources: Sequence[str], sectors: Sequence[str] = ()
) -> html.Div:
    return html.Div(
        className="controls",
        children=[
            html.Div(
                [
                    dcc.RadioItems(
                        id="range-preset",
                        options=[{"label": p, "value": p} for p in PRESETS]
                        + [{"label": "custom", "value": "custom"}],
                        value=DEFAULT_PRESET,
                        inline=True,
                        className="segmented",
                    ),
                    dcc.DatePickerRange(
                        id="range-dates",
                        display_format="YYYY-MM-DD",
                        clearable=True,
                        start_date_placeholder_text="from",
                        end_date_placeholder_text="to",
                        className="dates",
                    ),
                    dcc.Dropdown(
                        id="step",
                        options=[{"label": "auto step", "value": "auto"}]
                        + [{"label": f"step {step_label(s)}", "value": s} for s in STEPS_S],
                        value="auto",
                        clearable=False,
                        className="step",
                        searchable=False,
                    ),
                    dcc.Dropdown(
                        id="tz",
                        options=list(time_zones()),
                        value=DEFAULT_TZ,
                        clearable=False,
                        className="tz",
                        placeholder="time zone",
                    ),
                ],
                className="controls-row",
            ),
            html.Div(
                [
                    _dropdown("f-topics", "Topics", TOPIC_LABELS),
                    _dropdown("f-tickers", "Tickers", tickers),
                    _dropdown("f-sectors", "Sectors", sectors),
                    _dropdown("f-sources", "Sources", sources),
                    dcc.Dropdown(
                        id="f-events",
                        options=event_options(),
                        multi=True,
                        placeholder="Events",
                        className="filter",
                    ),
                    dcc.Checklist(
                        id="f-sentiment",
                        options=[{"label": s, "value": s} for s in SENTIMENTS],
                        value=[],
                        inline=True,
                        className="sentiment-filter",
                    ),
                    dcc.Checklist(
                        id="compare",
                        options=[{"label": "compare", "value": "on"}],
                        value=[],
                        inline=True,
                        className="compare-toggle",
                    ),
                ],
                className="controls-row",
            ),
        ],
    )


def refresh_control() -> html.Div:
    return html.Div(
        [
            html.Span("Live", className="live-label"),
            dcc.Dropdown(
                id="refresh",
                options=[{"label": label, "value": v} for v, label in REFRESH_CHOICES],
                value=15_000,
                clearable=False,
                searchable=False,
                className="refresh",
            ),
        ],
        className="live",
    )
