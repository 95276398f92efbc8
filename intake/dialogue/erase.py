"""The erase flow: DELETE (删除) erases what the contact told reunite, once they prove it is them.

A contact with a case of their own confirms with the case PIN (the six digits given when the case was reported
or joined): a phone left on a table must not be enough to wipe a family's search. `DELETE <PIN>` on one line
does it at once. Wrong PINs are refused, audited and count toward the same hourly guessing budget as JOIN and
LINK (`intake.cases.erasure.check_erasure_pin`). A contact without such a case (a volunteer, someone who only asked
for help) has nothing a PIN protects, and confirms with yes or no.

An opted-out contact is asked nothing (`while_opted_out`): without a case their DELETE erases at once; with one
it must carry the PIN on the same line, and a bare DELETE gets one line saying so. docs/dialogue.md explains why.
"""

from __future__ import annotations

import re

from intake.cases.erasure import (
    ErasureReport,
    LegalHold,
    PinCheck,
    check_erasure_pin,
    erase_contact,
    pin_cases,
    reported_cases,
)
from intake.cases.pins import pin_lock
from intake.dialogue import pins
from intake.dialogue.keywords import Command, argument_of
from intake.dialogue.steps import END, Ctx, Flow, Option, Question, Step, fold
from intake.dialogue.vocabulary import CANCEL_WORDS, DELETE_WORDS, KEEP_WORDS, NO_WORDS, YES_WORDS
from intake.platform.errors import InputError
from intake.platform.i18n import N_, _

CONFIRM, PIN = "erase.confirm", "erase.pin"
OPTIONS = (
    Option("1", _("Yes, delete"), YES_WORDS + DELETE_WORDS),
    Option("2", _("No, keep"), NO_WORDS + KEEP_WORDS + CANCEL_WORDS),  # "取消" here cancels the deletion
)
KEEP_ANSWERS = frozenset(fold(w) for w in ("2", *NO_WORDS, *KEEP_WORDS, *CANCEL_WORDS))
_PIN = re.compile(r"\d{6}")
HOLD_WORDS = {
    LegalHold.MATCH_UNDER_REVIEW: _("an officer is reviewing a possible match for it"),
    LegalHold.MATCH_APPROVED: _("a match for it was approved"),
}


def start(ctx: Ctx) -> str:
    """Begin an erasure: with the PIN on the same line, check it; else ask for the PIN, or for a yes or no."""
    ctx.data.clear()
    if not pin_cases(ctx.session, ctx.contact):
        return CONFIRM
    pin = argument_of(ctx.text, Command.DELETE)
    if pin is not None and (error := pins.wrong_length(pin)) is not None:
        pins.say_wrong_length(ctx, error)  # no try: the PIN question comes next
        return PIN
    if pin is None:
        return PIN
    return _with_pin(ctx, pin)


def ask_confirm(ctx: Ctx) -> Question:
    refs = ", ".join(c.reference for c in reported_cases(ctx.session, ctx.contact)) or "-"
    return Question(
        _("Delete your details and your child's details? Your reports (%(refs)s) will be withdrawn, appointments "
          "cancelled and no DNA test done. This cannot be undone.", refs=refs),
        OPTIONS,
    )  # fmt: skip


def on_confirm(ctx: Ctx) -> str:
    """Erase the contact's data once they confirm, or keep everything."""
    if ctx.choose(OPTIONS) == "2":
        ctx.say(_("OK, nothing was deleted."))
        return END
    erase_now(ctx)
    return END


def ask_pin(ctx: Ctx) -> Question:
    refs = ", ".join(c.reference for c in pin_cases(ctx.session, ctx.contact))
    return Question(
        _("To delete your data, send the 6-digit PIN of your case (%(refs)s). Your own details, messages and "
          "appointments will be erased; this cannot be undone. Send NO to keep everything.", refs=refs)
    )  # fmt: skip


def on_pin(ctx: Ctx) -> str:
    """Erase the contact's data when the PIN is right; refuse a wrong one (counted); NO keeps everything."""
    answer = fold(ctx.text)
    if answer in KEEP_ANSWERS:
        ctx.say(_("OK, nothing was deleted."))
        return END
    if pins.forgot(ctx.text):  # sent again to the phone that reported each case, never to another
        for case in pin_cases(ctx.session, ctx.contact)[-3:]:
            pins.say_pin_resent(ctx, case, reference=case.reference, why="delete", member=True)
        ctx.say(_("Nothing was deleted. Send DELETE again when you have the PIN."))
        return END
    if (error := pins.wrong_length(ctx.text)) is not None:
        raise error
    if not _PIN.fullmatch(answer):
        raise InputError(N_("Please send the 6-digit PIN of your case, or NO to keep your data."))
    return _with_pin(ctx, answer)


def _with_pin(ctx: Ctx, pin: str) -> str:
    check = check_erasure_pin(ctx.session, ctx.contact, pin, actor=ctx.actor)
    if check is PinCheck.RIGHT:
        erase_now(ctx)
    elif check is PinCheck.LOCKED:  # whose tries locked it, and until when; the PIN was not checked
        pins.say_locked(
            ctx, pin_lock(ctx.session, ctx.contact, [c.id for c in pin_cases(ctx.session, ctx.contact)])
        )
        ctx.say(_("Nothing was deleted."))
    else:
        ctx.say(_("That PIN is not right. Nothing was deleted."))
        return PIN if not ctx.contact.opted_out else END
    return END


def while_opted_out(ctx: Ctx) -> None:
    """Answer DELETE from an opted-out contact, who is asked nothing: erase, or say the PIN is needed."""
    if not pin_cases(ctx.session, ctx.contact):
        erase_now(ctx)
    elif argument_of(ctx.text, Command.DELETE) is None:
        ctx.say(_("To delete your data, send DELETE and your case PIN on one line, e.g. DELETE 123456."))
    elif (error := pins.wrong_length(argument_of(ctx.text, Command.DELETE) or "")) is not None:
        pins.say_wrong_length(ctx, error)
    else:
        _with_pin(ctx, argument_of(ctx.text, Command.DELETE) or "")


def erase_now(ctx: Ctx) -> None:
    """Erase the contact's data and say so, naming any case that is kept and why."""
    report = erase_contact(ctx.session, ctx.contact, actor=ctx.actor, now=ctx.now)
    if not report.held and not report.shared:
        ctx.say(
            _(
                "Deleted. Your reports are withdrawn and your details erased. Send REPORT if you need us again."
            )
        )
        return
    ctx.say(_("Deleted: your messages and your own details are erased."))
    _say_kept(ctx, report)


def _say_kept(ctx: Ctx, report: ErasureReport) -> None:
    for reference, why in report.held.items():
        ctx.say(
            _("Case %(reference)s is kept as it is, because %(why)s: the law requires keeping it until the "
              "review is over. An officer will contact you.", reference=reference,
              why=HOLD_WORDS[LegalHold(why)])
        )  # fmt: skip
    for reference in report.shared:
        ctx.say(
            _("Case %(reference)s stays open for the other family member who follows it; only your own details "
              "were erased.", reference=reference)
        )  # fmt: skip


FLOW = Flow(
    "erase",
    {CONFIRM: "DELETE (no case of their own)", PIN: "DELETE (with a case)"},
    (
        Step(CONFIRM, ask_confirm, on_confirm, {END: "1 deleted / 2 kept"}),
        Step(
            PIN,
            ask_pin,
            on_pin,
            {
                END: "right PIN: deleted / NO: kept / locked / forgot: sent to the reporting phone",
                PIN: "wrong PIN",
            },
        ),
    ),
)
