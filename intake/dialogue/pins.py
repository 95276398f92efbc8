"""What the PIN questions (JOIN, DELETE, LINK) say besides "right" and "wrong": a lock, a PIN of the wrong length,
and a lost PIN.

* A lock says whose tries locked it and until when (Beijing time): this phone's, everyone's, or the case's own
  (wrong PINs for it from any phones, maybe not this one). A PIN sent while locked is not checked, and the reply
  says so in the same words whether it was right or wrong: saying "right" would let a crowd of phones go on
  guessing past the case's daily budget.
* A PIN of the wrong length ("12345") is told it has 6 digits; it is not a try and counts toward no budget.
* "忘记了", "忘记核对码", "forgot", "lost my PIN"... at a PIN question: the case's PIN is sent again, through the
  outbox, only to the phone that reported the case (`intake.cases.pins.resend_case_pin`), and the asker is told so
  and whom to call otherwise. Docs: docs/dialogue.md, "A lost PIN".
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlalchemy as sa
from babel.dates import format_date

from intake.cases.pins import Lock, LockKind, Resend, ResendOutcome, resend_case_pin
from intake.dialogue.steps import Ctx, fold, is_english
from intake.labs.appointments import booking_summary
from intake.models import Booking, BookingStatus, Case
from intake.platform import clock
from intake.platform.codes import normalise_case_reference
from intake.platform.errors import InputError
from intake.platform.i18n import N_, Msg, _

PIN_LENGTH = 6
# A message that says the PIN is lost or forgotten, in the words parents use (folded: no spaces, lower case).
_FORGOT = re.compile(
    r"忘|不记得|记不得|记不住|记不清|想不起|找不到|丢了|弄丢|没有(?:核对码|pin|密码)|不知道|"
    r"forg[oe]t|lost|don'?tknow|dontremember|can'?tremember|cannotremember|nopin|idontknow|wangji"
)


def forgot(text: str) -> bool:
    """Tell whether a message at a PIN question says the PIN is lost or forgotten (and is not a PIN itself)."""
    folded = fold(text)
    return not re.search(r"\d{4,}", folded) and _FORGOT.search(folded) is not None


WRONG_LENGTH = N_("The PIN has 6 digits; you sent %(count)s. Please check it and send all 6.")


def wrong_length(text: str) -> InputError | None:
    """Return the answer to digits that are not 6 ("12345"), which are no try at a PIN; None for anything else."""
    folded = fold(text)
    if folded.isdigit() and len(folded) != PIN_LENGTH:
        return InputError(WRONG_LENGTH, count=len(folded))
    return None


def say_wrong_length(ctx: Ctx, error: InputError) -> None:
    """Say a PIN of the wrong length was no try (for a PIN that came on the keyword's line)."""
    ctx.say(Msg(error.message, error.params))


def _time(ctx: Ctx, until: datetime) -> str:
    local = until.astimezone(clock.CHINA)
    hours = f"{local:%H:%M}"
    if local.date() == clock.today_in_china():  # the clock the lock was counted on
        return hours
    if is_english(ctx):
        return f"{format_date(local.date(), 'd MMM', locale='en')} {hours}"
    return f"{local.month}月{local.day}日{hours}"


def say_locked(ctx: Ctx, lock: Lock | None) -> None:
    """Say what locked the PIN and until when; the PIN sent was not checked (right or wrong, the same words)."""
    if lock is None:  # locked a moment ago, free now: the person simply tries again
        ctx.say(_("Your PIN was not checked. Please send it again."))
    elif lock.kind is LockKind.CASE:
        reference = ctx.session.scalar(sa.select(Case.reference).where(Case.id == lock.case_id)) or "-"
        ctx.say(_("Case %(reference)s is locked for JOIN, LINK and DELETE until %(time)s (Beijing time): someone "
                  "sent many wrong PINs for it, maybe not you. Your PIN was not checked. Try again after "
                  "%(time)s, or call the police with your case number.", reference=reference,
                  time=_time(ctx, lock.until)))  # fmt: skip
    elif lock.kind is LockKind.CONTACT:
        ctx.say(_("Too many wrong tries from this phone, so nothing was checked. Please try again after %(time)s "
                  "(Beijing time).", time=_time(ctx, lock.until)))  # fmt: skip
    else:
        ctx.say(_("Too many wrong tries from many phones: no PIN can be checked until %(time)s (Beijing time). "
                  "Please try again then.", time=_time(ctx, lock.until)))  # fmt: skip


def _lab_to_call(ctx: Ctx, case: Case) -> tuple[str, str] | None:
    booking = ctx.session.scalars(
        sa.select(Booking)
        .where(Booking.case_id == case.id, Booking.status == BookingStatus.BOOKED)
        .order_by(Booking.id.desc())
    ).first()
    if booking is None:
        return None
    s = booking_summary(ctx.session, booking, ctx.lang)
    return (s.lab_name, s.phone) if s.phone else None


def say_pin_resent(ctx: Ctx, case: Case | None, *, reference: str | None, why: str, member: bool) -> Resend:
    """Send the case's PIN again to the phone that reported it, and tell the asker where it went and whom to call.

    `member`: the asker is part of the case (DELETE), and may be told exactly what happened; anyone else (JOIN,
    LINK) gets one answer whatever the case number, so a guess learns nothing about which cases exist.
    """
    result = resend_case_pin(ctx.session, ctx.contact, case, why=why)
    shown = (
        case.reference if case is not None else normalise_case_reference(reference or "") or reference or "-"
    )
    if why == "link":  # the asker holds a link code of a sample taken for the case, not its number
        ctx.say(
            _(
                "The PIN of the case this sample was taken for has been sent again to the phone that reported "
                "the case, never to another one. Ask that person for it, or ask the lab that took your sample."
            )
        )
        return result
    if not member:
        ctx.say(_("If %(reference)s is a case, its PIN has been sent again to the phone that reported it, never to "
                  "another one. Ask that person for it, or call the police with the case number.",
                  reference=shown))  # fmt: skip
        return result
    assert case is not None
    if result.to_asker:
        ctx.say(_("We sent the PIN of case %(reference)s to this phone again, in a separate message.",
                  reference=shown))  # fmt: skip
    elif result.outcome is ResendOutcome.SENT:
        ctx.say(_("We sent the PIN of case %(reference)s to the phone that reported the case, never to another "
                  "one. Ask that person for it.", reference=shown))  # fmt: skip
    elif result.outcome is ResendOutcome.LIMITED:
        ctx.say(_("The PIN of case %(reference)s was sent again several times today, to the phone that reported "
                  "the case; it is not sent again before tomorrow.", reference=shown))  # fmt: skip
    else:
        ctx.say(_("We cannot send the PIN of case %(reference)s again: the phone that reported the case cannot "
                  "be reached.", reference=shown))  # fmt: skip
    lab = _lab_to_call(ctx, case)
    if lab is not None:
        ctx.say(_("Or call %(lab)s, %(phone)s, with your case number.", lab=lab[0], phone=lab[1]))
    else:
        ctx.say(_("Or call the police with your case number."))
    return result
