"""Notification channels behind one ``Notifier`` protocol: email, Slack, webhook, inbox, memory."""

from stream.alerts.channels.base import AlertGroup, AlertItem, DeliveryError, Headline, Notifier
from stream.alerts.channels.email import EmailNotifier
from stream.alerts.channels.inbox import INBOX, InboxNotifier
from stream.alerts.channels.memory import MemoryNotifier
from stream.alerts.channels.slack import SlackNotifier
from stream.alerts.channels.webhook import WebhookNotifier

__all__ = [
    "INBOX",
    "AlertGroup",
    "AlertItem",
    "DeliveryError",
    "EmailNotifier",
    "Headline",
    "InboxNotifier",
    "MemoryNotifier",
    "Notifier",
    "SlackNotifier",
    "WebhookNotifier",
]
