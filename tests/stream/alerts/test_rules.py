"""Pure rule logic on crafted series: no database, no network."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from stream.alerts.backtest import BacktestEvent, replay
from stream.alerts.rules import (
    Bucket,
    KeyState,
    Rule,
    RuleFileError,
    evaluate,
    evaluate_drift,
    parse_rules,
)
from stream.drift import GroupDrift

BASE = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def rule(**fields: object) -> Rule:
    spec: dict[str, object] = {
        "name": "r",
        "scope": {"kind": "ticker", "key": "ACME"},
        "metric": "negative_share",
        "window": "1m",
        "condition": {"type": "threshold", "op": ">=", "value": 0.6},
        "min_volume": 5,
    }
    spec.update(fields)
    return Rule.model_validate(spec)


def series(minutes: list[tuple[int, int]], scores: list[float] | None = None) -> list[Bucket]:
    """One bucket per minute from BASE: (articles, negative articles), optional score sums."""
    return [
        Bucket(BASE + timedelta(minutes=i), n, neg, scores[i] if scores else -0.5 * neg)
        for i, (n, neg) in enumerate(minutes)
        if n
    ]


def run(r: Rule, buckets: list[Bucket], minutes: int) -> list[BacktestEvent]:
    return replay({"ACME": buckets}, r, BASE, BASE + timedelta(minutes=minutes))


def minute(event: BacktestEvent) -> int:
    return int((event.at - BASE).total_seconds() // 60)


def notified(events: list[BacktestEvent]) -> list[tuple[int, str]]:
    return [
        (minute(e), e.to_state) for e in events if e.to_state in ("firing", "resolved", "realert")
    ]


def test_threshold_fires_at_the_first_bad_minute_and_resolves_after() -> None:
    data = series([(10, 2)] * 10 + [(10, 8)] * 3 + [(10, 2)] * 5)
    assert notified(run(rule(), data, 18)) == [(10, "firing"), (13, "resolved")]


def test_min_volume_ignores_a_few_all_negative_articles() -> None:
    data = series([(10, 2)] * 5 + [(2, 2)] * 5 + [(3, 3)] * 5)
    assert notified(run(rule(min_volume=5), data, 15)) == []
    assert notified(run(rule(min_volume=1), data, 15))[0] == (5, "firing")


def test_hysteresis_stops_flapping_on_a_noisy_series() -> None:
    rng = random.Random(7)
    # a bad stretch whose share wobbles around the threshold, with a few quiet minutes
    shares = [rng.uniform(0.5, 0.72) for _ in range(60)]
    volumes = [rng.choice([20, 20, 20, 3]) for _ in range(60)]
    data = series([(n, round(n * s)) for n, s in zip(volumes, shares, strict=True)] + [(20, 2)] * 5)
    flappy = [e for e in notified(run(rule(min_volume=1), data, 65)) if e[1] == "firing"]
    steady = notified(
        run(
            rule(
                min_volume=10,
                condition={"type": "threshold", "op": ">=", "value": 0.6, "clear": 0.4},
            ),
            data,
            65,
        )
    )
    assert len(flappy) > 5, "the unguarded rule should flap on this series"
    firing = [m for m, s in steady if s == "firing"]
    assert len(firing) <= 2
    # a quiet minute (3 articles < min_volume) may end an incident, but not every wobble
    assert steady[-1] == (60, "resolved")


def test_hysteresis_holds_while_between_the_levels() -> None:
    shares = [0.1] * 5 + [0.7] + [0.55, 0.5, 0.45, 0.5, 0.55] + [0.3]
    data = series([(20, round(20 * s)) for s in shares])
    r = rule(condition={"type": "threshold", "op": ">=", "value": 0.6, "clear": 0.4})
    assert notified(run(r, data, len(shares))) == [(5, "firing"), (11, "resolved")]


def test_spike_fires_at_the_burst_minute() -> None:
    r = rule(
        metric="negative_count",
        condition={"type": "spike", "ratio": 3, "baseline_windows": 5, "min_baseline": 10},
    )
    data = series([(10, 3)] * 20 + [(20, 15)] + [(10, 3)] * 8)
    events = notified(run(r, data, 29))
    assert events[0] == (20, "firing")
    assert events[1][1] == "resolved"


def test_spike_needs_counts_on_both_sides() -> None:
    r = rule(
        metric="negative_count",
        min_volume=2,
        condition={"type": "spike", "ratio": 3, "baseline_windows": 3, "min_baseline": 10},
    )
    # 2 negatives after silence: "2 vs 0" is no spike
    data = series([(0, 0)] * 5 + [(2, 2)] + [(0, 0)] * 3)
    assert notified(run(r, data, 9)) == []
    # with a floor instead of a baseline minimum, 2 still is not 3x the floor of 4
    floor = rule(
        metric="negative_count",
        min_volume=2,
        condition={"type": "spike", "ratio": 3, "min_baseline": 0, "baseline_floor": 4},
    )
    assert notified(run(floor, data, 9)) == []


def test_spike_down_direction_on_share() -> None:
    r = rule(
        condition={"type": "spike", "direction": "down", "ratio": 2, "baseline_windows": 3},
    )
    data = series([(20, 10)] * 6 + [(20, 2)] + [(20, 10)] * 4)
    assert notified(run(r, data, 11))[0] == (6, "firing")


def test_zscore_fires_at_the_outlier_minute_only() -> None:
    rng = random.Random(3)
    scores = [rng.gauss(0.0, 0.05) * 20 for _ in range(30)] + [-0.6 * 20] + [0.0] * 5
    data = series([(20, 5)] * 36, scores)
    r = rule(
        metric="mean_score",
        condition={"type": "zscore", "direction": "down", "z": 3, "baseline_windows": 12},
    )
    events = notified(run(r, data, 36))
    assert events[0] == (30, "firing")
    assert [m for m, s in events if s == "firing"] == [30]


def test_nodata_flags_a_dead_feed_and_clears_when_it_returns() -> None:
    r = rule(scope={"kind": "market"}, window="3m", condition={"type": "nodata"}, min_volume=0)
    data = series([(5, 1)] * 10 + [(0, 0)] * 6 + [(5, 1)] * 2)
    assert notified(replay({"all": data}, r, BASE, BASE + timedelta(minutes=18))) == [
        (12, "firing"),
        (16, "resolved"),
    ]


def test_pending_period_delays_firing_and_a_short_blip_never_fires() -> None:
    r = rule(**{"for": "2m"})
    data = series([(10, 2)] * 3 + [(10, 8)] + [(10, 2)] * 3 + [(10, 8)] * 5)
    events = run(r, data, 12)
    assert [(minute(e), e.to_state) for e in events][:3] == [
        (3, "pending"),
        (4, "inactive"),
        (7, "pending"),
    ]
    assert notified(events) == [(9, "firing")]


def test_realert_interval_and_resolve_duration() -> None:
    r = rule(realert="3m")
    data = series([(10, 8)] * 10 + [(10, 1)])
    events = run(r, data, 11)
    assert notified(events) == [
        (0, "firing"),
        (3, "realert"),
        (6, "realert"),
        (9, "realert"),
        (10, "resolved"),
    ]
    assert events[-1].duration_s == pytest.approx(600, abs=1)


def test_evaluate_is_one_state_machine_step() -> None:
    r = rule()
    now = BASE + timedelta(seconds=30)
    first = evaluate(series([(10, 9)]), r, now)
    assert [t.to_state for t in first.transitions] == ["pending", "firing"]
    assert first.state.state == "firing"
    again = evaluate(series([(10, 9)]), r, now + timedelta(seconds=10), first.state)
    assert again.transitions == ()
    assert evaluate(series([(10, 9)]), r, now, KeyState()).state.firing_since == now


def test_mute_times_cover_weekends_and_overnight() -> None:
    r = rule(
        mute_times=[
            {"weekdays": ["sat", "sun"], "timezone": "America/New_York"},
            {
                "start": "16:00",
                "end": "09:30",
                "weekdays": ["mon", "tue", "wed", "thu", "fri"],
                "timezone": "America/New_York",
            },
        ]
    )
    # Monday 2026-11-23: 12:00 New York is 17:00 UTC
    assert not r.muted(datetime(2026, 11, 23, 17, 0, tzinfo=UTC))
    assert r.muted(datetime(2026, 11, 23, 22, 0, tzinfo=UTC))  # 17:00 NY
    assert r.muted(datetime(2026, 11, 24, 13, 0, tzinfo=UTC))  # Tue 08:00 NY
    assert r.muted(datetime(2026, 11, 28, 17, 0, tzinfo=UTC))  # Saturday


def test_spec_round_trips() -> None:
    r = rule(realert="1h", labels={"team": "x"}, channels=["email", "slack"], **{"for": "90s"})
    assert Rule.model_validate(r.spec()) == r
    assert r.for_ == 90 and r.realert == 3600


def test_example_rules_file_is_valid() -> None:
    from stream.alerts.agents import EXAMPLE_RULES
    from stream.alerts.rules import load_rules

    names = [r.name for r in load_rules(EXAMPLE_RULES).rules]
    assert "ticker-negative-spike" in names


GOOD = """\
rules:
  - name: a
    scope: {kind: ticker, key: each}
    metric: negative_count
    window: 2m
    condition:
      type: spike
      ratio: 3
"""


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (GOOD.replace("ratio: 3", "ratio: 0.5"), 8, "rules[0].condition.ratio"),
        (GOOD.replace("window: 2m", "window: 90s"), 5, "rules[0].window"),
        (GOOD.replace("metric: negative_count", "metric: sentiment"), 4, "rules[0].metric"),
        (GOOD.replace("type: spike", "type: spiky"), 6, "rules[0].condition"),
        (GOOD + "    colour: red\n", 9, "rules[0].colour"),
        (GOOD.replace("    scope: {kind: ticker, key: each}\n", ""), 2, "rules[0].scope"),
        (GOOD.replace("kind: ticker", "kind: planet"), 3, "rules[0].scope.kind"),
        (GOOD + GOOD.split("rules:\n")[1], 9, "rules[1].name"),
        (GOOD.replace("ratio: 3", "ratio: [3"), 9, "yaml"),
    ],
)
def test_invalid_rule_files_name_the_line_and_field(text: str, line: int, field: str) -> None:
    with pytest.raises(RuleFileError) as caught:
        parse_rules(text, filename="rules.yaml")
    problem = caught.value.problems[0]
    assert (problem.line, problem.field) == (line, field), str(caught.value)
    assert f"rules.yaml:{line}: {field}" in str(caught.value)


def test_a_bare_list_is_accepted_and_errors_still_point_at_lines() -> None:
    bare = "\n".join(line[2:] for line in GOOD.splitlines()[1:]) + "\n"
    assert parse_rules(bare).rules[0].name == "a"
    with pytest.raises(RuleFileError) as caught:
        parse_rules(bare.replace("ratio: 3", "ratio: -1"), filename="f.yaml")
    assert caught.value.problems[0].line == 7


# ---------------------------------------------------------------- drift rules (pure)

DRIFT = """\
rules:
  - name: d
    scope: {kind: source, key: each}
    metric: drift_psi
    window: 1d
    condition: {type: threshold, op: ">=", value: 0.25, clear: 0.1}
    min_volume: 30
"""


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        (DRIFT.replace("kind: source", "kind: ticker"), 4, "rules[0].metric", "per source"),
        (DRIFT.replace("kind: source, key: each", "kind: topic"), 4, "rules[0].metric", "topic"),
        (
            DRIFT.replace(
                '{type: threshold, op: ">=", value: 0.25, clear: 0.1}', "{type: spike, ratio: 3}"
            ),
            6,
            "rules[0].condition",
            "threshold",
        ),  # fmt: skip
        (
            DRIFT.replace('op: ">="', 'op: "<="').replace("clear: 0.1", "clear: 0.3"),
            6,
            "rules[0].condition",
            "op >= or >",
        ),  # fmt: skip
        (DRIFT.replace("clear: 0.1", "clear: 0.3"), 6, "rules[0].condition", "at or below"),
        (DRIFT.replace("window: 1d", "window: 2d"), 5, "rules[0].window", "between 1m and 1d"),
    ],
)
def test_invalid_drift_rules_name_the_line_and_field(
    text: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(RuleFileError) as caught:
        parse_rules(text, filename="rules.yaml")
    problem = caught.value.problems[0]
    assert (problem.line, problem.field) == (line, field), str(caught.value)
    assert message in problem.message


def test_drift_rules_for_a_source_and_the_market_are_valid() -> None:
    r = parse_rules(DRIFT).rules[0]
    assert (r.metric, r.window_s, r.scope.each) == ("drift_psi", 86400, True)
    market = parse_rules(DRIFT.replace("{kind: source, key: each}", "{kind: market}")).rules[0]
    assert market.scope.key == "all"
    assert Rule.model_validate(r.spec()) == r


def test_the_example_files_commented_drift_rule_is_valid() -> None:
    from stream.alerts.agents import EXAMPLE_RULES

    lines = EXAMPLE_RULES.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if "# - name: market-drift-watch" in line)
    block = []
    for line in lines[first:]:
        if not line.strip().startswith("#"):
            break
        block.append(line.replace("# ", "", 1))
    rules = parse_rules("rules:\n" + "\n".join(block) + "\n").rules
    assert [(r.name, r.metric, r.scope.kind) for r in rules] == [
        ("market-drift-watch", "drift_psi", "market")
    ]


def _group(n: int, psi: float) -> GroupDrift:
    return GroupDrift(
        day=BASE.date(), source="wire", n=n, labels={"negative": 0.8}, mean_confidence=0.5,
        low_confidence_share=0.5, oov_share=None, psi={"labels": psi, "confidence": psi / 2},
    )  # fmt: skip


def test_drift_fires_with_volume_holds_through_thin_data_and_resolves_below_clear() -> None:
    r = parse_rules(DRIFT).rules[0]
    steps = [
        (_group(100, 0.05), "inactive", ()),
        (_group(10, 0.9), "inactive", ()),  # too few articles: not drift yet
        (_group(100, 0.4), "firing", ("pending", "firing")),
        (_group(100, 0.2), "firing", ()),  # below the level, above clear: hysteresis
        (_group(5, 0.0), "firing", ()),  # thin data does not resolve
        (_group(100, 0.05), "resolved", ("resolved",)),
        (_group(100, 0.5), "firing", ("pending", "firing")),
        (None, "resolved", ("resolved",)),  # no article at all in the window
    ]
    state = None
    for i, (group, expected, moves) in enumerate(steps):
        now = BASE + timedelta(minutes=10 * i)
        decision = evaluate_drift(group, r, now, state, reference="v1")
        assert decision.state.state == expected, f"step {i}"
        assert tuple(t.to_state for t in decision.transitions) == moves, f"step {i}"
        state = decision.state
    firing = evaluate_drift(_group(100, 0.4), r, BASE, None, reference="v1").transitions[-1]
    assert firing.notify and firing.value == 0.4
    assert firing.details["worst"] == "labels" and firing.details["reference"] == "v1"
    assert "labels PSI 0.400" in firing.details["reason"]


def test_a_drift_rule_is_never_evaluated_on_buckets() -> None:
    with pytest.raises(ValueError, match="not buckets"):
        evaluate(series([(10, 2)]), parse_rules(DRIFT).rules[0], BASE)
