"""The consent guard every sample use goes through: each scope the README promises, per scope, for book and
reschedule alike."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from intake.cases.consent import SAMPLE_USE_SCOPES, missing_scopes, require_sample_consent
from intake.labs.appointments import book, has_sampling_consent, reschedule
from intake.models import CaseStatus, Channel, Consent, ConsentScope, SampleSource, utcnow
from intake.platform.errors import ConsentRequiredError
from tests.support.factories import TODAY, make_case, make_lab

MONDAY, TUESDAY = date(2026, 11, 30), date(2026, 12, 1)


def _answer(session, case, scope, *, granted, seconds_later=1):
    session.add(Consent(case_id=case.id, scope=scope, granted=granted, channel=Channel.SMS, language="en",
                        text_version="t", recorded_at=utcnow() + timedelta(seconds=seconds_later)))  # fmt: skip
    session.flush()


def _withdraw(session, case, scope):
    for consent in session.scalars(
        sa.select(Consent).where(Consent.case_id == case.id, Consent.scope == scope)
    ):
        consent.withdrawn_at = utcnow()
    session.flush()


def _refuse_later(session, case, scope):
    _answer(session, case, scope, granted=False)


def _never_asked(session, case, scope):
    session.execute(sa.delete(Consent).where(Consent.case_id == case.id, Consent.scope == scope))


def test_the_guard_checks_both_scopes_the_readme_promises():
    assert set(SAMPLE_USE_SCOPES) == {ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING}


def test_a_case_with_both_consents_passes(session):
    case = make_case(session)
    assert missing_scopes(session, case) == [] and has_sampling_consent(session, case)
    require_sample_consent(session, case)


@pytest.mark.parametrize("scope", list(ConsentScope))
@pytest.mark.parametrize("lose", [_never_asked, _refuse_later, _withdraw])
def test_each_scope_missing_refused_or_withdrawn_blocks_booking(session, scope, lose):
    lab, case = make_lab(session), make_case(session)
    lose(session, case, scope)
    assert missing_scopes(session, case) == [scope]
    assert not has_sampling_consent(session, case)  # the dialogue's filter of bookable cases
    with pytest.raises(ConsentRequiredError):
        book(session, case=case, lab_id=lab.id, day=MONDAY, today=TODAY, source=SampleSource.REPORTING_PARENT,
             actor="t")  # fmt: skip


@pytest.mark.parametrize("scope", list(ConsentScope))
def test_rescheduling_needs_every_consent_too(session, scope):
    lab, case = make_lab(session), make_case(session)
    booking = book(session, case=case, lab_id=lab.id, day=MONDAY, today=TODAY,
                   source=SampleSource.REPORTING_PARENT, actor="t")  # fmt: skip
    _withdraw(session, case, scope)
    with pytest.raises(ConsentRequiredError):
        reschedule(session, booking, lab_id=lab.id, day=TUESDAY, today=TODAY, actor="t")


def test_a_later_yes_restores_a_refused_scope(session):
    case = make_case(session)
    _refuse_later(session, case, ConsentScope.DATA_PROCESSING)
    _answer(session, case, ConsentScope.DATA_PROCESSING, granted=True, seconds_later=2)
    assert missing_scopes(session, case) == []


def test_a_withdrawn_case_has_no_consent_whatever_was_recorded(session):
    case = make_case(session)
    case.status = CaseStatus.WITHDRAWN
    assert missing_scopes(session, case) == list(SAMPLE_USE_SCOPES)
    with pytest.raises(ConsentRequiredError):
        require_sample_consent(session, case)


# --- consent belongs to the person giving the sample (intake.cases.consent.consent_status) -------------------------


def _person(session, case, role):
    from intake.models import Person

    person = Person(case_id=case.id, role=role)
    session.add(person)
    session.flush()
    return person


def _own(session, case, person, scope, *, granted, seconds_later=1):
    session.add(Consent(case_id=case.id, person_id=person.id, scope=scope, granted=granted, channel=Channel.SMS,
                        language="zh_CN", text_version="t",
                        recorded_at=utcnow() + timedelta(seconds=seconds_later)))  # fmt: skip
    session.flush()


def _family_case(session):
    from intake.models import Role

    case = make_case(session, consent=False)
    mother, sister = _person(session, case, Role.MOTHER), _person(session, case, Role.FULL_SIBLING)
    for scope in SAMPLE_USE_SCOPES:
        _own(session, case, mother, scope, granted=True)
    _own(
        session, case, sister, ConsentScope.DNA_SAMPLING, granted=False, seconds_later=5
    )  # the latest answer
    return case, mother, sister


def test_a_sisters_refusal_is_hers_and_does_not_stop_the_mothers_booking(session):
    from intake.cases.consent import Answer, consent_status

    lab = make_lab(session)
    case, mother, sister = _family_case(session)
    assert consent_status(session, case, mother).ok
    assert consent_status(session, case, sister).of[ConsentScope.DNA_SAMPLING] is Answer.REFUSED
    booking = book(session, case=case, lab_id=lab.id, day=MONDAY, today=TODAY, person=mother,
                   source=SampleSource.REPORTING_PARENT, actor="t")  # fmt: skip
    reschedule(session, booking, lab_id=lab.id, day=TUESDAY, today=TODAY, actor="t")
    with pytest.raises(ConsentRequiredError):
        book(session, case=case, lab_id=lab.id, day=MONDAY, today=TODAY, person=sister,
             source=SampleSource.REPORTING_PARENT, actor="t")  # fmt: skip


def test_the_mothers_yes_does_not_cover_the_father(session):
    from intake.cases.consent import consent_status
    from intake.models import Role

    lab = make_lab(session)
    case, _mother, _sister = _family_case(session)
    father = _person(session, case, Role.FATHER)
    assert consent_status(session, case, father).missing == list(SAMPLE_USE_SCOPES)
    with pytest.raises(ConsentRequiredError):
        book(session, case=case, lab_id=lab.id, day=MONDAY, today=TODAY, person=father,
             source=SampleSource.REPORTING_PARENT, actor="t")  # fmt: skip


@given(
    answers=st.lists(
        st.tuples(
            st.sampled_from([None, 0, 1, 2]), st.sampled_from(SAMPLE_USE_SCOPES), st.booleans(), st.booleans()
        ),
        max_size=8,
    ),
    withdrawn_case=st.booleans(),
)
@example(answers=[], withdrawn_case=True)
@example(answers=[(0, ConsentScope.DNA_SAMPLING, True, False), (1, ConsentScope.DNA_SAMPLING, False, False)],
         withdrawn_case=False)  # fmt: skip
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
def test_the_matchers_bulk_form_answers_as_consent_status_for_every_person(session, answers, withdrawn_case):
    from intake.cases.consent import ConsentBook, consent_status
    from intake.models import Role

    savepoint = session.begin_nested()
    try:
        case = make_case(session, consent=False)
        people = [_person(session, case, role) for role in (Role.MOTHER, Role.FATHER, Role.FULL_SIBLING)]
        for n, (who, scope, granted, withdrawn) in enumerate(answers):
            session.add(Consent(case_id=case.id, person_id=None if who is None or who > 2 else people[who].id,
                                scope=scope, granted=granted, channel=Channel.SMS, language="en", text_version="t",
                                recorded_at=utcnow() + timedelta(seconds=n),
                                withdrawn_at=utcnow() if withdrawn else None))  # fmt: skip
        if withdrawn_case:
            case.status = CaseStatus.WITHDRAWN
        session.flush()
        book_ = ConsentBook.load(session, [case.id])
        for person in (None, *people):
            pid = person.id if person else None
            assert book_.status(case.id, pid) == consent_status(session, case, pid)
        asked = [None, *(p.id for p in people)] * 2  # the second time from what was decided the first
        assert book_.recorded_many([case.id] * len(asked), asked) == [
            consent_status(session, case, pid).ok for pid in asked
        ]
    finally:
        savepoint.rollback()
