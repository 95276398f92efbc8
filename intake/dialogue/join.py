"""The JOIN flow: the child's other parent or a relative joins a case from their own phone, consents, and books.

`JOIN <case ref> <PIN>` (`加入`), or JOIN alone and then the reference and the PIN. The person says how they are
related to the missing child, `intake.cases.family.join_case` checks the reference and PIN (wrong tries share LINK's
guessing budget), then the person answers the report flow's two consent questions themselves (the same steps'
questions, recorded for their own person) and may book their own appointment, with their own sample code.
A wrong reference and a wrong PIN get the same answer, so a guess never learns which half was right.

The same person on another channel (a mother who reported by SMS, now in the Telegram bot) picks her own role;
since a person with a contact on another channel holds it, she is asked whether that is her. Yes, and her
consent to keeping this chat's details: this contact is linked to her person (`intake.cases.family`), she sees the
same case and books as the same person, and the consents on record are not asked again. No: she joins as a new
person, as any relative does.

A withdrawn case cannot be joined (the answer says so once the number and PIN are right), and a case withdrawn
while the person is still answering its consent questions ends the flow with that reason (the flow's guard). A
child has one mother and one father: JOIN as a parent the case has already asks the person to check their role
(picking it again confirms it, and the reporting contact is told; `intake.cases.family`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from intake.cases.consent import consent_status
from intake.cases.family import JoinOutcome, JoinResult, join_case
from intake.cases.pins import pin_lock
from intake.dialogue import booking, casefile, pins, report
from intake.dialogue.casefile import ROLE_WORDS
from intake.dialogue.keywords import Command, argument_of
from intake.dialogue.state import FlowState, need
from intake.dialogue.steps import END, YES_NO, Ctx, Flow, Option, Question, Step, StepGone, fold
from intake.dialogue.vocabulary import RELATIVE_WORDS
from intake.models import Case, CaseStatus, ConsentScope, Person, Role
from intake.platform.codes import normalise_case_reference
from intake.platform.errors import InputError
from intake.platform.i18n import _

REFERENCE, PIN, ROLE = "join.reference", "join.pin", "join.role"
CONSENT_DNA, CONSENT_DATA, OFFER_BOOKING = "join.consent_dna", "join.consent_data", "join.offer_booking"
SAME, CONSENT_CHANNEL, ROLE_HELD = "join.same", "join.consent_channel", "join.role_held"

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
    role: Role | None = None
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
    if reference and pin is None and (error := pins.wrong_length(tail)) is not None:
        pins.say_wrong_length(ctx, error)  # no try: the PIN question comes next
    JoinState(reference=reference, pin=pin).save(ctx)
    return REFERENCE if reference is None else PIN if not pin else ROLE


def ask_reference(ctx: Ctx) -> Question:
    return Question(_("Send the case number the family was given (like MC-2026-ACL9KQ)."))


def on_reference(ctx: Ctx) -> str:
    """Keep the case number; without it, say who has it (nothing can be sent: no case is named)."""
    if pins.forgot(ctx.text):
        ctx.say(_("The case number was given to the family member who reported the child, with the PIN. Ask them "
                  "for both, or call the police. Then send JOIN again."))  # fmt: skip
        return END
    reference = _reference(fold(ctx.text))
    if reference is None or _REFERENCE.fullmatch(fold(ctx.text)) is None:
        raise InputError("That is not a case number. It looks like MC-2026-ACL9KQ.")
    JoinState(reference=reference).save(ctx)
    return PIN


def ask_pin(ctx: Ctx) -> Question:
    return Question(_("Send the case PIN: the 6 digits the family was given with the case number."))


def on_pin(ctx: Ctx) -> str:
    """Keep the case PIN; a lost one is sent again to the phone that reported the case."""
    if pins.forgot(ctx.text):
        reference = JoinState.load(ctx.data).reference
        pins.say_pin_resent(ctx, _case(ctx, reference), reference=reference, why="join", member=False)
        return END
    if (error := pins.wrong_length(ctx.text)) is not None:
        raise error
    if _PIN.fullmatch(fold(ctx.text)) is None:
        raise InputError("The PIN is 6 digits. Please send it again.")
    JoinState.keep(ctx, pin=fold(ctx.text))
    return ROLE


def ask_role(ctx: Ctx) -> Question:
    return Question(_("You are the missing child's:"), ROLES)


def on_role(ctx: Ctx) -> str:
    """Join the case in that role if the case number and PIN are right; a wrong pair ends the flow."""
    role = ROLE_VALUES[ctx.choose(ROLES)]
    st = JoinState.load(ctx.data)
    result = join_case(ctx.session, ctx.contact, need(st.reference), need(st.pin), role)
    if result.outcome is JoinOutcome.CLAIMABLE:  # held by a person on another channel: is it this one?
        JoinState(reference=st.reference, pin=st.pin, role=role, person_id=result.person_id).save(ctx)
        return SAME
    return _joined(ctx, result, role)


def _case(ctx: Ctx, reference: str | None) -> Case | None:
    wanted = normalise_case_reference(reference or "") or (reference or "").strip().upper()
    return ctx.session.scalars(sa.select(Case).where(Case.reference == wanted)).first() if wanted else None


def _joined(ctx: Ctx, result: JoinResult, role: Role | None = None) -> str:
    st = JoinState.load(ctx.data)
    if (
        result.outcome is JoinOutcome.ROLE_HELD
    ):  # a second mother (father): the person checks their role first
        JoinState(reference=st.reference, pin=st.pin, role=role).save(ctx)
        return ROLE_HELD
    if result.outcome is JoinOutcome.LOCKED:  # whose tries locked it, and until when; the PIN was not checked
        case = _case(ctx, st.reference)
        pins.say_locked(ctx, pin_lock(ctx.session, ctx.contact, [case.id] if case else []))
        return END
    if result.outcome is JoinOutcome.WITHDRAWN:
        ctx.say(_("Case %(reference)s was withdrawn by the family, so it cannot be joined. If you are still "
                  "searching for the child, send REPORT to report the child yourself.", reference=st.reference))  # fmt: skip
        return END
    if result.outcome not in (JoinOutcome.JOINED, JoinOutcome.ALREADY, JoinOutcome.LINKED):
        ctx.say(_("That case number and PIN do not match any case. Please check both and send JOIN again."))
        return END
    person = ctx.session.get_one(Person, need(result.person_id))
    case = ctx.session.get_one(Case, person.case_id)
    JoinState(case_id=case.id, person_id=person.id).save(ctx)
    if result.outcome is JoinOutcome.LINKED:
        ctx.say(_("Linked: this chat is now yours in case %(reference)s, with the answers you gave before. Send "
                  "STATUS to see your case, BOOK for your appointment.", reference=case.reference))  # fmt: skip
        return END
    if consent_status(ctx.session, case, person).ok:
        return OFFER_BOOKING
    return CONSENT_DNA


def ask_role_held(ctx: Ctx) -> Question:
    role = ROLE_WORDS[need(JoinState.load(ctx.data).role)]
    return Question(_("This case has a %(role)s already. If you are the child's %(role)s too, pick it again; "
                      "otherwise pick how you are related to the child:", role=role), ROLES)  # fmt: skip


def on_role_held(ctx: Ctx) -> str:
    """The same role again: join in it all the same (the reporter is told); another role: join in that one."""
    role = ROLE_VALUES[ctx.choose(ROLES)]
    st = JoinState.load(ctx.data)
    # The same role again: a second person in it (who said they are not the one on another channel, if asked).
    second = role is st.role
    result = join_case(ctx.session, ctx.contact, need(st.reference), need(st.pin), role,
                       claim=False if second else None, second=second)  # fmt: skip
    if result.outcome is JoinOutcome.CLAIMABLE:
        JoinState(reference=st.reference, pin=st.pin, role=role, person_id=result.person_id).save(ctx)
        return SAME
    return _joined(ctx, result, role)


def still_applies(ctx: Ctx, step: str) -> None:
    """Raise StepGone when the case joined was withdrawn meanwhile (its reporter sent DELETE)."""
    case_id = JoinState.load(ctx.data).case_id
    case = ctx.session.get(Case, case_id) if case_id is not None else None
    if case is not None and case.status == CaseStatus.WITHDRAWN:
        raise StepGone(_("Case %(reference)s was withdrawn by the family, so it cannot be joined. If you are still "
                         "searching for the child, send REPORT to report the child yourself.",
                         reference=case.reference))  # fmt: skip


SAME_OPTIONS = (Option("1", _("Yes, that is me")), Option("2", _("No, I am someone else")))


def ask_same(ctx: Ctx) -> Question:
    role = ROLE_WORDS[need(JoinState.load(ctx.data).role)]
    return Question(_("This case already has a %(role)s, who wrote to us from another phone or app. Is that you, "
                      "now writing from here?", role=role), SAME_OPTIONS)  # fmt: skip


def on_same(ctx: Ctx) -> str:
    """The same person: ask their consent for this chat; someone else: join as a new person."""
    if ctx.choose(SAME_OPTIONS) == "1":
        return CONSENT_CHANNEL
    st = JoinState.load(ctx.data)
    return _joined(ctx, join_case(ctx.session, ctx.contact, need(st.reference), need(st.pin), need(st.role),
                                  claim=False), st.role)  # fmt: skip


def ask_consent_channel(ctx: Ctx) -> Question:
    return Question(_("May we keep this chat's address and messages, to reach you about your case here too?"),
                    YES_NO)  # fmt: skip


def on_consent_channel(ctx: Ctx) -> str:
    """Link this contact to the person (the reference and PIN checked again) and record the consent; no: unlinked."""
    if ctx.choose(YES_NO) != "1":
        ctx.say(_("We understand. This chat was not linked to the case and keeps nothing of it."))
        return END
    st = JoinState.load(ctx.data)
    result = join_case(ctx.session, ctx.contact, need(st.reference), need(st.pin), need(st.role), claim=True)
    if result.outcome is JoinOutcome.LINKED:
        person = ctx.session.get_one(Person, need(result.person_id))
        casefile.record_consent(
            ctx, ConsentScope.DATA_PROCESSING, True, case_id=person.case_id, person_id=person.id
        )
    return _joined(ctx, result)


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
        Step(REFERENCE, ask_reference, on_reference, {PIN: "case number", END: "forgot: who has it"}),
        Step(PIN, ask_pin, on_pin, {ROLE: "6 digits", END: "forgot: sent to the reporting phone"}),
        Step(ROLE, ask_role, on_role, {CONSENT_DNA: "joined", OFFER_BOOKING: "joined, consents given already",
                                       SAME: "role held by a person on another channel",
                                       ROLE_HELD: "a parent's role held by another person",
                                       END: "wrong number or PIN / withdrawn / locked"}),
        Step(SAME, ask_same, on_same, {CONSENT_CHANNEL: "yes, me", CONSENT_DNA: "no: joined",
                                       OFFER_BOOKING: "no: joined, consents given already",
                                       ROLE_HELD: "no: a parent's role held", END: "no: locked"}),
        Step(ROLE_HELD, ask_role_held, on_role_held, {CONSENT_DNA: "same role again / another role: joined",
                                                      OFFER_BOOKING: "joined, consents given already",
                                                      SAME: "role held by a person on another channel",
                                                      ROLE_HELD: "another parent's role held",
                                                      END: "withdrawn / locked"}),
        Step(CONSENT_CHANNEL, ask_consent_channel, on_consent_channel,
             {END: "yes: linked to that person / no: not linked"}),
        Step(CONSENT_DNA, report.ask_consent_dna, on_consent_dna, {CONSENT_DATA: "yes", END: "no: refusal stored"}),
        Step(CONSENT_DATA, report.ask_consent_data, on_consent_data,
             {OFFER_BOOKING: "yes", END: "no: refusal stored"}),
        Step(OFFER_BOOKING, ask_offer_booking, on_offer_booking,
             {booking.PLACE: "book now", booking.MANAGE: "book now, has an appointment", END: "later"}),
    ),
    guard=still_applies,
)  # fmt: skip
