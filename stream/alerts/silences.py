"""Which alerts a silence covers: one definition for the dispatcher, the CLI and the dashboard.

A silence names a rule, a key, equality labels (``labels``) and/or matchers
(``matchers``: ``name=value``, ``name!=value``, ``name=~regex``, ``name!~regex``, the
regex anchored at both ends as in Alertmanager); it covers an alert when every one of
them matches. An alert's labels are its rule's labels plus ``alertname`` (the rule),
``key``, ``severity``, ``scope`` and the scope kind itself (``ticker: ACME``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from core.configfile import parse_duration
from core.errors import ConfigError

__all__ = [
    "Matcher",
    "alert_labels",
    "covers",
    "matchers_of",
    "parse_matcher",
    "parse_matchers",
    "silence_end",
]

Op = Literal["=", "!=", "=~", "!~"]
_MATCHER: Final = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Matcher:
    name: str
    op: Op
    value: str

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")  # a missing label is the empty string
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        hit = re.fullmatch(self.value, actual) is not None
        return hit if self.op == "=~" else not hit

    def as_json(self) -> dict[str, str]:
        return {"name": self.name, "op": self.op, "value": self.value}

    def __str__(self) -> str:
        return f"{self.name}{self.op}{self.value}"


def parse_matcher(text: str) -> Matcher:
    """``team=markets``, ``severity!=info``, ``ticker=~AC.*``; ``ConfigError`` otherwise."""
    match = _MATCHER.match(text)
    if match is None:
        raise ConfigError(
            f"{text!r} is no matcher: use name=value, name!=value, name=~regex or name!~regex"
        )
    name, op, value = match.groups()
    value = value.strip("\"'")
    if op in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error as exc:
            raise ConfigError(f"{text!r}: bad regular expression: {exc}") from exc
    return Matcher(name, op, value)  # type: ignore[arg-type]


def parse_matchers(texts: Iterable[str]) -> list[Matcher]:
    """One matcher per item (blank items skipped); ``ConfigError`` at the first bad one."""
    return [parse_matcher(text) for text in texts if text.strip()]


def silence_end(duration: str, now: datetime | None = None) -> datetime:
    """When a silence of ``duration`` (core.configfile's grammar: 90s, 30m, 2h, 1d, 1w) made at
    ``now`` ends; ``ConfigError`` for anything else, or for no time at all."""
    try:
        seconds = parse_duration(duration)
    except ValueError:
        raise ConfigError(f"{duration!r} is no duration: use e.g. 90s, 30m, 2h or 1d") from None
    if seconds <= 0:
        raise ConfigError("a silence must last longer than 0s")
    try:
        return (now or datetime.now(UTC)) + timedelta(seconds=seconds)
    except OverflowError:
        raise ConfigError(f"{duration!r} ends after the year 9999") from None


def alert_labels(
    rule: str, key: str, *, severity: str, scope_kind: str, labels: Mapping[str, str]
) -> dict[str, str]:
    return {
        **labels,
        "alertname": rule,
        "key": key,
        "severity": severity,
        "scope": scope_kind,
        scope_kind: key,
    }


def matchers_of(raw: Sequence[Mapping[str, Any]] | None) -> list[Matcher]:
    return [Matcher(str(m["name"]), m["op"], str(m["value"])) for m in raw or ()]


def covers(silence: Any, alert_rule_id: int, alert: Mapping[str, str], now: datetime) -> bool:
    """Whether ``silence`` (a ``silences`` row, or a result row with its columns) covers
    an alert of rule ``alert_rule_id`` with labels ``alert`` at ``now``."""
    if not silence.starts_at <= now < silence.ends_at:
        return False
    labels, matchers = silence.labels or {}, silence.matchers or []
    if silence.rule_id is None and silence.scope_key is None and not labels and not matchers:
        return False  # an empty silence matches nothing (refused on creation, too)
    return (
        (silence.rule_id is None or silence.rule_id == alert_rule_id)
        and (silence.scope_key is None or silence.scope_key == alert.get("key"))
        and all(alert.get(k) == v for k, v in labels.items())
        and all(m.matches(alert) for m in matchers_of(matchers))
    )
