"""The report flow: two separate consents, the child, when and where last seen, the reporter, then a case.

Answers stay in the conversation until the parent confirms; only then are the case, persons and consents stored.
A refused consent stores that refusal and nothing else.
"""

from __future__ import annotations

from datetime import date

from intake.dates import parse_age_or_birth, parse_date
from intake.dialogue import casefile
from intake.dialogue.steps import END, YES_NO, Ctx, Flow, Option, Question, Step
from intake.dialogue.vocabulary import NO_WORDS, YES_WORDS
from intake.errors import InputError
from intake.i18n import _
from intake.models import Role, Sex, attach_to_case, attachments_of

CONSENT_DNA, CONSENT_DATA = "report.consent_dna", "report.consent_data"
CHILD_NAME, CHILD_SEX, CHILD_BIRTH = "report.child_name", "report.child_sex", "report.child_birth"
LAST_SEEN_DATE, LAST_SEEN_PLACE, DESCRIPTION = (
    "report.last_seen_date",
    "report.last_seen_place",
    "report.description",
)
REPORTER_NAME, RELATION, CONFIRM = "report.reporter_name", "report.relation", "report.confirm"
OFFER_BOOKING = "report.offer_booking"

SEXES = (
    Option("1", _("Boy"), ("男", "男孩", "儿子", "m", "male", "son")),
    Option("2", _("Girl"), ("女", "女孩", "女儿", "f", "female", "daughter")),
)
SEX_VALUES = {"1": Sex.MALE, "2": Sex.FEMALE}
RELATIONS = (
    Option("1", _("Mother"), ("妈妈", "母亲", "mum", "mom")),
    Option("2", _("Father"), ("爸爸", "父亲", "dad")),
    Option("3", _("Other relative"), ("亲戚", "其他", "relative", "other")),
)
ROLE_VALUES = {"1": Role.MOTHER, "2": Role.FATHER, "3": Role.OTHER_RELATIVE}
CONFIRM_OPTIONS = (
    Option("1", _("Confirm"), YES_WORDS),
    Option("2", _("Start again"), ("重填",)),
)
LATER = (
    Option("1", _("Book now"), YES_WORDS),
    Option("2", _("Later"), NO_WORDS + ("以后", "以后再说", "later")),
)
SKIP_WORDS = ("skip", "跳过", "没有", "无", "none", "no")


def start(ctx: Ctx) -> str:
    """Begin a report with empty answers."""
    ctx.data.clear()
    return CONSENT_DNA


def _name(ctx: Ctx, limit: int = 60) -> str:
    text = " ".join(ctx.text.split())
    if len(text) < 2 or len(text) > limit or text.isdigit():
        raise InputError("Please write the full name.")
    return text


def ask_consent_dna(ctx: Ctx) -> Question:
    return Question(_("Before we start: may a police lab take a DNA sample from you and use it only to search "
                      "for your child?"), YES_NO)  # fmt: skip


def on_consent_dna(ctx: Ctx) -> str:
    """Record the answer to the DNA sampling consent; a refusal ends the report."""
    if ctx.choose(YES_NO) == "2":
        return casefile.refuse(ctx, "dna_sampling")
    ctx.data["consent_dna_at"] = ctx.now.isoformat()
    return CONSENT_DATA


def ask_consent_data(ctx: Ctx) -> Question:
    return Question(_("And may we keep your child's and your family's details (names, dates, places, phone) "
                      "to search for your child?"), YES_NO)  # fmt: skip


def on_consent_data(ctx: Ctx) -> str:
    """Record the answer to the personal data consent; a refusal ends the report."""
    if ctx.choose(YES_NO) == "2":
        return casefile.refuse(ctx, "data_processing")
    ctx.data["consent_data_at"] = ctx.now.isoformat()
    return CHILD_NAME


def ask_child_name(ctx: Ctx) -> Question:
    return Question(_("Thank you. What is your child's full name?"))


def on_child_name(ctx: Ctx) -> str:
    """Keep the child's name."""
    ctx.data["child_name"] = _name(ctx)
    return CHILD_SEX


def ask_child_sex(ctx: Ctx) -> Question:
    return Question(_("Is %(name)s a boy or a girl?", name=ctx.data.get("child_name", "")), SEXES)


def on_child_sex(ctx: Ctx) -> str:
    """Keep the child's sex."""
    ctx.data["sex"] = SEX_VALUES[ctx.choose(SEXES)].value
    return CHILD_BIRTH


def ask_child_birth(ctx: Ctx) -> Question:
    return Question(_("How old is the child now, or when was the child born? (like 5 or 2019-03-02)"))


def on_child_birth(ctx: Ctx) -> str:
    """Keep the child's date of birth or age."""
    born, age = parse_age_or_birth(ctx.text, ctx.today)
    ctx.data["birth"], ctx.data["age"] = born.isoformat() if born else None, age
    return LAST_SEEN_DATE


def ask_last_seen_date(ctx: Ctx) -> Question:
    return Question(_("When did you last see the child? (like 2026-11-20, yesterday, 3 days ago)"))


def on_last_seen_date(ctx: Ctx) -> str:
    """Keep the date the child was last seen, which cannot be before the birth."""
    seen = parse_date(ctx.text, today=ctx.today, lang=ctx.lang)
    born = ctx.data.get("birth")
    if born and seen < date.fromisoformat(born):
        raise InputError("That is before the date of birth. Please check the date.")
    ctx.data["last_seen"] = seen.isoformat()
    return LAST_SEEN_PLACE


def ask_last_seen_place(ctx: Ctx) -> Question:
    return Question(_("Where was the child last seen? (town, street or place)"))


def on_last_seen_place(ctx: Ctx) -> str:
    """Keep the place the child was last seen."""
    ctx.data["place"] = _name(ctx, 200)
    return DESCRIPTION


def ask_description(ctx: Ctx) -> Question:
    return Question(_("Describe the child in a few words: clothes, marks, anything special. Or reply SKIP."))


def on_description(ctx: Ctx) -> str:
    """Keep a short description, or none when the parent skips."""
    text = " ".join(ctx.text.split())
    if len(text) > 500:
        raise InputError("That is too long. Please keep it under 500 characters.")
    ctx.data["description"] = None if not text or text.casefold() in SKIP_WORDS else text
    if photos := attachments_of(ctx.session, ctx.incoming.channel, ctx.incoming.provider_id):
        ctx.data["attachments"] = [*ctx.data.get("attachments", []), *photos]  # linked to the case on confirm
        ctx.say(_("Thank you, we received the photo. It will be kept with your report."))
    return REPORTER_NAME


def ask_reporter_name(ctx: Ctx) -> Question:
    return Question(_("What is your own full name?"))


def on_reporter_name(ctx: Ctx) -> str:
    """Keep the reporter's name."""
    ctx.data["reporter"] = _name(ctx)
    return RELATION


def ask_relation(ctx: Ctx) -> Question:
    return Question(_("You are the child's:"), RELATIONS)


def on_relation(ctx: Ctx) -> str:
    """Keep how the reporter is related to the child."""
    ctx.data["role"] = ROLE_VALUES[ctx.choose(RELATIONS)].value
    return CONFIRM


def ask_confirm(ctx: Ctx) -> Question:
    return Question(casefile.summary(ctx), CONFIRM_OPTIONS)


def on_confirm(ctx: Ctx) -> str:
    """Create the case from the answers, or start again."""
    if ctx.choose(CONFIRM_OPTIONS) == "2":
        return start(ctx)
    attachments = ctx.data.get("attachments", [])
    attach_to_case(ctx.session, attachments, casefile.create_case(ctx).id)
    return OFFER_BOOKING


def ask_offer_booking(ctx: Ctx) -> Question:
    return Question(_("Book a DNA sampling appointment now?"), LATER)


def on_offer_booking(ctx: Ctx) -> str:
    """Go on to booking, or end with how to book later."""
    if ctx.choose(LATER) == "1":
        from intake.dialogue import booking  # booking imports the report flow's neighbours; import late

        return booking.start_for_case(ctx, int(ctx.data["case_id"]))
    ctx.say(_("OK. Send BOOK when you are ready."))
    return END


FLOW = Flow(
    "report",
    {CONSENT_DNA: "REPORT"},
    (
        Step(CONSENT_DNA, ask_consent_dna, on_consent_dna, {CONSENT_DATA: "yes", END: "no: refusal stored"}),
        Step(CONSENT_DATA, ask_consent_data, on_consent_data, {CHILD_NAME: "yes", END: "no: refusal stored"}),
        Step(CHILD_NAME, ask_child_name, on_child_name, {CHILD_SEX: "name"}),
        Step(CHILD_SEX, ask_child_sex, on_child_sex, {CHILD_BIRTH: "boy / girl"}),
        Step(CHILD_BIRTH, ask_child_birth, on_child_birth, {LAST_SEEN_DATE: "age or birth date"}),
        Step(LAST_SEEN_DATE, ask_last_seen_date, on_last_seen_date, {LAST_SEEN_PLACE: "date"}),
        Step(LAST_SEEN_PLACE, ask_last_seen_place, on_last_seen_place, {DESCRIPTION: "place"}),
        Step(DESCRIPTION, ask_description, on_description, {REPORTER_NAME: "text or SKIP"}),
        Step(REPORTER_NAME, ask_reporter_name, on_reporter_name, {RELATION: "name"}),
        Step(RELATION, ask_relation, on_relation, {CONFIRM: "mother / father / other"}),
        Step(CONFIRM, ask_confirm, on_confirm, {OFFER_BOOKING: "confirm: case created",
                                                CONSENT_DNA: "start again"}),
        Step(OFFER_BOOKING, ask_offer_booking, on_offer_booking,
             {"book.place": "book now", "book.manage": "book now", END: "later"}),
    ),
)  # fmt: skip
