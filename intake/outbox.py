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
    notify_sample_event(session, sample, event_type) -> Notification | None     (called by intake.custody)
    queue_replies(session, inbound, texts) -> None            (the dialogue's replies, spool mode: intake/spool.py)
    schedule_reminders(session, *, today=None) -> int                            (a pass of the worker)
    record_provider_status(session, notification, status, *, error_code=None) -> bool
    fallback(session, notification) -> Notification | None
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake import clock
from intake.i18n import N_, normalise_language, translate
from intake.models import (
    Booking,
    BookingStatus,
    Case,
    Channel,
    Contact,
    CustodyEventType,
    Lab,
    LabDay,
    Message,
    Officer,
    Person,
    PersonContact,
    Sample,
    SampleStatus,
    audit,
    utcnow,
)
from intake.models.outbox import (
    MAX_IDEMPOTENCY_KEY_CHARS,
    Audience,
    Notification,
    NotificationChannel,
    NotificationStatus,
)
from intake.provinces import provinces_of
from matching.bands import Band

St = NotificationStatus


@dataclass(frozen=True)
class Template:
    """A message: its English msgid (translated at send time), the parameters it shows, and who it is for."""

    key: str
    msgid: str
    params: frozenset[str]
    audience: Audience
    subject: str | None = None  # the e-mail subject, for officers' templates
    # A dialogue's reply (the answer to the person's own message, already in their language): sent at any hour
    # and after STOP too (it may be STOP's confirmation, as the TwiML answer was), each contact's in order.
    reply: bool = False


def _template(
    key: str, msgid: str, audience: Audience, subject: str | None = None, *, reply: bool = False
) -> Template:
    names = frozenset(re.findall(r"%\((\w+)\)s", msgid + (subject or "")))
    return Template(key, msgid, names, audience, subject, reply)


REPLY_TEMPLATE = "dialogue.reply"
# Set when replies are queued, so a notification worker in this process (the embedded service) sends at once.
QUEUED = threading.Event()


FAMILY, OFFICER = Audience.FAMILY, Audience.OFFICER
TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        _template(
            "appointment.reminder",
            N_(
                "reunite, case %(reference)s: your DNA sampling appointment is tomorrow, %(day)s %(hours)s, at"
                " %(lab)s, %(address)s. Show sample code %(code)s. Free of charge. Send CANCEL to cancel."
            ),
            FAMILY,
        ),
        _template(
            "appointment.missed",
            N_(
                "reunite, case %(reference)s: we missed you at %(lab)s on %(day)s. Your case is still open: send"
                " BOOK to choose a new day for your DNA sample."
            ),
            FAMILY,
        ),
        _template(
            "sample.received",
            N_(
                "reunite, case %(reference)s: the lab has received your DNA sample %(code)s. We will tell you"
                " when it is tested. Send STATUS to see your case."
            ),
            FAMILY,
        ),
        _template(
            "sample.typed",
            N_(
                "reunite, case %(reference)s: your DNA sample %(code)s is tested and is now compared with found"
                " children. If there is news, police will call you and tell you your case PIN. We never ask for"
                " money."
            ),
            FAMILY,
        ),
        _template(
            "case.pin_resent",
            N_(
                "reunite, case %(reference)s: someone asked for your case PIN (to join the case, link a sample"
                " or delete data). Your PIN is %(pin)s. Give it only to family you trust. We never ask for money."
            ),
            FAMILY,
        ),
        _template(
            "contact.linked",
            N_(
                "reunite: a %(channel)s chat gave the number and PIN of your case %(reference)s and said it is"
                " you; it now sees your case. If this was not you, call the police: someone knows your PIN."
            ),
            FAMILY,
        ),
        _template(
            "case.role_joined",
            N_(
                "reunite: someone gave the number and PIN of your case %(reference)s and joined it as the child's"
                " %(role)s, which the case had already. If you do not know who, call the police: someone knows"
                " your PIN."
            ),
            FAMILY,
        ),
        _template(
            "candidate.stored",
            N_(
                "New candidate match for case %(reference)s (%(band)s), in %(province)s. Review it in the"
                " officers' console: %(url)s"
            ),
            OFFICER,
            subject=N_("reunite: new candidate match for case %(reference)s"),
        ),
        _template(
            "match.approved",
            N_(
                "reunite: news on case %(reference)s. Call %(name)s, %(phone)s. Case PIN %(pin)s: real police"
                " know it. We never ask for money."
            ),
            FAMILY,
        ),
        _template(
            "family.unreachable",
            N_(
                "reunite: a message to the family of case %(reference)s failed for good on %(channel)s"
                " (%(code)s) and they have no other channel. Please reach them another way."
            ),
            OFFICER,
            subject=N_("reunite: the family of case %(reference)s cannot be reached"),
        ),
        # the text as the dialogue wrote it, in the contact's language: no msgid to translate
        _template(REPLY_TEMPLATE, "%(text)s", FAMILY, reply=True),
    )
}

MISSED_FOLLOW_UP_DAYS = (
    7  # a booking missed longer ago than this gets no follow-up (an old database, a restart)
)
FAMILY_CHANNELS = {Channel.SMS: NotificationChannel.SMS, Channel.TELEGRAM: NotificationChannel.TELEGRAM}
_RANK = {St.PENDING: 0, St.SENDING: 1, St.SENT: 2, St.DELIVERED: 3, St.UNDELIVERED: 3, St.FAILED: 3,
         St.CANCELLED: 3}  # fmt: skip
FINAL = frozenset(s for s, rank in _RANK.items() if rank == 3)
# Twilio's message states (status callbacks), as ours: the ones before `sent` mean it is with the provider.
PROVIDER_STATES = {
    "accepted": St.SENT, "scheduled": St.SENT, "queued": St.SENT, "sending": St.SENT, "sent": St.SENT,
    "delivered": St.DELIVERED, "read": St.DELIVERED, "undelivered": St.UNDELIVERED, "failed": St.FAILED,
}  # fmt: skip


class TemplateError(ValueError):
    """A notification names an unknown template or parameters its template does not show."""


def _check(template: str, params: Mapping[str, Any], audience: Audience) -> Template:
    known = TEMPLATES.get(template)
    if known is None:
        raise TemplateError(f"unknown notification template {template!r}")
    if known.audience != audience:
        raise TemplateError(f"template {template!r} is for {known.audience.value}, not {audience.value}")
    if set(params) != known.params:
        raise TemplateError(
            f"template {template!r} shows exactly {sorted(known.params)}, got {sorted(params)}"
        )
    for name, value in params.items():
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise TemplateError(f"parameter {name!r} of {template!r} must be text or a number")
    return known


# A matcher's band (`matching.bands.Band`) is stored as an English word; officers read it in their own language.
BAND_WORDS = {
    Band.CANDIDATE.value: N_("likelihood ratio 10,000 or more"),
    Band.INCONCLUSIVE.value: N_("inconclusive: more markers or the other parent needed"),
}


def render(template: str, language: str, params: Mapping[str, Any]) -> str:
    """Return the template's text in `language` with its parameters (a band word translated too)."""
    lang = normalise_language(language)
    values = dict(params)
    if isinstance(band := values.get("band"), str) and band in BAND_WORDS:
        values["band"] = translate(lang, BAND_WORDS[band])
    return translate(lang, TEMPLATES[template].msgid, **values)


def render_subject(template: str, language: str, params: Mapping[str, Any]) -> str:
    """Return the e-mail subject of an officers' template (its text's first line when it has none)."""
    subject = TEMPLATES[template].subject
    if subject is None:
        return render(template, language, params).splitlines()[0]
    return translate(normalise_language(language), subject, **params)


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
    _check(template, params, audience)
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise TemplateError(f"idempotency key longer than {MAX_IDEMPOTENCY_KEY_CHARS} characters")
    if (contact is None) == (address is None):
        raise TemplateError("a notification goes to a contact or to an address, not both or neither")
    existing = _by_key(session, key)
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
        found = _by_key(session, key)
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


def _by_key(session: Session, key: str) -> Notification | None:
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


def _contact_of_sample(session: Session, sample: Sample) -> Contact | None:
    """Return who hears about a sample: its person's contact, else its booking's, else the case reporter's."""
    candidates: list[int | None] = []
    if sample.person_id is not None:
        candidates.append(session.scalar(sa.select(Person.contact_id).where(Person.id == sample.person_id)))
    if sample.booking_id is not None:
        candidates.append(
            session.scalar(sa.select(Booking.contact_id).where(Booking.id == sample.booking_id))
        )
    if sample.case_id is not None:
        reporter = sa.select(Case.reported_by_contact_id).where(Case.id == sample.case_id)
        candidates.append(session.scalar(reporter))
    contact_id = next((c for c in candidates if c is not None), None)
    return session.get(Contact, contact_id) if contact_id is not None else None


SAMPLE_TEMPLATES = {CustodyEventType.RECEIVED: "sample.received", CustodyEventType.TYPED: "sample.typed"}


def notify_sample_event(
    session: Session, sample: Sample, event_type: CustodyEventType
) -> Notification | None:
    """Tell the family that the lab received or typed their sample (other events tell no one); a sample taken
    cancels its appointment's reminders still waiting."""
    cancel_reminders(session, sample, event_type)
    template = SAMPLE_TEMPLATES.get(event_type)
    if template is None or sample.case_id is None:
        return None  # a walk-in not linked yet, a found child: no family to tell
    contact = _contact_of_sample(session, sample)
    if contact is None:
        return None
    return notify_family(
        session, contact=contact, key=f"sample:{sample.id}:{event_type.value}", template=template,
        params={"code": sample.code, "reference": case_reference(session, sample.case_id)},
        case_id=sample.case_id,
    )  # fmt: skip


def case_reference(session: Session, case_id: int) -> str:
    """Return a case's reference, which every family message about the case shows."""
    return session.scalar(sa.select(Case.reference).where(Case.id == case_id)) or str(case_id)


# Custody events after which the sample is no longer waiting to be taken: its appointment needs no reminder.
TAKEN_EVENTS = frozenset({CustodyEventType.COLLECTED, CustodyEventType.RECEIVED, CustodyEventType.TYPED})


def cancel_reminders(session: Session, sample: Sample, event_type: CustodyEventType) -> int:
    """Cancel the reminders still waiting to be sent for the appointment of a sample that was just taken (a lab
    collected it before the day, as a walk-in or early); return how many. One sent already stays sent."""
    if event_type not in TAKEN_EVENTS or sample.booking_id is None:
        return 0
    waiting = session.scalars(
        sa.select(Notification).where(
            Notification.idempotency_key.like(f"booking:{sample.booking_id}:reminder:%"),
            Notification.status == St.PENDING,
        )
    ).all()
    for notification in waiting:
        notification.error_code = "sample_collected"
        advance(notification, St.CANCELLED)
    return len(waiting)


def _lab_params(lab: Lab, day: date, language: str) -> dict[str, str]:
    english = normalise_language(language) == "en"
    if english and lab.name_en:
        name, address = lab.name_en, f"{lab.address_en or lab.address}, {lab.city_en or lab.city}"
    else:
        name, address = lab.name, f"{lab.city}{lab.address}"
    return {"lab": name, "address": address, "day": day.isoformat(), "hours": lab.opening_hours}


def _booking_contact(session: Session, booking: Booking) -> Contact | None:
    contact_id = booking.contact_id
    if contact_id is None:
        contact_id = session.scalar(sa.select(Case.reported_by_contact_id).where(Case.id == booking.case_id))
    return session.get(Contact, contact_id) if contact_id is not None else None


def schedule_reminders(session: Session, *, today: date | None = None) -> int:
    """Queue the day-before reminders and the missed-appointment follow-ups that are due; return how many new.

    Idempotent: one reminder per booking and appointment day, one follow-up per booking, whatever how often it
    runs or how many workers run it. An appointment is missed when its day has passed and its sample was not
    collected; an appointment whose sample was taken already (early, or as a walk-in) gets no reminder.
    """
    today = today or clock.today_in_china()
    added = 0
    rows = session.execute(
        sa.select(Booking, LabDay.day, Lab, Sample)
        .join(LabDay, Booking.lab_day_id == LabDay.id)
        .join(Lab, LabDay.lab_id == Lab.id)
        .outerjoin(Sample, Sample.booking_id == Booking.id)
        .where(
            Booking.status == BookingStatus.BOOKED,
            LabDay.day.between(today - timedelta(days=MISSED_FOLLOW_UP_DAYS), today + timedelta(days=1)),
        )
        .order_by(Booking.id)
    ).all()
    for booking, day, lab, sample in rows:
        waiting = sample is None or sample.status == SampleStatus.AWAITING_COLLECTION
        if day == today + timedelta(days=1) and waiting:
            template, key = "appointment.reminder", f"booking:{booking.id}:reminder:{day.isoformat()}"
        elif day < today and waiting:
            template, key = "appointment.missed", f"booking:{booking.id}:missed"
        else:
            continue
        contact = _booking_contact(session, booking)
        if contact is None or _by_key(session, key) is not None:
            continue
        params = {
            **_lab_params(lab, day, contact.language),
            "reference": case_reference(session, booking.case_id),
        }
        if template == "appointment.reminder":
            params["code"] = sample.code if sample is not None else "-"
        else:
            del params["address"], params["hours"]
        if notify_family(
            session, contact=contact, key=key, template=template, params=params, case_id=booking.case_id
        ):
            added += 1
    return added


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
        national = sa.or_(Officer.province.is_(None), Officer.role == "admin")
        officers = list(session.scalars(with_channel.where(national).order_by(Officer.id)))
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
