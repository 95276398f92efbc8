"""The report flow as transcripts, in Chinese and English, and what it stores."""

from __future__ import annotations

import sqlalchemy as sa

from intake.models import AuditEvent, Case, Consent, ConsentScope, Contact, Conversation, Person, Role, Sex
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import run_transcript, say


def test_report_in_chinese_creates_the_case_across_sessions(session_factory):
    run_transcript(session_factory, t.REPORT_ZH)
    with session_factory() as s:
        case = s.scalars(sa.select(Case)).one()
        assert case.child_name == "李小明" and case.child_sex == Sex.MALE and case.child_age_years == 5
        assert case.last_seen_place == "广州火车站" and case.last_seen_date.isoformat() == "2026-11-20"
        assert case.description == "穿红色外套，左脸有痣" and case.reference.startswith("MC-2026-")
        assert len(case.pin) == 6
        roles = {p.role: p for p in s.scalars(sa.select(Person))}
        assert roles[Role.MOTHER].name == "王芳" and roles[Role.CHILD].name == "李小明"
        consents = s.scalars(sa.select(Consent)).all()
        assert {c.scope for c in consents} == {ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING}
        assert all(c.granted and c.case_id == case.id and c.language == "zh_CN" for c in consents)
        assert all(c.person_id == roles[Role.MOTHER].id and c.text_version for c in consents)
        contact = s.scalars(sa.select(Contact)).one()
        assert contact.language == "zh_CN" and case.reported_by_contact_id == contact.id
        assert s.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "case.create")).one()


def test_report_in_english(session_factory):
    replies = run_transcript(session_factory, t.REPORT_EN)
    with session_factory() as s:
        case = s.scalars(sa.select(Case)).one()
        assert case.child_sex == Sex.FEMALE and case.child_birth_date.isoformat() == "2019-03-02"
        assert case.description is None and case.reference in replies[-1] and case.pin in replies[-1]
        assert s.scalars(sa.select(Contact.language)).one() == "en"
        assert s.scalars(sa.select(Person.role).where(Person.role != Role.CHILD)).one() == Role.FATHER


def test_refusing_dna_consent_stores_only_the_refusal(session):
    run_transcript(session, t.REFUSAL_ZH)
    consent = session.scalars(sa.select(Consent)).one()
    assert (consent.scope, consent.granted, consent.case_id) == (ConsentScope.DNA_SAMPLING, False, None)
    assert session.scalars(sa.select(Case)).all() == [] and session.scalars(sa.select(Person)).all() == []
    conversation = session.scalars(sa.select(Conversation)).one()
    assert conversation.step is None and conversation.data == {}


def test_refusing_data_consent_stores_only_that_refusal(session):
    run_transcript(session, t.REFUSAL_DATA_EN)
    consent = session.scalars(sa.select(Consent)).one()
    assert (consent.scope, consent.granted) == (ConsentScope.DATA_PROCESSING, False)
    assert session.scalars(sa.select(Case)).all() == []


def test_every_step_asks_again_with_a_reason(session):
    run_transcript(
        session,
        [
            ("REPORT", ("DNA",)),
            ("maybe", ("one of the numbers", "DNA sample")),
            ("1", ("family's details",)),
            ("3", ("one of the numbers",)),
            ("1", ("full name",)),
            ("7", ("Please write the full name", "child's full name")),
            ("Li Ming", ("boy or a girl",)),
            ("dog", ("one of the numbers", "1 Boy")),
            ("1", ("How old",)),
            ("99", ("from 0 to 40", "How old")),
            ("a dozen", ("age (like 5)",)),
            ("2030-01-01", ("in the future",)),
            ("3 years", ("last see",)),
            ("5岁", ("looks like an age", "last see")),  # an age at the date question is told to give a day
            ("next friday", ("in the future", "last see")),
            ("blah", ("could not read that date", "last see")),
            ("2099-01-01", ("in the future",)),
            ("31/02/2026", ("no such date",)),
            ("1850-01-01", ("too long ago",)),
            ("20/11/2026", ("Where was",)),
            ("x", ("Please write the place", "Where was")),
            ("Wuhan", ("Describe",)),
            ("y" * 501, ("too long",)),
            ("SKIP", ("your own full name",)),
            ("1", ("Please write the full name",)),
            ("Zhang San", ("1 Mother",)),
            ("neighbour", ("one of the numbers",)),
            ("other", ("Please check", "other relative", "3 years")),
            ("3", ("one of the numbers", "1 Confirm")),
        ],
    )
    assert session.scalars(sa.select(Case)).all() == []


def test_last_seen_cannot_be_before_birth(session):
    run_transcript(
        session,
        t.REPORT_EN[:6] + [("2024-05-01", ("last see",)), ("2020-01-01", ("before the date of birth",))],
    )


def test_cancel_and_restart_mid_flow(session):
    run_transcript(
        session,
        [
            ("报失", ("DNA",)),
            ("1", ("保存",)),
            ("1", ("名字",)),
            ("李明", ("男孩还是女孩",)),
            ("取消", ("已取消",)),
            ("1", ("请回复数字", "1 登记走失孩子")),  # outside a flow: the menu
            ("1", ("DNA",)),
            ("1", ("保存",)),
            ("重新开始", ("DNA",)),
            ("REPORT", ("DNA",)),
            ("CANCEL", ("已取消",)),
        ],
    )
    conversation = session.scalars(sa.select(Conversation)).one()
    assert conversation.step is None and conversation.data == {}
    assert session.scalars(sa.select(Consent)).all() == []


def test_confirm_can_start_again(session):
    run_transcript(session, t.REPORT_EN[:-1] + [("2", ("DNA sample",))])
    assert session.scalars(sa.select(Case)).all() == []


def test_a_reply_hours_later_continues(session_factory):
    from datetime import timedelta

    from tests.dialogue.helpers import NOW

    run_transcript(session_factory, t.REPORT_ZH[:5])
    run_transcript(session_factory, [("女", ("几岁",))], now=NOW + timedelta(hours=9))


def test_two_contacts_do_not_share_state(session):
    say(session, "REPORT")
    other = say(session, "你好", address="+8613900000000")
    assert "family's details" in say(session, "1")[0].text
    assert "请回复数字" in other[0].text  # the other phone is at the menu, in its own language
