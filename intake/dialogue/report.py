"""The report flow: two separate consents, the child, when and where last seen, the reporter, then a case.

Answers stay in the conversation (a typed ReportState) until the parent confirms; only then are the case,
persons and consents stored. A refused consent stores that refusal and nothing else. A report that repeats
one this contact already made (same child name, same date last seen) is pointed out before a second case is made.
A report that likely repeats one made from another phone (the child's other parent: same name, sex, age and
place, `intake.cases.duplicates`) is pointed out too, without anything of the other case: the parent is told how to
JOIN it with the number and PIN from whoever reported, or goes on with their own report; officers see the pair
as a flag once the case is made.
"""

from __future__ import annotations

from intake.cases.duplicates import flag_likely_duplicates, likely_duplicates_of
from intake.dialogue import booking, casefile
from intake.dialogue.casefile import ReportState
from intake.dialogue.state import need
from intake.dialogue.status import case_status
from intake.dialogue.steps import END, YES_NO, Ctx, Flow, Option, Question, Step, is_english
from intake.dialogue.vocabulary import NO_WORDS, SEX_WORDS, YES_WORDS, relative_of, relative_words
from intake.models import Case, ConsentScope, Role, Sex, attach_to_case
from intake.platform.dates import Precision, When, parse_birth, parse_past_when
from intake.platform.errors import InputError
from intake.platform.i18n import N_, _

CONSENT_DNA, CONSENT_DATA = "report.consent_dna", "report.consent_data"
CHILD_NAME, CHILD_SEX, CHILD_BIRTH = "report.child_name", "report.child_sex", "report.child_birth"
LAST_SEEN_DATE, DUPLICATE = "report.last_seen_date", "report.duplicate"
LAST_SEEN_PLACE, DESCRIPTION = "report.last_seen_place", "report.description"
OTHER_REPORT = "report.other_report"
REPORTER_NAME, RELATION, CONFIRM = "report.reporter_name", "report.relation", "report.confirm"
OFFER_BOOKING = "report.offer_booking"
DESCRIPTION_LIMIT = 500

SEXES = (Option("1", _("Boy"), SEX_WORDS[Sex.MALE]), Option("2", _("Girl"), SEX_WORDS[Sex.FEMALE]))
SEX_VALUES = {"1": Sex.MALE, "2": Sex.FEMALE}
SEX_LABELS = {Sex.MALE: _("boy"), Sex.FEMALE: _("girl")}
# Relatives are recorded by their relationship, which matching needs; a half sibling is understood, not offered.
ROLE_VALUES = {
    "1": Role.MOTHER, "2": Role.FATHER, "3": Role.GRANDPARENT, "4": Role.FULL_SIBLING, "5": Role.AUNT_UNCLE,
    "6": Role.OTHER_RELATIVE,
}  # fmt: skip
_ROLE_LABELS = (_("Mother"), _("Father"), _("Grandparent"), _("Brother or sister"), _("Aunt or uncle"),
                _("Other relative"))  # fmt: skip
RELATIONS = tuple(
    Option(key, label, relative_words(role))
    for (key, role), label in zip(ROLE_VALUES.items(), _ROLE_LABELS, strict=True)
)
CONFIRM_OPTIONS = (
    Option("1", _("Confirm"), YES_WORDS),
    Option("2", _("Start again"), ("重填",)),
)
LATER = (
    Option("1", _("Book now"), YES_WORDS),
    Option("2", _("Later"), NO_WORDS + ("以后", "以后再说", "later")),
)
OTHER_REPORT_OPTIONS = (
    Option("1", _("Stop: I will send JOIN"), ("join", "加入")),
    Option("2", _("Go on with my own report"), ("continue", "go on", "继续")),
)
DUPLICATE_OPTIONS = (
    Option("1", _("Continue with that case"), ("continue", "继续")),
    Option("2", _("Make a new report anyway"), ("new", "新的", "新登记")),
)


def start(ctx: Ctx, *, child_name: str | None = None, sex: Sex | None = None) -> str:
    """Begin a report, with what a run-on first message told already (intake/dialogue/intents.py), else empty."""
    ReportState(child_name=child_name, sex=sex).save(ctx)
    return CONSENT_DNA


def ask_consent_dna(ctx: Ctx) -> Question:
    return Question(_("Before we start: may a police lab take a DNA sample from you and use it only to search "
                      "for your child?"), YES_NO)  # fmt: skip


def on_consent_dna(ctx: Ctx) -> str:
    """Record the answer to the DNA sampling consent; a refusal ends the report."""
    if ctx.choose(YES_NO) == "2":
        return casefile.refuse(ctx, ConsentScope.DNA_SAMPLING)
    ReportState.keep(ctx, consent_dna_at=ctx.now)  # keeps what the first message told (a name, a sex)
    return CONSENT_DATA


def ask_consent_data(ctx: Ctx) -> Question:
    return Question(_("And may we keep your child's and your family's details (names, dates, places, phone) "
                      "to search for your child?"), YES_NO)  # fmt: skip


def on_consent_data(ctx: Ctx) -> str:
    """Record the answer to the personal data consent; a refusal ends the report."""
    if ctx.choose(YES_NO) == "2":
        return casefile.refuse(ctx, ConsentScope.DATA_PROCESSING)
    st = ReportState.keep(ctx, consent_data_at=ctx.now)
    if st.child_name is None and st.sex is None:
        return CHILD_NAME
    noted = [st.child_name or "", ctx.t(SEX_LABELS[st.sex]) if st.sex else ""]
    ctx.say(_("Noted from your first message: %(facts)s. You will see it again before you confirm.",
              facts=(", " if is_english(ctx) else "，").join(n for n in noted if n)))  # fmt: skip
    return CHILD_NAME if st.child_name is None else CHILD_SEX if st.sex is None else CHILD_BIRTH


def ask_child_name(ctx: Ctx) -> Question:
    return Question(_("Thank you. What is your child's full name?"))


def on_child_name(ctx: Ctx) -> str:
    """Keep the child's name."""
    st = ReportState.keep(ctx, child_name=casefile.typed_name(ctx))
    return CHILD_SEX if st.sex is None else CHILD_BIRTH  # a sex the first message told is not asked again


def ask_child_sex(ctx: Ctx) -> Question:
    name = casefile.short(ctx, ReportState.load(ctx.data).child_name or "", casefile.ECHO_NAME)
    return Question(_("Is %(name)s a boy or a girl?", name=name), SEXES)


def on_child_sex(ctx: Ctx) -> str:
    """Keep the child's sex."""
    ReportState.keep(ctx, sex=SEX_VALUES[ctx.choose(SEXES)])
    return CHILD_BIRTH


def ask_child_birth(ctx: Ctx) -> Question:
    return Question(_("How old is the child now? (like 6, 5-6, 8 months or born 2019)"))


def on_child_birth(ctx: Ctx) -> str:
    """Keep the child's date of birth, or age in years (or months for a baby)."""
    born, age = parse_birth(ctx.text, ctx.today)
    months, in_months, max_months = (
        (age.months, age.in_months, age.max_months) if age else (None, False, None)
    )
    ReportState.keep(
        ctx, birth=born.day if born else None, birth_precision=born.precision if born else Precision.DAY,
        age_months=months, age_in_months=in_months, age_max_months=max_months,
    )  # fmt: skip
    return LAST_SEEN_DATE


def ask_last_seen_date(ctx: Ctx) -> Question:
    question = _(
        "When did you last see the child? (like yesterday, last Tuesday, 3 days ago, October 2026 or "
        "2026-11-20)"
    )
    st = ReportState.load(ctx.data)
    if st.birth is None:
        return Question(question)
    # Say how the answer was read (a month as the month): a date at the age question is kept as the date of birth.
    noted = _(
        "Date of birth noted: %(born)s.", born=casefile.when_label(ctx, When(st.birth, st.birth_precision))
    )
    return Question(f"{ctx.t(noted)}\n{ctx.t(question)}")


def on_last_seen_date(ctx: Ctx) -> str:
    """Keep the date last seen (as precisely as given), not before the birth; point out a report made already."""
    st = ReportState.load(ctx.data)
    when = parse_past_when(ctx.text, today=ctx.today)
    if st.birth and when.last_day < st.birth:
        raise InputError("That is before the date of birth. Please check the date.")
    if (age := st.age) is not None and when.last_day < age.earliest_birth(ctx.today):
        raise InputError("A child who is %(age)s now was not born yet on that date. Please check the date.",
                         age=casefile.age_label(age))  # fmt: skip
    seen = st.last_seen = when.day
    st.last_seen_precision = when.precision
    st.save(ctx)
    if casefile.likely_duplicate(ctx, need(st.child_name), seen) is not None:
        return DUPLICATE
    return LAST_SEEN_PLACE


def ask_duplicate(ctx: Ctx) -> Question:
    st = ReportState.load(ctx.data)
    case = need(casefile.likely_duplicate(ctx, need(st.child_name), need(st.last_seen)))
    return Question(_("You already reported %(name)s, last seen %(date)s: case %(reference)s.",
                      name=casefile.short(ctx, case.child_name or "", casefile.ECHO_NAME),
                      date=casefile.when_label(ctx, st.seen), reference=case.reference),
                    DUPLICATE_OPTIONS)  # fmt: skip


def on_duplicate(ctx: Ctx) -> str:
    """Keep the case reported already (and show it), or go on with a new report of the same child."""
    if ctx.choose(DUPLICATE_OPTIONS) == "2":
        return LAST_SEEN_PLACE
    st = ReportState.load(ctx.data)
    case: Case = need(casefile.likely_duplicate(ctx, need(st.child_name), need(st.last_seen)))
    ctx.say(case_status(ctx, case))
    return END


def ask_last_seen_place(ctx: Ctx) -> Question:
    return Question(_("Where was the child last seen? (town, street or place)"))


def on_last_seen_place(ctx: Ctx) -> str:
    """Keep the place the child was last seen."""
    st = ReportState.keep(ctx, place=casefile.typed_place(ctx))
    return OTHER_REPORT if _reported_elsewhere(ctx, st) else DESCRIPTION


def _age_years(ctx: Ctx, st: ReportState) -> int | None:
    if st.age is not None:
        return st.age.years
    if st.birth is None:
        return None
    today = ctx.today
    return today.year - st.birth.year - ((today.month, today.day) < (st.birth.month, st.birth.day))


def _reported_elsewhere(ctx: Ctx, st: ReportState) -> bool:
    """Tell whether another phone likely reported this child already (intake.cases.duplicates)."""
    return bool(likely_duplicates_of(
        ctx.session, name=need(st.child_name), sex=need(st.sex), age_years=_age_years(ctx, st), place=st.place,
        exclude_contact_id=ctx.contact.id,
    ))  # fmt: skip


def ask_other_report(ctx: Ctx) -> Question:
    # Nothing of the other case is shown: this phone has not proved it belongs to that family (the PIN does).
    return Question(_("A report of a child with these details may exist already. If the child's other parent or a "
                      "relative reported, ask them for the case number and PIN and send JOIN with both: you then "
                      "share one case. Or go on with your own report:"), OTHER_REPORT_OPTIONS)  # fmt: skip


def on_other_report(ctx: Ctx) -> str:
    """Stop and JOIN the case another phone reported, or go on with this report (never merged or dropped)."""
    if ctx.choose(OTHER_REPORT_OPTIONS) == "2":
        return DESCRIPTION
    ctx.data.clear()
    ctx.say(_("OK, nothing of this report was saved. Send JOIN, the case number and the PIN when you have them "
              "(like JOIN MC-2026-ACL9KQ 180262)."))  # fmt: skip
    return END


def ask_description(ctx: Ctx) -> Question:
    return Question(_("Describe the child in a few words: clothes, marks, anything special. Or reply SKIP."))


def on_description(ctx: Ctx) -> str:
    """Keep a short description, or none when the parent skips."""
    description = casefile.optional_text(
        ctx, DESCRIPTION_LIMIT, too_long=N_("That is too long. Please keep it under 500 characters.")
    )
    st = ReportState.load(ctx.data)
    st.description = description
    st.attachments = casefile.take_photos(ctx, st.attachments)  # linked to the case on confirm
    st.save(ctx)
    return REPORTER_NAME


def ask_reporter_name(ctx: Ctx) -> Question:
    return Question(_("What is your own full name?"))


def on_reporter_name(ctx: Ctx) -> str:
    """Keep the reporter's name."""
    ReportState.keep(ctx, reporter=casefile.typed_name(ctx))
    return RELATION


def ask_relation(ctx: Ctx) -> Question:
    return Question(_("You are the child's:"), RELATIONS)


def on_relation(ctx: Ctx) -> str:
    """Keep how the reporter is related to the child, by option or as they say it ("孩子他妈", "外婆")."""
    ReportState.keep(ctx, role=relative_of(ctx.text) or ROLE_VALUES[ctx.choose(RELATIONS)])
    return CONFIRM


def ask_confirm(ctx: Ctx) -> Question:
    return Question(casefile.summary(ctx, ReportState.load(ctx.data)), CONFIRM_OPTIONS)


def on_confirm(ctx: Ctx) -> str:
    """Create the case from the answers, or start again."""
    if ctx.choose(CONFIRM_OPTIONS) == "2":
        return start(ctx)
    st = ReportState.load(ctx.data)
    case = casefile.create_case(ctx, st)
    attach_to_case(ctx.session, st.attachments, case.id)
    flag_likely_duplicates(ctx.session, case, actor=ctx.actor)  # officers see the pair; nothing is merged
    return OFFER_BOOKING


def ask_offer_booking(ctx: Ctx) -> Question:
    return Question(_("Book a DNA sampling appointment now?"), LATER)


def on_offer_booking(ctx: Ctx) -> str:
    """Go on to booking, or end with how to book later."""
    if ctx.choose(LATER) == "1":
        return booking.start_for_case(ctx, need(ReportState.load(ctx.data).case_id))
    ctx.say(_("OK. Send BOOK when you are ready."))
    return END


FLOW = Flow(
    "report",
    {CONSENT_DNA: "REPORT"},
    (
        Step(CONSENT_DNA, ask_consent_dna, on_consent_dna, {CONSENT_DATA: "yes", END: "no: refusal stored"}),
        Step(CONSENT_DATA, ask_consent_data, on_consent_data,
             {CHILD_NAME: "yes", CHILD_SEX: "yes, name told in the first message",
              CHILD_BIRTH: "yes, name and sex told in the first message", END: "no: refusal stored"}),
        Step(CHILD_NAME, ask_child_name, on_child_name,
             {CHILD_SEX: "name", CHILD_BIRTH: "name, sex told in the first message"}),
        Step(CHILD_SEX, ask_child_sex, on_child_sex, {CHILD_BIRTH: "boy / girl"}),
        Step(CHILD_BIRTH, ask_child_birth, on_child_birth, {LAST_SEEN_DATE: "age or birth date"}),
        Step(LAST_SEEN_DATE, ask_last_seen_date, on_last_seen_date,
             {LAST_SEEN_PLACE: "date", DUPLICATE: "same child and date reported already"}),
        Step(DUPLICATE, ask_duplicate, on_duplicate, {END: "1 that case: its status", LAST_SEEN_PLACE: "2 new report"}),
        Step(LAST_SEEN_PLACE, ask_last_seen_place, on_last_seen_place,
             {DESCRIPTION: "place", OTHER_REPORT: "likely reported from another phone"}),
        Step(OTHER_REPORT, ask_other_report, on_other_report,
             {END: "1 stop: how to JOIN", DESCRIPTION: "2 own report"}),
        Step(DESCRIPTION, ask_description, on_description, {REPORTER_NAME: "text or SKIP"}),
        Step(REPORTER_NAME, ask_reporter_name, on_reporter_name, {RELATION: "name"}),
        Step(RELATION, ask_relation, on_relation, {CONFIRM: "mother / father / other"}),
        Step(CONFIRM, ask_confirm, on_confirm, {OFFER_BOOKING: "confirm: case created", CONSENT_DNA: "start again"}),
        Step(OFFER_BOOKING, ask_offer_booking, on_offer_booking,
             {booking.PLACE: "book now", booking.MANAGE: "book now", END: "later"}),
    ),
)  # fmt: skip
