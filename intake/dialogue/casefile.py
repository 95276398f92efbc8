"""What the report flow keeps and stores: its typed answers, a refused consent alone, or the confirmed case.

The answers stay in a ReportState in the conversation until the parent confirms; only then are the case, its
persons and both consents written. Echoed answers are shortened so a summary stays within the SMS budget.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Self

import sqlalchemy as sa
from babel.dates import format_date

from intake.dialogue.state import FlowState, need
from intake.dialogue.steps import END, YES_NO, Ctx, fold, is_english
from intake.models import Case, CaseStatus, Consent, ConsentScope, Person, Role, Sex, attachments_of, audit
from intake.places.provinces import province_of_place
from intake.platform.codes import insert_with_unique_code, new_case_pin, new_case_reference
from intake.platform.dates import SEASON_WORDS, Age, Precision, When
from intake.platform.errors import InputError
from intake.platform.i18n import N_, Msg, _

# Bump when the consent questions' wording changes, so each recorded answer says which text was shown.
CONSENT_TEXT_VERSION = "consent-2026-01"
# Longest echo of a typed name or place: the summary then fits the 4-segment SMS budget (docs/dialogue.md).
ECHO_NAME, ECHO_PLACE = 20, 30
NAME_LIMIT, PLACE_LIMIT = 60, 200  # longest name and place kept
SKIP_WORDS = ("skip", "跳过", "没有", "无", "none", "no")  # an optional text left out

SEX_WORDS = {Sex.MALE: _("boy"), Sex.FEMALE: _("girl"), Sex.UNKNOWN: _("not known")}
ROLE_WORDS = {
    Role.MOTHER: _("mother"), Role.FATHER: _("father"), Role.GRANDPARENT: _("grandparent"),
    Role.FULL_SIBLING: _("brother or sister"), Role.HALF_SIBLING: _("half brother or sister"),
    Role.AUNT_UNCLE: _("aunt or uncle"), Role.OTHER_RELATIVE: _("other relative"),
    Role.PATERNAL_GRANDFATHER: _("father's father"), Role.PATERNAL_GRANDMOTHER: _("father's mother"),
    Role.MATERNAL_GRANDFATHER: _("mother's father"), Role.MATERNAL_GRANDMOTHER: _("mother's mother"),
    Role.PATERNAL_AUNT_UNCLE: _("father's brother or sister"), Role.MATERNAL_AUNT_UNCLE: _("mother's brother or sister"),
    Role.PATERNAL_HALF_SIBLING: _("half-brother or half-sister, same father"),
    Role.MATERNAL_HALF_SIBLING: _("half-brother or half-sister, same mother"),
}  # fmt: skip


@dataclass
class ReportState(FlowState):
    """The report flow's answers so far; every field is set by one step."""

    consent_dna_at: datetime | None = None
    consent_data_at: datetime | None = None
    child_name: str | None = None
    sex: Sex | None = None
    birth: date | None = None
    birth_precision: Precision = Precision.DAY  # "2019年5月" is a month, stored as its first day
    age_months: int | None = None
    age_in_months: bool = False  # the parent gave months (a baby), so the age is known to the month
    age_max_months: int | None = None  # the top of an age range ("五六岁")
    last_seen: date | None = None
    last_seen_precision: Precision = Precision.DAY  # "去年10月" is a month, stored as its first day
    place: str | None = None
    description: str | None = None
    reporter: str | None = None
    role: Role | None = None
    attachments: list[int] = field(default_factory=list)  # photos sent during the report, linked on confirm
    case_id: int | None = None  # the case created on confirmation

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        """Return the state in `data`; a conversation begun before ages were kept in months has "age" in years."""
        if data.get("age") is not None and "age_months" not in data:
            data = {**data, "age_months": int(data["age"]) * 12}
        return super().load(data)

    @property
    def age(self) -> Age | None:
        """Return the age given, if the parent gave an age rather than a date of birth."""
        return (
            None if self.age_months is None else Age(self.age_months, self.age_in_months, self.age_max_months)
        )

    @property
    def seen(self) -> When:
        """Return the date last seen with how precisely it is known."""
        return When(need(self.last_seen), self.last_seen_precision)


def short(ctx: Ctx, text: str, limit: int) -> str:
    """Return `text` cut to `limit` characters with an ellipsis (three dots in English, which keeps GSM-7)."""
    if len(text) <= limit:
        return text
    mark = "..." if is_english(ctx) else "…"
    return text[: limit - len(mark)].rstrip() + mark


def _is_answer_word(ctx: Ctx) -> bool:
    # "是的" at the name question answers a yes/no question, and "跳过" skips an optional one: neither is a name or
    # a place, which are never optional.
    if " ".join(ctx.text.split()).casefold() in SKIP_WORDS:
        return True
    try:
        ctx.choose(YES_NO)
    except InputError:
        return False
    return True


def typed_text(ctx: Ctx, limit: int, *, unusable: str, too_long: str) -> str:
    """Return the typed name or place, or refuse it with a reason that fits the question (msgids `unusable`...)."""
    text = " ".join(ctx.text.split())
    if len(text) > limit:
        raise InputError(too_long, max=limit)
    has_letters = any(unicodedata.category(ch).startswith("L") for ch in text)
    if len(text) < 2 or not has_letters or _is_answer_word(ctx):
        raise InputError(unusable)
    return text


def optional_text(ctx: Ctx, limit: int, *, too_long: str = N_("That is too long. Please keep it under %(max)s "
                                                                "characters.")) -> str | None:  # fmt: skip
    """Return free text that may be skipped (a description, what a child says): None for SKIP or nothing typed,
    refused when longer than `limit` (msgid `too_long`, given `max`)."""
    text = " ".join(ctx.text.split())
    if len(text) > limit:
        raise InputError(too_long, max=limit)
    return None if not text or text.casefold() in SKIP_WORDS else text


def typed_name(ctx: Ctx) -> str:
    """Return a typed full name (the child's, the reporter's, a volunteer's), or refuse it with the reason."""
    return typed_text(ctx, NAME_LIMIT, unusable=N_("Please write the full name."),
                      too_long=N_("That name is too long. Please write at most %(max)s characters."))  # fmt: skip


def typed_place(ctx: Ctx) -> str:
    """Return a typed place (where a child was last seen, or found), or refuse it with the reason."""
    return typed_text(ctx, PLACE_LIMIT, unusable=N_("Please write the place: a town, street or landmark."),
                      too_long=N_("That is too long. Please name the place in at most %(max)s characters."))  # fmt: skip


def take_photos(ctx: Ctx, kept: list[int]) -> list[int]:
    """Return `kept` and the photos sent with this message (to link to the case once it exists); say so."""
    photos = attachments_of(ctx.session, ctx.incoming.channel, ctx.incoming.provider_id)
    if photos:
        ctx.say(_("Thank you, we received the photo. It will be kept with your report."))
        ctx.photos_noted = True
    return [*kept, *photos]


def date_label(ctx: Ctx, day: date) -> str:
    """Format a past date in the contact's language ("20 Nov 2026", "2026年11月20日"), never as ISO."""
    if is_english(ctx):
        return str(format_date(day, "d MMM y", locale="en"))
    return str(format_date(day, "y年M月d日", locale="zh_CN"))


def when_label(ctx: Ctx, when: When) -> str:
    """Format a past date as precisely as it was given: a day, around a day, a month, a season, a year, unknown."""
    english, day = is_english(ctx), when.day
    match when.precision:
        case Precision.DAY:
            return date_label(ctx, day)
        case Precision.WEEK:
            return ctx.t(_("around %(date)s", date=date_label(ctx, day)))
        case Precision.MONTH:
            return str(
                format_date(day, "MMM y", locale="en")
                if english
                else format_date(day, "y年M月", locale="zh_CN")
            )
        case Precision.SEASON:
            return ctx.t(Msg(SEASON_WORDS[day.month], {"year": day.year}))
        case Precision.YEAR:
            return str(day.year) if english else f"{day.year}年"
    return ctx.t(_("date not known"))


def age_label(age: Age) -> Msg:
    """Describe an age the way it was given: years, months for a baby, both ("2 years 6 months"), or a range."""
    if age.max_months is not None and age.max_months > age.months:
        if age.in_months:
            return _("%(low)s to %(high)s months", low=age.months, high=age.max_months)
        return _("%(low)s to %(high)s years", low=age.years, high=age.max_years)
    if not age.in_months or age.months % 12 == 0:
        return _("%(age)s years", age=age.years)
    if age.months < 12:
        return _("%(months)s months", months=age.months)
    return _("%(years)s years %(months)s months", years=age.years, months=age.months % 12)


def _consent(ctx: Ctx, scope: ConsentScope, granted: bool, at: datetime) -> Consent:
    return Consent(
        contact_id=ctx.contact.id, scope=scope, granted=granted, channel=ctx.incoming.channel,
        language=ctx.lang, text_version=CONSENT_TEXT_VERSION, recorded_at=at,
    )  # fmt: skip


def record_consent(
    ctx: Ctx, scope: ConsentScope, granted: bool, *, case_id: int, person_id: int, at: datetime | None = None
) -> None:
    """Record one person's own answer to one consent question of a case they joined (JOIN, LINK with a PIN)."""
    consent = _consent(ctx, scope, granted, at or ctx.now)
    consent.case_id, consent.person_id = case_id, person_id
    ctx.session.add(consent)
    ctx.session.flush()
    action = "consent.grant" if granted else "consent.refuse"
    audit(ctx.session, ctx.actor, action, "consent", consent.id, scope=scope.value, person=person_id)


def refuse(ctx: Ctx, scope: ConsentScope) -> str:
    """Store the refusal of one consent, forget every other answer, and end the report politely."""
    ctx.data.clear()
    consent = _consent(ctx, scope, False, ctx.now)
    ctx.session.add(consent)
    ctx.session.flush()
    audit(ctx.session, ctx.actor, "consent.refuse", "consent", consent.id, scope=scope.value)
    ctx.say(_("We understand. We have kept only your answer, nothing else. You can send REPORT at any time."))
    return END


def summary(ctx: Ctx, st: ReportState) -> Msg:
    """Return the short summary the parent confirms before the case is created."""
    age = when_label(ctx, When(st.birth, st.birth_precision)) if st.birth else age_label(need(st.age))
    return _(
        "Please check: %(child)s, %(sex)s, %(age)s, last seen %(date)s at %(place)s. You: %(reporter)s (%(role)s).",
        child=short(ctx, need(st.child_name), ECHO_NAME), sex=SEX_WORDS[need(st.sex)], age=age,
        date=when_label(ctx, st.seen), place=short(ctx, need(st.place), ECHO_PLACE),
        reporter=short(ctx, need(st.reporter), ECHO_NAME), role=ROLE_WORDS[need(st.role)],
    )  # fmt: skip


def likely_duplicate(ctx: Ctx, name: str, last_seen: date) -> Case | None:
    """Return an open case this contact already reported for the same child name and date last seen."""
    query = sa.select(Case).where(
        Case.reported_by_contact_id == ctx.contact.id,
        Case.last_seen_date == last_seen,
        Case.status.not_in((CaseStatus.WITHDRAWN, CaseStatus.CLOSED)),
    )
    same = (c for c in ctx.session.scalars(query.order_by(Case.id)) if fold(c.child_name or "") == fold(name))
    return next(same, None)


def create_case(ctx: Ctx, st: ReportState) -> Case:
    """Create the case, the reporter and the child, and attach both consents; tell the parent the reference."""
    session, age = ctx.session, st.age
    case = insert_with_unique_code(
        session,
        lambda: Case(
            reference=new_case_reference(ctx.now), pin=new_case_pin(), child_name=need(st.child_name),
            child_sex=need(st.sex), child_birth_date=st.birth, child_birth_precision=st.birth_precision.value,
            child_age_years=age.years if age else None,
            child_age_max_years=age.max_years if age else None, last_seen_date=need(st.last_seen),
            last_seen_precision=st.last_seen_precision.value, last_seen_place=need(st.place),
            place_province=province_of_place(st.place), description=st.description,
            reported_by_contact_id=ctx.contact.id,
        ),
    )  # fmt: skip
    reporter = Person(case_id=case.id, role=need(st.role), name=need(st.reporter), contact_id=ctx.contact.id)
    child = Person(case_id=case.id, role=Role.CHILD, name=need(st.child_name))
    session.add_all([reporter, child])
    session.flush()
    for scope, at in (
        (ConsentScope.DNA_SAMPLING, need(st.consent_dna_at)),
        (ConsentScope.DATA_PROCESSING, need(st.consent_data_at)),
    ):
        consent = _consent(ctx, scope, True, at)
        consent.case_id, consent.person_id = case.id, reporter.id
        session.add(consent)
    audit(session, ctx.actor, "case.create", "case", case.id, reference=case.reference,
          channel=ctx.incoming.channel.value)  # fmt: skip
    ReportState(case_id=case.id).save(ctx)
    ctx.say(_("Thank you. Your case number is %(reference)s. Your PIN is %(pin)s: a real officer who calls you "
              "will know it. Never pay anyone who asks for money.", reference=case.reference, pin=case.pin))  # fmt: skip
    return case
