"""Linking two likely duplicate reports as one family (intake.case_merge, console /flags/<id>/link): the later
report's family moves into the earlier case, the matcher searches it again as one family, both reporters are told
on their own channel and language, the flag is resolved; a supervisor of the cases' province does it in two
steps, audited; an officer, or a supervisor of another province, is refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.cases.duplicates import flag_likely_duplicates
from intake.cases.erasure import erase_contact
from intake.cases.family import JoinOutcome, join_case
from intake.cases.merge import merge_cases
from intake.models import (
    AuditEvent,
    Booking,
    Case,
    CaseStatus,
    Channel,
    Consent,
    Contact,
    JobState,
    MatchFlag,
    MatchJob,
    OfficerRole,
    Person,
    Role,
    Sample,
    Sex,
)
from intake.models.outbox import Notification
from intake.outbox.templates import render
from intake.platform.errors import ConflictError
from tests.console.factories import CaseRef, add_officer, case_with_profile, csrf_token, lab_in, log_in


def _two_reports(session: Session) -> tuple[CaseRef, CaseRef, MatchFlag]:
    """A mother's report (SMS, Chinese) and, later, a father's of the same child (Telegram, English), each typed."""
    lab = lab_in(session, "广东省", "广州")
    mother, father = (
        case_with_profile(session, lab, "+8613800000001"),
        case_with_profile(session, lab, "+8613800000002"),
    )
    for ref in (mother, father):
        case = session.get_one(Case, ref.case_id)
        case.child_name, case.child_sex, case.child_age_years = "李小明", Sex.MALE, 5
        case.last_seen_place = "广州火车站"
    later = session.get_one(Case, father.case_id)
    person = session.scalars(sa.select(Person).where(Person.case_id == later.id)).one()
    person.role, person.name = Role.FATHER, "李强"
    contact = session.get_one(Contact, person.contact_id)
    contact.channel, contact.address, contact.language = Channel.TELEGRAM, "55501", "en"
    flags = flag_likely_duplicates(session, later, actor="test")
    session.query(MatchJob).delete()  # the searches of the typing: done
    session.commit()
    assert len(flags) == 1
    return mother, father, flags[0]


def test_a_merge_moves_the_family_searches_it_again_and_tells_both_reporters(session: Session) -> None:
    mother, father, flag = _two_reports(session)
    keep, other = session.get_one(Case, mother.case_id), session.get_one(Case, father.case_id)
    father_pin = other.pin
    consents_before = {c.id: (c.case_id, c.person_id) for c in session.scalars(sa.select(Consent))}
    father_person = session.scalars(sa.select(Person.id).where(Person.case_id == other.id)).one()
    report = merge_cases(session, keep, other, actor="officer:1", flag=flag)
    session.commit()

    assert (report.persons, report.samples, report.searches, report.told) == (1, 1, 2, 2)
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Person).where(Person.case_id == keep.id)) == 2
    )
    assert set(session.scalars(sa.select(Sample.case_id))) == {keep.id}
    assert set(session.scalars(sa.select(Booking.case_id))) == {keep.id}
    assert set(session.scalars(sa.select(Consent.case_id))) == {keep.id}
    after = {c.id: c.person_id for c in session.scalars(sa.select(Consent))}
    for consent_id, (case_id, person_id) in consents_before.items():
        if (
            case_id == other.id and person_id is None
        ):  # the report's case-wide consent: its reporter's own now
            assert after[consent_id] == father_person
        else:  # a person's consent stays that person's (the mother's case-wide ones stay her case's)
            assert after[consent_id] == person_id
    merged = session.get_one(Case, other.id)
    assert merged.merged_into_id == keep.id and merged.status is CaseStatus.CLOSED
    queued = set(session.scalars(sa.select(MatchJob.profile_id).where(MatchJob.state == JobState.QUEUED)))
    assert queued == {mother.profile_id, father.profile_id}
    assert session.get_one(MatchFlag, flag.id).resolved_at is not None
    told = {
        n.contact_id: n
        for n in session.scalars(sa.select(Notification).where(Notification.template == "case.merged"))
    }
    assert len(told) == 2
    by_channel = {n.channel.value: n for n in told.values()}
    assert by_channel["telegram"].language == "en" and by_channel["sms"].language == "zh_CN"
    assert by_channel["telegram"].params == {"reference": keep.reference, "old_reference": other.reference}
    assert by_channel["sms"].params == {"reference": keep.reference, "old_reference": keep.reference}
    english = render("case.merged", "en", by_channel["telegram"].params)
    chinese = render("case.merged", "zh_CN", by_channel["sms"].params)
    assert "are now one case" in english and keep.reference in english
    assert "合并为一个案件" in chinese and keep.reference in chinese
    assert session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "case.merge")
    ).one().entity_id == str(keep.id)

    # The father's own reference and PIN still work: a relative joining with them joins the kept case.
    aunt = Contact(channel=Channel.SMS, address="+8613800000009")
    session.add(aunt)
    session.flush()
    joined = join_case(session, aunt, merged.reference, father_pin, Role.OTHER_RELATIVE)
    assert joined.outcome is JoinOutcome.JOINED
    assert session.get_one(Person, joined.person_id).case_id == keep.id


def test_erasure_after_a_merge_takes_only_the_leaving_reporters_data(session: Session) -> None:
    mother, father, flag = _two_reports(session)
    keep = session.get_one(Case, mother.case_id)
    merge_cases(session, keep, session.get_one(Case, father.case_id), actor="officer:1", flag=flag)
    session.commit()
    telegram = session.scalars(sa.select(Contact).where(Contact.channel == Channel.TELEGRAM)).one()
    erase_contact(session, telegram, actor="contact:2", now=datetime.now(UTC))
    session.commit()
    names = {p.role: p.name for p in session.scalars(sa.select(Person).where(Person.case_id == keep.id))}
    assert names[Role.MOTHER] == "王芳" and names.get(Role.FATHER) is None
    assert session.get_one(Case, keep.id).status is not CaseStatus.WITHDRAWN  # the mother still follows it


def test_a_merge_is_refused_twice_and_for_a_found_child(session: Session) -> None:
    mother, father, flag = _two_reports(session)
    keep, other = session.get_one(Case, mother.case_id), session.get_one(Case, father.case_id)
    with pytest.raises(ConflictError):
        merge_cases(session, keep, keep, actor="officer:1")
    merge_cases(session, keep, other, actor="officer:1", flag=flag)
    session.commit()
    with pytest.raises(ConflictError):
        merge_cases(session, keep, session.get_one(Case, other.id), actor="officer:1")


def test_a_supervisor_links_two_reports_in_two_steps(client: FlaskClient, session: Session) -> None:
    mother, father, flag = _two_reports(session)
    link = f"/console/flags/{flag.id}/link"  # read now: the test's session must hold no transaction later
    add_officer(session, "sup", role=OfficerRole.SUPERVISOR, province="广东省")
    assert log_in(client, "sup") == 302
    flags = client.get("/console/flags", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert link in flags
    page = client.get(link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert mother.reference in page and father.reference in page and "5 years" in page
    token = csrf_token(client, link)
    unconfirmed = client.post(link, data={"csrf_token": token})
    assert unconfirmed.status_code == 303
    session.expire_all()
    assert session.get_one(Case, father.case_id).merged_into_id is None  # step two not taken
    session.rollback()  # SQLite: let the console write
    done = client.post(link, data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/console/cases/{mother.reference}")
    session.expire_all()
    assert session.get_one(Case, father.case_id).merged_into_id == mother.case_id
    session.rollback()
    followed = client.get(f"/console/cases/{father.reference}")
    assert followed.status_code == 302 and followed.headers["Location"].endswith(mother.reference)
    actions = set(session.scalars(sa.select(AuditEvent.action)))
    assert {"case.merge_view", "case.merge"} <= actions


@pytest.mark.parametrize(
    ("role", "province"), [(OfficerRole.OFFICER, "广东省"), (OfficerRole.SUPERVISOR, "北京市")]
)
def test_an_officer_or_another_provinces_supervisor_may_not_link(
    client: FlaskClient, session: Session, role: OfficerRole, province: str
) -> None:
    _mother, father, flag = _two_reports(session)
    link = f"/console/flags/{flag.id}/link"
    add_officer(session, "someone", role=role, province=province)
    assert log_in(client, "someone") == 302
    assert client.get(link).status_code == 403
    token = csrf_token(client, "/console/")
    refused = client.post(link, data={"csrf_token": token, "confirm": "yes"})
    assert refused.status_code == 403
    session.expire_all()
    assert session.get_one(Case, father.case_id).merged_into_id is None
