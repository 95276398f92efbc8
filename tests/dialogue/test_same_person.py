"""The same parent on two channels: a mother who reported by SMS links a Telegram chat to her own person in the case.

Through JOIN with the case number and PIN, picking her own role: she is asked whether she is the person on the
other channel, and yes links the chat to her (no second person, no consents asked again, no second sample).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.cases.pins import MAX_FAILURES_PER_CONTACT_HOUR
from intake.inbound.inbox import render_plain
from intake.labs.directory import load_demo_labs
from intake.models import (
    AuditEvent,
    Booking,
    BookingStatus,
    CaseStatus,
    Channel,
    Consent,
    ConsentScope,
    Contact,
    LinkAttempt,
    Person,
    PersonContact,
    Role,
)
from intake.models.outbox import Notification
from intake.outbox.delivery import family_contacts
from intake.outbox.templates import render
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import reported_case, say

CHAT = "7001"  # the mother's Telegram chat
NOT_REPORTED = "您还没有登记过。回复“报失”开始登记。"
SAME_QUESTION = (
    "这个案件里已经有一位妈妈，是用另一部手机或另一个应用联系我们的。那是您本人吗（现在从这里发消息）？"
)


@pytest.fixture
def labs(session):
    load_demo_labs(session)
    session.flush()


def chat(session, text: str, address: str = CHAT, channel: Channel = Channel.TELEGRAM) -> list[str]:
    return [render_plain(r) for r in say(session, text, address=address, channel=channel)]


def _mothers(session) -> list[Person]:
    return list(session.scalars(sa.select(Person).where(Person.role == Role.MOTHER)))


def test_the_mother_links_her_telegram_chat_and_sees_and_books_as_the_same_person(session, labs):
    case = reported_case(session, t.BOOK_AFTER_REPORT_ZH)  # she reported and booked by SMS
    [mother] = _mothers(session)
    assert chat(session, "查询") == [NOT_REPORTED]
    assert "1 妈妈" in chat(session, f"加入 {case.reference} {case.pin}")[0]
    assert chat(session, "妈妈")[0].startswith(SAME_QUESTION)
    assert "保存这个聊天的地址和消息" in chat(session, "1")[0]
    [linked] = chat(session, "同意")
    assert linked.startswith(f"已关联：这个聊天现在就是您在案件{case.reference}里的身份")
    # one person, two contacts; no DNA consent asked again, the data consent recorded for this chat
    assert _mothers(session) == [mother]
    contact = session.scalars(sa.select(Contact).where(Contact.channel == Channel.TELEGRAM)).one()
    assert [(p.person_id, p.contact_id, p.how) for p in session.scalars(sa.select(PersonContact))] == [
        (mother.id, contact.id, "join_pin")
    ]
    consents = session.scalars(sa.select(Consent).where(Consent.contact_id == contact.id)).all()
    assert [(c.scope, c.granted, c.channel, c.person_id) for c in consents] == [
        (ConsentScope.DATA_PROCESSING, True, Channel.TELEGRAM, mother.id)
    ]
    # STATUS and BOOK see her own appointment; no second booking, no second sample
    [booking] = session.scalars(sa.select(Booking)).all()
    status = chat(session, "查询")[0]
    assert case.reference in status and "已预约采血" in status and "还没有预约" not in status
    assert "1 改时间" in chat(session, "预约")[0]  # BOOK manages her own appointment
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
        and booking.person_id == mother.id
    )
    # the SMS contact is told, in its own language, and the link is audited
    sms = session.get_one(Contact, mother.contact_id)
    [notice] = session.scalars(sa.select(Notification).where(Notification.template == "contact.linked")).all()
    assert notice.contact_id == sms.id and notice.case_id == case.id
    assert render(notice.template, notice.language, notice.params).startswith(
        f"团圆：有一个Telegram聊天发来了您的案件{case.reference}的案件号和核对码"
    )
    assert session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.detail["outcome"].as_string() == "linked")
    ).all() == ["case.join"]
    # the family's contacts (the outbox's fallback to another channel) include the chat
    assert {c.id for c in family_contacts(session, case.id)} == {sms.id, contact.id}


def test_a_second_phone_on_the_same_channel_cannot_claim_the_mother_and_joins_as_a_new_person(session, labs):
    case = reported_case(session)
    chat(session, f"加入 {case.reference} {case.pin}", address="+8613900000002", channel=Channel.SMS)
    # A second mother is asked to check her role first (docs/dialogue.md); picking it again joins her.
    assert "已经有妈妈" in chat(session, "妈妈", address="+8613900000002", channel=Channel.SMS)[0]
    assert "公安采血点采集您的DNA" in chat(session, "妈妈", address="+8613900000002", channel=Channel.SMS)[0]
    assert len(_mothers(session)) == 2 and session.scalars(sa.select(PersonContact)).all() == []


def test_someone_else_joins_as_a_new_person_and_consents_themselves(session, labs):
    case = reported_case(session)
    chat(session, f"加入 {case.reference} {case.pin}")
    assert chat(session, "1")[0].startswith(SAME_QUESTION)
    # "no, I am someone else": a second mother checks her role, then is asked as anyone joining
    assert "已经有妈妈" in chat(session, "2")[0]
    assert "公安采血点采集您的DNA" in chat(session, "1")[0]
    assert len(_mothers(session)) == 2 and session.scalars(sa.select(PersonContact)).all() == []


def test_only_a_role_held_by_a_person_can_be_claimed(session, labs):
    case = reported_case(session)
    chat(session, f"加入 {case.reference} {case.pin}")
    assert "公安采血点采集您的DNA" in chat(session, "爸爸")[0]  # no father yet: nobody to be
    assert session.scalars(sa.select(PersonContact)).all() == []


def test_refusing_to_keep_the_chat_links_nothing(session, labs):
    case = reported_case(session)
    chat(session, f"加入 {case.reference} {case.pin}")
    chat(session, "妈妈")
    chat(session, "1")
    assert chat(session, "不同意") == ["我们理解。这个聊天没有关联到案件，不会保存案件的任何内容。"]
    assert session.scalars(sa.select(PersonContact)).all() == []
    assert session.scalars(sa.select(Notification)).all() == []
    assert chat(session, "查询") == [NOT_REPORTED]


def test_guessing_the_pin_to_claim_a_person_is_locked_out_as_in_join(session, labs):
    case = reported_case(session)
    wrong = "000000" if case.pin != "000000" else "111111"
    for _ in range(MAX_FAILURES_PER_CONTACT_HOUR):
        chat(session, f"加入 {case.reference} {wrong}")
        assert chat(session, "妈妈") == ["案件号和核对码对不上。请检查两项后重新回复“加入”。"]
    chat(session, f"加入 {case.reference} {case.pin}")
    (locked,) = chat(session, "妈妈")
    assert locked.startswith("这个手机号输错次数太多，这次没有核对。请在")
    assert session.scalars(sa.select(PersonContact)).all() == []
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(LinkAttempt))
        == MAX_FAILURES_PER_CONTACT_HOUR + 1
    )


def test_delete_from_the_linked_chat_erases_her_case(session, labs):
    case = reported_case(session, t.BOOK_AFTER_REPORT_ZH)
    chat(session, f"加入 {case.reference} {case.pin}")
    chat(session, "妈妈")
    chat(session, "1")
    chat(session, "1")
    assert case.reference in chat(session, "删除")[0]
    chat(session, case.pin)
    session.refresh(case)
    assert case.status is CaseStatus.WITHDRAWN
    assert [b.status for b in session.scalars(sa.select(Booking))] == [BookingStatus.CANCELLED]
    assert [m.name for m in _mothers(session)] == [None]
