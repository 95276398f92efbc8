"""MYDATA (我的数据): what reunite keeps about the contact, in a few short messages, and how to delete it.

One message on the contact (channel, language, linked channels, how many messages are kept), one per case (its
reference and status, the child's name as the family gave it, dates, the contact's consents and appointment,
their samples by code and state, and whether a DNA profile is on file), and one on how to delete. Never any
genetic data: a profile is only said to be on file or not. Each reading is audited (ids and counts only).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_date

from intake.cases.family import CHANNEL_NAMES
from intake.dialogue import casefile
from intake.dialogue.casefile import ROLE_WORDS
from intake.dialogue.status import CASE_WORDS, SAMPLE_WORDS, contact_cases, own_booking, withdrawn_status
from intake.dialogue.steps import Ctx, is_english
from intake.labs.appointments import booking_summary
from intake.models import (
    Attachment,
    Case,
    Consent,
    ConsentScope,
    Contact,
    DnaProfile,
    FoundChild,
    Message,
    Person,
    PersonContact,
    Sample,
    audit,
    persons_of_contact,
)
from intake.platform import clock
from intake.platform.i18n import Msg, _, translate

MAX_CASES = 3  # the latest three, as STATUS: the reply stays within a few SMS
MAX_SAMPLES = 3
SCOPE_WORDS = {
    ConsentScope.DNA_SAMPLING: _("DNA sampling"),
    ConsentScope.DATA_PROCESSING: _("keeping your details"),
}


def _day(ctx: Ctx, when: date | datetime) -> str:
    day = clock.today_in_china(when) if isinstance(when, datetime) else when
    if is_english(ctx):
        return format_date(day, "d MMM yyyy", locale="en")
    return format_date(day, "yyyy年M月d日", locale="zh_CN")


def _join(ctx: Ctx, items: list[str]) -> str:
    return (", " if is_english(ctx) else "，").join(items)


def linked_channels(ctx: Ctx) -> list[Contact]:
    """Return the contact's other contacts: the same person on another channel (linked with the case PIN)."""
    persons = sa.select(Person.id).where(persons_of_contact(ctx.contact.id))
    linked = sa.select(PersonContact.contact_id).where(PersonContact.person_id.in_(persons))
    own = sa.select(Person.contact_id).where(Person.id.in_(persons))
    query = sa.select(Contact).where(
        sa.or_(Contact.id.in_(linked), Contact.id.in_(own)), Contact.id != ctx.contact.id
    )
    return list(ctx.session.scalars(query.order_by(Contact.id)))


def _contact_line(ctx: Ctx, messages: int) -> Msg:
    others = sorted({translate(ctx.lang, CHANNEL_NAMES[c.channel]) for c in linked_channels(ctx)})
    return _(
        "What reunite keeps about you: this %(channel)s contact (language: %(language)s), linked to: "
        "%(linked)s; %(messages)s messages kept.",
        channel=translate(ctx.lang, CHANNEL_NAMES[ctx.contact.channel]),
        language="English" if is_english(ctx) else "中文",
        linked=_join(ctx, others) if others else ctx.t(_("nothing else")),
        messages=messages,
    )


def _consents(ctx: Ctx, case: Case, persons: list[int]) -> str:
    query = sa.select(Consent).where(
        Consent.case_id == case.id,
        sa.or_(Consent.contact_id == ctx.contact.id, Consent.person_id.in_(persons)),
    )
    latest: dict[ConsentScope, Consent] = {}
    for consent in ctx.session.scalars(query.order_by(Consent.recorded_at, Consent.id)):
        latest[consent.scope] = consent
    items = []
    for scope, consent in sorted(latest.items()):
        if consent.withdrawn_at is not None:
            state = _("withdrawn %(day)s", day=_day(ctx, consent.withdrawn_at))
        elif consent.granted:
            state = _("given %(day)s", day=_day(ctx, consent.recorded_at))
        else:
            state = _("refused %(day)s", day=_day(ctx, consent.recorded_at))
        items.append(ctx.t(_("%(scope)s %(state)s", scope=SCOPE_WORDS[scope], state=state)))
    return _join(ctx, items) if items else ctx.t(_("none recorded"))


def _samples(ctx: Ctx, case: Case, persons: list[int], reporter: bool) -> str:
    # Their own samples, and for the reporter those of the case booked before persons were recorded.
    mine = Sample.person_id.in_(persons)
    query = sa.select(Sample).where(
        Sample.case_id == case.id, sa.or_(mine, Sample.person_id.is_(None)) if reporter else mine
    )
    items = []
    for sample in ctx.session.scalars(query.order_by(Sample.id.desc()).limit(MAX_SAMPLES)):
        # Only whether a profile is on file (an erased one has no digest left): never what it says.
        on_file = ctx.session.scalar(
            sa.select(
                sa.exists().where(
                    DnaProfile.sample_id == sample.id,
                    DnaProfile.replaced_at.is_(None),
                    DnaProfile.digest != "",
                )
            )
        )
        items.append(
            ctx.t(_("%(code)s %(state)s, DNA profile on file: %(on_file)s", code=sample.code,
                    state=SAMPLE_WORDS[sample.status], on_file=_("yes") if on_file else _("no")))
        )  # fmt: skip
    return _join(ctx, items) if items else ctx.t(_("none"))


def case_lines(ctx: Ctx, case: Case) -> Msg:
    """Describe what is kept of one case about and from this contact."""
    persons = list(
        ctx.session.scalars(
            sa.select(Person).where(Person.case_id == case.id, persons_of_contact(ctx.contact.id))
        )
    )
    roles = _join(ctx, [ctx.t(ROLE_WORDS.get(p.role, p.role.value)) for p in persons]) or "-"
    ids = [p.id for p in persons]
    if (withdrawn := withdrawn_status(ctx, case)) is not None:  # what STATUS and BOOK say, and what is kept
        return _("%(status)s Kept: the case number and your consents (%(consents)s).", status=withdrawn,
                 consents=_consents(ctx, case, ids))  # fmt: skip
    if ctx.session.get(FoundChild, case.id) is not None:
        return _("Found child %(reference)s, registered by you %(day)s: your name and phone are kept with it.",
                 reference=case.reference, day=_day(ctx, case.created_at))  # fmt: skip
    booking = own_booking(ctx, case)
    if booking is not None:
        s = booking_summary(ctx.session, booking, ctx.lang)
        appointment = f"{s.lab_name}, {_day(ctx, s.day)}"
    else:
        appointment = ctx.t(_("none"))
    name = casefile.short(ctx, case.child_name, casefile.ECHO_NAME) if case.child_name else "-"
    return _(
        "Case %(reference)s (reported %(day)s): %(status)s. Child: %(name)s. You: %(roles)s. Consents: "
        "%(consents)s. Appointment: %(appointment)s. Samples: %(samples)s.",
        reference=case.reference, day=_day(ctx, case.created_at), status=CASE_WORDS[case.status], name=name,
        roles=roles, consents=_consents(ctx, case, ids), appointment=appointment,
        samples=_samples(ctx, case, ids, case.reported_by_contact_id == ctx.contact.id),
    )  # fmt: skip


def kept_messages(ctx: Ctx) -> int:
    """Count the contact's messages that still hold something: an erased one (DELETE) keeps only its row, with
    no text and no photo, and is not counted."""
    photo = sa.exists().where(
        Attachment.message_id == Message.id,
        sa.or_(Attachment.url.is_not(None), Attachment.photo_id.is_not(None)),
    )
    query = sa.select(sa.func.count()).select_from(Message)
    query = query.where(Message.contact_id == ctx.contact.id, sa.or_(Message.body != "", photo))
    return int(ctx.session.scalar(query) or 0)


def say_my_data(ctx: Ctx) -> None:
    """Reply with what is kept about the contact, case by case, and how to delete it; audit the reading."""
    messages = kept_messages(ctx)
    cases = contact_cases(ctx)
    ctx.say(_contact_line(ctx, messages))
    for case in cases[-MAX_CASES:]:
        ctx.say(case_lines(ctx, case))
    if cases and all(withdrawn_status(ctx, c) is not None for c in cases):
        ctx.say(_("Your data was deleted. We never send DNA results by message."))
    elif any(ctx.session.get(FoundChild, c.id) is None for c in cases):
        ctx.say(_("Send DELETE to erase your data: you will be asked for your case PIN. We never send DNA "
                  "results by message."))  # fmt: skip
    else:
        ctx.say(_("Send DELETE to erase your data. We never send DNA results by message."))
    audit(ctx.session, ctx.actor, "contact.mydata", "contact", ctx.contact.id, cases=len(cases),
          messages=messages)  # fmt: skip
