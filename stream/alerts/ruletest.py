"""Rule unit tests on synthetic series, like `promtool test rules`: `finsent alerts test
RULES.yaml CASES.yaml`.

```yaml
tests:
  - name: a burst fires, then resolves
    input_series:                 # per key: one entry per minute from minute 0,
      ACME: ["10/2 x20", "30/25", "10/2 x5"]   # "articles/negative", "xN" repeats it N times
    alert_rule_test:
      - eval_time: 20m            # at the end of minute 20 (minutes 0..20 seen)
        alertname: ticker-negative-spike
        exp_alerts: [{key: ACME}] # the keys firing then; [] for none
      - eval_time: 22m
        alertname: ticker-negative-spike
        exp_alerts: []
```

The rules run through :func:`stream.alerts.rules.evaluate`, the engine's own code, once a
minute from minute 0, so ``for``, hysteresis and ``keep_firing_for`` behave as live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.configfile import parse_duration
from core.errors import ConfigError
from stream.alerts.rules import (
    BUCKET_S,
    DRIFT_METRIC,
    Bucket,
    KeyState,
    Rule,
    evaluate,
)

__all__ = ["CaseResult", "load_cases", "run_cases"]

# a Monday at midnight: mute times and weekdays read naturally from it
START: Final = datetime(2026, 1, 5, tzinfo=UTC)
_ENTRY: Final = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*(?:x\s*(\d+))?\s*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpAlert(_Strict):
    key: str


class AlertTest(_Strict):
    eval_time: float
    alertname: str
    exp_alerts: tuple[ExpAlert, ...] = ()

    @field_validator("eval_time", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value


class Case(_Strict):
    name: str = ""
    input_series: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    alert_rule_test: tuple[AlertTest, ...] = Field(min_length=1)

    @field_validator("input_series")
    @classmethod
    def _entries(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for key, entries in value.items():
            for entry in entries:
                match = _ENTRY.match(str(entry))
                if match is None:
                    raise ValueError(f"{key}: {entry!r} is not 'articles/negative' or 'a/n xN'")
                if int(match[2]) > int(match[1]):
                    raise ValueError(f"{key}: {entry!r} has more negative articles than articles")
        return value


class CaseFile(_Strict):
    tests: tuple[Case, ...] = Field(min_length=1)


def load_cases(path: Path) -> CaseFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    try:
        return CaseFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"{path}: {problems}") from exc


def _buckets(entries: tuple[str, ...]) -> list[Bucket]:
    out: list[Bucket] = []
    for entry in entries:
        match = _ENTRY.match(entry)
        assert match is not None  # noqa: S101 - validated on load
        total, negative, times = int(match[1]), int(match[2]), int(match[3] or 1)
        for _ in range(times):
            start = START + timedelta(seconds=BUCKET_S * len(out))
            if total:  # an empty minute writes no bucket, as live
                # neutral articles score 0, negative ones -1: mean_score is minus the share
                out.append(Bucket(start, total, negative, -float(negative)))
            else:
                out.append(Bucket(start, 0, 0, 0.0))
    return [b for b in out if b.n_total]


@dataclass(frozen=True)
class CaseResult:
    name: str
    failures: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.failures


def _firing_at(rule: Rule, series: dict[str, list[Bucket]], minute: int) -> set[str]:
    """Keys firing at the end of ``minute``, stepping the rule once a minute from 0."""
    keys = sorted(series) if rule.scope.each else [rule.scope.key]
    states: dict[str, KeyState | None] = dict.fromkeys(keys)
    for m in range(minute + 1):
        now = START + timedelta(seconds=BUCKET_S * (m + 1), microseconds=-1)
        for key in keys:
            seen = [b for b in series.get(key, []) if b.start <= now]
            states[key] = evaluate(seen, rule, now, states[key]).state
    return {k for k, s in states.items() if s is not None and s.state == "firing"}


def run_cases(rules: tuple[Rule, ...], cases: CaseFile) -> list[CaseResult]:
    by_name = {r.name: r for r in rules}
    results = []
    for i, case in enumerate(cases.tests):
        series = {k: _buckets(v) for k, v in case.input_series.items()}
        failures = []
        for test in case.alert_rule_test:
            rule = by_name.get(test.alertname)
            if rule is None:
                failures.append(f"no rule named {test.alertname!r} in the rules file")
                continue
            if rule.metric == DRIFT_METRIC:
                failures.append(f"{rule.name}: drift rules are not tested on article series")
                continue
            minute = int(test.eval_time // BUCKET_S)
            got = _firing_at(rule, series, minute)
            want = {a.key for a in test.exp_alerts}
            if got != want:
                failures.append(
                    f"{test.alertname} at {minute}m: expected firing {sorted(want)}, "
                    f"got {sorted(got)}"
                )
        results.append(CaseResult(case.name or f"test {i + 1}", tuple(failures)))
    return results
