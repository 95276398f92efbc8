"""After a parent books: can the child's other parent give a sample too? They join and consent from their own phone.

Nobody can consent for another adult, and consent comes before sampling, so the booking parent is not asked to
book for the other parent: they are told how the other parent joins the case (`JOIN <case number> <PIN>` from
their own phone), which asks that parent's own consent and books their own appointment with their own sample code.
"""

from __future__ import annotations

import sqlalchemy as sa

from intake.dialogue.bookable import BookingState, reporter
from intake.dialogue.casefile import ROLE_WORDS
from intake.dialogue.state import need
from intake.dialogue.steps import END, YES_NO, Ctx, Question, StepGone
from intake.models import Case, Person, Role
from intake.platform.i18n import _

OTHER_PARENT = "book.other_parent"
OTHER = {Role.MOTHER: Role.FATHER, Role.FATHER: Role.MOTHER}


def _other_role(ctx: Ctx, case: Case) -> Role | None:
    """Return the other parent's role, unless the booking person is no parent or the other parent joined already."""
    person = reporter(ctx, case)
    other = OTHER.get(person.role) if person else None
    joined = sa.select(Person.id).where(
        Person.case_id == case.id, Person.role == other, Person.contact_id.is_not(None)
    )
    return other if other is not None and ctx.session.scalars(joined).first() is None else None


def after_booking(ctx: Ctx) -> str:
    """Return the question about the other parent after a new booking, or END when it does not apply."""
    case = ctx.session.get_one(Case, need(BookingState.load(ctx.data).case_id))
    return OTHER_PARENT if _other_role(ctx, case) is not None else END


def _still_missing(ctx: Ctx, case: Case) -> Role:
    """Return the other parent's role while the question applies; else StepGone, saying what changed.

    The other parent may join the case (JOIN, or LINK of a walk-in sample) between the question and the answer.
    """
    other = _other_role(ctx, case)
    if other is not None:
        return other
    person = reporter(ctx, case)
    joined = OTHER.get(person.role) if person is not None else None
    if joined is None:
        raise StepGone()
    raise StepGone(_("The child's %(other)s has joined case %(reference)s already: they give their own consent "
                     "and book from their own phone. Send STATUS to see your case.",
                     other=ROLE_WORDS[joined], reference=case.reference))  # fmt: skip


def ask_other_parent(ctx: Ctx) -> Question:
    case = ctx.session.get_one(Case, need(BookingState.load(ctx.data).case_id))
    other = ROLE_WORDS[_still_missing(ctx, case)]
    return Question(_("Can the child's %(other)s give a DNA sample too? With both parents a match is much surer.",
                      other=other), YES_NO)  # fmt: skip


def on_other_parent(ctx: Ctx) -> str:
    """Tell how the other parent joins from their own phone (they consent and book themselves), or end."""
    case = ctx.session.get_one(Case, need(BookingState.load(ctx.data).case_id))
    other = ROLE_WORDS[_still_missing(ctx, case)]
    if ctx.choose(YES_NO) == "2":
        ctx.say(_("OK. Send STATUS at any time to see your case."))
        return END
    ctx.say(_("Please ask the child's %(other)s to send JOIN %(reference)s %(pin)s to this number from their own "
              "phone. They give their own consent, then book their own appointment and get their own sample code.",
              other=other, reference=case.reference, pin=case.pin))  # fmt: skip
    return END
