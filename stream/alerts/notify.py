"""From alert events to delivered messages, through the ``notifications`` outbox.

1. ``group_pending``: events asking for a notification are grouped per rule once the
   oldest has waited ``group_wait_s`` (and at most once per ``group_interval_s``),
   silences and mute times are applied, and one outbox row per channel is written in
   the same transaction that marks the events grouped: nothing is lost or sent twice.
   As in Alertmanager, each flush tells the receivers what changed since what they were
   last told, key by key: an alert that fired and resolved inside one flush is not sent,
   one that resolved and fired again is still firing; and an alert still firing when its
   silence or mute time ends is announced then (so its resolve is announced, too).
2. ``deliver_due``: due outbox rows are claimed (a lease, so parallel dispatchers never
   send one row twice), sent outside any transaction, and each attempt is recorded;
   failures retry with exponential backoff, for as long as it takes.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from core.config import AlertSettings
from core.db import session_scope
from core.logs import redact
from core.tables.alerts import (
    AlertEventRow,
    AlertRuleRow,
    AlertStateRow,
    NotificationAttemptRow,
    NotificationRow,
    SilenceRow,
)
from core.tables.articles import ArticleEntityRow, ArticleRow, ArticleScoreRow
from core.tables.events import ArticleEventRow
from stream.alerts.channels import (
    INBOX,
    AlertGroup,
    AlertItem,
    DeliveryError,
    EmailNotifier,
    Headline,
    InboxNotifier,
    Notifier,
    SlackNotifier,
    WebhookNotifier,
)
from stream.alerts.metrics import DELIVERIES
from stream.alerts.routing import (
    InhibitRule,
    ReceiverSpec,
    Route,
    RoutingSpec,
    build_route,
    group_key,
    inhibited,
)
from stream.alerts.rules import BUCKET_S, DRIFT_METRIC, Rule
from stream.alerts.silences import alert_labels, covers
from stream.alerts.state import load_routing, lock_rule

__all__ = [
    "DeliveryReport",
    "Dispatcher",
    "build_notifiers",
    "dashboard_link",
    "receiver_notifier",
]

log = logging.getLogger(__name__)

# notices of a firing that nobody saw: its resolve is not announced either
_UNSEEN = ("silenced", "inhibited", "muted", "no_channels")
# notices of a firing held back only for a while: announced once that is over
_HELD = ("silenced", "inhibited", "muted")
# an event that several routes took gets the first of its routes' notices in this order
_NOTICE_ORDER = ("queued", "silenced", "inhibited", "muted", "no_channels", "repeat_wait")
_ANNOUNCING = ("firing", "realert")


def build_notifiers(settings: AlertSettings) -> dict[str, Notifier]:
    """The channels configured in settings (a rule naming another one logs a warning)."""
    out: dict[str, Notifier] = {}
    recipients = tuple(a.strip() for a in settings.email_to.split(",") if a.strip())
    if settings.smtp_host and recipients:
        out["email"] = EmailNotifier(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_from,
            recipients=recipients,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout_s=settings.smtp_timeout_s,
        )
    if settings.slack_webhook_url is not None:
        out["slack"] = SlackNotifier(settings.slack_webhook_url, timeout_s=settings.http_timeout_s)
    if settings.webhook_url is not None:
        out["webhook"] = WebhookNotifier(settings.webhook_url, timeout_s=settings.http_timeout_s)
    if settings.inbox:
        out[INBOX] = InboxNotifier()
    return out


def receiver_notifier(settings: AlertSettings, spec: ReceiverSpec) -> Notifier | None:
    """The notifier of a named receiver (email goes through the settings' SMTP server)."""
    if spec.webhook is not None:
        return WebhookNotifier(spec.webhook.url, timeout_s=settings.http_timeout_s)
    if spec.slack is not None:
        return SlackNotifier(spec.slack.url, timeout_s=settings.http_timeout_s)
    if spec.email is not None and settings.smtp_host:
        return EmailNotifier(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.email_from,
            recipients=spec.email.to,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            timeout_s=settings.smtp_timeout_s,
        )
    return None


def dashboard_link(base: str, kind: str, key: str, metric: str | None = None) -> str:
    base = base.rstrip("/")
    if metric == DRIFT_METRIC:
        return f"{base}/health"  # the drift section
    if kind == "ticker":
        return f"{base}/ticker?symbol={quote(key)}"
    if kind in ("topic", "source"):
        return f"{base}/{kind}?name={quote(key)}"
    return f"{base}/"


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        settings: AlertSettings,
        notifiers: Mapping[str, Notifier] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.notifiers = dict(build_notifiers(settings) if notifiers is None else notifiers)
        self._builtin = dict(self.notifiers)
        self._warned: set[tuple[str, str]] = set()
        self._routing_spec: RoutingSpec | None = None
        self.route = build_route(
            None, group_wait_s=settings.group_wait_s, group_interval_s=settings.group_interval_s
        )
        self.inhibit_rules: tuple[InhibitRule, ...] = ()

    def _load_routing(self, session: Session) -> None:
        """The stored routing, rebuilt when it changed (a rules file synced meanwhile)."""
        spec = load_routing(session)
        if spec == self._routing_spec and self._routing_spec is not None:
            return
        self._routing_spec = spec
        self.route = build_route(
            spec.route if spec else None,
            group_wait_s=self.settings.group_wait_s,
            group_interval_s=self.settings.group_interval_s,
        )
        self.inhibit_rules = tuple(InhibitRule.of(i) for i in (spec.inhibit_rules if spec else ()))
        notifiers = dict(self._builtin)
        for receiver in spec.receivers if spec else ():
            notifier = receiver_notifier(self.settings, receiver)
            if notifier is not None:
                notifiers[receiver.name] = notifier
        self.notifiers = notifiers

    def run_once(self, now: datetime | None = None) -> DeliveryReport:
        now = now or datetime.now(UTC)
        self.group_pending(now)
        return self.deliver_due(now)

    # ------------------------------------------------------------ grouping

    def group_pending(self, now: datetime) -> int:
        """Turn ungrouped notifying events into outbox rows; returns how many rows.

        Each route an event matches groups it on its own (its group_by, group_wait,
        group_interval); the event counts as grouped once all of them have."""
        queued = 0
        with session_scope(self.engine) as session:
            self._load_routing(session)
            self._announce_unheld(session, now)
            events = session.scalars(
                select(AlertEventRow)
                .where(AlertEventRow.notify, AlertEventRow.grouped_at.is_(None))
                .order_by(AlertEventRow.rule_id, AlertEventRow.at, AlertEventRow.id)
                .with_for_update(skip_locked=True)
            ).all()
            rules: dict[int, tuple[AlertRuleRow, Rule] | None] = {}
            matched: dict[int, list[str]] = {}
            groups: dict[tuple[str, str], list[AlertEventRow]] = defaultdict(list)
            by_id = {r.id: r for r in self.route.walk()}
            for event in self._damped(events, now):
                known = self._rule(session, rules, event.rule_id)
                if known is None:
                    continue
                row, rule = known
                labels = _labels(rule, row.scope_kind, event.scope_key)
                routes = self.route.match(labels)
                matched[event.id] = [r.id for r in routes]
                for route in routes:
                    if route.id not in (event.routes or {}):
                        groups[route.id, group_key(route, labels)].append(event)
            context = _FlushContext(
                silences=_active_silences(session, now),
                sources=_firing_labels(session) if self.inhibit_rules else [],
                rules=rules,
            )
            for (route_id, key), group_events in groups.items():
                route = by_id[route_id]
                if self._ready(session, route, key, group_events, now):
                    queued += self._group(session, route, key, group_events, context, now)
            for event in events:
                ids = matched.get(event.id)
                if ids and all(i in (event.routes or {}) for i in ids):
                    notices = [event.routes[i]["notice"] for i in ids]
                    event.notice = min(notices, key=_notice_rank)
                    event.grouped_at = now
        return queued

    @staticmethod
    def _rule(
        session: Session, cache: dict[int, tuple[AlertRuleRow, Rule] | None], rule_id: int
    ) -> tuple[AlertRuleRow, Rule] | None:
        if rule_id not in cache:
            row = session.get(AlertRuleRow, rule_id)
            cache[rule_id] = None if row is None else (row, Rule.model_validate(row.spec))
        return cache[rule_id]

    def _damped(self, events: Sequence[AlertEventRow], now: datetime) -> list[AlertEventRow]:
        """The events minus those of keys that resolved less than ``resolve_wait_s`` ago:
        if such a key fires again meanwhile, it never stopped as far as receivers can tell."""
        wait = timedelta(seconds=self.settings.resolve_wait_s)
        last: dict[tuple[int, str], AlertEventRow] = {}
        for event in events:
            last[event.rule_id, event.scope_key] = event
        waiting = {k for k, e in last.items() if e.to_state == "resolved" and now - e.at < wait}
        return [e for e in events if (e.rule_id, e.scope_key) not in waiting]

    def _ready(
        self,
        session: Session,
        route: Route,
        key: str,
        events: Sequence[AlertEventRow],
        now: datetime,
    ) -> bool:
        oldest = min(e.at for e in events)
        if now - oldest < timedelta(seconds=route.group_wait_s):
            return False  # wait for the alerts firing together with this one
        if route.group_interval_s <= 0:
            return True
        # the group's last message in the dispatcher's own clock (not the database's)
        last = session.scalar(
            text(
                "SELECT max((routes -> :route ->> 'at')::timestamptz) FROM alert_events"
                " WHERE routes -> :route ->> 'group' = :key"
                " AND routes -> :route ->> 'notice' = 'queued'"
            ),
            {"route": route.id, "key": key},
        )
        return last is None or now - last >= timedelta(seconds=route.group_interval_s)

    def _announce_unheld(self, session: Session, now: datetime) -> None:
        """Firing alerts whose announcement a silence or mute time held back, and that
        nothing holds back any longer: a new notifying event announces them now."""
        held = session.execute(
            text(
                "SELECT rule_id, scope_key FROM ("
                " SELECT DISTINCT ON (e.rule_id, e.scope_key) e.rule_id, e.scope_key, e.notice"
                " FROM alert_events e JOIN alert_state s"
                "   ON s.rule_id = e.rule_id AND s.scope_key = e.scope_key"
                " WHERE s.state = 'firing' AND e.notify AND e.grouped_at IS NOT NULL"
                " ORDER BY e.rule_id, e.scope_key, e.id DESC) last"
                " WHERE last.notice = ANY(:held)"
            ),
            {"held": list(_HELD)},
        ).all()
        if not held:
            return
        silences = _active_silences(session, now)
        sources = _firing_labels(session) if self.inhibit_rules else []
        for rule_id, key in held:
            row = session.get(AlertRuleRow, rule_id)
            if row is None or not row.enabled or _heard(session, rule_id, key):
                continue
            rule = Rule.model_validate(row.spec)
            alert = _labels(rule, row.scope_kind, key)
            if rule.muted(now) or any(covers(s, rule_id, alert, now) for s in silences):
                continue
            if inhibited(self.inhibit_rules, alert, sources):
                continue
            lock_rule(session, rule_id)
            state = session.get(AlertStateRow, (rule_id, key))
            if state is None or state.state != "firing":
                continue  # resolved meanwhile
            e = AlertEventRow
            details = session.scalar(
                select(e.details)
                .where(e.rule_id == rule_id, e.scope_key == key, e.to_state.in_(_ANNOUNCING))
                .order_by(e.id.desc())
                .limit(1)
            )
            since = state.firing_since or state.since
            session.add(
                AlertEventRow(
                    rule_id=rule_id,
                    scope_key=key,
                    from_state="firing",
                    to_state="realert",
                    at=now,
                    value=state.last_value,
                    details={
                        **(details or {}),
                        "reason": "still firing; nothing holds its notification back any more",
                        "firing_for_s": (now - since).total_seconds(),
                    },
                    notify=True,
                )
            )
            state.last_notified_at = now
        session.flush()

    def _group(
        self,
        session: Session,
        route: Route,
        key: str,
        events: Sequence[AlertEventRow],
        context: _FlushContext,
        now: datetime,
    ) -> int:
        """Flush one aggregation group of ``route``: one message per rule and receiver."""
        by_rule: dict[int, list[AlertEventRow]] = defaultdict(list)
        for event in events:
            by_rule[event.rule_id].append(event)
        queued = 0
        for rule_id, rule_events in by_rule.items():
            known = context.rules.get(rule_id)
            if known is not None:
                queued += self._flush_rule(session, route, key, *known, rule_events, context, now)
        return queued

    def _flush_rule(
        self,
        session: Session,
        route: Route,
        key: str,
        row: AlertRuleRow,
        rule: Rule,
        events: Sequence[AlertEventRow],
        context: _FlushContext,
        now: datetime,
    ) -> int:
        rule_id = row.id
        wanted = [route.receiver] if route.receiver is not None else list(rule.channels)
        channels = [c for c in wanted if c in self.notifiers]
        if INBOX in self.notifiers and INBOX not in channels:
            channels.append(INBOX)  # the inbox, when on, keeps a copy of every message
        for missing in set(wanted) - set(channels):
            if (rule.name, missing) not in self._warned:
                self._warned.add((rule.name, missing))
                log.warning("rule %s: channel %s is not configured; skipped", rule.name, missing)
        notices: dict[int, str] = {}
        # what this route's receivers believe of each key before this flush
        heard = {k: _heard(session, rule_id, k, route.id) for k in {e.scope_key for e in events}}
        by_key: dict[str, list[AlertEventRow]] = defaultdict(list)
        for event in events:
            alert = _labels(rule, row.scope_kind, event.scope_key)
            if any(covers(s, rule_id, alert, now) for s in context.silences):
                notices[event.id] = "silenced"
            elif rule.muted(now):
                notices[event.id] = "muted"
            elif event.to_state != "resolved" and inhibited(
                self.inhibit_rules, alert, context.sources
            ):
                # a resolve is never held back: the receivers would think it firing for good
                notices[event.id] = "inhibited"
            else:
                by_key[event.scope_key].append(event)
        send: list[AlertEventRow] = []
        for scope_key, key_events in by_key.items():
            news = _news(key_events, heard[scope_key])
            for event in key_events:
                if event is not news:
                    notices[event.id] = "superseded"
            if news is None:
                if heard[scope_key] is False and len(key_events) == 1:
                    # a lone resolve of a firing nobody heard of: say why it was not heard
                    event = key_events[0]
                    notices[event.id] = _firing_unseen(session, event) or "superseded"
            elif not channels:
                notices[news.id] = "no_channels"
            elif news.to_state == "realert" and _reminded_lately(
                session, route, rule_id, scope_key, now
            ):
                notices[news.id] = "repeat_wait"
            else:
                notices[news.id] = "queued"
                send.append(news)
        for event in events:
            at = {"notice": notices[event.id], "at": now.isoformat(), "group": key}
            event.routes = {**(event.routes or {}), route.id: at}
        if not send:
            return 0
        group = self._build_group(session, rule, row.scope_kind, send)
        for channel in channels:
            session.add(
                NotificationRow(
                    rule_id=rule_id,
                    channel=channel,
                    kind=group.kind,
                    event_ids=list(group.event_ids),
                    payload=self.notifiers[channel].render(group),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        log.info(
            "alert %s: %d event(s) queued for %s (route %s)",
            rule.name, len(send), ", ".join(channels), route.id,
        )  # fmt: skip
        return len(channels)

    def _build_group(
        self, session: Session, rule: Rule, kind: str, events: Sequence[AlertEventRow]
    ) -> AlertGroup:
        base = self.settings.dashboard_url
        items = []
        for e in events:
            status = e.to_state if e.to_state in ("resolved", "realert") else "firing"
            heads: tuple[Headline, ...] = ()
            # negative headlines are no evidence of drift: its details carry the PSIs
            drift = rule.metric == DRIFT_METRIC
            if status != "resolved" and self.settings.top_headlines and not drift:
                heads = evidence_headlines(
                    session, kind, e.scope_key, e.details, self.settings.top_headlines, rule.event
                )
            items.append(
                AlertItem(
                    key=e.scope_key,
                    status=status,
                    at=e.at.isoformat(),
                    value=e.value,
                    details=dict(e.details),
                    dashboard_url=dashboard_link(base, kind, e.scope_key, rule.metric),
                    headlines=heads,
                )
            )
        return AlertGroup(
            rule=rule.name,
            description=rule.description,
            severity=rule.severity,
            scope_kind=kind,
            metric=rule.metric,
            window_s=rule.window_s,
            labels=dict(rule.labels),
            items=tuple(items),
            alerts_url=f"{base.rstrip('/')}/alerts?rule={quote(rule.name)}",
            event_ids=tuple(e.id for e in events),
        )

    # ------------------------------------------------------------ delivery

    def deliver_due(self, now: datetime | None = None, *, limit: int = 50) -> DeliveryReport:
        """Send what is due; each channel in its own thread, so a slow or hanging channel
        (up to its timeout) never delays the others."""
        now = now or datetime.now(UTC)
        by_channel: dict[str, list[tuple[int, dict[str, Any], int]]] = defaultdict(list)
        for notification_id, channel, payload, attempts in self._claim(now, limit):
            by_channel[channel].append((notification_id, payload, attempts))
        if not by_channel:
            return DeliveryReport()
        with ThreadPoolExecutor(max_workers=len(by_channel)) as pool:
            reports = list(pool.map(self._deliver_channel, by_channel.items()))
        return DeliveryReport(sum(r.delivered for r in reports), sum(r.failed for r in reports))

    def _deliver_channel(
        self, item: tuple[str, list[tuple[int, dict[str, Any], int]]]
    ) -> DeliveryReport:
        channel, claimed = item
        report = DeliveryReport()
        for notification_id, payload, attempts in claimed:
            ok, detail, ms = self._send(channel, payload)
            self._record(notification_id, attempts + 1, ok, detail, ms)
            DELIVERIES.labels(channel, "delivered" if ok else "failed").inc()
            if ok:
                report.delivered += 1
            else:
                report.failed += 1
                log.warning("notification %d via %s failed: %s", notification_id, channel, detail)
        return report

    def _claim(self, now: datetime, limit: int) -> list[tuple[int, str, dict[str, Any], int]]:
        # the lease outlasts one attempt, so a crashed dispatcher's claim expires into a retry
        lease = timedelta(seconds=max(60.0, 3 * self.settings.http_timeout_s))
        with session_scope(self.engine) as session:
            rows = session.scalars(
                select(NotificationRow)
                .where(NotificationRow.status == "pending", NotificationRow.next_attempt_at <= now)
                .order_by(NotificationRow.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                row.next_attempt_at = now + lease
            return [(r.id, r.channel, dict(r.payload), r.attempts) for r in rows]

    def _send(self, channel: str, payload: dict[str, Any]) -> tuple[bool, str | None, float]:
        notifier = self.notifiers.get(channel)
        if notifier is None and channel not in self._builtin:
            with session_scope(self.engine) as session:  # a receiver stored since
                self._load_routing(session)
            notifier = self.notifiers.get(channel)
        t0 = time.perf_counter()
        if notifier is None:
            return False, f"{channel}: channel not configured", 0.0
        try:
            notifier.send(payload)
        except DeliveryError as exc:
            return False, redact(str(exc)), (time.perf_counter() - t0) * 1000
        except Exception as exc:  # noqa: BLE001 - a channel bug must not stop the outbox
            return False, f"{channel}: {type(exc).__name__}", (time.perf_counter() - t0) * 1000
        return True, None, (time.perf_counter() - t0) * 1000

    def _record(
        self, notification_id: int, attempts: int, ok: bool, detail: str | None, ms: float
    ) -> None:
        now = datetime.now(UTC)
        values: dict[str, Any] = {"attempts": attempts}
        if ok:
            values.update(status="delivered", delivered_at=now, last_error=None)
        else:
            delay = min(self.settings.retry_base_s * 2 ** (attempts - 1), self.settings.retry_max_s)
            values.update(last_error=detail, next_attempt_at=now + timedelta(seconds=delay))
        with session_scope(self.engine) as session:
            session.execute(
                update(NotificationRow).where(NotificationRow.id == notification_id).values(values)
            )
            session.add(
                NotificationAttemptRow(
                    notification_id=notification_id,
                    attempted_at=now,
                    ok=ok,
                    detail=detail,
                    duration_ms=ms,
                )
            )


def _active_silences(session: Session, now: datetime) -> Sequence[SilenceRow]:
    return session.scalars(
        select(SilenceRow).where(SilenceRow.starts_at <= now, SilenceRow.ends_at > now)
    ).all()


def _labels(rule: Rule, kind: str, key: str) -> dict[str, str]:
    return alert_labels(rule.name, key, severity=rule.severity, scope_kind=kind, labels=rule.labels)


def _heard(session: Session, rule_id: int, key: str, route: str | None = None) -> bool:
    """Whether the receivers (of ``route``; of any route when None) were last told that
    this key is firing."""
    e = AlertEventRow
    told = e.notice == "queued" if route is None else e.routes[route]["notice"].astext == "queued"
    last = session.scalar(
        select(e.to_state)
        .where(e.rule_id == rule_id, e.scope_key == key, told)
        .order_by(e.id.desc())
        .limit(1)
    )
    return last is not None and last != "resolved"


def _reminded_lately(session: Session, route: Route, rule_id: int, key: str, now: datetime) -> bool:
    """Whether ``route`` told its receivers of this key less than its repeat_interval ago."""
    if route.repeat_interval_s is None:
        return False
    e = AlertEventRow
    last = session.scalar(
        select(e.routes[route.id]["at"].astext)
        .where(
            e.rule_id == rule_id,
            e.scope_key == key,
            e.routes[route.id]["notice"].astext == "queued",
        )
        .order_by(e.id.desc())
        .limit(1)
    )
    if last is None:
        return False
    return now - datetime.fromisoformat(last) < timedelta(seconds=route.repeat_interval_s)


@dataclass
class _FlushContext:
    """What every group of one grouping pass checks its alerts against."""

    silences: Sequence[SilenceRow]
    sources: list[dict[str, str]]  # labels of the firing alerts (inhibition sources)
    rules: dict[int, tuple[AlertRuleRow, Rule] | None]


def _notice_rank(notice: str) -> int:
    return _NOTICE_ORDER.index(notice) if notice in _NOTICE_ORDER else len(_NOTICE_ORDER)


def _firing_labels(session: Session) -> list[dict[str, str]]:
    """The labels of every firing alert of an enabled rule."""
    out = []
    stmt = (
        select(AlertRuleRow.spec, AlertRuleRow.scope_kind, AlertStateRow.scope_key)
        .join(AlertStateRow, AlertStateRow.rule_id == AlertRuleRow.id)
        .where(AlertRuleRow.enabled, AlertStateRow.state == "firing")
    )
    for spec, kind, key in session.execute(stmt):
        try:
            rule = Rule.model_validate(spec)
        except ValueError:
            continue  # stored_rules logs it
        out.append(_labels(rule, kind, key))
    return out


def _news(events: Sequence[AlertEventRow], heard: bool) -> AlertEventRow | None:
    """The one event of a key worth a message in this flush, given what receivers heard."""
    last = events[-1]
    if last.to_state == "resolved":
        return last if heard else None  # fired and resolved unheard: nothing to tell
    if not heard:
        # the incident still firing at the end of the flush, announced by its firing
        fired = [e for e in events if e.to_state == "firing"]
        return fired[-1] if fired else last
    # heard firing and firing still (perhaps through a resolve): only a reminder is news
    return last if last.to_state == "realert" else None


def _firing_unseen(session: Session, resolve: AlertEventRow) -> str | None:
    """Why the incident this resolve closes was never announced (silenced, muted...), if so."""
    e = AlertEventRow
    notice = session.scalar(
        select(e.notice)
        .where(
            e.rule_id == resolve.rule_id,
            e.scope_key == resolve.scope_key,
            e.to_state == "firing",
            e.id < resolve.id,
        )
        .order_by(e.id.desc())
        .limit(1)
    )
    return notice if notice in _UNSEEN else None


def evidence_headlines(
    session: Session,
    kind: str,
    key: str,
    details: Mapping[str, Any],
    limit: int,
    event: str | None = None,
) -> tuple[Headline, ...]:
    """The message's evidence: the most negative headlines of the alert's window, or for a
    rule on one event type the window's articles of that type, most negative first."""
    try:
        end = datetime.fromisoformat(str(details["window_end"]))
        window_s = int(details["window_s"])
    except (KeyError, ValueError):
        return ()
    seconds = int(end.timestamp())
    start = datetime.fromtimestamp(seconds - seconds % BUCKET_S, tz=UTC) - timedelta(
        seconds=window_s - BUCKET_S
    )
    a, s = ArticleRow, ArticleScoreRow
    stmt = (
        select(a.title, a.url, a.source, a.published_at, func.min(s.score))
        .join(s, s.article_id == a.id)
        .where(a.published_at >= start, a.published_at <= end)
        .group_by(a.id)
        .order_by(func.min(s.score), a.published_at.desc())
        .limit(limit)
    )
    if event is None:
        stmt = stmt.where(s.sentiment == "negative")
    else:
        stmt = stmt.join(
            ArticleEventRow, (ArticleEventRow.article_id == a.id) & (ArticleEventRow.event == event)
        )
    if kind == "ticker":
        stmt = stmt.join(
            ArticleEntityRow,
            (ArticleEntityRow.article_id == a.id) & (ArticleEntityRow.ticker == key),
        )
    elif kind == "topic":
        stmt = stmt.where(s.topic == key)
    elif kind == "source":
        stmt = stmt.where(a.source == key)
    return tuple(
        Headline(title, url, source, published.isoformat(), float(score))
        for title, url, source, published, score in session.execute(stmt)
    )
