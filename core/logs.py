"""Log setup for every finsent command: one line per event, secrets never printed."""

from __future__ import annotations

import logging
import re

__all__ = ["configure_logging", "redact"]

# credentials inside URLs (postgresql://user:secret@host) and Slack webhook paths
_SECRET_PATTERNS = (
    re.compile(r"(?P<keep>://[^:/@\s]+:)[^@\s]+(?=@)"),
    re.compile(r"(?P<keep>hooks\.slack\.com/services/)[A-Za-z0-9/]+"),
)


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group("keep") + "***", text)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
    )
    handler.addFilter(_RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("kafka", "aiokafka", "faust", "mode", "alembic.runtime"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
