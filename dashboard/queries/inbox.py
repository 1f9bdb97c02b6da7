"""The local inbox's messages (stream.alerts.channels.inbox)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Connection, select

from core.tables.alerts import NotificationRow

__all__ = ["InboxMessage", "inbox"]


class InboxMessage(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    created_at: datetime
    kind: str
    subject: str
    text: str


def inbox(conn: Connection, *, limit: int = 20) -> list[InboxMessage]:
    """Newest first."""
    n = NotificationRow
    stmt = (
        select(
            n.id,
            n.created_at,
            n.kind,
            n.payload["subject"].astext.label("subject"),
            n.payload["text"].astext.label("text"),
        )
        .where(n.channel == "inbox")
        .order_by(n.id.desc())
        .limit(limit)
    )
    return [InboxMessage.model_validate(row._mapping) for row in conn.execute(stmt)]
