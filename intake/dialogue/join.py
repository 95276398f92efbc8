"""The JOIN flow: the child's other parent or a relative joins a case from their own phone, consents, and books.

`JOIN <case ref> <PIN>` (`加入`), or JOIN alone and then the reference and the PIN. The person says how they are
related to the missing child, `intake.family.join_case` checks the reference and PIN (wrong tries share LINK's
guessing budget), then the person answers the report flow's two consent questions themselves (the same steps'
questions, recorded for their own person) and may book their own appointment, with their own sample code.
A wrong reference and a wrong PIN get the same answer, so a guess never learns which half was right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake.consent import missing_scopes
from intake.dialogue import booking, casefile, report
from intake.dialogue.keywords import Command, argument_of
from intake.dialogue.state import FlowState, need
from intake.dialogue.steps import END, YES_NO, Ctx, Flow, Option, Question, Step, fold
from intake.dialogue.vocabulary import RELATIVE_WORDS
from intake.errors import InputError
from intake.family import JoinOutcome, join_case
from intake.i18n import _
from intake.models import Case, ConsentScope, Person, Role

REFERENCE, PIN, ROLE = "join.reference", "join.pin", "join.role"
CONSENT_DNA, CONSENT_DATA, OFFER_BOOKING = "join.consent_dna", "join.consent_data", "join.offer_booking"

_REFERENCE = re.compile(r"mc-?(\d{4})-?([a-z0-9]{6})")
_PIN = re.compile(r"\d{6}")


def _words(role: Role) -> tuple[str, ...]:
    return tuple(w for w, r in RELATIVE_WORDS.items() if r is role)


ROLES = (
    Option("1", _("Mother"), _words(Role.MOTHER)),
    Option("2", _("Father"), _words(Role.FATHER)),
    Option("3", _("Brother or sister"), _words(Role.FULL_SIBLING)),
    Option("4", _("Grandparent"), _words(Role.GRANDPARENT)),
    Option("5", _("Other relative"), _words(Role.OTHER_RELATIVE)),
)
ROLE_VALUES = {"1": Role.MOTHER, "2": Role.FATHER, "3": Role.FULL_SIBLING, "4": Role.GRANDPARENT,
               "5": Role.OTHER_RELATIVE}  # fmt: skip


@dataclass
class JoinState(FlowState):
    """The JOIN flow's answers: the case reference and PIN as typed, then the case and person joined."""

    reference: str | None = None
    pin: str | None = None
    case_id: int | None = None
    person_id: int | None = None


def _reference(text: str) -> str | None:
    m = _REFERENCE.match(text)
    return f"MC-{m.group(1)}-{m.group(2)}".upper() if m else None


def start(ctx: Ctx) -> str:
    """Begin a JOIN with what came on the same line: the reference, and maybe the PIN."""
    argument = argument_of(ctx.text, Command.JOIN) or ""
    reference = _reference(argument)
    tail = _REFERENCE.sub("", argument, count=1).strip(",，.。")
    pin = tail if reference and _PIN.fullmatch(tail) else None
    JoinState(reference=reference, pin=pin).save(ctx)
    return REFERENCE if reference is None else PIN if not pin else ROLE


def ask_reference(ctx: Ctx) -> Question:
    return Question(_("Send the case number the family was given (like MC-2026-ACL9KQ)."))


def on_reference(ctx: Ctx) -> str:
    """Keep the case number."""
    reference = _reference(fold(ctx.text))
    if reference is None or _REFERENCE.fullmatch(fold(ctx.text)) is None:
        raise InputError("That is not a case number. It looks like MC-2026-ACL9KQ.")
    JoinState(reference=reference).save(ctx)
    return PIN


def ask_pin(ctx: Ctx) -> Question:
    return Question(_("Send the case PIN: the 6 digits the family was given with the case number."))


def on_pin(ctx: Ctx) -> str:
    """Keep the case PIN."""
    if _PIN.fullmatch(fold(ctx.text)) is None:
        raise InputError("The PIN is 6 digits. Please send it again.")
    st = JoinState.load(ctx.data)
    st.pin = fold(ctx.text)
    st.save(ctx)
    return ROLE


def ask_role(ctx: Ctx) -> Question:
    return Question(_("You are the missing child's:"), ROLES)


def on_role(ctx: Ctx) -> str:
    """Join the case in that role if the case number and PIN are right; a wrong pair ends the flow."""
    role = ROLE_VALUES[ctx.choose(ROLES)]
    st = JoinState.load(ctx.data)
    result = join_case(ctx.session, ctx.contact, need(st.reference), need(st.pin), role)
    if result.outcome is JoinOutcome.LOCKED:
        ctx.say(_("Too many wrong tries. Please try again in an hour."))
        return END
    if result.outcome not in (JoinOutcome.JOINED, JoinOutcome.ALREADY):
        ctx.say(_("That case number and PIN do not match any case. Please check both and send JOIN again."))
        return END
    person = ctx.session.get_one(Person, need(result.person_id))
    case = ctx.session.get_one(Case, person.case_id)
    JoinState(case_id=case.id, person_id=person.id).save(ctx)
    if not missing_scopes(ctx.session, case, person.id):
        return OFFER_BOOKING
    return CONSENT_DNA


def _consent(ctx: Ctx, scope: ConsentScope) -> bool:
    # The person's own answer, recorded for their own person in the case: nobody consents for another.
    granted = ctx.choose(YES_NO) == "1"
    st = JoinState.load(ctx.data)
    casefile.record_consent(ctx, scope, granted, case_id=need(st.case_id), person_id=need(st.person_id))
    if not granted:
        ctx.say(_("We understand. We have kept only your answer. No sample of yours will be taken or used."))
    return granted


def on_consent_dna(ctx: Ctx) -> str:
    """Record the person's own answer to the DNA sampling consent; a refusal ends the flow."""
    return CONSENT_DATA if _consent(ctx, ConsentScope.DNA_SAMPLING) else END


def on_consent_data(ctx: Ctx) -> str:
    """Record the person's own answer to the personal data consent; a refusal ends the flow."""
    return OFFER_BOOKING if _consent(ctx, ConsentScope.DATA_PROCESSING) else END


def ask_offer_booking(ctx: Ctx) -> Question:
    case = ctx.session.get_one(Case, need(JoinState.load(ctx.data).case_id))
    return Question(_("You have joined case %(reference)s. Book your own DNA sampling appointment now?",
                      reference=case.reference), report.LATER)  # fmt: skip


def on_offer_booking(ctx: Ctx) -> str:
    """Go on to booking the person's own appointment, or end with how to book later."""
    if ctx.choose(report.LATER) == "1":
        return booking.start_for_case(ctx, need(JoinState.load(ctx.data).case_id))
    ctx.say(_("OK. Send BOOK when you are ready."))
    return END


FLOW = Flow(
    "join",
    {REFERENCE: "JOIN", PIN: "JOIN <case ref>", ROLE: "JOIN <case ref> <PIN>"},
    (
        Step(REFERENCE, ask_reference, on_reference, {PIN: "case number"}),
        Step(PIN, ask_pin, on_pin, {ROLE: "6 digits"}),
        Step(ROLE, ask_role, on_role, {CONSENT_DNA: "joined", OFFER_BOOKING: "joined, consents given already",
                                       END: "wrong number or PIN / locked"}),
        Step(CONSENT_DNA, report.ask_consent_dna, on_consent_dna, {CONSENT_DATA: "yes", END: "no: refusal stored"}),
        Step(CONSENT_DATA, report.ask_consent_data, on_consent_data,
             {OFFER_BOOKING: "yes", END: "no: refusal stored"}),
        Step(OFFER_BOOKING, ask_offer_booking, on_offer_booking,
             {booking.PLACE: "book now", booking.MANAGE: "book now, has an appointment", END: "later"}),
    ),
)  # fmt: skip
