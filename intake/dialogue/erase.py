"""The erase flow: DELETE (删除) asks once for confirmation, then erases what the contact told reunite.

A contact who opted out is asked nothing, so their DELETE erases at once (`erase_now`, called by the engine).
"""

from __future__ import annotations

from intake.dialogue.steps import END, Ctx, Flow, Option, Question, Step
from intake.dialogue.vocabulary import CANCEL_WORDS, DELETE_WORDS, KEEP_WORDS, NO_WORDS, YES_WORDS
from intake.erasure import erase_contact, reported_cases
from intake.i18n import _

CONFIRM = "erase.confirm"
OPTIONS = (
    Option("1", _("Yes, delete"), YES_WORDS + DELETE_WORDS),
    Option("2", _("No, keep"), NO_WORDS + KEEP_WORDS + CANCEL_WORDS),  # "取消" here cancels the deletion
)


def start(ctx: Ctx) -> str:
    """Begin an erasure by asking for confirmation."""
    ctx.data.clear()
    return CONFIRM


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


def erase_now(ctx: Ctx) -> None:
    """Erase the contact's data and say so."""
    erase_contact(ctx.session, ctx.contact, actor=ctx.actor, now=ctx.now)
    ctx.say(
        _("Deleted. Your reports are withdrawn and your details erased. Send REPORT if you need us again.")
    )


FLOW = Flow(
    "erase",
    {CONFIRM: "DELETE"},
    (Step(CONFIRM, ask_confirm, on_confirm, {END: "1 deleted / 2 kept"}),),
)
