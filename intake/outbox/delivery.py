"""What happens to a queued notification: its provider's states, failures, the fallback to another channel,
officers alerted when a family cannot be reached, and STOP honoured before sending.

    record_provider_status(session, notification, status, *, error_code=None) -> bool
    record_failure(session, notification) -> Notification | None       fallback(session, notification)
"""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import (
    Case,
    Contact,
    Officer,
    Person,
    PersonContact,
    audit,
)
from intake.models.outbox import (
    Audience,
    Notification,
    NotificationChannel,
    NotificationStatus,
)
from intake.outbox.queue import FAMILY_CHANNELS, OfficerAddress, advance, enqueue, notify_officers
from intake.places.provinces import provinces_of

St = NotificationStatus


# Twilio's message states (status callbacks), as ours: the ones before `sent` mean it is with the provider.
PROVIDER_STATES = {
    "accepted": St.SENT, "scheduled": St.SENT, "queued": St.SENT, "sending": St.SENT, "sent": St.SENT,
    "delivered": St.DELIVERED, "read": St.DELIVERED, "undelivered": St.UNDELIVERED, "failed": St.FAILED,
}  # fmt: skip


def record_provider_status(
    session: Session, notification: Notification, provider_status: str, *, error_code: str | None = None
) -> bool:
    """Record a provider's status report (a Twilio status callback): only forward, and a failure reported
    after acceptance falls back to the family's other channel. Tell whether the state moved."""
    status = PROVIDER_STATES.get(provider_status.strip().lower())
    if status is None:
        return False
    moved = advance(notification, status)
    if moved:
        notification.provider_status = provider_status
        if status in (St.FAILED, St.UNDELIVERED):
            notification.error_code = error_code or notification.error_code
            record_failure(session, notification)
    return moved


def record_failure(session: Session, notification: Notification) -> Notification | None:
    """Show a permanent failure to officers (the audit log) and fall back to the family's other channel; when the
    family has none (or the fallback failed too), alert the case's officers that the family cannot be reached."""
    audit(
        session, "system", "notification.failed", "notification", notification.id,
        channel=notification.channel.value, code=notification.error_code, case=notification.case_id,
    )  # fmt: skip
    replacement = fallback(session, notification)
    if replacement is None and notification.audience == Audience.FAMILY and notification.case_id is not None:
        alert_unreachable(session, notification, notification.case_id)
    return replacement


def officer_recipients(session: Session, provinces: Collection[str]) -> list[OfficerAddress]:
    """Return where to alert about cases of these provinces: their active accounts that chose an alert channel,
    else the national ones (admins, accounts without a province), so no alert goes unseen."""
    with_channel = sa.select(Officer).where(
        Officer.active.is_(True),
        Officer.alert_channel.in_([c.value for c in NotificationChannel]),
        Officer.alert_address.is_not(None),
        Officer.alert_address != "",
    )
    officers = list(session.scalars(with_channel.where(Officer.province.in_(provinces)).order_by(Officer.id)))
    if not officers:
        officers = list(session.scalars(with_channel.where(Officer.national).order_by(Officer.id)))
    return [
        OfficerAddress(o.id, NotificationChannel(str(o.alert_channel)), str(o.alert_address))
        for o in officers
    ]


def alert_unreachable(session: Session, notification: Notification, case_id: int) -> list[Notification]:
    """Queue an alert to the case's officers: a family message failed for good with nowhere to fall back to."""
    provinces = sorted(provinces_of(session, [case_id]).get(case_id, ()))
    reference = session.scalar(sa.select(Case.reference).where(Case.id == case_id)) or str(case_id)
    params = {
        "reference": reference,
        "channel": notification.channel.value,
        "code": notification.error_code or "-",
    }
    return notify_officers(
        session, recipients=officer_recipients(session, provinces), key=f"unreachable:{notification.id}",
        template="family.unreachable", params=params, case_id=case_id,
    )  # fmt: skip


def family_contacts(session: Session, case_id: int) -> list[Contact]:
    """Return the contacts of a case's family: its reporter's and those of its persons, oldest first."""
    reporter = sa.select(Case.reported_by_contact_id).where(Case.id == case_id)
    persons = sa.select(Person.contact_id).where(Person.case_id == case_id)
    linked = sa.select(PersonContact.contact_id).join(Person, Person.id == PersonContact.person_id)
    linked = linked.where(Person.case_id == case_id)  # the same parent on another channel
    return list(
        session.scalars(
            sa.select(Contact)
            .where(
                sa.or_(
                    Contact.id.in_(reporter.scalar_subquery()),
                    Contact.id.in_(persons),
                    Contact.id.in_(linked),
                )
            )
            .order_by(Contact.id)
        )
    )


def fallback(session: Session, notification: Notification) -> Notification | None:
    """Queue a family's failed message again on the family's other channel, if they have one (once)."""
    if notification.audience != Audience.FAMILY or notification.case_id is None:
        return None
    original = notification
    if original.fallback_of_id is not None:  # a fallback's own failure does not bounce back
        return None
    for contact in family_contacts(session, notification.case_id):
        channel = FAMILY_CHANNELS.get(contact.channel)
        if channel is None or channel == notification.channel or contact.opted_out:
            continue
        return enqueue(
            session, key=f"{original.idempotency_key}:fallback", template=original.template,
            params=original.params, channel=channel, language=contact.language, audience=Audience.FAMILY,
            contact=contact, case_id=original.case_id, fallback_of=original,
        )  # fmt: skip
    return None


def opted_out(session: Session, notification: Notification) -> bool:
    """Tell whether the notification's contact has opted out since it was queued."""
    if notification.contact_id is None:
        return False
    return bool(session.scalar(sa.select(Contact.opted_out).where(Contact.id == notification.contact_id)))
