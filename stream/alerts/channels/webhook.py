"""A generic JSON webhook: the group as one versioned JSON document."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import SecretStr

from stream.alerts.channels.base import AlertGroup
from stream.alerts.channels.http import post_json
from stream.alerts.channels.text import describe

__all__ = ["WebhookNotifier", "webhook_document"]


class WebhookNotifier:
    name = "webhook"

    def __init__(self, url: SecretStr, *, timeout_s: float = 10.0) -> None:
        self._url = url
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return "WebhookNotifier(***)"

    def render(self, group: AlertGroup) -> dict[str, Any]:
        return webhook_document(group)

    def send(self, payload: dict[str, Any]) -> None:
        post_json(self.name, self._url, payload, self.timeout_s)


def webhook_document(group: AlertGroup) -> dict[str, Any]:
    """The group as one self-describing JSON document (schema ``version`` 1)."""
    return {
        "version": 1,
        "source": "finsent",
        "rule": group.rule,
        "description": group.description,
        "severity": group.severity,
        "status": group.kind,
        "scope_kind": group.scope_kind,
        "metric": group.metric,
        "window_s": group.window_s,
        "labels": group.labels,
        "alerts_url": group.alerts_url,
        "event_ids": list(group.event_ids),
        "alerts": [
            {
                "key": i.key,
                "status": i.status,
                "at": i.at,
                "value": i.value,
                "summary": describe(group, i),
                "duration_s": i.duration_s,
                "details": i.details,
                "dashboard_url": i.dashboard_url,
                "headlines": [asdict(h) for h in i.headlines],
            }
            for i in group.items
        ],
    }
