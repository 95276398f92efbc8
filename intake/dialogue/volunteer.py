"""The volunteers' flow: register a child of unknown identity found begging or alone (sample source 5), and book
the child's DNA sampling at a lab near the place found.

`FOUND` (`发现`, `登记儿童`) asks the volunteer's consent to keep their own details, then where and when the child
was found, the estimated age, sex, what the child says of their name, home or family, a description with photos,
the volunteer's name (and, on a channel that is not a phone, their phone) and with whom the child is safe now.
On confirmation (which states that the child is in safe custody) `intake.cases.found_children.register_found_child`
creates the FC- case and the child's sample code, the volunteer is recorded as a person of role VOLUNTEER, and the
child's sampling basis is recorded: a child of unknown identity cannot consent and has no known guardian, so the
basis is the police's order under the national programme (`intake.cases.consent.record_police_order`), which the
consent guard accepts for source 5 only. The booking flow then offers the labs near the place found.

`NEXT` (`下一个`) starts the next registration at once with the volunteer's name, phone and consent kept;
`CHILDREN` (`名单`) lists the children the volunteer registered and how far each one's sample is (the latest
LIST_SIZE, and how many more). HELP adds these three to a volunteer's answer. Booking a found child's sampling
later (BOOK) looks for labs at the place found, as the registration does, without asking where again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from intake.cases.consent import record_police_order
from intake.cases.found_children import ADULT_AGE, register_found_child
from intake.dialogue import booking, casefile
from intake.dialogue.bookable import BookingState
from intake.dialogue.report import SEX_VALUES, SEXES
from intake.dialogue.state import FlowState, need
from intake.dialogue.status import PROGRESS_WORDS
from intake.dialogue.steps import END, YES_NO, Ctx, Flow, Option, Question, Step
from intake.dialogue.vocabulary import YES_WORDS
from intake.labs.directory import check_location, find_labs
from intake.models import (
    Booking,
    BookingStatus,
    Case,
    Channel,
    Consent,
    ConsentScope,
    CustodyState,
    FoundChild,
    Person,
    Role,
    Sample,
    SampleSource,
    SampleStatus,
    Sex,
    attach_to_case,
    audit,
)
from intake.places.gazetteer import off_china, outside_china
from intake.platform.dates import (
    Age,
    Precision,
    TooOld,
    When,
    parse_age_or_birth,
    parse_past_when,
    years_between,
)
from intake.platform.errors import InputError
from intake.platform.i18n import N_, Msg, _
from intake.samples.custody import custody_events, derive_state

CONSENT, PLACE, DATE, AGE, SEX = "found.consent", "found.place", "found.date", "found.age", "found.sex"
SAYS, DESCRIPTION, NAME, PHONE = "found.says", "found.description", "found.name", "found.phone"
SAFE_WITH, CONFIRM = "found.safe_with", "found.confirm"
# Bump when the volunteer's consent question changes, so each recorded answer says which text was shown.
VOLUNTEER_CONSENT_VERSION = "volunteer-2026-01"
TEXT_LIMIT, SAFE_LIMIT, LIST_SIZE = 300, 100, 5

NOT_SURE = Option("3", _("Not sure"), ("不确定", "不知道", "unknown", "not sure", "dont know"))
FOUND_SEXES = (*SEXES, NOT_SURE)
SAFE_OPTIONS = (
    Option("1", _("Police station"), ("派出所", "公安", "police", "警察")),
    Option("2", _("Shelter or children's home"), ("救助站", "福利院", "shelter")),
    Option("3", _("With me"), ("我", "我这里", "在我这", "me")),
)
CONFIRM_OPTIONS = (Option("1", _("Confirm"), YES_WORDS), Option("2", _("Start again"), ("重填",)))
HELP = _("Volunteers: FOUND to register a child found alone, NEXT for the next child, CHILDREN for the children "
         "you registered.")  # fmt: skip
_ABOUT = re.compile(r"^(?:about|around|approx\.?|maybe|大约|大概|约|~)\s*|\s*(?:左右|上下)$", re.IGNORECASE)
_PHONE = re.compile(r"(?:\+?86)?(1[3-9]\d{9})|\+(\d{8,15})")


@dataclass
class FoundState(FlowState):
    """The volunteer's answers so far; every field is set by one step."""

    consent_at: datetime | None = None  # the volunteer agreed to their own details being kept
    place: str | None = None
    near: list[float] = field(default_factory=list)  # a shared location (latitude, longitude) of the place
    found_on: date | None = None
    found_precision: Precision = Precision.DAY  # "unknown" when the volunteer does not know (found_on: today)
    age_years: int | None = None
    age_max_years: int | None = None  # the top of an estimated range ("五六岁")
    sex: Sex | None = None
    says: str | None = None
    description: str | None = None
    attachments: list[int] = field(default_factory=list)  # photos, linked to the case on confirmation
    volunteer: str | None = None
    phone: str | None = None
    safe_with: str | None = None
    known_volunteer: bool = False  # NEXT: name, phone and consent come from the volunteer's last registration


def start(ctx: Ctx) -> str:
    """Begin a registration with the volunteer's consent to keeping their own details."""
    FoundState().save(ctx)
    return CONSENT


def start_next(ctx: Ctx) -> str:
    """Begin the next registration, keeping the name, phone and consent of the volunteer's last one."""
    last = ctx.session.scalars(
        sa.select(Person)
        .where(Person.contact_id == ctx.contact.id, Person.role == Role.VOLUNTEER, Person.name.is_not(None))
        .order_by(Person.id.desc())
    ).first()
    consent = None if last is None else _volunteer_consent(ctx, last)
    if last is None or consent is None:
        return start(ctx)
    FoundState(consent_at=consent.recorded_at, volunteer=last.name, phone=last.relation_note,
               known_volunteer=True).save(ctx)  # fmt: skip
    ctx.say(_("Next child. We keep your name, %(name)s, and your consent.",
              name=casefile.short(ctx, last.name or "", casefile.ECHO_NAME)))  # fmt: skip
    return PLACE


def _volunteer_consent(ctx: Ctx, person: Person) -> Consent | None:
    latest = ctx.session.scalars(
        sa.select(Consent)
        .where(Consent.person_id == person.id, Consent.scope == ConsentScope.DATA_PROCESSING)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
    ).first()
    return latest if latest is not None and latest.granted and latest.withdrawn_at is None else None


def ask_consent(ctx: Ctx) -> Question:
    return Question(_("Register a child found alone or begging. The police have the DNA of such children sampled "
                      "under the national anti-trafficking programme. May we keep your name and phone, to reach "
                      "you about this child?"), YES_NO)  # fmt: skip


def on_consent(ctx: Ctx) -> str:
    """Keep the volunteer's consent to their own details; a refusal ends with nothing saved."""
    if ctx.choose(YES_NO) == "2":
        ctx.data.clear()
        ctx.say(_("OK, nothing was saved. If the child is in danger, call 110."))
        return END
    FoundState(consent_at=ctx.now).save(ctx)
    return PLACE


def ask_place(ctx: Ctx) -> Question:
    return Question(_("Where did you find the child? (town, street or place)"))


def on_place(ctx: Ctx) -> str:
    """Keep the place the child was found, as written or as a shared location (a chat app)."""
    if ctx.incoming.location is not None:
        latitude, longitude = ctx.incoming.location
        check_location(latitude, longitude)
        if off_china(latitude, longitude):
            raise InputError("That location (%(lat)s, %(lon)s) is at sea or outside China. Please write the town "
                             "where you found the child, or share the location again.",
                             lat=f"{latitude:.3f}", lon=f"{longitude:.3f}")  # fmt: skip
        FoundState.keep(ctx, place=f"GPS {latitude:.5f},{longitude:.5f}", near=[latitude, longitude])
        return DATE
    place = casefile.typed_place(ctx)
    if (country := outside_china(place)) is not None:
        raise InputError("That place seems to be abroad (%(country)s). This service registers children found in "
                         "China: write the town in China. For a child found abroad, call the police there or the "
                         "Chinese embassy.", country=country)  # fmt: skip
    FoundState.keep(ctx, place=place, near=[])
    return DATE


def ask_date(ctx: Ctx) -> Question:
    return Question(_("When did you find the child? (like today, yesterday evening, last Tuesday, 2026-11-20, or "
                      "not known)"))  # fmt: skip


def on_date(ctx: Ctx) -> str:
    """Keep the day the child was found (not in the future), as precisely as given, or that it is not known."""
    when = parse_past_when(ctx.text, today=ctx.today, allow_unknown=True)
    FoundState.keep(ctx, found_on=when.day, found_precision=when.precision)
    return AGE


def ask_age(ctx: Ctx) -> Question:
    return Question(_("About how old is the child? (like 6, 5-6 or 8 months)"))


def _adult() -> InputError:
    return InputError("This registration is only for children under %(adult)s: the police may have a child's DNA "
                      "sampled without consent, never an adult's. An adult decides for themselves: help them call "
                      "110 or go to a police station, where they can consent to a DNA sample. If you mistyped the "
                      "age, send it again.", adult=ADULT_AGE)  # fmt: skip


def on_age(ctx: Ctx) -> str:
    """Keep the estimated age in years, or a range (a date of birth the child knows is turned into years).

    A person of ADULT_AGE or more is not registered here: an adult is not sampled on the police's order.
    """
    try:
        born, age = parse_age_or_birth(_ABOUT.sub("", ctx.text.strip()), ctx.today, max_years=ADULT_AGE - 1)
    except TooOld:
        raise _adult() from None
    if age is not None:
        FoundState.keep(ctx, age_years=age.years, age_max_years=age.max_years)
    else:  # a date of birth: the child's age in whole years today
        FoundState.keep(ctx, age_years=years_between(need(born), ctx.today), age_max_years=None)
    return SEX


def ask_sex(ctx: Ctx) -> Question:
    return Question(_("Is the child a boy or a girl?"), FOUND_SEXES)


def on_sex(ctx: Ctx) -> str:
    """Keep the child's sex, or not known."""
    picked = ctx.choose(FOUND_SEXES)
    FoundState.keep(ctx, sex=Sex.UNKNOWN if picked == NOT_SURE.key else SEX_VALUES[picked])
    return SAYS


def ask_says(ctx: Ctx) -> Question:
    return Question(_("What does the child say of their name, home or family? Or reply SKIP."))


def on_says(ctx: Ctx) -> str:
    """Keep what the child says of their name, home or family, or nothing."""
    FoundState.keep(ctx, says=casefile.optional_text(ctx, TEXT_LIMIT))
    return DESCRIPTION


def ask_description(ctx: Ctx) -> Question:
    return Question(_("Describe the child: clothes, marks, anything special. Send photos too if you can. Or reply "
                      "SKIP."))  # fmt: skip


def on_description(ctx: Ctx) -> str:
    """Keep a description and the photos sent with it (a photo alone is an answer here)."""
    st = FoundState.load(ctx.data)
    st.description = casefile.optional_text(ctx, TEXT_LIMIT)
    st.attachments = casefile.take_photos(ctx, st.attachments)  # linked to the case on confirmation
    st.save(ctx)
    return SAFE_WITH if st.known_volunteer else NAME


def ask_name(ctx: Ctx) -> Question:
    return Question(_("What is your own full name?"))


def on_name(ctx: Ctx) -> str:
    """Keep the volunteer's name; ask a phone number only where the channel is not a phone."""
    FoundState.keep(ctx, volunteer=casefile.typed_name(ctx))
    return SAFE_WITH if ctx.incoming.channel is Channel.SMS else PHONE


def ask_phone(ctx: Ctx) -> Question:
    return Question(_("Your mobile number, so the police can reach you? (like 13800138000)"))


def on_phone(ctx: Ctx) -> str:
    """Keep the volunteer's phone number (a Chinese mobile number, or any with its country code)."""
    digits = re.sub(r"[\s().-]", "", ctx.text)
    m = _PHONE.fullmatch(digits)
    if m is None:
        raise InputError("Please write a mobile number, like 13800138000.")
    FoundState.keep(ctx, phone=f"+86{m.group(1)}" if m.group(1) else f"+{m.group(2)}")
    return SAFE_WITH


def ask_safe_with(ctx: Ctx) -> Question:
    return Question(_("Who is the child safe with now? Reply a number or write who or where:"), SAFE_OPTIONS)


def on_safe_with(ctx: Ctx) -> str:
    """Keep with whom the child is safe now: an option, or as the volunteer writes it."""
    try:
        picked = ctx.choose(SAFE_OPTIONS)
        safe_with = ctx.t(next(o.label for o in SAFE_OPTIONS if o.key == picked))
    except InputError:
        safe_with = casefile.typed_text(
            ctx, SAFE_LIMIT, unusable=N_("Please write who the child is with, or where."),
            too_long=N_("That is too long. Please name the place in at most %(max)s characters."),
        )  # fmt: skip
    FoundState.keep(ctx, safe_with=safe_with)
    return CONFIRM


def ask_confirm(ctx: Ctx) -> Question:
    st = FoundState.load(ctx.data)
    text = _("Please check: child found %(date)s at %(place)s: %(sex)s, about %(age)s, safe now with: %(safe)s. "
             "You: %(name)s. Confirming says the child is in safe care.", sex=casefile.SEX_WORDS[need(st.sex)],
             age=casefile.age_label(_age(need(st.age_years), st.age_max_years)),
             date=casefile.when_label(ctx, When(need(st.found_on), st.found_precision)),
             place=casefile.short(ctx, need(st.place), casefile.ECHO_PLACE),
             safe=casefile.short(ctx, need(st.safe_with), casefile.ECHO_PLACE),
             name=casefile.short(ctx, need(st.volunteer), casefile.ECHO_NAME))  # fmt: skip
    return Question(text, CONFIRM_OPTIONS)


def _description(ctx: Ctx, st: FoundState) -> str:
    # The case's description, for the officers: what the child says, how they look, with whom they are safe.
    parts = [
        _("The child says: %(words)s", words=st.says) if st.says else None,
        _("Looks: %(words)s", words=st.description) if st.description else None,
        _("Safe with: %(who)s", who=need(st.safe_with)),
    ]
    return "\n".join(ctx.t(p) for p in parts if p is not None)


def on_confirm(ctx: Ctx) -> str:
    """Register the child, the volunteer and the sampling basis, then offer labs near the place found."""
    if ctx.choose(CONFIRM_OPTIONS) == "2":
        return start_next(ctx) if FoundState.load(ctx.data).known_volunteer else start(ctx)
    st = FoundState.load(ctx.data)
    registered = register_found_child(
        ctx.session, source=SampleSource.UNKNOWN_IDENTITY_CHILD, sex=need(st.sex), age_years=need(st.age_years),
        found_place=need(st.place), found_date=need(st.found_on), actor=ctx.actor, age_max_years=st.age_max_years,
        found_date_precision=st.found_precision.value,
        description=_description(ctx, st), today=ctx.today,
    )  # fmt: skip
    case = registered.case
    child = ctx.session.scalars(
        sa.select(Person).where(Person.case_id == case.id, Person.role == Role.CHILD)
    ).one()
    volunteer = Person(case_id=case.id, role=Role.VOLUNTEER, name=need(st.volunteer), relation_note=st.phone,
                       contact_id=ctx.contact.id)  # fmt: skip
    ctx.session.add(volunteer)
    ctx.session.flush()
    ctx.session.add(
        Consent(contact_id=ctx.contact.id, case_id=case.id, person_id=volunteer.id,
                scope=ConsentScope.DATA_PROCESSING, granted=True, channel=ctx.incoming.channel, language=ctx.lang,
                text_version=VOLUNTEER_CONSENT_VERSION, recorded_at=need(st.consent_at))
    )  # fmt: skip
    record_police_order(ctx.session, case, person_id=child.id, channel=ctx.incoming.channel, language=ctx.lang,
                        at=ctx.now)  # fmt: skip
    attach_to_case(ctx.session, st.attachments, case.id)
    audit(ctx.session, ctx.actor, "found_child.volunteer", "case", case.id, volunteer=volunteer.id,
          photos=len(st.attachments), basis="police_order")  # fmt: skip
    code = registered.samples[Role.CHILD.value]
    ctx.say(_("Registered: case %(reference)s. The child's sample code is %(code)s.", reference=case.reference,
              code=code), code=code)  # fmt: skip
    ctx.say(_("Now book the child's DNA sampling at a lab near where the child was found."))
    if st.near:  # the labs nearest the shared location
        BookingState(case_id=case.id, near=st.near).save(ctx)
        return booking.LAB
    BookingState(case_id=case.id, place=st.place).save(ctx)
    return booking.LAB if find_labs(ctx.session, need(st.place), today=ctx.today, limit=1) else booking.PLACE


def _age(years: int, max_years: int | None) -> Age:
    return Age(years * 12, max_months=None if max_years is None else max_years * 12)


def booking_found_child(ctx: Ctx) -> bool:
    """Tell whether the booking flow in progress is for a found child (CANCEL then leaves the child registered)."""
    case_id = BookingState.load(ctx.data).case_id
    return case_id is not None and ctx.session.get(FoundChild, case_id) is not None


def is_volunteer(ctx: Ctx, flow: str | None) -> bool:
    """Tell whether this contact registers found children: in the flow now, or registered one before."""
    if flow == FLOW.name:
        return True
    mine = sa.select(Person.id).where(Person.contact_id == ctx.contact.id, Person.role == Role.VOLUNTEER)
    return ctx.session.scalar(mine.limit(1)) is not None


def registered_by(ctx: Ctx) -> list[Case]:
    """Return the found children this contact registered, oldest first."""
    mine = sa.select(Person.case_id).where(Person.contact_id == ctx.contact.id, Person.role == Role.VOLUNTEER)
    query = sa.select(Case).join(FoundChild, FoundChild.case_id == Case.id).where(Case.id.in_(mine))
    return list(ctx.session.scalars(query.order_by(Case.id)))


def sampling_state(ctx: Ctx, case: Case) -> Msg:
    """Say how far the child's sample is: not booked yet, booked, taken, at the lab, typed."""
    query = sa.select(Sample).where(Sample.case_id == case.id, Sample.status != SampleStatus.CANCELLED)
    sample = ctx.session.scalars(query.order_by(Sample.id.desc())).first()
    if sample is None:
        return _("not booked yet")
    state = derive_state(sample, custody_events(ctx.session, sample))
    booked = sample.booking_id is not None and ctx.session.scalar(
        sa.select(Booking.id).where(
            Booking.id == sample.booking_id, Booking.status != BookingStatus.CANCELLED
        )
    )
    if state is CustodyState.AWAITING_COLLECTION and not booked:
        return _("not booked yet")
    return PROGRESS_WORDS.get(state, _("booked"))


def say_children(ctx: Ctx) -> None:
    """Reply with the children this contact registered (the latest few) and how far each one's sample is."""
    cases = registered_by(ctx)
    if not cases:
        ctx.say(_("You have not registered a found child yet. Send FOUND to start."))
        return
    lines = [ctx.t(_("Children you registered (%(count)s):", count=len(cases)))]
    for case in cases[-LIST_SIZE:]:
        found = ctx.session.get_one(FoundChild, case.id)
        lines.append(ctx.t(_("%(reference)s %(sex)s %(age)s, %(place)s: %(state)s", reference=case.reference,
                             sex=casefile.SEX_WORDS[case.child_sex],
                             age=casefile.age_label(_age(found.estimated_age_years or 0,
                                                         found.estimated_age_max_years)),
                             place=casefile.short(ctx, found.found_place, 16), state=sampling_state(ctx, case))))  # fmt: skip
    if len(cases) > LIST_SIZE:
        lines.append(ctx.t(_("And %(count)s more, registered earlier.", count=len(cases) - LIST_SIZE)))
    ctx.say("\n".join(lines))


FLOW = Flow(
    "found",
    {CONSENT: "FOUND", PLACE: "NEXT (a volunteer registered before)"},
    (
        Step(CONSENT, ask_consent, on_consent, {PLACE: "yes", END: "no: nothing saved"}),
        Step(PLACE, ask_place, on_place, {DATE: "place or shared location"}),
        Step(DATE, ask_date, on_date, {AGE: "date, not in the future, or not known"}),
        Step(AGE, ask_age, on_age, {SEX: "estimated age or range, under 18"}),
        Step(SEX, ask_sex, on_sex, {SAYS: "boy / girl / not sure"}),
        Step(SAYS, ask_says, on_says, {DESCRIPTION: "text or SKIP"}),
        Step(DESCRIPTION, ask_description, on_description,
             {NAME: "text, photos or SKIP", SAFE_WITH: "text, photos or SKIP (NEXT)"}),
        Step(NAME, ask_name, on_name, {SAFE_WITH: "name (SMS)", PHONE: "name (not a phone)"}),
        Step(PHONE, ask_phone, on_phone, {SAFE_WITH: "mobile number"}),
        Step(SAFE_WITH, ask_safe_with, on_safe_with, {CONFIRM: "police / shelter / me / written"}),
        Step(CONFIRM, ask_confirm, on_confirm,
             {booking.LAB: "confirm: registered, labs near the place or location", booking.PLACE: "confirm: no lab there",
              CONSENT: "start again", PLACE: "start again (NEXT)"}),
    ),
)  # fmt: skip
