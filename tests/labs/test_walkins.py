"""LINK: a walk-in sample joins its person's case with a one-time code; guessing is locked out and audited."""

from __future__ import annotations

import sqlalchemy as sa

from intake.cases.pins import MAX_FAILURES_PER_CONTACT_HOUR, MAX_FAILURES_PER_HOUR
from intake.labs.profiles import store_profile
from intake.labs.walkins import LINK_DATA_CHARS, LinkOutcome, link_walk_in, new_link_code, register_walk_in
from intake.models import (
    AuditEvent,
    Channel,
    Consent,
    ConsentScope,
    LinkAttempt,
    LinkCode,
    Person,
    Role,
    Sample,
    SampleSource,
    Sex,
)
from intake.platform.codes import ALPHABET, check_character
from intake.samples.progress import case_sample_progress
from tests.support.factories import IDENTIFILER, genotypes, make_case, make_lab, sms_contact


def _family(session, phone="+8613800000001", data_consent=True):
    contact = sms_contact(session, phone)
    case = make_case(session, consent=False)
    case.reported_by_contact_id = contact.id
    scopes = [ConsentScope.DNA_SAMPLING] + ([ConsentScope.DATA_PROCESSING] if data_consent else [])
    for scope in scopes:
        session.add(Consent(case_id=case.id, scope=scope, granted=True, channel=Channel.SMS,
                            language="zh_CN", text_version="2026-11"))  # fmt: skip
    session.add(Person(case_id=case.id, role=Role.MOTHER, contact_id=contact.id))
    session.flush()
    return contact, case


def _walk_in(session, lab, case=None, role=Role.FATHER):
    sex = Sex.FEMALE if role is Role.MOTHER else Sex.MALE
    return register_walk_in(session, lab_id=lab.id, actor="labkey:1", source=SampleSource.REPORTING_PARENT,
                            role=role, sex=sex, case=case)  # fmt: skip


def _wrong_code() -> str:
    data = "2" * LINK_DATA_CHARS
    return data + check_character(data)


def test_link_codes_are_random_checked_and_stored_only_as_a_hash(session):
    codes = {new_link_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c.replace("-", "")) == LINK_DATA_CHARS + 1 for c in codes)
    assert len(ALPHABET) ** LINK_DATA_CHARS >= 2**40
    sample, code = _walk_in(session, make_lab(session))
    stored = session.scalars(sa.select(LinkCode)).one()
    assert code.replace("-", "") not in stored.code_hash and stored.sample_id == sample.id


def test_a_walk_in_links_to_the_contacts_own_case_once(session):
    contact, case = _family(session)
    sample, code = _walk_in(session, make_lab(session), role=Role.MOTHER)
    store_profile(session, sample, lab_id=sample.lab_id, actor="labkey:1", kit="Identifiler",
                  genotypes=genotypes(IDENTIFILER, 1, "female"))  # fmt: skip
    result = link_walk_in(session, contact, code.lower().replace("-", " "))
    assert result.outcome is LinkOutcome.LINKED and result.case_reference == case.reference
    assert sample.case_id == case.id
    mother = session.scalars(sa.select(Person).where(Person.role == Role.MOTHER)).one()
    assert sample.person_id == mother.id  # the contact's own person in that role, not a new one
    actions = list(session.scalars(sa.select(AuditEvent.action)))
    assert "link.success" in actions and "profile.link" in actions
    assert link_walk_in(session, contact, code).outcome is LinkOutcome.USED
    progress = case_sample_progress(session, case)
    assert [(p.code, p.collected, p.typed) for p in progress] == [(sample.code, True, True)]
    assert "genotypes" not in str(progress)


def test_a_sample_taken_for_another_case_needs_that_cases_pin(session):
    _owner, case = _family(session)
    father = sms_contact(session, "+8613900000002")
    sample, code = _walk_in(session, make_lab(session), case=case)
    assert link_walk_in(session, father, code).outcome is LinkOutcome.NEED_PIN
    wrong = "000000" if case.pin != "000000" else "111111"
    assert link_walk_in(session, father, code, pin=wrong).outcome is LinkOutcome.WRONG_PIN
    assert sample.person_id is None
    result = link_walk_in(session, father, code, pin=case.pin)
    # a new person has no consent of their own yet: the case's consents were given by the mother for the case
    assert result.outcome is LinkOutcome.LINKED
    person = session.get_one(Person, sample.person_id)
    assert person.role == Role.FATHER and person.contact_id == father.id


def test_a_case_without_every_consent_cannot_take_a_walk_in(session):
    contact, _case = _family(session, data_consent=False)
    sample, code = _walk_in(session, make_lab(session), role=Role.MOTHER)
    assert link_walk_in(session, contact, code).outcome is LinkOutcome.CONSENT_MISSING
    assert sample.case_id is None and sample.person_id is None
    assert session.scalar(sa.select(sa.func.count()).select_from(Person)) == 1


def test_a_contact_without_a_case_or_with_several_cannot_link_without_an_officer(session):
    lab = make_lab(session)
    stranger = sms_contact(session, "+8613900000003")
    _sample, code = _walk_in(session, lab)
    assert link_walk_in(session, stranger, code).outcome is LinkOutcome.NO_CASE
    contact, _case = _family(session, "+8613900000004")
    second = make_case(session)
    second.reported_by_contact_id = contact.id
    session.flush()
    assert link_walk_in(session, contact, code).outcome is LinkOutcome.SEVERAL_CASES


def test_wrong_pins_lock_the_code(session):
    _owner, case = _family(session)
    sample, code = _walk_in(session, make_lab(session), case=case)
    wrong = "000000" if case.pin != "000000" else "111111"
    for n in range(5):
        other = sms_contact(session, f"+86139000001{n:02d}")
        assert link_walk_in(session, other, code, pin=wrong).outcome is LinkOutcome.WRONG_PIN
    last = sms_contact(session, "+8613900000199")
    assert link_walk_in(session, last, code, pin=case.pin).outcome is LinkOutcome.LOCKED
    assert sample.person_id is None


def test_guessing_is_locked_out_per_contact_and_in_total_and_every_attempt_is_audited(session):
    _walk_in(session, make_lab(session))
    guesser = sms_contact(session, "+8613900000005")
    outcomes = [
        link_walk_in(session, guesser, _wrong_code()).outcome
        for _ in range(MAX_FAILURES_PER_CONTACT_HOUR + 1)
    ]
    assert outcomes[:-1] == [LinkOutcome.WRONG_CODE] * MAX_FAILURES_PER_CONTACT_HOUR
    assert outcomes[-1] is LinkOutcome.LOCKED
    for n in range(MAX_FAILURES_PER_HOUR):  # many phone numbers, a few guesses each
        link_walk_in(session, sms_contact(session, f"+86137{n:08d}"), _wrong_code())
    fresh = sms_contact(session, "+8613900000006")
    assert link_walk_in(session, fresh, _wrong_code()).outcome is LinkOutcome.LOCKED
    attempts = session.scalar(sa.select(sa.func.count()).select_from(LinkAttempt))
    failures = session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "link.failure"))
    assert attempts == failures == MAX_FAILURES_PER_CONTACT_HOUR + 1 + MAX_FAILURES_PER_HOUR + 1
    assert session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 1
