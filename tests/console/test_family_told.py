"""Approval tells the family once, in the approval's transaction, on their channel and in their language: whom
to call and their case PIN, never genetic detail. Rejection, or a found adult's "no", tells no one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.matches.reviews import decide
from intake.models import Audience, Case, Channel, Contact, DecisionKind, Notification, Officer, OfficerRole
from intake.models.matches import Candidate
from intake.outbox.templates import render
from intake.platform.errors import ConflictError
from notifications.render import fit_sms
from sms.segments import segment_count
from tests.console.factories import add_officer, lab_in, make_candidate


def _family_messages(session: Session) -> list[Notification]:
    query = sa.select(Notification).where(Notification.audience == Audience.FAMILY,
                                          Notification.template == "match.approved")  # fmt: skip
    return list(session.scalars(query.order_by(Notification.id)))


def _people(session: Session) -> tuple[Officer, Officer]:
    officer = session.get_one(Officer, add_officer(session, "li.wei"))
    boss = session.get_one(Officer, add_officer(session, "boss", role=OfficerRole.SUPERVISOR))
    return officer, boss


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_approval_queues_one_message_to_the_reporter_with_whom_to_call_and_the_pin(session, language):
    lab = lab_in(session, "北京市", "北京")
    lab.name_en, lab.phone = "Beijing Test Lab", "010-12345678"
    candidate = session.get_one(Candidate, make_candidate(session, lab))
    session.scalars(sa.select(Contact)).one().language = language
    officer, boss = _people(session)
    decide(session, candidate, officer, DecisionKind.CONFIRM)
    assert _family_messages(session) == []  # one person's word tells no one
    decide(session, candidate, boss, DecisionKind.APPROVE)
    session.commit()

    [message] = _family_messages(session)
    case = session.get_one(Case, candidate.family_case_id)
    assert message.idempotency_key == f"candidate:{candidate.id}:approved"
    assert message.contact_id == case.reported_by_contact_id and message.channel.value == "sms"
    assert message.language == language and message.case_id == case.id
    name = "Beijing Test Lab" if language == "en" else "北京实验室"
    assert message.params == {"reference": case.reference, "name": name, "phone": "010-12345678",
                              "pin": case.pin}  # fmt: skip
    text = render("match.approved", language, message.params)
    assert case.pin in text and "010-12345678" in text and ("团圆" in text) == (language == "zh_CN")


def test_the_confirming_officer_with_a_phone_is_the_one_to_call(session):
    lab = lab_in(session, "北京市", "北京")
    candidate = session.get_one(Candidate, make_candidate(session, lab))
    officer, boss = _people(session)
    officer.display_name, officer.alert_channel, officer.alert_address = "李伟", "sms", "+8613911112222"
    decide(session, candidate, officer, DecisionKind.CONFIRM)
    decide(session, candidate, boss, DecisionKind.APPROVE)
    [message] = _family_messages(session)
    assert (message.params["name"], message.params["phone"]) == ("李伟", "+8613911112222")


def test_a_rejected_candidate_tells_no_one(session):
    lab = lab_in(session, "北京市", "北京")
    candidate = session.get_one(Candidate, make_candidate(session, lab))
    officer, _ = _people(session)
    before = session.scalar(sa.select(sa.func.count()).select_from(Notification))
    decide(session, candidate, officer, DecisionKind.REJECT, reason="the found child's aunt, not the mother")
    session.commit()
    assert session.scalar(sa.select(sa.func.count()).select_from(Notification)) == before


def test_a_found_adult_who_says_no_is_never_announced(session):
    lab = lab_in(session, "北京市", "北京")
    candidate = session.get_one(Candidate, make_candidate(session, lab, age=19))
    officer, boss = _people(session)
    decide(session, candidate, officer, DecisionKind.CONFIRM)
    with pytest.raises(ConflictError, match="record their own wish"):
        decide(session, candidate, boss, DecisionKind.APPROVE)  # not asked yet: not approved
    decide(session, candidate, officer, DecisionKind.WISH, wish=False)
    with pytest.raises(ConflictError, match="does not wish to be put in touch: no one is told"):
        decide(session, candidate, boss, DecisionKind.APPROVE)
    assert _family_messages(session) == []
    decide(session, candidate, officer, DecisionKind.WISH, wish=True)  # asked again, they said yes
    decide(session, candidate, boss, DecisionKind.APPROVE)
    assert len(_family_messages(session)) == 1


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_message_fits_two_sms_segments_even_with_a_long_name(language):
    params = {"reference": "MC-2026-4F7K2Q", "name": "广州市公安局刑事科学技术研究所" * 6, "phone": "+8613911112222",
              "pin": "042917"}  # fmt: skip
    text = fit_sms("match.approved", language, params)
    assert segment_count(text) <= 2 and "042917" in text and "+8613911112222" in text
    assert segment_count(render("match.approved", language, {**params, "name": "李伟"})) <= 2  # unshortened
    lab = "Beijing Municipal Public Security Bureau Forensic Science Institute"
    assert segment_count(render("match.approved", "en", {**params, "name": lab})) <= 2


def test_a_family_reached_only_in_the_terminal_is_told_on_its_other_channel(session):
    lab = lab_in(session, "北京市", "北京")
    candidate = session.get_one(Candidate, make_candidate(session, lab))
    reporter = session.scalars(sa.select(Contact)).one()
    reporter.channel = Channel.TERMINAL
    other = Contact(channel=Channel.TELEGRAM, address="777001", language="en")
    session.add(other)
    session.flush()
    from intake.models import Person, Role

    session.add(Person(case_id=candidate.family_case_id, role=Role.FATHER, contact_id=other.id))
    officer, boss = _people(session)
    decide(session, candidate, officer, DecisionKind.CONFIRM)
    decide(session, candidate, boss, DecisionKind.APPROVE)
    [message] = _family_messages(session)
    assert message.contact_id == other.id and message.channel.value == "telegram" and message.language == "en"
