"""The consent guard every sample use goes through: each scope the README promises, per scope, for book and
reschedule alike."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from intake.booking import book, has_sampling_consent, reschedule
from intake.consent import SAMPLE_USE_SCOPES, missing_scopes, require_sample_consent
from intake.errors import ConsentRequiredError
from intake.models import CaseStatus, Channel, Consent, ConsentScope, SampleSource, utcnow
from tests.labs.factories import TODAY, make_case, make_lab

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
