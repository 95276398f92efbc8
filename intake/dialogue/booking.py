"""The booking flow: pick a case, name a city or province, pick a lab and a day, confirm; or move or cancel."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from intake import booking as appointments
from intake.dialogue.status import contact_cases, day_label
from intake.dialogue.steps import END, Ctx, Flow, Option, Question, Step, is_english
from intake.dialogue.vocabulary import CANCEL_WORDS, CHANGE_WORDS, KEEP_WORDS, NO_WORDS, YES_WORDS
from intake.errors import InputError, SlotFullError
from intake.i18n import _
from intake.labs import find_labs, free_days, no_labs_reason
from intake.models import Booking, Case, CaseStatus, Lab, Person, SampleSource

PICK_CASE, MANAGE, PLACE = "book.pick_case", "book.manage", "book.place"
LAB, DAY, CONFIRM, CANCEL_CONFIRM = "book.lab", "book.day", "book.confirm", "book.cancel_confirm"

CLOSED = (CaseStatus.REUNITED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN)
MANAGE_OPTIONS = (
    Option("1", _("Change it"), CHANGE_WORDS),
    Option("2", _("Cancel it"), CANCEL_WORDS),
    Option("3", _("Keep it"), KEEP_WORDS),
)
CONFIRM_OPTIONS = (
    Option("1", _("Confirm"), YES_WORDS),
    Option("2", _("Another day"), ("换", "换一天", "another")),
)
CANCEL_OPTIONS = (
    Option("1", _("Yes, cancel"), YES_WORDS + CANCEL_WORDS),
    Option("2", _("No, keep it"), NO_WORDS + KEEP_WORDS),
)
OTHER_LAB = Option("0", _("Another lab"))


def _bookable(ctx: Ctx) -> list[Case]:
    return [
        c
        for c in contact_cases(ctx)
        if c.status not in CLOSED and appointments.has_sampling_consent(ctx.session, c)
    ]


def start(ctx: Ctx) -> str:
    """Begin booking for the contact's case, asking which one if there are several."""
    cases = _bookable(ctx)
    if not cases:
        ctx.say(_("You have no case to book for yet. Send REPORT to report a missing child first."))
        return END
    if len(cases) == 1:
        return start_for_case(ctx, cases[0].id)
    ctx.data.clear()
    ctx.data["cases"] = [c.id for c in cases[-5:]]
    return PICK_CASE


def start_for_case(ctx: Ctx, case_id: int) -> str:
    """Begin booking for one case: manage its appointment if it has one, else book a new one."""
    ctx.data.clear()
    ctx.data["case_id"] = case_id
    booking = appointments.active_booking(ctx.session, ctx.session.get_one(Case, case_id))
    if booking is not None:
        ctx.data["booking_id"] = booking.id
        return MANAGE
    return PLACE


def start_cancel(ctx: Ctx) -> str:
    """Offer to cancel the contact's latest appointment (CANCEL sent outside any flow)."""
    for case in reversed(contact_cases(ctx)):
        booking = appointments.active_booking(ctx.session, case)
        if booking is not None:
            ctx.data.clear()
            ctx.data.update(case_id=case.id, booking_id=booking.id)
            return CANCEL_CONFIRM
    ctx.say(_("There is nothing to cancel. Send HELP to see what you can do."))
    return END


def _summary(ctx: Ctx) -> appointments.BookingSummary:
    booking = ctx.session.get_one(Booking, ctx.data["booking_id"])
    return appointments.booking_summary(ctx.session, booking, ctx.lang)


def ask_pick_case(ctx: Ctx) -> Question:
    refs = [ctx.session.get_one(Case, i).reference for i in ctx.data["cases"]]
    return Question(
        _("Which case is the appointment for?"), tuple(Option(str(n), r) for n, r in enumerate(refs, 1))
    )


def on_pick_case(ctx: Ctx) -> str:
    """Take the case the appointment is for."""
    picked = ctx.choose(ask_pick_case(ctx).options)
    return start_for_case(ctx, ctx.data["cases"][int(picked) - 1])


def ask_manage(ctx: Ctx) -> Question:
    s = _summary(ctx)
    return Question(
        _("Your appointment: %(lab)s, %(day)s.", lab=s.lab_name, day=day_label(ctx, s.day)), MANAGE_OPTIONS
    )


def on_manage(ctx: Ctx) -> str:
    """Move, cancel or keep the existing appointment."""
    picked = ctx.choose(MANAGE_OPTIONS)
    if picked == "1":
        return PLACE
    if picked == "2":
        return CANCEL_CONFIRM
    ctx.say(_("OK, your appointment stays as it is."))
    return END


def ask_place(ctx: Ctx) -> Question:
    return Question(_("Which city or province are you in? (like 广州 or 广东)"))


def on_place(ctx: Ctx) -> str:
    """Take the city or province to look for labs in."""
    if not find_labs(ctx.session, ctx.text, today=ctx.today, limit=1):
        raise no_labs_reason(ctx.session, ctx.text, today=ctx.today)
    ctx.data["place"] = ctx.text
    return LAB


def _lab_name(ctx: Ctx, lab: Lab) -> str:
    return lab.name_en if is_english(ctx) and lab.name_en else lab.name


def ask_lab(ctx: Ctx) -> Question:
    found = find_labs(ctx.session, ctx.data["place"], today=ctx.today, limit=5)
    ctx.data["labs"] = [o.lab.id for o in found]
    options = tuple(
        Option(str(n), f"{_lab_name(ctx, o.lab)} {day_label(ctx, o.days[0].day)}")
        for n, o in enumerate(found, 1)
    )
    if not options:
        return Question(_("No lab there has a free day soon. Send another city or province."))
    return Question(_("Choose a lab (with its first free day):"), options)


def on_lab(ctx: Ctx) -> str:
    """Take the lab picked, or look again in another place."""
    options = tuple(Option(str(n), "") for n in range(1, len(ctx.data.get("labs", [])) + 1))
    try:
        ctx.data["lab_id"] = ctx.data["labs"][int(ctx.choose(options)) - 1]
    except InputError:
        if find_labs(ctx.session, ctx.text, today=ctx.today, limit=1):
            ctx.data["place"] = ctx.text
            return LAB
        raise InputError("Reply with a lab's number, or another city or province.") from None
    return DAY


def ask_day(ctx: Ctx) -> Question:
    lab = ctx.session.get_one(Lab, ctx.data["lab_id"])
    days = free_days(ctx.session, lab, today=ctx.today, count=5)
    ctx.data["days"] = [d.day.isoformat() for d in days]
    options = tuple(Option(str(n), day_label(ctx, d.day)) for n, d in enumerate(days, 1))
    if not options:
        return Question(_("%(lab)s has no free day soon.", lab=_lab_name(ctx, lab)), (OTHER_LAB,))
    return Question(_("Choose a day at %(lab)s (open %(hours)s):", lab=_lab_name(ctx, lab), hours=lab.opening_hours),
                    (*options, OTHER_LAB))  # fmt: skip


def on_day(ctx: Ctx) -> str:
    """Take the day picked, or go back to the labs."""
    days = ctx.data.get("days", [])
    picked = ctx.choose((*(Option(str(n), d) for n, d in enumerate(days, 1)), OTHER_LAB))
    if picked == OTHER_LAB.key:
        return LAB
    ctx.data["day"] = days[int(picked) - 1]
    return CONFIRM


def ask_confirm(ctx: Ctx) -> Question:
    lab = ctx.session.get_one(Lab, ctx.data["lab_id"])
    day = day_label(ctx, date.fromisoformat(ctx.data["day"]))
    return Question(_("Book %(lab)s on %(day)s, %(hours)s?", lab=_lab_name(ctx, lab), day=day,
                      hours=lab.opening_hours), CONFIRM_OPTIONS)  # fmt: skip


def _reporter(ctx: Ctx, case: Case) -> Person | None:
    query = sa.select(Person).where(Person.case_id == case.id, Person.contact_id == ctx.contact.id)
    return ctx.session.scalars(query.order_by(Person.id)).first()


def on_confirm(ctx: Ctx) -> str:
    """Book or move the appointment; a day that just filled up offers the other days again."""
    if ctx.choose(CONFIRM_OPTIONS) == "2":
        return DAY
    case = ctx.session.get_one(Case, ctx.data["case_id"])
    lab_id, day = int(ctx.data["lab_id"]), date.fromisoformat(ctx.data["day"])
    try:
        with ctx.session.begin_nested():  # a full day must not leave half a booking behind
            if "booking_id" in ctx.data:
                booking = ctx.session.get_one(Booking, ctx.data["booking_id"])
                appointments.reschedule(
                    ctx.session, booking, lab_id=lab_id, day=day, actor=ctx.actor, today=ctx.today
                )
            else:
                booking = appointments.book(
                    ctx.session, case=case, lab_id=lab_id, day=day, person=_reporter(ctx, case), contact=ctx.contact,
                    source=SampleSource.REPORTING_PARENT, actor=ctx.actor, today=ctx.today,
                )  # fmt: skip
    except SlotFullError:
        ctx.say(_("Sorry, that day has just filled up. Please choose another day."))
        return DAY
    ctx.data["booking_id"] = booking.id
    _say_booked(ctx)
    return END


def _say_booked(ctx: Ctx) -> None:
    s = _summary(ctx)
    ctx.say(_("Booked: %(day)s %(hours)s, %(lab)s, %(address)s, tel %(phone)s. Sample code %(code)s: bring it "
              "and your ID card.", day=day_label(ctx, s.day), hours=s.opening_hours, lab=s.lab_name,
              address=s.address, phone=s.phone or "-", code=s.sample_code or "-"))  # fmt: skip
    if s.is_demo:
        ctx.say(_("Note: this is a DEMO lab for testing, not a real place."))


def ask_cancel_confirm(ctx: Ctx) -> Question:
    s = _summary(ctx)
    return Question(_("Cancel your appointment at %(lab)s on %(day)s?", lab=s.lab_name, day=day_label(ctx, s.day)),
                    CANCEL_OPTIONS)  # fmt: skip


def on_cancel_confirm(ctx: Ctx) -> str:
    """Cancel the appointment once the person confirms."""
    if ctx.choose(CANCEL_OPTIONS) == "2":
        ctx.say(_("OK, your appointment stays as it is."))
        return END
    appointments.cancel(ctx.session, ctx.session.get_one(Booking, ctx.data["booking_id"]), actor=ctx.actor)
    ctx.say(_("Your appointment is cancelled. Send BOOK to make a new one."))
    return END


FLOW = Flow(
    "book",
    {PICK_CASE: "BOOK, several cases", MANAGE: "BOOK, has an appointment", PLACE: "BOOK",
     CANCEL_CONFIRM: "CANCEL outside a flow"},
    (
        Step(PICK_CASE, ask_pick_case, on_pick_case, {MANAGE: "case has appointment", PLACE: "case"}),
        Step(MANAGE, ask_manage, on_manage, {PLACE: "1 change", CANCEL_CONFIRM: "2 cancel", END: "3 keep"}),
        Step(PLACE, ask_place, on_place, {LAB: "city or province"}),
        Step(LAB, ask_lab, on_lab, {DAY: "lab", LAB: "another place"}),
        Step(DAY, ask_day, on_day, {CONFIRM: "day", LAB: "0 another lab"}),
        Step(CONFIRM, ask_confirm, on_confirm, {END: "booked / moved", DAY: "another day / day full"}),
        Step(CANCEL_CONFIRM, ask_cancel_confirm, on_cancel_confirm, {END: "cancelled / kept"}),
    ),
)  # fmt: skip
