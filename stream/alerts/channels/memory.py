"""A notifier that keeps what it is sent: for `finsent alerts test --dry-run` and logic tests."""

from __future__ import annotations

from typing import Any

from stream.alerts.channels.base import AlertGroup, DeliveryError
from stream.alerts.channels.webhook import webhook_document

__all__ = ["MemoryNotifier"]


class MemoryNotifier:
    def __init__(self, name: str = "memory", *, fail_times: int = 0) -> None:
        self.name = name
        self.sent: list[dict[str, Any]] = []
        self._failures_left = fail_times

    def render(self, group: AlertGroup) -> dict[str, Any]:
        # the webhook's document: complete and channel-neutral
        return webhook_document(group)

    def send(self, payload: dict[str, Any]) -> None:
        if self._failures_left > 0:
            self._failures_left -= 1
            raise DeliveryError(f"{self.name}: simulated failure")
        self.sent.append(payload)
