"""The menu shown to a greeting or to text outside any flow, and the help text."""

from __future__ import annotations

from intake.dialogue import booking, report
from intake.dialogue.bookable import bookable_cases
from intake.dialogue.intents import Intent, intent_of
from intake.dialogue.keywords import Command
from intake.dialogue.status import say_status
from intake.dialogue.steps import END, Ctx, Flow, Option, Question, Step
from intake.platform.errors import ReuniteError
from intake.platform.i18n import _

MAIN = "menu.main"
OPTIONS = (
    Option("1", _("Report a missing child"), ("report", "报失")),
    Option("2", _("Book DNA sampling"), ("book", "预约")),
    Option("3", _("Case status"), ("status", "查询")),
)
# One SMS segment in each language (tests/sms/test_english_text.py): 160 GSM-7 characters, 70 Chinese ones.
HELP = _("Send REPORT (missing child), BOOK (DNA appointment), STATUS, CANCEL, MYDATA (what we keep), DELETE "
         "(erase your data), LANGUAGE, STOP (no more SMS). Free.")  # fmt: skip


def ask_main(ctx: Ctx) -> Question:
    return Question(_("Hello, this is reunite: we help families find missing children with DNA. Reply a number:"),
                    OPTIONS)  # fmt: skip


def intent(ctx: Ctx) -> Intent | None:
    """Return what a message that is no keyword and no option asks for in the person's own words, or None."""
    return intent_of(ctx.text, has_case=lambda: bool(bookable_cases(ctx))) if ctx.text else None


def start_intent(ctx: Ctx, wanted: Intent) -> str:
    """Start the report (with what the message told of the child) or the booking a run-on message asks for."""
    if wanted.command is Command.BOOK:
        return booking.start(ctx)
    return report.start(ctx, child_name=wanted.child_name, sex=wanted.sex)


def on_main(ctx: Ctx) -> str:
    """Start what the person picked from the menu, or asked for in their own words ("孩子丢了", "I want to book")."""
    try:
        picked = ctx.choose(OPTIONS)
    except ReuniteError:
        if (wanted := intent(ctx)) is None:
            raise
        return start_intent(ctx, wanted)
    if picked == "1":
        return report.start(ctx)
    if picked == "2":
        return booking.start(ctx)
    say_status(ctx)
    return END


FLOW = Flow(
    "menu",
    {MAIN: "greeting or any text outside a flow"},
    (
        Step(MAIN, ask_main, on_main, {
            report.CONSENT_DNA: "1 report", booking.PICK_CASE: "2 book, several cases",
            booking.MANAGE: "2 book, has appointment", booking.PLACE: "2 book", END: "3 status / 2 without case",
        }),
    ),
)  # fmt: skip
