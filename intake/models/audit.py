"""The audit log: who did or read what, and when.

Actors are pseudonymous (`contact:<id>`, `system`, a staff account), never a phone number or a name, so the log
can outlive an erasure without keeping personal details.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.models._common import NOT_PERSONAL, TZDateTime, utcnow
from intake.platform.db import Base


def contact_actor(contact_id: int) -> str:
    """Name a contact in the audit log by its id, not its address."""
    return f"contact:{contact_id}"


class AuditEvent(Base):
    """One entry of the append-only audit log."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True, info=NOT_PERSONAL)
    actor: Mapped[str] = mapped_column(
        String(120), index=True, info=NOT_PERSONAL
    )  # pseudonymous: see contact_actor
    action: Mapped[str] = mapped_column(String(64), index=True, info=NOT_PERSONAL)
    entity_type: Mapped[str | None] = mapped_column(String(32), info=NOT_PERSONAL)
    entity_id: Mapped[str | None] = mapped_column(String(64), info=NOT_PERSONAL)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict, info=NOT_PERSONAL)  # ids and counts only


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
