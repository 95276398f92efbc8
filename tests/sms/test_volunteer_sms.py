"""The volunteers' flow over signed Twilio webhooks: a registration with a photo, booking, CHILDREN, opt-out."""

from __future__ import annotations

import sqlalchemy as sa

from intake.cases.consent import POLICE_ORDER
from intake.models import Attachment, Booking, Case, Consent, FoundChild, Person, Role
from intake.platform import clock
from tests.dialogue.helpers import NOW

REGISTER = ["发现", "同意", "广州火车站", "昨天", "大约6岁", "男", "他说叫小宝，家在四川"]


def test_a_volunteer_registers_a_child_with_a_photo_and_books_by_sms(phone, session):
    with clock.pinned(NOW):
        for text in REGISTER:
            phone.text(text)
        replies, _urls = phone.mms("蓝色外套", "image/jpeg")
        assert "照片已收到" in replies[0] and "您本人叫什么名字" in replies[-1]
        assert (
            "孩子现在在哪里" in phone.text("张伟")[0]
        )  # SMS: the sender's number is the contact, no phone asked
        phone.text("救助站")
        registered = phone.text("确认")
        assert (
            registered[0].startswith("登记成功。案件号：FC-2026-") and "演示采血点（广州）" in registered[-1]
        )
        for text in ("1", "1"):
            phone.text(text)
        booked = phone.text("1")
        assert booked[0].startswith("已为孩子预约") and "下一个" in booked[-1]
        listing = phone.text("名单")
        assert listing[0].startswith("您登记的孩子（1个）：") and listing[0].endswith("已预约")
    case = session.scalars(sa.select(Case)).one()
    assert session.get_one(FoundChild, case.id).found_place == "广州火车站"
    assert session.scalars(sa.select(Attachment.case_id)).all() == [case.id]
    assert session.scalars(sa.select(Booking.case_id)).all() == [case.id]
    assert len(session.scalars(sa.select(Consent).where(Consent.text_version == POLICE_ORDER)).all()) == 2
    assert session.scalars(sa.select(Person.name).where(Person.role == Role.VOLUNTEER)).one() == "张伟"


def test_stop_mid_registration_by_sms_stores_no_case(phone, session):
    with clock.pinned(NOW):
        for text in REGISTER[:4]:
            phone.text(text)
        assert "已退订" in phone.text("退订")[0]
        assert phone.text("6") == []
    assert session.scalars(sa.select(Case)).all() == []
