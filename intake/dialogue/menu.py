"""The menu shown to a greeting or to text outside any flow, and the help text."""

from __future__ import annotations

from intake.dialogue import booking, report
from intake.dialogue.status import say_status
from intake.dialogue.steps import END, Ctx, Flow, Option, Question, Step
from intake.i18n import _

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


def on_main(ctx: Ctx) -> str:
    """Start what the person picked from the menu."""
    picked = ctx.choose(OPTIONS)
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
