"""The booking flow: pick a case, name a city or province, pick a lab and a day, confirm; or move or cancel.

Only a case with both consents on record (DNA sampling and keeping the family's details) is offered for booking.
Days are shown as labels ("Tue 24 Nov", "11月24日周二") and those labels are accepted back as answers.
"""

from __future__ import annotations

import re
from functools import partial

from intake.dialogue import other_parent
from intake.dialogue.bookable import (
    PICKER_SIZE,
    BookingState,
    bookable_cases,
    booking_party,
    case_options,
    day_option,
    lab_name,
    say_booked,
    summary,
)
from intake.dialogue.other_parent import OTHER_PARENT
from intake.dialogue.state import need
from intake.dialogue.status import contact_cases, day_label, own_booking, withdrawn_status
from intake.dialogue.steps import END, Ctx, Flow, Option, Question, Step, StepGone
from intake.dialogue.vocabulary import CANCEL_WORDS, CHANGE_WORDS, KEEP_WORDS, NO_WORDS, YES_WORDS
from intake.labs import appointments
from intake.labs.directory import LabOption, find_labs, free_days, nearest_labs, no_labs_reason
from intake.models import CLOSED_STATUSES, Booking, BookingStatus, Case, CaseStatus, FoundChild, Lab
from intake.platform.errors import ConsentRequiredError, InputError, SlotFullError
from intake.platform.i18n import Msg, _

PICK_CASE, MANAGE, PLACE = "book.pick_case", "book.manage", "book.place"
LAB, DAY, CONFIRM, CANCEL_CONFIRM = "book.lab", "book.day", "book.confirm", "book.cancel_confirm"

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
NEAREST = 3  # labs offered near a shared location
_GPS = re.compile(r"GPS (-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")  # a place found given as a shared location


def start(ctx: Ctx) -> str:
    """Begin booking for the contact's case, asking which one if there are several."""
    cases = bookable_cases(ctx)
    withdrawn = [w for w in map(partial(withdrawn_status, ctx), contact_cases(ctx)[-3:]) if w is not None]
    if not cases and withdrawn:  # the same words as STATUS and MYDATA
        for line in withdrawn:
            ctx.say(line)
        return END
    if not cases:
        ctx.say(_("You have no case to book for yet. Send REPORT to report a missing child first."))
        return END
    if len(cases) == 1:
        return start_for_case(ctx, cases[0].id)
    shown = cases[-PICKER_SIZE:]
    BookingState(cases=[c.id for c in shown], more_cases=len(cases) - len(shown)).save(ctx)
    return PICK_CASE


def start_for_case(ctx: Ctx, case_id: int) -> str:
    """Begin booking for one case: manage its appointment if it has one, else book a new one (a found child's
    at a lab near the place found, without asking where again)."""
    case = ctx.session.get_one(Case, case_id)
    booking = own_booking(ctx, case)
    BookingState(case_id=case_id, booking_id=booking.id if booking else None).save(ctx)
    if booking is not None:
        return MANAGE
    found = _found_child_place(ctx, case)
    if found is not None:
        found.save(ctx)
        return LAB
    return PLACE


def _found_child_place(ctx: Ctx, case: Case) -> BookingState | None:
    """Return where to look for labs for a found child's sampling (its shared location, or the place found when
    labs are found there), or None when the case is no found child or no lab is found there."""
    if case.reported_by_contact_id is not None:  # a family's report (no look-up: this is every parent's path)
        return None
    case_id = case.id
    found = ctx.session.get(FoundChild, case_id)
    if found is None:
        return None
    gps = _GPS.fullmatch(found.found_place)
    if gps is not None:
        return BookingState(case_id=case_id, near=[float(gps.group(1)), float(gps.group(2))])
    if find_labs(ctx.session, found.found_place, today=ctx.today, limit=1):
        return BookingState(case_id=case_id, place=found.found_place)
    return None


def start_cancel(ctx: Ctx) -> str:
    """Offer to cancel the contact's latest appointment (CANCEL sent outside any flow)."""
    for case in reversed(contact_cases(ctx)):
        booking = own_booking(ctx, case)
        if booking is not None:
            BookingState(case_id=case.id, booking_id=booking.id).save(ctx)
            return CANCEL_CONFIRM
    ctx.say(_("There is nothing to cancel. Send HELP to see what you can do."))
    return END


def ask_pick_case(ctx: Ctx) -> Question:
    st = BookingState.load(ctx.data)
    cases, options = case_options(ctx, st.cases)
    if st.more_cases:
        return Question(_("Which case is the appointment for? (the latest %(shown)s of %(total)s)",
                          shown=len(cases), total=len(cases) + st.more_cases), options)  # fmt: skip
    return Question(_("Which case is the appointment for?"), options)


def on_pick_case(ctx: Ctx) -> str:
    """Take the case the appointment is for."""
    picked = ctx.choose(ask_pick_case(ctx).options)
    return start_for_case(ctx, BookingState.load(ctx.data).cases[int(picked) - 1])


def ask_manage(ctx: Ctx) -> Question:
    s = summary(ctx)
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
    return Question(_("Which city or province are you in? (like Guangzhou or Guangdong)"))


def _near_location(ctx: Ctx) -> bool:
    """Look for labs near the location the person shared (a chat app), if they shared one; tell whether they did."""
    if ctx.incoming.location is None:
        return False
    near = nearest_labs(ctx.session, *ctx.incoming.location, limit=NEAREST)
    if not any(free_days(ctx.session, n.lab, today=ctx.today, count=1) for n in near):
        raise InputError("No lab near you has a free day soon. Send a city or province.")
    BookingState.keep(ctx, place=None, near=list(ctx.incoming.location))
    return True


def _offered_labs(ctx: Ctx, st: BookingState) -> list[LabOption]:
    """Return the labs to offer: nearest the shared location, else of the place named; each with its free days."""
    if st.near:
        near = nearest_labs(ctx.session, st.near[0], st.near[1], limit=NEAREST)
        options = [LabOption(n.lab, free_days(ctx.session, n.lab, today=ctx.today)) for n in near]
        return [o for o in options if o.days]
    return find_labs(ctx.session, need(st.place), today=ctx.today, limit=5)


def on_place(ctx: Ctx) -> str:
    """Take the city or province to look for labs in."""
    if _near_location(ctx):
        return LAB
    if not find_labs(ctx.session, ctx.text, today=ctx.today, limit=1):
        raise no_labs_reason(ctx.session, ctx.text, today=ctx.today)
    BookingState.keep(ctx, place=ctx.text, near=[])
    return LAB


def ask_lab(ctx: Ctx) -> Question:
    st = BookingState.load(ctx.data)
    found = _offered_labs(ctx, st)
    st.labs = [o.lab.id for o in found]
    st.save(ctx)
    options = tuple(
        Option(str(n), f"{lab_name(ctx, o.lab)} {day_label(ctx, o.days[0].day)}")
        for n, o in enumerate(found, 1)
    )
    if not options:
        return Question(_("No lab there has a free day soon. Send another city or province."))
    return Question(_("Choose a lab (with its first free day):"), options)


def on_lab(ctx: Ctx) -> str:
    """Take the lab picked, or look again in another place."""
    st = BookingState.load(ctx.data)
    # Each label is its number: an empty label would match an empty message (a photo alone) and pick lab 1.
    options = tuple(Option(str(n), str(n)) for n in range(1, len(st.labs) + 1))
    try:
        st.lab_id = st.labs[int(ctx.choose(options)) - 1]
    except InputError:
        if _near_location(ctx):
            return LAB
        if find_labs(ctx.session, ctx.text, today=ctx.today, limit=1):
            BookingState.keep(ctx, place=ctx.text, near=[])
            return LAB
        raise InputError("Reply with a lab's number, or another city or province.") from None
    st.save(ctx)
    return DAY


def ask_day(ctx: Ctx) -> Question:
    st = BookingState.load(ctx.data)
    lab = ctx.session.get_one(Lab, need(st.lab_id))
    st.days = [d.day for d in free_days(ctx.session, lab, today=ctx.today, count=5)]
    st.save(ctx)
    options = tuple(day_option(ctx, str(n), d) for n, d in enumerate(st.days, 1))
    if not options:
        return Question(_("%(lab)s has no free day soon.", lab=lab_name(ctx, lab)), (OTHER_LAB,))
    return Question(_("Choose a day at %(lab)s (open %(hours)s):", lab=lab_name(ctx, lab), hours=lab.opening_hours),
                    (*options, OTHER_LAB))  # fmt: skip


def on_day(ctx: Ctx) -> str:
    """Take the day picked (a day that has passed meanwhile offers the days again), or go back to the labs."""
    st = BookingState.load(ctx.data)
    picked = ctx.choose((*(day_option(ctx, str(n), d) for n, d in enumerate(st.days, 1)), OTHER_LAB))
    if picked == OTHER_LAB.key:
        return LAB
    st.day = st.days[int(picked) - 1]
    if st.day <= ctx.today:  # lab days start tomorrow: an answer a day late must not book today or the past
        raise InputError("%(day)s has passed. Please choose another day.", day=day_label(ctx, st.day))
    st.save(ctx)
    return CONFIRM


def ask_confirm(ctx: Ctx) -> Question:
    st = BookingState.load(ctx.data)
    lab = ctx.session.get_one(Lab, need(st.lab_id))
    return Question(_("Book %(lab)s on %(day)s, %(hours)s?", lab=lab_name(ctx, lab), day=day_label(ctx, need(st.day)),
                      hours=lab.opening_hours), CONFIRM_OPTIONS)  # fmt: skip


def on_confirm(ctx: Ctx) -> str:
    """Book or move the appointment; a day that has passed or just filled up offers the days again."""
    if ctx.choose(CONFIRM_OPTIONS) == "2":
        return DAY
    st = BookingState.load(ctx.data)
    case, lab_id, day = ctx.session.get_one(Case, need(st.case_id)), need(st.lab_id), need(st.day)
    if day <= ctx.today:  # the person confirmed after the day: offer the days from now on
        ctx.say(_("%(day)s has passed. Please choose another day.", day=day_label(ctx, day)))
        return DAY
    try:
        with ctx.session.begin_nested():  # a full day must not leave half a booking behind
            if st.booking_id is not None:
                booking = ctx.session.get_one(Booking, st.booking_id)
                appointments.reschedule(
                    ctx.session, booking, lab_id=lab_id, day=day, actor=ctx.actor, today=ctx.today
                )
            else:
                party = booking_party(ctx, case)
                booking = appointments.book(
                    ctx.session, case=case, lab_id=lab_id, day=day, person=party.person,
                    contact=None if party.for_child else ctx.contact,  # a volunteer's erasure keeps the child's
                    source=party.source, actor=ctx.actor, today=ctx.today, sample=party.sample,
                )  # fmt: skip
    except SlotFullError:
        ctx.say(_("Sorry, that day has just filled up. Please choose another day."))
        return DAY
    except ConsentRequiredError as exc:  # the person's own consent no longer stands: asking again cannot help
        ctx.say(Msg(exc.message, exc.params))
        return END
    except InputError:  # the lab no longer takes samples that day; the core's reason would show an ISO date
        ctx.say(_("%(day)s can no longer be booked. Please choose another day.", day=day_label(ctx, day)))
        return DAY
    moved = st.booking_id is not None
    st.booking_id = booking.id
    st.save(ctx)
    say_booked(ctx)
    return END if moved else other_parent.after_booking(ctx)


def ask_cancel_confirm(ctx: Ctx) -> Question:
    s = summary(ctx)
    return Question(_("Cancel your appointment at %(lab)s on %(day)s?", lab=s.lab_name, day=day_label(ctx, s.day)),
                    CANCEL_OPTIONS)  # fmt: skip


def on_cancel_confirm(ctx: Ctx) -> str:
    """Cancel the appointment once the person confirms."""
    if ctx.choose(CANCEL_OPTIONS) == "2":
        ctx.say(_("OK, your appointment stays as it is."))
        return END
    booking = ctx.session.get_one(Booking, need(BookingState.load(ctx.data).booking_id))
    appointments.cancel(ctx.session, booking, actor=ctx.actor)
    reference = ctx.session.get_one(Case, booking.case_id).reference
    ctx.say(_("Your appointment for case %(reference)s is cancelled. Send BOOK to make a new one.",
              reference=reference))  # fmt: skip
    return END


BOOKING_STEPS = (PLACE, LAB, DAY, CONFIRM)  # the steps that lead to booking or moving: consent must stand


def still_applies(ctx: Ctx, step: str) -> None:
    """Raise StepGone when the case or the appointment a booking step is about changed meanwhile.

    Another person may act on the case between two messages: the reporter withdraws it (DELETE), which cancels
    its appointments. The step is then not asked again: the person is told why.
    """
    if (
        step == OTHER_PARENT
    ):  # the question about the other parent checks itself (intake.dialogue.other_parent)
        return
    st = BookingState.load(ctx.data)
    case = ctx.session.get(Case, st.case_id) if st.case_id is not None else None
    if case is None:  # the picker: no case chosen yet
        return
    if case.status == CaseStatus.WITHDRAWN:
        raise StepGone(_("Case %(reference)s was withdrawn, so no appointment can be booked or changed for it. "
                         "Send STATUS to see your cases.", reference=case.reference))  # fmt: skip
    if st.booking_id is not None and step != PICK_CASE:
        booking = ctx.session.get(Booking, st.booking_id)
        if booking is None or booking.status != BookingStatus.BOOKED:
            raise StepGone(_("That appointment is no longer booked. Send BOOK to make a new one, or STATUS to see "
                             "your case."))  # fmt: skip
    # Another person's answers never change this person's consent (intake.cases.consent), and the reporter's DELETE
    # withdraws the case (above): the booking service checks the person's consent again when it books.
    if step in BOOKING_STEPS and case.status in CLOSED_STATUSES:
        raise StepGone(_("Case %(reference)s is closed, so no appointment can be booked for it. Send STATUS to "
                         "see your case.", reference=case.reference))  # fmt: skip


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
        Step(CONFIRM, ask_confirm, on_confirm, {END: "booked / moved / consent gone", DAY: "another day / day passed or full",
                                                OTHER_PARENT: "booked, a parent"}),
        Step(OTHER_PARENT, other_parent.ask_other_parent, other_parent.on_other_parent, {END: "yes: how to JOIN / no"}),
        Step(CANCEL_CONFIRM, ask_cancel_confirm, on_cancel_confirm, {END: "cancelled / kept"}),
    ),
    guard=still_applies,
)  # fmt: skip
