"""What the report flow stores: a refused consent alone, or the confirmed case with its persons and consents."""

from __future__ import annotations

from datetime import date, datetime

from intake.codes import insert_with_unique_code, new_case_pin, new_case_reference
from intake.dialogue.steps import END, Ctx
from intake.i18n import Msg, _
from intake.models import Case, Consent, ConsentScope, Person, Role, Sex, audit

# Bump when the consent questions' wording changes, so each recorded answer says which text was shown.
CONSENT_TEXT_VERSION = "consent-2026-01"

SEX_WORDS = {Sex.MALE: _("boy"), Sex.FEMALE: _("girl"), Sex.UNKNOWN: _("not known")}
ROLE_WORDS = {Role.MOTHER: _("mother"), Role.FATHER: _("father"), Role.OTHER_RELATIVE: _("other relative")}


def _consent(ctx: Ctx, scope: ConsentScope, granted: bool, at: datetime) -> Consent:
    return Consent(
        contact_id=ctx.contact.id, scope=scope, granted=granted, channel=ctx.incoming.channel,
        language=ctx.lang, text_version=CONSENT_TEXT_VERSION, recorded_at=at,
    )  # fmt: skip


def refuse(ctx: Ctx, scope: str) -> str:
    """Store the refusal of one consent, forget every other answer, and end the report politely."""
    ctx.data.clear()
    consent = _consent(ctx, ConsentScope(scope), False, ctx.now)
    ctx.session.add(consent)
    ctx.session.flush()
    audit(ctx.session, ctx.actor, "consent.refuse", "consent", consent.id, scope=scope)
    ctx.say(_("We understand. We have kept only your answer, nothing else. You can send REPORT at any time."))
    return END


def _age(data: dict[str, object]) -> Msg | str:
    if data.get("birth"):
        return str(data["birth"])
    return _("%(age)s years", age=data.get("age"))


def summary(ctx: Ctx) -> Msg:
    """Return the short summary the parent confirms before the case is created."""
    d = ctx.data
    return _(
        "Please check: %(child)s, %(sex)s, %(age)s, last seen %(date)s at %(place)s. You: %(reporter)s (%(role)s).",
        child=d["child_name"], sex=SEX_WORDS[Sex(d["sex"])], age=_age(d), date=d["last_seen"],
        place=d["place"], reporter=d["reporter"], role=ROLE_WORDS[Role(d["role"])],
    )  # fmt: skip


def create_case(ctx: Ctx) -> Case:
    """Create the case, the reporter and the child, and attach both consents; tell the parent the reference."""
    d, session = ctx.data, ctx.session
    birth = d.get("birth")
    case = insert_with_unique_code(
        session,
        lambda: Case(
            reference=new_case_reference(ctx.now), pin=new_case_pin(), child_name=d["child_name"],
            child_sex=Sex(d["sex"]), child_birth_date=date.fromisoformat(birth) if birth else None,
            child_age_years=d.get("age"), last_seen_date=date.fromisoformat(d["last_seen"]),
            last_seen_place=d["place"], description=d.get("description"), reported_by_contact_id=ctx.contact.id,
        ),
    )  # fmt: skip
    reporter = Person(case_id=case.id, role=Role(d["role"]), name=d["reporter"], contact_id=ctx.contact.id)
    child = Person(case_id=case.id, role=Role.CHILD, name=d["child_name"])
    session.add_all([reporter, child])
    session.flush()
    for scope, key in (
        (ConsentScope.DNA_SAMPLING, "consent_dna_at"),
        (ConsentScope.DATA_PROCESSING, "consent_data_at"),
    ):
        consent = _consent(ctx, scope, True, datetime.fromisoformat(d[key]))
        consent.case_id, consent.person_id = case.id, reporter.id
        session.add(consent)
    audit(
        session,
        ctx.actor,
        "case.create",
        "case",
        case.id,
        reference=case.reference,
        channel=ctx.incoming.channel.value,
    )
    ctx.data.clear()
    ctx.data["case_id"] = case.id
    ctx.say(_("Thank you. Your case number is %(reference)s. Your PIN is %(pin)s: a real officer who calls you "
              "will know it. Never pay anyone who asks for money.", reference=case.reference, pin=case.pin))  # fmt: skip
    return case
