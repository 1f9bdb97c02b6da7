"""Routing and inhibition, as in Alertmanager: which receivers hear of an alert, grouped how.

In a rules file, next to ``rules``:

```yaml
receivers:                      # named receivers; email, slack, webhook and inbox are the
  - name: markets-hook          # ones configured in the settings (FINSENT_ALERTS__...)
    webhook: {url: "https://hooks.example/markets"}
  - name: desk-mail
    email: {to: [desk@example.com]}
route:                          # the root: every alert enters here
  group_by: [alertname]         # labels an aggregation group shares; [...]: all labels
  group_wait: 5s                # unset: the settings' group_wait_s / group_interval_s
  group_interval: 1m
  routes:                       # tried in order; the first match wins unless it says continue
    - matchers: [severity=critical]
      receiver: email
      continue: true
    - matchers: [team=markets]
      receiver: markets-hook
      group_by: [alertname, ticker]
      group_wait: 0s
      repeat_interval: 4h       # reminders (the rule's realert) no more often than this
inhibit_rules:                  # a firing source alert holds back matching target alerts
  - source_matchers: [alertname=market-negative-share]
    target_matchers: [alertname=ticker-negative-spike]
    equal: [direction]
```

An alert goes to the deepest matching routes (a route that matches and has no matching
child is the one used); children inherit what they leave unset. A route without a
``receiver`` anywhere up to the root sends to the rule's own ``channels`` -- with no
``route`` at all, today's behaviour: each rule grouped alone, to its channels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import Field, SecretStr, field_validator, model_validator

from core.configfile import duration
from core.errors import ConfigError
from stream.alerts.silences import Matcher, parse_matcher
from stream.alerts.specs import _Strict

__all__ = [
    "ALL_LABELS",
    "BUILTIN_RECEIVERS",
    "InhibitRule",
    "InhibitSpec",
    "ReceiverSpec",
    "Route",
    "RouteSpec",
    "RoutingSpec",
    "build_route",
    "group_key",
    "inhibited",
    "routing_problems",
]

ALL_LABELS: Final = "..."
BUILTIN_RECEIVERS: Final = ("email", "slack", "webhook", "inbox")
ROOT: Final = "root"


def _matchers(value: object) -> object:
    if isinstance(value, list):
        for item in value:
            if not isinstance(item, str):
                raise ValueError("matchers are strings like team=markets or ticker=~AC.*")
            try:
                parse_matcher(item)
            except ConfigError as exc:
                raise ValueError(str(exc)) from exc
    return value


class _WebhookTarget(_Strict):
    url: SecretStr


class _EmailTarget(_Strict):
    to: tuple[str, ...] = Field(min_length=1)


class ReceiverSpec(_Strict):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    webhook: _WebhookTarget | None = None
    slack: _WebhookTarget | None = None
    email: _EmailTarget | None = None

    @model_validator(mode="after")
    def _one_target(self) -> ReceiverSpec:
        given = [t for t in (self.webhook, self.slack, self.email) if t is not None]
        if len(given) != 1:
            raise ValueError("a receiver has exactly one of webhook, slack, email")
        if self.name in BUILTIN_RECEIVERS:
            raise ValueError(f"{self.name!r} is a built-in receiver (set it in the settings)")
        return self


class RouteSpec(_Strict):
    matchers: tuple[str, ...] = ()
    receiver: str | None = None
    group_by: tuple[str, ...] | None = None
    group_wait: float | None = Field(None, ge=0)
    group_interval: float | None = Field(None, ge=0)
    repeat_interval: float | None = Field(None, gt=0)
    continue_: bool = Field(False, alias="continue")
    routes: tuple[RouteSpec, ...] = ()

    @field_validator("matchers", mode="before")
    @classmethod
    def _valid_matchers(cls, value: object) -> object:
        return _matchers(value)

    @field_validator("group_wait", "group_interval", "repeat_interval", mode="before")
    @classmethod
    def _durations(cls, value: object) -> object:
        return duration(value)

    @field_validator("group_by")
    @classmethod
    def _all_or_names(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and ALL_LABELS in value and len(value) > 1:
            raise ValueError("'...' (group by all labels) stands alone")
        return value


class InhibitSpec(_Strict):
    source_matchers: tuple[str, ...] = Field(min_length=1)
    target_matchers: tuple[str, ...] = Field(min_length=1)
    equal: tuple[str, ...] = ()

    @field_validator("source_matchers", "target_matchers", mode="before")
    @classmethod
    def _valid_matchers(cls, value: object) -> object:
        return _matchers(value)


class RoutingSpec(_Strict):
    """The routing part of a rules file, stored as one document (``alert_routing``)."""

    receivers: tuple[ReceiverSpec, ...] = ()
    route: RouteSpec | None = None
    inhibit_rules: tuple[InhibitSpec, ...] = ()

    def spec(self) -> dict[str, Any]:
        out = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        # SecretStr dumps masked; the stored document needs the real URL
        for receiver, raw in zip(self.receivers, out["receivers"], strict=True):
            for kind in ("webhook", "slack"):
                target = getattr(receiver, kind)
                if target is not None:
                    raw[kind]["url"] = target.url.get_secret_value()
        return out


def routing_problems(data: Any) -> list[tuple[tuple[int | str, ...], str]]:
    """Mistakes across fields (a route naming an unknown receiver, a repeated name), each
    with its place in the file."""
    if not isinstance(data, dict):
        return []
    problems: list[tuple[tuple[int | str, ...], str]] = []
    names: set[str] = set(BUILTIN_RECEIVERS)
    for i, receiver in enumerate(data.get("receivers") or ()):
        name = receiver.get("name") if isinstance(receiver, dict) else None
        if isinstance(name, str) and name in names and name not in BUILTIN_RECEIVERS:
            problems.append((("receivers", i, "name"), f"duplicate receiver name {name!r}"))
        if isinstance(name, str):
            names.add(name)

    def walk(node: Any, path: tuple[int | str, ...]) -> None:
        if not isinstance(node, dict):
            return
        receiver = node.get("receiver")
        if isinstance(receiver, str) and receiver not in names:
            problems.append(((*path, "receiver"), f"unknown receiver {receiver!r}"))
        for i, child in enumerate(node.get("routes") or ()):
            walk(child, (*path, "routes", i))

    walk(data.get("route"), ("route",))
    return problems


# ---------------------------------------------------------------- the resolved tree


@dataclass(frozen=True)
class Route:
    """A route with everything inherited filled in; ``id`` is its place in the tree."""

    id: str
    matchers: tuple[Matcher, ...]
    receiver: str | None  # None: the rule's own channels
    group_by: tuple[str, ...]  # (ALL_LABELS,): every label
    group_wait_s: float
    group_interval_s: float
    repeat_interval_s: float | None
    continue_: bool
    routes: tuple[Route, ...] = field(default=())

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert with ``labels`` goes to (Alertmanager's ``Route.Match``)."""
        if not all(m.matches(labels) for m in self.matchers):
            return []
        found: list[Route] = []
        for child in self.routes:
            hits = child.match(labels)
            found.extend(hits)
            if hits and not child.continue_:
                break
        return found or [self]

    def walk(self) -> list[Route]:
        out = [self]
        for child in self.routes:
            out.extend(child.walk())
        return out


def build_route(spec: RouteSpec | None, *, group_wait_s: float, group_interval_s: float) -> Route:
    """The resolved tree; with no spec, the default route (each rule a group, its channels)."""
    root = spec or RouteSpec()
    return _resolve(
        root,
        ROOT,
        parent=Route(
            id="",
            matchers=(),
            receiver=None,
            group_by=("alertname",),
            group_wait_s=group_wait_s,
            group_interval_s=group_interval_s,
            repeat_interval_s=None,
            continue_=False,
        ),
    )


def _resolve(spec: RouteSpec, route_id: str, parent: Route) -> Route:
    node = Route(
        id=route_id,
        matchers=tuple(parse_matcher(m) for m in spec.matchers),
        receiver=spec.receiver if spec.receiver is not None else parent.receiver,
        group_by=spec.group_by if spec.group_by is not None else parent.group_by,
        group_wait_s=spec.group_wait if spec.group_wait is not None else parent.group_wait_s,
        group_interval_s=(
            spec.group_interval if spec.group_interval is not None else parent.group_interval_s
        ),
        repeat_interval_s=(
            spec.repeat_interval if spec.repeat_interval is not None else parent.repeat_interval_s
        ),
        continue_=spec.continue_,
    )
    children = tuple(
        _resolve(child, f"{route_id}.{i}", node) for i, child in enumerate(spec.routes)
    )
    return Route(**{**node.__dict__, "routes": children})


def group_key(route: Route, labels: Mapping[str, str]) -> str:
    """The aggregation group of an alert on ``route``: the values of its group_by labels."""
    names = sorted(labels) if route.group_by == (ALL_LABELS,) else sorted(route.group_by)
    return ",".join(f"{n}={labels.get(n, '')}" for n in names)


# ---------------------------------------------------------------- inhibition


@dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    @classmethod
    def of(cls, spec: InhibitSpec) -> InhibitRule:
        return cls(
            tuple(parse_matcher(m) for m in spec.source_matchers),
            tuple(parse_matcher(m) for m in spec.target_matchers),
            spec.equal,
        )

    def mutes(self, target: Mapping[str, str], sources: Sequence[Mapping[str, str]]) -> bool:
        """Whether some firing ``sources`` alert holds back ``target`` under this rule.

        As in Alertmanager, an alert matching both sides is never held back by another
        alert that also matches both sides (so two such alerts cannot mute each other), and
        an alert never mutes itself."""
        if not all(m.matches(target) for m in self.target):
            return False
        both = all(m.matches(target) for m in self.source)
        for source in sources:
            if source == target:
                continue
            if not all(m.matches(source) for m in self.source):
                continue
            if any(source.get(n, "") != target.get(n, "") for n in self.equal):
                continue
            if both and all(m.matches(source) for m in self.target):
                continue
            return True
        return False


def inhibited(
    rules: Sequence[InhibitRule],
    target: Mapping[str, str],
    sources: Sequence[Mapping[str, str]],
) -> bool:
    return any(r.mutes(target, sources) for r in rules)
