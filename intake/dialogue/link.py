"""The LINK flow: a person sampled as a walk-in at a lab attaches that sample to their case with its link code.

`LINK <link code>` (`关联`), or LINK alone and then the code. `intake.labs.walkins.link_walk_in` decides; this flow
asks what it needs next (the case PIN when the sample was taken for a case the person has not joined, which case
when the person has several) and words every outcome. Wrong codes and PINs are counted and locked out there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from intake.cases.consent import SAMPLE_USE_SCOPES
from intake.cases.pins import guessing_lock
from intake.dialogue import casefile, pins, report
from intake.dialogue.bookable import case_options
from intake.dialogue.keywords import Command, argument_of
from intake.dialogue.state import FlowState, need
from intake.dialogue.status import contact_cases
from intake.dialogue.steps import END, YES_NO, Ctx, Flow, Question, Step, fold
from intake.labs.walkins import LinkOutcome, case_of_link_code, link_walk_in
from intake.models import Sample
from intake.platform.errors import InputError
from intake.platform.i18n import Msg, _

CODE, PIN, PICK_CASE = "link.code", "link.pin", "link.pick_case"
CONSENT_DNA, CONSENT_DATA = "link.consent_dna", "link.consent_data"
_PIN = re.compile(r"\d{6}")

FAILED: dict[LinkOutcome, Msg] = {
    LinkOutcome.WRONG_CODE: _("That link code is not right. Please check it and send LINK and the code again."),
    LinkOutcome.WRONG_PIN: _("That PIN is not right. Please check it and send LINK and the code again."),
    LinkOutcome.USED: _("That link code was used already. Send STATUS to see your case."),
    # LOCKED: this phone's or everyone's tries (pins.say_locked), or the code's own wrong PINs, for good:
    LinkOutcome.LOCKED: _("This link code is locked after too many wrong PINs. Please ask the lab that took your "
                          "sample."),
    LinkOutcome.NO_CASE: _("You have no case to link the sample to. Send REPORT to report the missing child first, "
                           "then send LINK and the code again."),
    LinkOutcome.CONSENT_MISSING: _("The sample cannot be linked: your consent to DNA sampling and to keeping your "
                                   "details is not on record for this case. Send JOIN, the case number and PIN "
                                   "to give it, then LINK again."),
}  # fmt: skip


@dataclass
class LinkState(FlowState):
    """The LINK flow's answers: the link code, and the cases offered when the person has several."""

    code: str | None = None
    cases: list[int] = field(default_factory=list)
    consented_at: datetime | None = None  # both consents given before the PIN of a case not joined


def start(ctx: Ctx) -> str:
    """Begin a LINK with the code that came on the same line, or ask for it."""
    code = argument_of(ctx.text, Command.LINK)
    if code is None:
        LinkState().save(ctx)
        return CODE
    return _attempt(ctx, code)


def _attempt(ctx: Ctx, code: str, pin: str | None = None, case_reference: str | None = None) -> str:
    result = link_walk_in(ctx.session, ctx.contact, code, pin, case_reference=case_reference)
    if result.outcome is LinkOutcome.LINKED and pin is not None:
        _record_consents(ctx, need(result.sample_code))
    if result.outcome is LinkOutcome.LINKED:
        ctx.say(_("Linked: sample %(code)s is now part of case %(reference)s. Send STATUS to follow it.",
                  code=need(result.sample_code), reference=need(result.case_reference)))  # fmt: skip
        return END
    if result.outcome is LinkOutcome.NEED_PIN:  # a case the person is not part of: their own consent first
        LinkState(code=code).save(ctx)
        return CONSENT_DNA
    if result.outcome is LinkOutcome.SEVERAL_CASES:
        LinkState(code=code, cases=[c.id for c in contact_cases(ctx)][-5:]).save(ctx)
        return PICK_CASE
    if result.outcome is LinkOutcome.LOCKED and (lock := guessing_lock(ctx.session, ctx.contact)) is not None:
        pins.say_locked(ctx, lock)
        return END
    if result.outcome is LinkOutcome.WITHDRAWN:
        ctx.say(_("Case %(reference)s was withdrawn by the family, so the sample cannot be linked to it.",
                  reference=need(result.case_reference)))  # fmt: skip
        return END
    ctx.say(FAILED[result.outcome])
    return END


def ask_code(ctx: Ctx) -> Question:
    return Question(_("Send the link code the lab gave you (like K7QX-M2PD-4F7)."))


def on_code(ctx: Ctx) -> str:
    """Try the link code."""
    return _attempt(ctx, ctx.text)


def _record_consents(ctx: Ctx, sample_code: str) -> None:
    # The person joins the case through this link: record the consents they gave before the PIN as their own.
    sample = ctx.session.scalars(sa.select(Sample).where(Sample.code == sample_code)).one()
    at = need(LinkState.load(ctx.data).consented_at)
    for scope in SAMPLE_USE_SCOPES:
        casefile.record_consent(
            ctx, scope, True, case_id=need(sample.case_id), person_id=need(sample.person_id), at=at
        )


def on_consent_dna(ctx: Ctx) -> str:
    """Go on to the data consent if the person agrees to DNA sampling; a refusal keeps the sample unlinked."""
    return CONSENT_DATA if _agreed(ctx) else END


def on_consent_data(ctx: Ctx) -> str:
    """Go on to the case PIN if the person agrees to keeping their details; a refusal keeps the sample unlinked."""
    if not _agreed(ctx):
        return END
    LinkState.keep(ctx, consented_at=ctx.now)
    return PIN


def _agreed(ctx: Ctx) -> bool:
    if ctx.choose(YES_NO) == "1":
        return True
    ctx.say(_("We understand. The sample will not be linked, and it will not be used for your case."))
    return False


def ask_pin(ctx: Ctx) -> Question:
    return Question(
        _("This sample was taken for a case you have not joined. Send that case's PIN (6 digits).")
    )


def on_pin(ctx: Ctx) -> str:
    """Try the link code again with the case PIN; a lost one is sent again to the phone that reported the case."""
    if pins.forgot(ctx.text):
        case = case_of_link_code(ctx.session, need(LinkState.load(ctx.data).code))
        pins.say_pin_resent(ctx, case, reference=None, why="link", member=False)
        return END
    if (error := pins.wrong_length(ctx.text)) is not None:
        raise error
    if _PIN.fullmatch(fold(ctx.text)) is None:
        raise InputError("The PIN is 6 digits. Please send it again.")
    return _attempt(ctx, need(LinkState.load(ctx.data).code), pin=fold(ctx.text))


def ask_pick_case(ctx: Ctx) -> Question:
    _cases, options = case_options(ctx, LinkState.load(ctx.data).cases)
    return Question(_("Which of your cases is this sample for?"), options)


def on_pick_case(ctx: Ctx) -> str:
    """Link the sample to the case picked."""
    st = LinkState.load(ctx.data)
    cases, options = case_options(ctx, st.cases)
    picked = cases[int(ctx.choose(options)) - 1]
    return _attempt(ctx, need(st.code), case_reference=picked.reference)


_DONE = {END: "linked / refused with the reason"}
FLOW = Flow(
    "link",
    {
        CODE: "LINK",
        CONSENT_DNA: "LINK <code>, sample of a case not joined",
        PICK_CASE: "LINK <code>, several cases",
    },
    (
        Step(CODE, ask_code, on_code, {**_DONE, CONSENT_DNA: "case not joined", PICK_CASE: "several cases"}),
        Step(
            CONSENT_DNA, report.ask_consent_dna, on_consent_dna, {CONSENT_DATA: "yes", END: "no: not linked"}
        ),
        Step(CONSENT_DATA, report.ask_consent_data, on_consent_data, {PIN: "yes", END: "no: not linked"}),
        Step(
            PIN,
            ask_pin,
            on_pin,
            {END: "linked / refused with the reason / forgot: sent to the reporting phone"},
        ),
        Step(PICK_CASE, ask_pick_case, on_pick_case, _DONE),
    ),
)
