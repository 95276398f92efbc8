"""Small helpers of the notification tests."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import Contact, Notification
from intake.outbox.queue import notify_family
from tests.support.factories import SampleRef


def contact_of(session: Session, address: str) -> Contact:
    return session.scalars(sa.select(Contact).where(Contact.address == address)).one()


def queue_received(session: Session, family: SampleRef, address: str = "+8613800000001") -> int:
    """Queue the family's "sample received" message (committed) and return its id."""
    n = notify_family(
        session, contact=contact_of(session, address), key=f"sample:{family.id}:received",
        template="sample.received", params={"code": family.code, "reference": "MC-2026-TEST01"},
        case_id=family.case_id,
    )  # fmt: skip
    assert n is not None
    session.commit()
    return n.id


def notifications(session: Session) -> list[Notification]:
    """Return every notification as stored now, ending the read (SQLite: an open transaction blocks the worker)."""
    session.expire_all()
    rows = list(session.scalars(sa.select(Notification).order_by(Notification.id)))
    session.commit()
    return rows


def queue_on_telegram(session: Session, family: SampleRef, contact: Contact, key: str, template: str) -> int:
    """Queue a sample message to the family's Telegram contact (committed) and return its id."""
    n = notify_family(session, contact=contact, key=key, template=template, params={"code": family.code, "reference": "MC-2026-TEST01"},
                      case_id=family.case_id)  # fmt: skip
    assert n is not None
    session.commit()
    return n.id
