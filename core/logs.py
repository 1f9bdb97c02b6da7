"""Log setup for every finsent command: one line per event, secrets never printed.

Redaction happens when a record is created (a log record factory), not in a handler:
faust replaces the root handlers when the worker starts, and a handler's filter would go
with them. Two kinds of secret are masked: credentials in URLs and Slack webhook paths
(patterns), and the configured secret values themselves (the database password, the
embedded database's, SMTP and Kafka SASL passwords, webhook URLs, dashboard password and
API token), wherever they appear.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from core.config import Settings

__all__ = ["configure_logging", "redact", "register_secrets", "secret_values"]

# credentials inside URLs (postgresql://user:secret@host) and Slack webhook paths
_SECRET_PATTERNS = (
    re.compile(r"(?P<keep>://[^:/@\s]+:)[^@\s]+(?=@)"),
    re.compile(r"(?P<keep>hooks\.slack\.com/services/)[A-Za-z0-9/]+"),
)
# shorter values would mask ordinary words
_MIN_SECRET_CHARS = 6
_secrets: tuple[str, ...] = ()
_lock = threading.Lock()
_base_factory = logging.getLogRecordFactory()
# libraries that log every request's full URL at INFO (a webhook URL is a credential)
_URL_LOGGERS = ("httpx", "httpcore", "urllib3")


def register_secrets(values: Iterable[str | None]) -> None:
    """Mask these values in every log record from now on (longest first)."""
    global _secrets
    with _lock:
        merged = set(_secrets) | {v for v in values if v and len(v) >= _MIN_SECRET_CHARS}
        _secrets = tuple(sorted(merged, key=len, reverse=True))


def _url_parts(url: str) -> list[str]:
    """A secret URL, and the parts of it a library may print on their own."""
    parts = [url]
    try:
        split = urlsplit(url)
    except ValueError:
        return parts
    if split.password:
        parts.append(split.password)
    path = split.path + (f"?{split.query}" if split.query else "")
    if path not in ("", "/"):
        parts.append(path)
    return parts


def secret_values(settings: Settings) -> list[str]:
    """Every secret in ``settings``, as it could show up in a message."""
    values: list[str] = []
    if settings.database_url is not None:
        try:
            password = urlsplit(settings.database_url.get_secret_value()).password
        except ValueError:
            password = None
        if password:
            values.append(password)
    alerts, dashboard = settings.alerts, settings.dashboard
    for url in (alerts.slack_webhook_url, alerts.webhook_url):
        if url is not None:
            values += _url_parts(url.get_secret_value())
    secrets = (alerts.smtp_password, dashboard.password, dashboard.api_token)
    for secret in (*secrets, settings.kafka.sasl_password):
        if secret is not None:
            values.append(secret.get_secret_value())
    return values


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group("keep") + "***", text)
    return text


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it at emit time as usual
        return record
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[0] is not None:
        # formatted now, redacted, and cached where every Formatter looks first
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    return record


def configure_logging(level: str = "INFO", settings: Settings | None = None) -> None:
    """Root handler on stderr; redaction of patterns and of ``settings``' secrets (by
    default the environment's settings) for every record of the process."""
    if settings is None:
        from core.config import get_settings

        try:
            settings = get_settings()
        except Exception:  # invalid settings: the command itself reports them
            settings = None
    if settings is not None:
        register_secrets(secret_values(settings))
    logging.setLogRecordFactory(_redacting_factory)
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "aiokafka", "faust", "mode", "alembic.runtime", *_URL_LOGGERS):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
