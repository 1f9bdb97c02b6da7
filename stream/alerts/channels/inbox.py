"""The local inbox: messages kept in the outbox and shown on the dashboard's alerts page.

No external service: a newcomer (the demo turns it on) sees the very message email or
Slack would carry. The outbox row is the inbox entry, so ``send`` has nothing to do.
"""

from __future__ import annotations

from typing import Any

from stream.alerts.channels.base import AlertGroup
from stream.alerts.channels.text import plain_text, subject

__all__ = ["INBOX", "InboxNotifier"]

INBOX = "inbox"


class InboxNotifier:
    name = INBOX

    def render(self, group: AlertGroup) -> dict[str, Any]:
        return {
            "subject": subject(group),
            "text": plain_text(group),
            "rule": group.rule,
            "severity": group.severity,
            "status": group.kind,
        }

    def send(self, payload: dict[str, Any]) -> None:
        pass
