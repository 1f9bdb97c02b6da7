"""What an analyst does to an alert from the dashboard: acknowledge it, silence it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, insert, update

from core.tables.alerts import AlertStateRow, SilenceRow

__all__ = ["acknowledge", "silence"]


def acknowledge(conn: Connection, rule_id: int, scope_key: str, *, by: str) -> bool:
    """Mark a pending/firing alert as seen; False when there is no such alert."""
    st = AlertStateRow
    result = conn.execute(
        update(st)
        .where(st.rule_id == rule_id, st.scope_key == scope_key)
        .where(st.state.in_(["pending", "firing"]))
        .values(acknowledged_at=func.now(), acknowledged_by=by)
    )
    return bool(result.rowcount)


def silence(
    conn: Connection,
    rule_id: int,
    scope_key: str,
    *,
    duration: timedelta,
    by: str,
    comment: str | None = None,
) -> int:
    """Silence one rule and key for ``duration`` from now (the notifier honours it)."""
    now = datetime.now(UTC)
    return int(
        conn.execute(
            insert(SilenceRow)
            .values(
                rule_id=rule_id,
                scope_key=scope_key,
                starts_at=now,
                ends_at=now + duration,
                created_by=by,
                comment=comment,
            )
            .returning(SilenceRow.id)
        ).scalar_one()
    )
