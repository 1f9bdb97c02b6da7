"""What every channel shares: the message content, the ``Notifier`` protocol, its error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from core.errors import FinsentError

__all__ = ["AlertGroup", "AlertItem", "DeliveryError", "Headline", "Notifier"]


class DeliveryError(FinsentError):
    """A channel did not take the message. The text never holds a secret (URL, password)."""


@dataclass(frozen=True)
class Headline:
    title: str
    url: str | None
    source: str
    published_at: str
    score: float


@dataclass(frozen=True)
class AlertItem:
    """One key's transition inside a group: firing, resolved or a reminder (realert)."""

    key: str
    status: str  # firing | resolved | realert
    at: str
    value: float | None
    details: dict[str, Any]
    dashboard_url: str
    headlines: tuple[Headline, ...] = ()

    @property
    def duration_s(self) -> float | None:
        value = self.details.get("duration_s", self.details.get("firing_for_s"))
        return float(value) if value is not None else None


@dataclass(frozen=True)
class AlertGroup:
    """Everything one rule has to say at once: the unit of one message per channel."""

    rule: str
    description: str
    severity: str
    scope_kind: str
    metric: str
    window_s: int
    labels: dict[str, str]
    items: tuple[AlertItem, ...]
    alerts_url: str
    event_ids: tuple[int, ...] = field(default=())

    @property
    def kind(self) -> str:
        statuses = {"resolved" if i.status == "resolved" else "firing" for i in self.items}
        return statuses.pop() if len(statuses) == 1 else "mixed"


@runtime_checkable
class Notifier(Protocol):
    """A channel: ``render`` once when the group is queued, ``send`` on each attempt."""

    @property
    def name(self) -> str: ...

    def render(self, group: AlertGroup) -> dict[str, Any]: ...

    def send(self, payload: dict[str, Any]) -> None:
        """Deliver or raise ``DeliveryError``."""
        ...
