"""`finsent alerts`: manage rules, try them, replay them, silence them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from core.cli_support import fail
from core.cli_support import run_with_engine as _run
from core.config import get_settings
from core.configfile import parse_duration
from core.errors import ConfigError, FinsentError
from stream.alerts.rules import Rule, RuleFileError, load_rules

__all__ = ["app"]

app = typer.Typer(
    help="Alert rules: list, add, validate, enable, disable, test, backtest; silences."
)

FileArg = Annotated[Path, typer.Argument(help="a rules YAML file", exists=True, dir_okay=False)]
NameArg = Annotated[str, typer.Argument(help="the rule's name")]


def _console() -> Console:
    return Console(highlight=False)


def _when(text: str) -> datetime:
    """ISO time (UTC unless it says otherwise), or a duration ago: ``2h`` means two hours ago."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            seconds = parse_duration(text)
        except ValueError:
            raise typer.BadParameter(f"{text!r}: an ISO time or a duration like 90m, 2h") from None
        return datetime.now(UTC) - timedelta(seconds=seconds)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def validate(file: FileArg) -> None:
    """Check a rules file; errors name the line and the field."""
    try:
        rules = load_rules(file).rules
    except RuleFileError as exc:
        raise fail(exc) from exc
    except ConfigError as exc:
        raise fail(exc) from exc
    typer.echo(f"{file}: {len(rules)} valid rule(s): {', '.join(r.name for r in rules)}")


@app.command()
def add(file: FileArg) -> None:
    """Validate a rules file and store its rules (updating those with the same name) and
    its routing (receivers, route, inhibit_rules), which replaces the stored one."""
    from stream.alerts.state import store_rule_file

    try:
        loaded = load_rules(file)
    except ConfigError as exc:
        raise fail(exc) from exc
    outcome = _run(lambda engine: store_rule_file(engine, loaded, source=str(file)))
    for name, what in outcome.items():
        typer.echo(f"{name}: {what}")


@app.command("list")
def list_rules() -> None:
    """The stored rules, with how many keys are pending or firing."""
    from sqlalchemy import func, select

    from core.db import session_scope
    from core.tables.alerts import AlertStateRow
    from stream.alerts.state import StoredRule, stored_rules

    def fetch(engine: Engine) -> tuple[list[StoredRule], dict[tuple[int, str], int]]:
        with session_scope(engine) as session:
            rules = stored_rules(session, enabled_only=False)
            counts = session.execute(
                select(AlertStateRow.rule_id, AlertStateRow.state, func.count()).group_by(
                    AlertStateRow.rule_id, AlertStateRow.state
                )
            ).all()
        return list(rules), {(r, s): n for r, s, n in counts}

    rules, counts = _run(fetch)
    table = Table("rule", "on", "scope", "metric", "window", "condition", "severity", "channels",
                  "pending", "firing")  # fmt: skip
    for stored in rules:
        r, rid = stored.rule, stored.id
        table.add_row(
            r.name,
            "yes" if stored.enabled else f"no: {stored.disabled_reason or 'disabled'}",
            f"{r.scope.kind}:{r.scope.key}",
            r.metric,
            f"{r.window_s // 60}m",
            r.condition.type,
            r.severity,
            ",".join(r.channels) or "-",
            str(counts.get((rid, "pending"), 0)),
            str(counts.get((rid, "firing"), 0)),
        )
    _console().print(table)


def _toggle(name: str, enabled: bool) -> None:
    from stream.alerts.state import set_enabled

    _run(lambda e: set_enabled(e, name, enabled))
    typer.echo(f"{name}: {'enabled' if enabled else 'disabled'}")


@app.command()
def enable(name: NameArg) -> None:
    """Evaluate the rule again."""
    _toggle(name, True)


@app.command()
def disable(name: NameArg) -> None:
    """Stop evaluating the rule (its state and history stay)."""
    _toggle(name, False)


def _find_rule(engine: Engine, name: str, file: Path | None) -> Rule:
    from core.db import session_scope
    from stream.alerts.state import stored_rules

    if file is not None:
        for rule in load_rules(file).rules:
            if rule.name == name:
                return rule
        raise ConfigError(f"{file}: no rule named {name!r}")
    with session_scope(engine) as session:
        for stored in stored_rules(session, enabled_only=False):
            if stored.rule.name == name:
                return stored.rule
    raise ConfigError(f"no alert rule named {name!r} (see `finsent alerts list`)")


@app.command()
def test(
    target: Annotated[str, typer.Argument(help="a rule's name; or, with CASES, a rules YAML file")],
    cases: Annotated[
        Path | None,
        typer.Argument(
            help="rule unit tests (YAML): expected alerts on synthetic series, like "
            "`promtool test rules`",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    send: Annotated[
        bool, typer.Option(help="also send a test message through the rule's channels")
    ] = False,
    file: Annotated[Path | None, typer.Option(help="take the rule from this file")] = None,
) -> None:
    """Evaluate a rule now (read only) and show each key's measurement; or, given a rules
    file and a cases file, run the rules' unit tests."""
    if cases is not None:
        _unit_test(Path(target), cases)
        return
    name = target
    from core.db import session_scope
    from stream.alerts.drift import ModelDriftBasis, measure_drift_rule
    from stream.alerts.engine import _since, fetch_series
    from stream.alerts.rules import DRIFT_METRIC, Measurement, measure

    def measurements(engine: Engine, rule: Rule, now: datetime) -> dict[str, Measurement]:
        if rule.metric == DRIFT_METRIC:
            basis = ModelDriftBasis(get_settings())()
            if basis is None:
                raise ConfigError("no drift reference yet: run `finsent drift reference`")
            return measure_drift_rule(engine, rule, basis, now)
        keys = None if rule.scope.each else [rule.scope.key]
        with session_scope(engine) as session:
            series = fetch_series(session, rule.scope.kind, keys, _since(rule, now), now)
        for key in keys or []:
            series.setdefault(key, [])
        return {key: measure(series[key], rule, now) for key in sorted(series)}

    def run(engine: Engine) -> None:
        rule = _find_rule(engine, name, file)
        now = datetime.now(UTC)
        table = Table("key", "value", "volume", "breaching", "reason")
        for key, m in measurements(engine, rule, now).items():
            value = "-" if m.value is None else f"{m.value:.4g}"
            table.add_row(key, value, str(m.volume), "YES" if m.breaching else "no",
                          str(m.details.get("reason", "")))  # fmt: skip
        _console().print(table)
        if send:
            _send_test(rule)

    _run(run)


def _unit_test(rules_file: Path, cases_file: Path) -> None:
    from stream.alerts.ruletest import load_cases, run_cases

    try:
        results = run_cases(load_rules(rules_file).rules, load_cases(cases_file))
    except ConfigError as exc:
        raise fail(exc) from exc
    for result in results:
        if result.ok:
            typer.echo(f"  PASS  {result.name}")
        else:
            typer.secho(f"  FAIL  {result.name}", fg=typer.colors.RED)
            for failure in result.failures:
                typer.echo(f"        {failure}")
    failed = sum(not r.ok for r in results)
    typer.echo(f"{cases_file}: {len(results) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


def _send_test(rule: Rule) -> None:
    from stream.alerts.channels import AlertGroup, AlertItem
    from stream.alerts.notify import build_notifiers, dashboard_link

    settings = get_settings().alerts
    notifiers = build_notifiers(settings)
    key = rule.scope.key if not rule.scope.each else "TEST"
    group = AlertGroup(
        rule=f"{rule.name} [TEST]",
        description="A test message from `finsent alerts test --send`; nothing is wrong.",
        severity=rule.severity,
        scope_kind=rule.scope.kind,
        metric=rule.metric,
        window_s=rule.window_s,
        labels=dict(rule.labels),
        items=(
            AlertItem(
                key,
                "firing",
                datetime.now(UTC).isoformat(),
                None,
                {},
                dashboard_link(settings.dashboard_url, rule.scope.kind, key, rule.metric),
            ),
        ),  # fmt: skip
        alerts_url=f"{settings.dashboard_url.rstrip('/')}/alerts",
    )
    for channel in rule.channels:
        notifier = notifiers.get(channel)
        if notifier is None:
            typer.echo(f"{channel}: not configured (see FINSENT_ALERTS__*)")
            continue
        try:
            notifier.send(notifier.render(group))
            typer.echo(f"{channel}: sent")
        except FinsentError as exc:
            typer.secho(f"{channel}: failed: {exc}", fg=typer.colors.RED)


@app.command()
def backtest(
    name: NameArg,
    from_: Annotated[str, typer.Option("--from", help="ISO time, or a duration ago (24h)")],
    to: Annotated[str, typer.Option("--to", help="ISO time, or a duration ago")] = "0s",
    key: Annotated[list[str] | None, typer.Option(help="only these keys")] = None,
    step: Annotated[int, typer.Option(help="seconds between evaluations", min=1)] = 60,
    file: Annotated[Path | None, typer.Option(help="take the rule from this file")] = None,
) -> None:
    """Replay a rule over the stored buckets: when it would have fired and resolved."""
    from stream.alerts.backtest import BacktestEvent
    from stream.alerts.backtest import backtest as run_backtest

    start, end = _when(from_), _when(to)

    def run(engine: Engine) -> list[BacktestEvent]:
        rule = _find_rule(engine, name, file)
        return run_backtest(engine, rule, start, end, keys=key or None, step_s=step)

    try:
        events = _run(run)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    table = Table("at (UTC)", "key", "transition", "value", "reason / duration")
    fired = 0
    for e in events:
        if e.to_state in ("pending", "inactive"):
            continue
        fired += e.to_state == "firing"
        extra = e.reason or ""
        if e.duration_s is not None:
            extra = f"after {e.duration_s / 60:.1f} min"
        table.add_row(
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            e.key,
            f"{e.from_state} -> {e.to_state}",
            "-" if e.value is None else f"{e.value:.4g}",
            extra,
        )
    _console().print(table)
    typer.echo(
        f"{name}: fired {fired} time(s) between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"
    )


@app.command()
def silence(
    duration: Annotated[str, typer.Option("--for", help="how long, e.g. 30m, 2h, 1d")],
    rule: Annotated[str | None, typer.Option(help="the rule's name")] = None,
    key: Annotated[str | None, typer.Option(help="a ticker, topic or source")] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            "--match",
            help="a matcher on the alert's labels: name=value, name!=value, name=~regex, "
            "name!~regex (labels: the rule's, alertname, key, severity, scope); repeatable",
        ),
    ] = None,
    comment: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Silence notifications by rule, key and/or matchers until a time (evaluation goes on)."""
    import getpass

    from stream.alerts.silences import parse_matchers, silence_end
    from stream.alerts.state import add_silence

    try:
        ends = silence_end(duration)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--for") from exc
    try:
        matchers = parse_matchers(label or ())
    except ConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--label") from exc
    silence_id = _run(
        lambda e: add_silence(
            e,
            ends_at=ends,
            rule_name=rule,
            scope_key=key,
            matchers=matchers,
            created_by=getpass.getuser(),
            comment=comment,
        )
    )
    typer.echo(f"silence {silence_id} until {ends:%Y-%m-%d %H:%M} UTC")


@app.command()
def silences(
    expired: Annotated[bool, typer.Option("--all", help="also silences that are over")] = False,
) -> None:
    """The silences: what each covers, until when, who made it and why."""
    from stream.alerts.state import list_silences

    found = _run(lambda e: list_silences(e, expired=expired))
    now = datetime.now(UTC)
    table = Table("id", "rule", "key", "matchers", "from (UTC)", "until (UTC)", "by", "comment",
                  "state")  # fmt: skip
    for s in found:
        table.add_row(
            str(s.id),
            s.rule or "*",
            s.scope_key or "*",
            ", ".join(s.matchers) or "-",
            f"{s.starts_at:%Y-%m-%d %H:%M}",
            f"{s.ends_at:%Y-%m-%d %H:%M}",
            s.created_by or "-",
            s.comment or "",
            "active" if s.active(now) else ("pending" if s.starts_at > now else "expired"),
        )
    _console().print(table)


@app.command()
def expire(silence_id: Annotated[int, typer.Argument(help="the silence's id")]) -> None:
    """End a silence now."""
    from stream.alerts.state import expire_silence

    _run(lambda e: expire_silence(e, silence_id))
    typer.echo(f"silence {silence_id} expired")
