"""The status a parent can ask for: each of their cases, its appointment and its sample, in words (never DNA data)."""

from __future__ import annotations

import sqlalchemy as sa
from babel.dates import format_date

from intake.cases.erasure import followed_by_others
from intake.cases.family import contact_cases as cases_of_contact
from intake.dialogue.casefile import ROLE_WORDS
from intake.dialogue.steps import Ctx, is_english
from intake.labs.appointments import booking_summary
from intake.models import (
    Booking,
    BookingStatus,
    Case,
    CaseStatus,
    Consent,
    CustodyState,
    FoundChild,
    Person,
    Role,
    Sample,
    SampleStatus,
    persons_of_contact,
)
from intake.platform.i18n import Msg, _
from intake.samples.progress import SampleProgress, case_sample_progress

CASE_WORDS = {
    CaseStatus.OPEN: _("open, waiting for a DNA sample"),
    CaseStatus.SAMPLING_BOOKED: _("sampling appointment booked"),
    CaseStatus.SAMPLED: _("sample taken, being tested"),
    CaseStatus.PROFILED: _("tested, searching the database"),
    # A candidate match is told to the family only after an officer confirms it, so until then it reads as searching.
    CaseStatus.CANDIDATE_MATCH: _("tested, searching the database"),
    CaseStatus.FAMILY_TOLD: _("a possible match was found: an officer will contact you"),
    CaseStatus.REUNITED: _("reunited"),
    CaseStatus.CLOSED: _("closed"),
    CaseStatus.WITHDRAWN: _("withdrawn"),
}
STATUS_SIZE = 3  # cases STATUS shows, the latest first
FINISHED = (CaseStatus.REUNITED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
SAMPLE_WORDS = {
    SampleStatus.AWAITING_COLLECTION: _("not taken yet"),
    SampleStatus.COLLECTED: _("taken"),
    SampleStatus.PROFILED: _("tested"),
    SampleStatus.REJECTED: _("could not be used; the lab will contact you"),
    SampleStatus.CANCELLED: _("cancelled"),
}

# Each person's sample in the family's status, from its custody: how far the lab got, never what it found.
PROGRESS_WORDS = {
    CustodyState.AWAITING_COLLECTION: _("booked"),
    CustodyState.COLLECTED: _("taken"),
    CustodyState.RECEIVED: _("at the lab"),
    CustodyState.TYPED: _("typed"),
    CustodyState.DESTROYED: _("could not be used"),
}


def day_label(ctx: Ctx, day: object) -> str:
    """Format an appointment day short and clear in the contact's language ("12月4日周五", "Fri 4 Dec")."""
    if is_english(ctx):
        return format_date(day, "EEE d MMM", locale="en")  # type: ignore[arg-type]
    return format_date(day, "M月d日EEE", locale="zh_CN")  # type: ignore[arg-type]


def contact_cases(ctx: Ctx) -> list[Case]:
    """Return the cases this contact reported or joined, oldest first."""
    return cases_of_contact(ctx.session, ctx.contact)


def sampled_person(ctx: Ctx, case: Case) -> Person | None:
    """Return whose sample this contact books in the case: their own, or the child's of a found child they registered."""
    if (
        ctx.session.get(FoundChild, case.id) is not None
    ):  # the volunteer who registered it books for the child
        query = sa.select(Person).where(Person.case_id == case.id, Person.role == Role.CHILD)
    else:
        query = sa.select(Person).where(Person.case_id == case.id, persons_of_contact(ctx.contact.id))
    return ctx.session.scalars(query.order_by(Person.id)).first()


def own_booking(ctx: Ctx, case: Case) -> Booking | None:
    """Return the contact's own active appointment in the case (each person books their own; a volunteer the child's)."""
    found = sampled_person(ctx, case)
    person = found.id if found else None
    query = sa.select(Booking).where(Booking.case_id == case.id, Booking.status == BookingStatus.BOOKED)
    query = query.where(Booking.person_id.is_(None) if person is None else Booking.person_id == person)
    return ctx.session.scalars(query.order_by(Booking.id.desc())).first()


def _progress_line(ctx: Ctx, progress: list[SampleProgress]) -> str:
    items = [
        ctx.t(_("%(who)s: %(state)s", who=ROLE_WORDS.get(p.role, p.code) if p.role else p.code,
                state=PROGRESS_WORDS.get(p.state, p.state.value)))
        for p in progress
    ]  # fmt: skip
    return (", " if is_english(ctx) else "，").join(items)


def withdrawn_status(ctx: Ctx, case: Case) -> Msg | None:
    """Say how the contact withdrew from the case (DELETE), or None if they did not: STATUS, BOOK and MYDATA all
    say it in these words. The case is withdrawn, or it stays open for another family member while this
    contact's own consents to it are all withdrawn (they erased their part)."""
    if case.status == CaseStatus.WITHDRAWN:
        return _("Case %(reference)s: withdrawn at your request, your data deleted. Send REPORT to report a child "
                 "again.", reference=case.reference)  # fmt: skip
    persons = sa.select(Person.id).where(Person.case_id == case.id, persons_of_contact(ctx.contact.id))
    consents = ctx.session.scalars(
        sa.select(Consent).where(
            Consent.case_id == case.id,
            sa.or_(Consent.contact_id == ctx.contact.id, Consent.person_id.in_(persons)),
        )
    ).all()
    left = any(c.withdrawn_at for c in consents) and not any(
        c.granted and not c.withdrawn_at for c in consents
    )
    if left and followed_by_others(ctx.session, case, ctx.contact):
        return _("Case %(reference)s: you withdrew from it, your data deleted. It stays open for the other family "
                 "member who follows it.", reference=case.reference)  # fmt: skip
    return None


def case_status(ctx: Ctx, case: Case) -> Msg:
    """Describe one case: reference, status, the contact's appointment or sample, and each person's sample."""
    if (withdrawn := withdrawn_status(ctx, case)) is not None:
        return withdrawn
    own = _own_samples(ctx, case)
    status = _own_status(ctx, case, own)
    progress = case_sample_progress(ctx.session, case)
    if case.status in FINISHED or not any(p.code not in {o.code for o in own} for p in progress):
        return status
    return _("%(status)s Samples: %(samples)s.", status=status, samples=_progress_line(ctx, progress))


def _own_samples(ctx: Ctx, case: Case) -> list[Sample]:
    # The contact's own samples (and any of the case without a person, booked before persons were recorded).
    found = sampled_person(ctx, case)
    mine = [found.id] if found else []
    query = sa.select(Sample).where(
        Sample.case_id == case.id,
        Sample.status != SampleStatus.CANCELLED,
        sa.or_(Sample.person_id.is_(None), Sample.person_id.in_(mine)),
    )
    return list(ctx.session.scalars(query.order_by(Sample.id.desc())))


def _own_status(ctx: Ctx, case: Case, own: list[Sample]) -> Msg:
    head = _("Case %(reference)s: %(status)s.", reference=case.reference, status=CASE_WORDS[case.status])
    if case.status in FINISHED:
        return head  # a withdrawn, closed or reunited case cannot be booked: no "send BOOK"
    booking = own_booking(ctx, case)
    if booking is not None:
        s = booking_summary(ctx.session, booking, ctx.lang)
        taken = next((x.status for x in own if x.code == s.sample_code), SampleStatus.AWAITING_COLLECTION)
        return _("%(head)s Appointment: %(lab)s, %(day)s %(hours)s. Sample %(code)s: %(sample)s.", head=head,
                 lab=s.lab_name, day=day_label(ctx, s.day), hours=s.opening_hours, code=s.sample_code or "-",
                 sample=SAMPLE_WORDS[taken])  # fmt: skip
    if own:
        return _("%(head)s Sample %(code)s: %(sample)s.", head=head, code=own[0].code,
                 sample=SAMPLE_WORDS[own[0].status])  # fmt: skip
    return _("%(head)s No appointment yet: send BOOK.", head=head)


def say_status(ctx: Ctx) -> None:
    """Reply with the status of each of the contact's cases, or how to report one."""
    cases = contact_cases(ctx)
    if not cases:
        ctx.say(_("You have not reported a missing child yet. Send REPORT to start."))
    for case in cases[-STATUS_SIZE:]:  # the latest three keep the reply short
        ctx.say(case_status(ctx, case))
    if len(cases) > STATUS_SIZE:  # say what is not shown
        ctx.say(_("And %(count)s earlier cases, not shown here.", count=len(cases) - STATUS_SIZE))
