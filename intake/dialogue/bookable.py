"""What the booking flow keeps and offers: its typed state, the cases that may be booked, and the day options.

A case is offered for booking only while it is open and both consents (DNA sampling, keeping the family's details)
stand; the core booking service checks consent again, this filter keeps the dialogue from offering what it refuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from babel.dates import format_date

from intake.cases.consent import consent_status
from intake.dialogue.casefile import short
from intake.dialogue.state import FlowState, need
from intake.dialogue.status import contact_cases, day_label, sampled_person
from intake.dialogue.steps import Ctx, Option
from intake.labs.appointments import BookingSummary, booking_summary
from intake.models import (
    CLOSED_STATUSES,
    Booking,
    Case,
    FoundChild,
    Lab,
    Person,
    Sample,
    SampleSource,
    SampleStatus,
    persons_of_contact,
)
from intake.platform.i18n import _

PICKER_SIZE, PICKER_NAME = 5, 12  # cases offered at once, and the echo of each child's name, to fit an SMS


@dataclass
class BookingState(FlowState):
    """The booking flow's choices so far."""

    cases: list[int] = field(default_factory=list)  # the cases offered by the picker
    more_cases: int = 0  # bookable cases not shown in the picker
    case_id: int | None = None
    booking_id: int | None = None  # the appointment being moved or cancelled
    place: str | None = None
    near: list[float] = field(
        default_factory=list
    )  # a shared location (latitude, longitude), instead of a place
    labs: list[int] = field(default_factory=list)
    lab_id: int | None = None
    days: list[date] = field(default_factory=list)
    day: date | None = None


def bookable_cases(ctx: Ctx) -> list[Case]:
    """Return the contact's open cases that have both consents, oldest first."""
    # The same guard the booking service applies: the dialogue must not offer what the service would refuse.
    return [c for c in contact_cases(ctx) if c.status not in CLOSED_STATUSES and consented(ctx, c)]


def consented(ctx: Ctx, case: Case) -> bool:
    """Tell whether the person whose sample this contact books has consented themselves (intake.cases.consent).

    A parent who joined the case must have consented themselves; the reporter's consent is not theirs, nor a
    sister's refusal the mother's. A found child's sampling rests on the basis recorded for the child.
    """
    return consent_status(ctx.session, case, sampled_person(ctx, case)).ok


def day_option(ctx: Ctx, key: str, day: date) -> Option:
    """Offer a day by its label, and take back how people write it ("12月1日", "1 Dec", "Tue 1 Dec", ISO)."""
    words = (
        day.isoformat(), f"{day.month}月{day.day}日", f"{day.month}月{day.day}号",
        str(format_date(day, "M月d日EEE", locale="zh_CN")), str(format_date(day, "EEE d MMM", locale="en")),
        str(format_date(day, "d MMM", locale="en")), str(format_date(day, "MMM d", locale="en")),
    )  # fmt: skip
    return Option(key, day_label(ctx, day), words)


def case_options(ctx: Ctx, ids: list[int]) -> tuple[list[Case], tuple[Option, ...]]:
    """Return the cases and their picker options: reference and child's name, the reference alone also picks."""
    cases = [ctx.session.get_one(Case, i) for i in ids]
    options = tuple(
        Option(str(n), f"{c.reference} {short(ctx, c.child_name or '', PICKER_NAME)}".strip(), (c.reference,))
        for n, c in enumerate(cases, 1)
    )
    return cases, options


def lab_name(ctx: Ctx, lab: Lab) -> str:
    """Return the lab's name in the contact's language."""
    return lab.name_in(ctx.lang)


def reporter(ctx: Ctx, case: Case) -> Person | None:
    """Return the person this contact is in the case (the parent who reported it)."""
    query = sa.select(Person).where(Person.case_id == case.id, persons_of_contact(ctx.contact.id))
    return ctx.session.scalars(query.order_by(Person.id)).first()


@dataclass(frozen=True)
class Party:
    """Whose sample a booking is for, from which source, and the sample it books if the case has one already."""

    person: Person | None
    source: SampleSource
    sample: Sample | None = None
    for_child: bool = False  # a volunteer books a found child: the booking is not the volunteer's own


def booking_party(ctx: Ctx, case: Case) -> Party:
    """Return whose sample this contact books: their own, or a found child's (the sample coded when registered)."""
    person = sampled_person(ctx, case)
    found = ctx.session.get(FoundChild, case.id)
    if found is None or person is None:
        return Party(person, SampleSource.REPORTING_PARENT)
    unbooked = sa.select(Sample).where(
        Sample.person_id == person.id, Sample.booking_id.is_(None), Sample.status != SampleStatus.CANCELLED
    )
    return Party(
        person, found.source, ctx.session.scalars(unbooked.order_by(Sample.id)).first(), for_child=True
    )


def summary(ctx: Ctx) -> BookingSummary:
    """Return where and when the appointment being moved or cancelled is."""
    booking = ctx.session.get_one(Booking, need(BookingState.load(ctx.data).booking_id))
    return booking_summary(ctx.session, booking, ctx.lang)


def say_booked(ctx: Ctx) -> None:
    """Tell the person where and when to go, and the sample code to bring (a volunteer: the child's code)."""
    s = summary(ctx)
    found = ctx.session.get(FoundChild, need(BookingState.load(ctx.data).case_id)) is not None
    if found:
        ctx.say(_("Booked for the child: %(day)s %(hours)s, %(lab)s, %(address)s, tel %(phone)s. The child's "
                  "sample code is %(code)s: whoever brings the child shows it.", day=day_label(ctx, s.day),
                  hours=s.opening_hours, lab=s.lab_name, address=s.address, phone=s.phone or "-",
                  code=s.sample_code or "-"), code=s.sample_code)  # fmt: skip
    else:
        # The case is named, so the parent can tell this from a scam.
        case = ctx.session.get_one(Case, need(BookingState.load(ctx.data).case_id))
        ctx.say(_("Booked for case %(reference)s: %(day)s %(hours)s, %(lab)s, %(address)s, tel %(phone)s. Sample "
                  "code %(code)s: bring it and your ID card.", reference=case.reference, day=day_label(ctx, s.day),
                  hours=s.opening_hours, lab=s.lab_name, address=s.address, phone=s.phone or "-",
                  code=s.sample_code or "-"), code=s.sample_code)  # fmt: skip
    if s.is_demo:
        ctx.say(_("Note: this is a DEMO lab for testing, not a real place."))
    if found:
        ctx.say(_("Send NEXT to register another child, or CHILDREN to see the children you registered."))
