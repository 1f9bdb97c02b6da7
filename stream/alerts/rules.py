"""Alert rules: the models, the YAML loader, and the pure evaluation of one rule on one key.

```yaml
rules:
  - name: ticker-negative-spike
    scope: {kind: ticker, key: each}   # market | topic | ticker | source; a key or "each"
    metric: negative_count             # negative_share | mean_score | negative_count |
                                       # article_count | drift_psi
    event: recall                      # optional: count only articles of this event type
    window: 2m                         # a multiple of 1 minute
    condition:
      type: spike                      # threshold | spike | zscore | nodata
      ratio: 3
      baseline_windows: 3
      clear_ratio: 1.5                 # hysteresis: stays firing until the ratio drops below
    min_volume: 10                     # articles in the window
    for: 0s                            # pending period before firing
    realert: 1h                        # reminder interval while firing
    severity: critical
    labels: {team: markets}
    channels: [email, slack, webhook]
```

Nothing here does I/O: :func:`evaluate` takes a series of 1-minute buckets and the
previous state of (rule, key) and returns the new state and its transitions, so the
engine, the backtest and the tests all run the very same code.

The metric ``drift_psi`` is model drift (``stream.drift``), not a bucket sum: the
largest population stability index of a source's (or, scope ``market``, of all sources')
scores over the trailing ``window`` against the model's drift reference. Such a rule takes
a ``threshold`` condition (``>=`` or ``>``); ``min_volume`` is the articles the window
needs. :func:`evaluate_drift` runs it through the same state machine.

``event`` (one of ``core.events.EVENT_TYPES``) narrows a rule to the articles tagged with
that event type: its buckets are counted from those articles (``stream.alerts.event_series``)
instead of read from ``sentiment_buckets``; the conditions and the state machine are the same.
"""

from __future__ import annotations

import math
import os
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from core.configfile import (
    ConfigProblem,
    YamlSyntaxError,
    dotted,
    duplicate_loc,
    duration,
    line_of,
    parse_yaml,
    read_text,
)
from core.errors import ConfigError
from core.events import EventType
from core.types import MARKET_KEY, ScopeKind
from stream.alerts.routing import (
    InhibitSpec,
    ReceiverSpec,
    RouteSpec,
    RoutingSpec,
    routing_problems,
)
from stream.alerts.specs import _Strict
from stream.drift import GroupDrift

__all__ = [
    "BUCKET_S",
    "DRIFT_METRIC",
    "EACH",
    "Bucket",
    "Decision",
    "KeyState",
    "Measurement",
    "Rule",
    "RuleFile",
    "RuleFileError",
    "Transition",
    "advance",
    "evaluate",
    "evaluate_drift",
    "load_rules",
    "lookback_s",
    "measure",
    "measure_drift",
    "parse_rules",
]

# alerts read the 1-minute buckets; windows are sums of them
BUCKET_S: Final = 60
EACH: Final = "each"

# article_count: every article of the key, whatever its sentiment ("unusual news volume")
Metric = Literal["negative_share", "mean_score", "negative_count", "article_count", "drift_psi"]
# model drift (stream.drift): measured from scores on the clock, not from buckets
DRIFT_METRIC: Final = "drift_psi"
Direction = Literal["up", "down", "both"]
Channel = Literal["email", "slack", "webhook", "inbox"]
StateName = Literal["inactive", "pending", "firing", "resolved"]

_WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Scope(_Strict):
    kind: ScopeKind
    # a ticker / topic / source name, or "each" to evaluate every key of the kind separately
    key: str = Field(MARKET_KEY, min_length=1, max_length=200)

    @model_validator(mode="after")
    def _market_has_one_key(self) -> Scope:
        if self.kind == "market" and self.key != MARKET_KEY:
            raise ValueError(f"the market scope has one key, {MARKET_KEY!r}")
        if self.kind == "ticker" and self.key != EACH and self.key != self.key.upper():
            raise ValueError("tickers are upper case")
        return self

    @property
    def each(self) -> bool:
        return self.key == EACH


class ThresholdCondition(_Strict):
    type: Literal["threshold"]
    op: Literal[">=", ">", "<=", "<"] = ">="
    value: float
    # hysteresis: a firing alert resolves only once the metric is past this level
    clear: float | None = None

    @model_validator(mode="after")
    def _clear_on_the_safe_side(self) -> ThresholdCondition:
        if self.clear is not None:
            upward = self.op in (">=", ">")
            if (upward and self.clear > self.value) or (not upward and self.clear < self.value):
                side = "at or below" if upward else "at or above"
                raise ValueError(f"clear must be {side} value ({self.value}) for op {self.op!r}")
        return self


class SpikeCondition(_Strict):
    """Current window against the mean of the ``baseline_windows`` windows before it."""

    type: Literal["spike"]
    direction: Direction = "up"
    ratio: float = Field(gt=1)
    baseline_windows: int = Field(1, ge=1, le=48)
    # articles needed in the baseline windows, so "2 vs 0" is no spike
    min_baseline: int = Field(10, ge=0)
    # the baseline is at least this (in metric units): a quiet past makes no infinite ratio
    baseline_floor: float = Field(0.0, ge=0)
    clear_ratio: float | None = Field(None, ge=1)
    # the compared metric itself must reach these (ElastAlert's threshold_cur/threshold_ref):
    # "3 negatives vs 1" is a ratio of 3 but no news
    min_current: float = Field(0.0, ge=0)
    min_reference: float = Field(0.0, ge=0)
    # no spike until the key has data as old as the whole baseline (a key just seen has no past)
    warmup: bool = False

    @model_validator(mode="after")
    def _clear_below_ratio(self) -> SpikeCondition:
        if self.clear_ratio is not None and self.clear_ratio > self.ratio:
            raise ValueError(f"clear_ratio must be at most ratio ({self.ratio})")
        return self


class ZScoreCondition(_Strict):
    """Current window against the mean and standard deviation of ``baseline_windows`` windows."""

    type: Literal["zscore"]
    direction: Direction = "up"
    z: float = Field(gt=0)
    baseline_windows: int = Field(12, ge=2, le=200)
    # baseline windows that must hold a value (a share needs articles)
    min_baseline_windows: int = Field(6, ge=2)
    # a flat baseline has std 0: this keeps one article from being "infinitely" unusual
    min_std: float = Field(0.01, gt=0)
    clear_z: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> ZScoreCondition:
        if self.min_baseline_windows > self.baseline_windows:
            raise ValueError("min_baseline_windows must be at most baseline_windows")
        if self.clear_z is not None and self.clear_z > self.z:
            raise ValueError(f"clear_z must be at most z ({self.z})")
        return self


class NoDataCondition(_Strict):
    """Fires when the window holds fewer than ``min_count`` articles: a dead feed."""

    type: Literal["nodata"]
    min_count: int = Field(1, ge=1)
    # with key "each": a key that had articles this recently is watched even when silent
    # (a dead feed writes no bucket); one silent for longer is forgotten (delisted, renamed)
    watch: float = Field(86400, ge=60)

    @field_validator("watch", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return duration(value)


Condition = Annotated[
    ThresholdCondition | SpikeCondition | ZScoreCondition | NoDataCondition,
    Field(discriminator="type"),
]


class MuteTime(_Strict):
    """A recurring interval when notifications are held back (the state machine still runs)."""

    weekdays: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = _WEEKDAYS
    start: time = time(0, 0)
    end: time = time(0, 0)  # equal to start: the whole day; before start: wraps past midnight
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def covers(self, moment: datetime) -> bool:
        local = moment.astimezone(ZoneInfo(self.timezone))
        t = local.time().replace(tzinfo=None)
        day = _WEEKDAYS[local.weekday()]
        if self.start == self.end:
            return day in self.weekdays
        if self.start < self.end:
            return day in self.weekdays and self.start <= t < self.end
        # wraps past midnight: the part after midnight belongs to the previous day's interval
        if t >= self.start:
            return day in self.weekdays
        yesterday = _WEEKDAYS[(local.weekday() - 1) % 7]
        return t < self.end and yesterday in self.weekdays


class Rule(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$")
    description: str = ""
    enabled: bool = True
    scope: Scope
    metric: Metric = "negative_share"
    # only articles tagged with this event type count (None: every article)
    event: EventType | None = None
    window: float = Field(300, description="seconds, a multiple of 60")
    condition: Condition
    min_volume: int = Field(1, ge=0)
    for_: float = Field(0, ge=0, alias="for")
    # reminder interval while firing; None: notify once per incident
    realert: float | None = Field(None, ge=60)
    # a firing alert stays firing this long after its condition last held (Prometheus)
    keep_firing_for: float = Field(0, ge=0)
    severity: Literal["info", "warning", "critical"] = "warning"
    labels: dict[str, str] = Field(default_factory=dict)
    channels: tuple[Channel, ...] = ()
    mute_times: tuple[MuteTime, ...] = ()

    @field_validator("window", "for_", "realert", "keep_firing_for", mode="before")
    @classmethod
    def _durations(cls, value: object) -> object:
        return duration(value)

    @field_validator("window")
    @classmethod
    def _whole_minutes(cls, value: float) -> float:
        if value < BUCKET_S or value % BUCKET_S or value > 86400:
            raise ValueError("must be a whole number of minutes between 1m and 1d")
        return value

    @field_validator("metric")
    @classmethod
    def _drift_scope(cls, value: str, info: ValidationInfo) -> str:
        scope = info.data.get("scope")
        if value == DRIFT_METRIC and scope is not None and scope.kind not in ("source", "market"):
            raise ValueError("drift_psi is measured per source (or for the market), not per "
                             f"{scope.kind}")  # fmt: skip
        return value

    @field_validator("event")
    @classmethod
    def _no_drift_event(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("metric") == DRIFT_METRIC:
            raise ValueError("drift_psi measures every article: it takes no event")
        return value

    @field_validator("condition")
    @classmethod
    def _drift_threshold(cls, value: object, info: ValidationInfo) -> object:
        if info.data.get("metric") == DRIFT_METRIC and not (
            isinstance(value, ThresholdCondition) and value.op in (">=", ">")
        ):
            raise ValueError("metric drift_psi takes a threshold condition with op >= or >")
        return value

    @field_validator("channels")
    @classmethod
    def _no_repeats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError("a channel is listed twice")
        return value

    @model_validator(mode="after")
    def _metric_fits_condition(self) -> Rule:
        if isinstance(self.condition, SpikeCondition) and self.metric == "mean_score":
            # a ratio of signed scores means nothing (and flips sign through zero)
            raise ValueError("a spike needs metric negative_share or negative_count")
        return self

    @property
    def window_s(self) -> int:
        return int(self.window)

    def muted(self, moment: datetime) -> bool:
        return any(m.covers(moment) for m in self.mute_times)

    def spec(self) -> dict[str, Any]:
        """The JSON stored in ``alert_rules.spec``; ``Rule.model_validate`` reads it back."""
        # a rule without an event keeps the spec it had before events existed
        return self.model_dump(
            mode="json", by_alias=True, exclude={"event"} if self.event is None else None
        )


class RuleFile(_Strict):
    rules: tuple[Rule, ...] = Field(min_length=1)
    # where alerts go (stream.alerts.routing); absent: each rule to its own channels
    receivers: tuple[ReceiverSpec, ...] = ()
    route: RouteSpec | None = None
    inhibit_rules: tuple[InhibitSpec, ...] = ()

    @property
    def routing(self) -> RoutingSpec | None:
        """The file's routing, or None when it has none (so it leaves the stored one alone)."""
        if not self.receivers and self.route is None and not self.inhibit_rules:
            return None
        return RoutingSpec(
            receivers=self.receivers, route=self.route, inhibit_rules=self.inhibit_rules
        )

    @model_validator(mode="after")
    def _unique_names(self) -> RuleFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"duplicate rule name {rule.name!r}")
            seen.add(rule.name)
        return self


# ---------------------------------------------------------------- loading, with line numbers


# a mistake in a rules file: its line, field and message
RuleProblem = ConfigProblem


class RuleFileError(ConfigError):
    """An invalid rules file; ``problems`` name the line and field of each mistake."""

    def __init__(self, filename: str, problems: Sequence[RuleProblem]) -> None:
        self.filename = filename
        self.problems = tuple(problems)
        lines = [p.format(filename) for p in self.problems]
        super().__init__("invalid rules file:\n  " + "\n  ".join(lines))


def load_rules(path: str | os.PathLike[str]) -> RuleFile:
    """Read and validate a rules file (``RuleFileError`` names the file, line and field)."""
    file = Path(path)
    return parse_rules(read_text(file, "rules file"), filename=str(file))


def parse_rules(text: str, *, filename: str = "<rules>") -> RuleFile:
    try:
        doc = parse_yaml(text, filename)
    except YamlSyntaxError as exc:
        raise RuleFileError(filename, [RuleProblem(exc.line, "yaml", exc.problem)]) from exc
    data, root = doc.data, doc.root
    if data is None:
        raise RuleFileError(filename, [RuleProblem(None, "rules", "the file holds no rules")])
    bare_list = isinstance(data, list)
    if bare_list:
        data = {"rules": data}
    try:
        parsed = RuleFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_url=False):
            loc: tuple[int | str, ...] = tuple(error["loc"])
            if not loc and error["type"] == "value_error":
                loc = duplicate_loc(data, error["msg"], "rules", "rule")
            path = _data_path(data, loc)
            node_path = path[1:] if bare_list and path[:1] == ("rules",) else path
            problems.append(
                RuleProblem(line_of(root, node_path), dotted(path) or "rules", error["msg"])
            )
        raise RuleFileError(filename, problems) from exc
    crossed = routing_problems(data)
    if crossed:
        raise RuleFileError(
            filename, [RuleProblem(line_of(root, p), dotted(p), msg) for p, msg in crossed]
        )
    return parsed


def _data_path(data: Any, loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    """``loc`` without pydantic's union tags (``condition.spike.ratio`` -> ``condition.ratio``)."""
    path: list[int | str] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and _is_field_name(part):
            path.append(part)  # a missing or extra field: name it, point at its parent
            break
        else:
            continue  # a union/discriminator tag, not a place in the file
        path.append(part)
    return tuple(path)


def _is_field_name(part: str) -> bool:
    # pydantic puts the chosen union member's tag in the location; the file has no such key
    return part not in {"threshold", "spike", "zscore", "nodata"}


# ---------------------------------------------------------------- evaluation (pure)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One 1-minute sentiment bucket of one key (a row of ``sentiment_buckets``)."""

    start: datetime
    n_total: int
    n_negative: int
    score_sum: float


@dataclass(frozen=True)
class Measurement:
    value: float | None
    volume: int
    # the fire condition holds (volume and baseline requirements met)
    breaching: bool
    # a firing alert stays firing: the condition holds at its clear level (hysteresis)
    holding: bool
    details: dict[str, Any] = field(default_factory=dict)
    # some articles, too few to judge: a firing alert is held, for a while (THIN_HOLD_WINDOWS)
    thin: bool = False


@dataclass(frozen=True)
class KeyState:
    state: StateName = "inactive"
    since: datetime | None = None
    pending_since: datetime | None = None
    firing_since: datetime | None = None
    last_notified_at: datetime | None = None
    # the last evaluation whose data held the firing alert
    held_at: datetime | None = None


@dataclass(frozen=True)
class Transition:
    from_state: str
    to_state: str  # pending | firing | resolved | inactive | realert
    at: datetime
    notify: bool
    value: float | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Decision:
    measurement: Measurement
    state: KeyState
    transitions: tuple[Transition, ...] = ()


# thin data (some articles, fewer than min_volume) holds a firing alert for at most this
# many windows after its condition last held, or for keep_firing_for if that is longer
THIN_HOLD_WINDOWS: Final = 3


def lookback_s(rule: Rule) -> int:
    """How far back from now the buckets one evaluation needs reach."""
    return (1 + _baseline_windows(rule)) * rule.window_s


def _baseline_windows(rule: Rule) -> int:
    cond = rule.condition
    return cond.baseline_windows if isinstance(cond, SpikeCondition | ZScoreCondition) else 0


@dataclass(slots=True)
class _Sum:
    n_total: int = 0
    n_negative: int = 0
    score_sum: float = 0.0


def _floor(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % BUCKET_S, tz=moment.tzinfo)


def _windows(series: Iterable[Bucket], now: datetime, window_s: int, count: int) -> list[_Sum]:
    """Sums of the window holding ``now`` (index 0: the current, partial minute and the
    minutes before it) and the ``count - 1`` windows before it; buckets after now are ignored."""
    last = _floor(now)
    sums = [_Sum() for _ in range(count)]
    for bucket in series:
        age = (last - bucket.start).total_seconds()
        if age < 0:
            continue
        index = int(age // window_s)
        if index < count:
            s = sums[index]
            s.n_total += bucket.n_total
            s.n_negative += bucket.n_negative
            s.score_sum += bucket.score_sum
    return sums


def _metric(metric: Metric, s: _Sum) -> float | None:
    if metric == "negative_count":
        return float(s.n_negative)
    if metric == "article_count":
        return float(s.n_total)
    if s.n_total == 0:
        return None
    if metric == "negative_share":
        return s.n_negative / s.n_total
    return s.score_sum / s.n_total


def _compare(value: float, op: str, level: float) -> bool:
    return {
        ">=": value >= level,
        ">": value > level,
        "<=": value <= level,
        "<": value < level,
    }[op]


def _threshold(
    value: float, volume: int, cond: ThresholdCondition, details: dict[str, Any]
) -> Measurement:
    clear = cond.value if cond.clear is None else cond.clear
    details.update(condition="threshold", op=cond.op, threshold=cond.value, clear=clear)
    return Measurement(
        value, volume, _compare(value, cond.op, cond.value), _compare(value, cond.op, clear),
        details,
    )  # fmt: skip


def measure_drift(
    group: GroupDrift | None, rule: Rule, now: datetime, *, reference: str | None = None
) -> Measurement:
    """A ``drift_psi`` rule on one key: ``group`` is the key's drift over the window ending
    at ``now`` (None: no article in it), ``reference`` the reference's model version."""
    cond = rule.condition
    assert isinstance(cond, ThresholdCondition)  # noqa: S101 - Rule validation ensures it
    volume = group.n if group is not None else 0
    value = group.max_psi if group is not None else None
    details: dict[str, Any] = {
        "metric": rule.metric,
        "window_s": rule.window_s,
        "window_end": now.isoformat(),
        "volume": volume,
        "value": value,
        "reference": reference,
    }
    if group is not None:
        details["psi"] = dict(group.psi)
        details["worst"] = max(group.psi, key=lambda k: group.psi[k]) if group.psi else None
        details["labels"] = dict(group.labels)
        details["low_confidence_share"] = group.low_confidence_share
    if value is None or volume < rule.min_volume:
        # as for bucket metrics: too few articles never fire, nor resolve; none at all resolve
        details["reason"] = f"volume {volume} < min_volume {rule.min_volume}"
        return Measurement(value, volume, False, False, details, thin=volume > 0)
    details["reason"] = (
        f"{details['worst']} PSI {value:.3f} (fires {cond.op} {cond.value:g}) "
        f"over {volume} articles"
    )
    return _threshold(value, volume, cond, details)


def measure(series: Sequence[Bucket], rule: Rule, now: datetime) -> Measurement:
    """The rule's metric on the window ending at ``now`` and whether its condition holds."""
    cond = rule.condition
    sums = _windows(series, now, rule.window_s, 1 + _baseline_windows(rule))
    current = sums[0]
    value = _metric(rule.metric, current)
    volume = current.n_total
    details: dict[str, Any] = {
        "metric": rule.metric,
        "window_s": rule.window_s,
        "window_end": now.isoformat(),
        "volume": volume,
        "n_negative": current.n_negative,
        "value": value,
    }
    if isinstance(cond, NoDataCondition):
        low = volume < cond.min_count
        details.update(condition="nodata", reason=f"{volume} articles in {rule.window_s // 60} min")
        return Measurement(float(volume), volume, low, low, details)
    enough = volume >= rule.min_volume and value is not None
    if not enough:
        # Too few articles to judge: never a reason to fire, nor at once to resolve (a quiet
        # minute inside an incident would otherwise flap it); an empty window resolves.
        details["reason"] = f"volume {volume} < min_volume {rule.min_volume}"
        return Measurement(value, volume, False, False, details, thin=volume > 0)
    assert value is not None  # noqa: S101 - `enough` checked it; narrows the type

    if isinstance(cond, ThresholdCondition):
        details["reason"] = f"{rule.metric} {value:.3g} (fires {cond.op} {cond.value:g})"
        return _threshold(value, volume, cond, details)

    past = sums[1:]
    # history starts at the oldest window holding data: windows before the first article
    # are "not yet watching", not "nothing happened", and must not dilute the baseline
    full = len(past)
    while past and past[-1].n_total == 0:
        past.pop()
    if isinstance(cond, SpikeCondition):
        base_sum = _Sum(sum(s.n_total for s in past), sum(s.n_negative for s in past), 0.0)
        raw = _metric(rule.metric, base_sum)
        if raw is not None and past and rule.metric in ("negative_count", "article_count"):
            raw /= len(past)  # mean count per window
        baseline = max(raw or 0.0, cond.baseline_floor)
        details.update(
            condition="spike", direction=cond.direction, baseline=baseline,
            baseline_volume=base_sum.n_total, ratio_threshold=cond.ratio,
        )  # fmt: skip
        if base_sum.n_total < cond.min_baseline:
            details["reason"] = f"baseline volume {base_sum.n_total} < {cond.min_baseline}"
            return Measurement(value, volume, False, False, details)
        if cond.warmup and len(past) < full:
            details["reason"] = f"warming up: {len(past)} of {full} baseline windows seen"
            return Measurement(value, volume, False, False, details)
        if value < cond.min_current or (raw or 0.0) < cond.min_reference:
            details["reason"] = (
                f"{rule.metric} {value:.3g} (at least {cond.min_current:g}), baseline "
                f"{raw or 0.0:.3g} (at least {cond.min_reference:g})"
            )
            return Measurement(value, volume, False, False, details)
        up = value / baseline if baseline > 0 else (math.inf if value > 0 else 0.0)
        down = baseline / value if value > 0 else (math.inf if baseline > 0 else 0.0)
        ratio = {"up": up, "down": down, "both": max(up, down)}[cond.direction]
        if cond.direction == "both":
            details["moved"] = "up" if up >= down else "down"
        clear = cond.ratio if cond.clear_ratio is None else cond.clear_ratio
        details.update(ratio=ratio if math.isfinite(ratio) else None, clear_ratio=clear)
        details["reason"] = f"{rule.metric} {value:.3g} = {ratio:.1f}x baseline {baseline:.3g}"
        return Measurement(value, volume, ratio >= cond.ratio, ratio >= clear, details)

    assert isinstance(cond, ZScoreCondition)  # noqa: S101 - nodata/threshold/spike returned
    values = [v for v in (_metric(rule.metric, s) for s in past) if v is not None]
    details.update(condition="zscore", direction=cond.direction, baseline_values=len(values))
    if len(values) < cond.min_baseline_windows:
        details["reason"] = f"{len(values)} baseline windows < {cond.min_baseline_windows}"
        return Measurement(value, volume, False, False, details)
    mean = statistics.fmean(values)
    std = max(statistics.pstdev(values), cond.min_std)
    z = (value - mean) / std
    signed = {"up": z, "down": -z, "both": abs(z)}[cond.direction]
    clear = cond.z if cond.clear_z is None else cond.clear_z
    details.update(mean=mean, std=std, z=z, z_threshold=cond.z, clear_z=clear)
    details["reason"] = f"{rule.metric} {value:.3g}, z {z:+.1f} (mean {mean:.3g}, std {std:.3g})"
    return Measurement(value, volume, signed >= cond.z, signed >= clear, details)


def evaluate(
    series: Sequence[Bucket], rule: Rule, now: datetime, state: KeyState | None = None
) -> Decision:
    """One step of the (rule, key) state machine on a series of buckets (see :func:`advance`)."""
    if rule.metric == DRIFT_METRIC:
        raise ValueError(f"rule {rule.name}: drift_psi is evaluated from scores, not buckets")
    return advance(measure(series, rule, now), rule, now, state)


def evaluate_drift(
    group: GroupDrift | None,
    rule: Rule,
    now: datetime,
    state: KeyState | None = None,
    *,
    reference: str | None = None,
) -> Decision:
    """One step of a ``drift_psi`` rule's state machine on one key (see :func:`advance`)."""
    return advance(measure_drift(group, rule, now, reference=reference), rule, now, state)


def _kept(m: Measurement, rule: Rule, now: datetime, held_at: datetime) -> bool:
    """A firing alert whose condition no longer holds stays firing for keep_firing_for,
    and through thin data for at most THIN_HOLD_WINDOWS windows."""
    keep = rule.keep_firing_for
    if m.thin:
        keep = max(keep, THIN_HOLD_WINDOWS * rule.window_s)
    return (now - held_at).total_seconds() < keep


def advance(m: Measurement, rule: Rule, now: datetime, state: KeyState | None = None) -> Decision:
    """One step of the (rule, key) state machine: inactive -> pending -> firing -> resolved.

    Notifies on firing, on resolve and, while firing, every ``realert`` seconds.
    """
    s = state or KeyState()
    moves: list[Transition] = []

    def move(to: str, *, notify: bool, **extra: Any) -> None:
        moves.append(Transition(s.state, to, now, notify, m.value, {**m.details, **extra}))

    if s.state in ("inactive", "resolved"):
        if m.breaching:
            move("pending", notify=False)
            s = KeyState("pending", now, pending_since=now)
    elif s.state == "pending" and not m.breaching:
        move("inactive", notify=False)
        return Decision(m, KeyState("inactive", now), tuple(moves))

    if s.state == "pending":
        assert s.pending_since is not None  # noqa: S101 - set on entering pending
        if (now - s.pending_since).total_seconds() >= rule.for_:
            move("firing", notify=True)
            s = replace(
                s, state="firing", since=now, firing_since=now, last_notified_at=now, held_at=now
            )
    elif s.state == "firing" and not moves:
        since = s.firing_since or now
        if m.holding:
            s = replace(s, held_at=now)
        if not m.holding and not _kept(m, rule, now, s.held_at or since):
            move("resolved", notify=True, duration_s=(now - since).total_seconds())
            s = KeyState("resolved", now, last_notified_at=now)
        elif rule.realert is not None and (
            s.last_notified_at is None
            or now - s.last_notified_at >= timedelta(seconds=rule.realert)
        ):
            move("realert", notify=True, firing_for_s=(now - since).total_seconds())
            s = replace(s, last_notified_at=now)
    return Decision(m, s, tuple(moves))
