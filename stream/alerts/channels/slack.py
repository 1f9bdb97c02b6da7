"""Slack incoming webhook: a Block Kit message with the metric, the window, the top
negative headlines (linked) and a button to the dashboard view."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from stream.alerts.channels.base import AlertGroup
from stream.alerts.channels.http import post_json
from stream.alerts.channels.text import describe, subject, window_text

__all__ = ["SlackNotifier"]

# Block Kit limits: 50 blocks a message, 3,000 characters a section
_MAX_ITEMS = 10
_ICONS = {"firing": ":red_circle:", "realert": ":red_circle:", "resolved": ":large_green_circle:"}


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackNotifier:
    name = "slack"

    def __init__(self, webhook_url: SecretStr, *, timeout_s: float = 10.0) -> None:
        self._url = webhook_url
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return "SlackNotifier(***)"

    def render(self, group: AlertGroup) -> dict[str, Any]:
        title = subject(group).removeprefix("[finsent]")
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": title[:150]}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": _escape(
                            f"{group.description or group.rule} | {group.scope_kind} | "
                            f"window {window_text(group.window_s)} | severity {group.severity}"
                        ),
                    }
                ],
            },
        ]
        for item in group.items[:_MAX_ITEMS]:
            icon = _ICONS.get(item.status, "")
            lines = [f"{icon} *{item.status.upper()}* {_escape(describe(group, item))}"]
            for h in item.headlines:
                link = f"<{h.url}|{_escape(h.title)}>" if h.url else _escape(h.title)
                lines.append(f"• {link} _({_escape(h.source)})_")
            blocks.append(
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "\n".join(lines)[:3000]},
                    "accessory": {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Dashboard"},
                        "url": item.dashboard_url,
                    },
                }
            )
        if len(group.items) > _MAX_ITEMS:
            more = len(group.items) - _MAX_ITEMS
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": f"and {more} more"}]}
            )
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "All alerts"},
                        "url": group.alerts_url,
                    }
                ],
            }
        )
        fallback = subject(group) + "\n" + "\n".join(describe(group, i) for i in group.items)
        return {"text": fallback[:3000], "blocks": blocks}

    def send(self, payload: dict[str, Any]) -> None:
        post_json(self.name, self._url, payload, self.timeout_s)
