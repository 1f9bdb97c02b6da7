"""The event types an article can be tagged with: the one vocabulary the tagger
(``stream.events``), the database, the API, the CLI, the dashboard and alert rules share.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias, get_args

__all__ = ["EVENT_LABELS", "EVENT_TYPES", "EventType", "parse_event"]

EventType: TypeAlias = Literal[
    "lawsuit",
    "recall",
    "guidance_cut",
    "guidance_raise",
    "rating_upgrade",
    "rating_downgrade",
    "dividend_cut",
    "dividend_raise",
    "merger",
    "management_change",
    "default",
    "layoffs",
    "probe",
    "buyback",
    "ipo",
]
EVENT_TYPES: Final[tuple[EventType, ...]] = get_args(EventType)

# what a person reads in lists, filters and the documentation
EVENT_LABELS: Final[dict[EventType, str]] = {
    "lawsuit": "Lawsuit",
    "recall": "Product recall",
    "guidance_cut": "Guidance cut",
    "guidance_raise": "Guidance raise",
    "rating_upgrade": "Rating upgrade",
    "rating_downgrade": "Rating downgrade",
    "dividend_cut": "Dividend cut",
    "dividend_raise": "Dividend raise",
    "merger": "M&A",
    "management_change": "Management change",
    "default": "Default / bankruptcy",
    "layoffs": "Layoffs",
    "probe": "Probe / investigation",
    "buyback": "Buyback",
    "ipo": "IPO",
}


def parse_event(value: str) -> EventType:
    """``value`` as an event type; ``ValueError`` naming the known ones otherwise."""
    name = value.strip().lower().replace("-", "_").replace(" ", "_")
    for event in EVENT_TYPES:
        if event == name:
            return event
    raise ValueError(f"unknown event type {value!r}; known: {', '.join(EVENT_TYPES)}")
