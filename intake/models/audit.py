"""The audit log: who did or read what, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.db import Base
from intake.models._common import TZDateTime, utcnow


class AuditEvent(Base):
    """One entry of the append-only audit log."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_type: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


def audit(
    session: Session,
    actor: str,
    action: str,
    entity_type: str | None = None,
    entity_id: object = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the session (it is written with the session's transaction)."""
    event = AuditEvent(
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        detail=detail,
    )
    session.add(event)
    return event
