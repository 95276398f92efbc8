"""The transactional outbox: queue a notification in the same transaction as the event that causes it.

Callers own the transaction (these functions flush, never commit): a notification exists exactly when its event
does, so none is lost and none goes out for an event that rolled back. The notification worker (`reunite
worker`, in the `notifications` adapter) sends what is queued. Every notification has an idempotency key made of
ids and event names (never personal data): queuing the same key again returns the stored row and adds nothing.

A template names the parameters it shows; anything else is refused, so no genetic detail (a profile, a
likelihood ratio, a marker) can ever be put in a message. Every family message names its case reference
(tests/notifications/test_templates.py checks it), so a parent can tell it from a scam. A contact who sent STOP gets nothing: their
notification is stored `cancelled` (reason `opted_out`), and the worker checks again before it sends. The
dialogue's replies (`dialogue.reply`, the spool's answers to a person's own message) are the exception to both:
they are the dialogue's text as it wrote it, and they go to whoever wrote, STOP's confirmation included.

    enqueue(session, *, key, template, params, channel, language, audience, contact=None, address=None,
            case_id=None) -> Notification
    notify_family(session, *, contact, key, template, params, case_id=None) -> Notification | None
    notify_officers(session, *, recipients, key, template, params, case_id=None) -> [Notification]
    notify_sample_event(session, sample, event_type) -> Notification | None     (called by intake.samples.custody)
    queue_replies(session, inbound, texts) -> None            (the dialogue's replies, spool mode: intake/inbound/spool.py)
    schedule_reminders(session, *, today=None) -> int                            (a pass of the worker)
    record_provider_status(session, notification, status, *, error_code=None) -> bool
    fallback(session, notification) -> Notification | None
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.models import (
    Case,
    Channel,
    Contact,
    Message,
    utcnow,
)
from intake.models.outbox import (
    MAX_IDEMPOTENCY_KEY_CHARS,
    Audience,
    Notification,
    NotificationChannel,
    NotificationStatus,
)
from intake.outbox.templates import REPLY_TEMPLATE, TEMPLATES, TemplateError, check_params
from intake.platform.i18n import normalise_language

St = NotificationStatus


# Set when replies are queued, so a notification worker in this process (the embedded service) sends at once.
QUEUED = threading.Event()

FAMILY_CHANNELS = {Channel.SMS: NotificationChannel.SMS, Channel.TELEGRAM: NotificationChannel.TELEGRAM}


def enqueue(
    session: Session,
    *,
    key: str,
    template: str,
    params: Mapping[str, Any],
    channel: NotificationChannel,
    language: str,
    audience: Audience,
    contact: Contact | None = None,
    address: str | None = None,
    case_id: int | None = None,
    fallback_of: Notification | None = None,
) -> Notification:
    """Queue one notification in the caller's transaction; the same key again returns the stored one."""
    check_params(template, params, audience)
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise TemplateError(f"idempotency key longer than {MAX_IDEMPOTENCY_KEY_CHARS} characters")
    if (contact is None) == (address is None):
        raise TemplateError("a notification goes to a contact or to an address, not both or neither")
    existing = by_key(session, key)
    if existing is not None:
        return existing
    notification = Notification(
        idempotency_key=key, audience=audience, channel=channel, contact_id=contact.id if contact else None,
        address=address, case_id=case_id, template=template, params=dict(params),
        language=normalise_language(language), next_attempt_at=utcnow(),
        fallback_of_id=fallback_of.id if fallback_of else None,
    )  # fmt: skip
    if contact is not None and contact.opted_out and not TEMPLATES[template].reply:
        notification.status, notification.error_code = St.CANCELLED, "opted_out"
        notification.finished_at = utcnow()
    try:
        with session.begin_nested():  # the same event queued twice at once: the second finds the first's row
            session.add(notification)
    except IntegrityError:
        found = by_key(session, key)
        if found is None:
            raise
        return found
    return notification


def queue_replies(session: Session, inbound: Message, texts: list[str]) -> None:
    """Queue the dialogue's replies to `inbound` (flushed, in the caller's transaction) in reply order, keyed
    `reply:<message id>:<n>`: one INSERT, as the inbox stores a delivery's replies (the message is new in this
    transaction, so no key can be taken)."""
    channel = FAMILY_CHANNELS.get(inbound.channel)
    if channel is None or not texts:
        return
    assert inbound.contact_id is not None
    contact = session.get(Contact, inbound.contact_id)  # in the session already: no query
    language = contact.language if contact is not None else "zh_CN"
    now = utcnow()
    session.execute(
        sa.insert(cast(sa.Table, Notification.__table__)),
        [
            {
                "idempotency_key": f"reply:{inbound.id}:{n}",
                "audience": Audience.FAMILY,
                "channel": channel,
                "contact_id": inbound.contact_id,
                "template": REPLY_TEMPLATE,
                "params": {"text": text},
                "language": normalise_language(language),
                "status": St.PENDING,
                "attempts": 0,
                "uncertain_attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }  # fmt: skip
            for n, text in enumerate(texts)
        ],
    )


def by_key(session: Session, key: str) -> Notification | None:
    return session.scalars(sa.select(Notification).where(Notification.idempotency_key == key)).first()


def notify_family(
    session: Session,
    *,
    contact: Contact,
    key: str,
    template: str,
    params: Mapping[str, Any],
    case_id: int | None = None,
) -> Notification | None:
    """Queue a message to a family's contact on its own channel and in its language (None: a terminal chat)."""
    channel = FAMILY_CHANNELS.get(contact.channel)
    if channel is None:
        return None  # the terminal chat has no way to reach anyone later
    return enqueue(
        session, key=key, template=template, params=params, channel=channel, language=contact.language,
        audience=Audience.FAMILY, contact=contact, case_id=case_id,
    )  # fmt: skip


@dataclass(frozen=True)
class OfficerAddress:
    """Where one officer wants alerts: their account's id (for the key), channel, address and language."""

    officer_id: int | str
    channel: NotificationChannel
    address: str
    language: str = "zh_CN"


def notify_officers(
    session: Session,
    *,
    recipients: Iterable[OfficerAddress],
    key: str,
    template: str,
    params: Mapping[str, Any],
    case_id: int | None = None,
) -> list[Notification]:
    """Queue an alert to each officer by their chosen channel, e.g. when the matching service stores a candidate
    (`key` = "candidate:<id>", template "candidate.stored"); matching.service.alerts chooses the recipients."""
    return [
        enqueue(
            session,
            key=f"{key}:officer:{officer.officer_id}",
            template=template,
            params=params,
            channel=officer.channel,
            language=officer.language,
            audience=Audience.OFFICER,
            address=officer.address,
            case_id=case_id,
        )  # fmt: skip
        for officer in recipients
    ]


def case_reference(session: Session, case_id: int) -> str:
    """Return a case's reference, which every family message about the case shows."""
    return session.scalar(sa.select(Case.reference).where(Case.id == case_id)) or str(case_id)


_RANK = {St.PENDING: 0, St.SENDING: 1, St.SENT: 2, St.DELIVERED: 3, St.UNDELIVERED: 3, St.FAILED: 3,
         St.CANCELLED: 3}  # fmt: skip
FINAL = frozenset(s for s, rank in _RANK.items() if rank == 3)


def rank(status: NotificationStatus) -> int:
    """Order the states: a notification only ever moves to a state of a higher rank."""
    return _RANK[status]


def advance(notification: Notification, status: NotificationStatus) -> bool:
    """Move to `status` if that is forward (a final state is never left); tell whether it moved."""
    if rank(status) <= rank(notification.status):
        return False
    notification.status = status
    if status in FINAL:
        notification.finished_at = utcnow()
    return True
