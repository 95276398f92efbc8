"""An MMS photo sent while reporting is kept with its message and with the case, and the parent is told so; a file
that is no photo is refused with a reason; the text of a message with a photo answers only the description."""

from __future__ import annotations

import sqlalchemy as sa

from intake.models import Attachment, Case, Direction, Message
from tests.dialogue import transcripts as t
from tests.sms.test_sms_transcripts import play

PHOTOS = ("image/jpeg", "image/png")


def test_a_photo_at_the_description_step_is_acknowledged_and_kept_with_the_case(phone, session):
    play(phone, t.REPORT_EN[:9])  # up to "Describe the child"
    replies, urls = phone.mms("", *PHOTOS)  # a photo alone: Body is empty
    assert "received the photo" in replies[0] and "your own full name" in replies[-1]
    session.rollback()
    sid = phone.sent[-1]["MessageSid"]
    stored = session.execute(
        sa.select(Attachment.url, Attachment.content_type, Attachment.position, Attachment.case_id)
        .join(Message, Message.id == Attachment.message_id)
        .where(Message.provider_id == sid, Message.direction == Direction.INBOUND)
        .order_by(Attachment.position)
    ).all()
    assert stored == [(urls[0], "image/jpeg", 0, None), (urls[1], "image/png", 1, None)]
    session.rollback()  # end the read: on SQLite every transaction holds the write lock
    play(phone, t.REPORT_EN[10:])  # reporter, relation, confirm: the case is created
    case = session.scalars(sa.select(Case)).one()
    assert case.description is None  # a photo alone is no description
    assert session.scalars(sa.select(Attachment.case_id)).all() == [case.id, case.id]


def test_a_photo_with_text_keeps_both(phone, session):
    play(phone, t.REPORT_EN[:9])
    replies, _urls = phone.mms("red coat", *PHOTOS)
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
    replies, urls = phone.mms("", *PHOTOS)
    assert replies == [
        "Thank you, we received your photo and kept it with your message.",
        "Thank you. What is your child's full name?",
    ]  # no "Please write the full name.": a photo is not a wrong answer
    assert _kept(session, phone) == urls


def test_the_text_of_a_photo_is_no_answer_but_a_note_and_the_photo_goes_with_the_report(phone, session):
    play(phone, t.REPORT_ZH[:5])  # "李小明是男孩还是女孩？"
    replies, urls = phone.mms("男的", *PHOTOS)
    assert replies[0] == "谢谢，照片已收到，已和您的短信一起保存。"
    assert "带照片的短信不作为回答" in replies[-1] and "男孩还是女孩" in replies[-1]  # asked again
    assert _kept(session, phone) == urls
    play(phone, t.REPORT_ZH[5:])  # the answers from the sex on: the case is created with both photos
    case = session.scalars(sa.select(Case)).one()
    assert session.scalars(sa.select(Attachment.case_id)).all() == [case.id, case.id]


def test_a_photo_outside_any_conversation_is_acknowledged_before_the_menu(phone, session):
    replies, urls = phone.mms("", *PHOTOS)
    # A Chinese number that wrote nothing is answered in Chinese.
    assert replies[0] == "谢谢，照片已收到，已和您的短信一起保存。" and "1 登记走失孩子" in replies[1]
    assert _kept(session, phone) == urls


def test_a_pdf_is_refused_with_a_reason_and_not_kept(phone, session):
    play(phone, t.REPORT_EN[:9])  # "Describe the child"
    replies, _urls = phone.mms("", "application/pdf")
    assert (
        replies[0]
        == "The file you sent (application/pdf) was not kept: we keep only photos, as JPEG, PNG or WebP."
    )
    assert "received" not in " ".join(replies) and "Describe the child" in replies[-1]  # asked again
    assert _kept(session, phone) == []
    replies, urls = phone.mms("", "application/pdf", "image/jpeg")  # with a photo: the photo is kept
    assert "was not kept" in replies[0] and "received the photo" in " ".join(replies)
    assert _kept(session, phone) == urls[1:]


def test_a_photo_after_the_report_or_while_booking_goes_with_the_case(phone, session):
    play(phone, t.REPORT_EN)  # the case is created; "Book a DNA sampling appointment now?"
    replies, _urls = phone.mms("", "image/jpeg")
    assert "Book a DNA sampling appointment now?" in replies[-1]
    phone.text("1")  # "Which city or province"
    phone.mms("", "image/jpeg")
    case = session.scalars(sa.select(Case.id)).one()
    assert session.scalars(sa.select(Attachment.case_id)).all() == [case, case]
