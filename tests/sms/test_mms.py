"""An MMS photo sent while reporting is kept with its message and with the case, and the parent is told so."""

from __future__ import annotations

import sqlalchemy as sa

from intake.models import Attachment, Case, Direction, Message
from tests.dialogue import transcripts as t
from tests.sms.test_sms_transcripts import play

PHOTO = "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"
MMS = {"NumMedia": "2", "MediaUrl0": PHOTO, "MediaContentType0": "image/jpeg",
       "MediaUrl1": PHOTO + "b", "MediaContentType1": "image/png"}  # fmt: skip


def test_a_photo_at_the_description_step_is_acknowledged_and_kept_with_the_case(phone, session):
    play(phone, t.REPORT_EN[:9])  # up to "Describe the child"
    replies = phone.text("", **MMS)  # a photo alone: Body is empty
    assert "received the photo" in replies[0] and "your own full name" in replies[-1]
    session.rollback()
    sid = phone.sent[-1]["MessageSid"]
    stored = session.execute(
        sa.select(Attachment.url, Attachment.content_type, Attachment.position, Attachment.case_id)
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.provider_id == sid, Message.direction == Direction.INBOUND)
        .order_by(Attachment.position)
    ).all()
    assert stored == [(PHOTO, "image/jpeg", 0, None), (PHOTO + "b", "image/png", 1, None)]
    session.rollback()  # end the read: on SQLite every transaction holds the write lock
    play(phone, t.REPORT_EN[10:])  # reporter, relation, confirm: the case is created
    case = session.scalars(sa.select(Case)).one()
    assert case.description is None  # a photo alone is no description
    assert session.scalars(sa.select(Attachment.case_id)).all() == [case.id, case.id]


def test_a_photo_with_text_keeps_both(phone, session):
    play(phone, t.REPORT_EN[:9])
    replies = phone.text("red coat", **MMS)
    assert "received the photo" in replies[0]
    play(phone, t.REPORT_EN[10:])
    assert session.scalars(sa.select(Case.description)).one() == "red coat"
    assert len(session.scalars(sa.select(Attachment.case_id)).all()) == 2


def _kept(session, phone):
    sid = phone.sent[-1]["MessageSid"]
    query = sa.select(Attachment.url).join(Message, Message.id == Attachment.message_id)
    urls = session.scalars(query.where(Message.provider_id == sid).order_by(Attachment.position)).all()
    session.rollback()  # end the read: on SQLite every transaction holds the write lock
    return urls


def test_a_photo_alone_at_another_question_is_acknowledged_and_the_question_asked_again(phone, session):
    play(phone, t.REPORT_EN[:4])  # "What is your child's full name?"
    replies = phone.text("", **MMS)
    assert replies == [
        "Thank you, we received your photo and kept it with your message.",
        "Thank you. What is your child's full name?",
    ]  # no "Please write the full name.": a photo is not a wrong answer
    assert _kept(session, phone) == [PHOTO, PHOTO + "b"]


def test_a_photo_with_an_answer_is_acknowledged_and_the_answer_taken_in_the_persons_language(phone, session):
    play(phone, t.REPORT_ZH[:5])  # "李小明是男孩还是女孩？"
    replies = phone.text("男的", **MMS)
    assert replies[0] == "谢谢，照片已收到，已和您的短信一起保存。" and "几岁" in replies[-1]
    assert _kept(session, phone) == [PHOTO, PHOTO + "b"]


def test_a_photo_outside_any_conversation_is_acknowledged_before_the_menu(phone, session):
    replies = phone.text("", **MMS)
    # A Chinese number that wrote nothing is answered in Chinese.
    assert replies[0] == "谢谢，照片已收到，已和您的短信一起保存。" and "1 登记走失孩子" in replies[1]
    assert _kept(session, phone) == [PHOTO, PHOTO + "b"]
