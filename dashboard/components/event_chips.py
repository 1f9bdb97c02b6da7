"""Event types (lawsuit, recall, ...) as chips in article lists and on the article page."""

from __future__ import annotations

from collections.abc import Sequence

from dash import html

from core.events import EVENT_LABELS, EVENT_TYPES

__all__ = ["event_chips", "event_options"]


def event_chips(events: Sequence[str]) -> html.Div:
    labels: dict[str, str] = {str(k): v for k, v in EVENT_LABELS.items()}
    return html.Div(
        [html.Span(labels.get(e, e), className="event-chip", title=e) for e in events],
        className="events",
    )


def event_options() -> list[dict[str, str]]:
    """The dashboard's event filter: every type, labelled."""
    return [{"label": EVENT_LABELS[e], "value": e} for e in EVENT_TYPES]
