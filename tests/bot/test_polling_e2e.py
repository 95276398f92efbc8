"""`reunite bot` end to end: the real command, polling a fake Bot API server on localhost, on the test database.

A parent reports with buttons and a photo, books at a lab near a shared location and gets the sample code as a
QR code; a parent who reported by SMS links this chat to the case with /link and sees it with /status; an old
button pressed again changes nothing; an update whose processing fails (its photo cannot be downloaded) is
parked with its error and apologised for, and the next update is handled.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from PIL import Image

from bot.telegram.adapter import qr_png
from intake.dialogue.types import Incoming
from intake.inbound.inbox import process
from intake.models import (
    Attachment,
    Booking,
    Case,
    Channel,
    Message,
    MessageStatus,
    Person,
    PersonContact,
    Role,
)
from intake.platform import schema
from intake.platform.codes import is_valid_sample_code
from intake.platform.photos import read_photo
from tests.bot.conftest import as_lines
from tests.bot.test_photos import GPS_IFD, photo_with_gps
from tests.support.fake_telegram import Call, FakeTelegram

REUNITE = Path(sys.executable).parent / "reunite"
GUANGZHOU = (23.1494, 113.2577)


def _stamp(engine) -> None:
    """Mark the test database (made from the models) as current, so the command does not migrate it again."""
    cfg = schema.alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.stamp(cfg, "head")


@pytest.fixture
def bot(tg: FakeTelegram, engine, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    if engine.dialect.name == "sqlite":
        _stamp(engine)
    env = {
        **os.environ,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "REUNITE_DATA_DIR": str(tmp_path),
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "REUNITE_DEMO_LABS": "1",
    }
    log = (tmp_path / "bot.log").open("wb")
    proc = subprocess.Popen(
        [str(REUNITE), "bot"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        tg.wait_for(lambda: len(tg.calls_of("setMyCommands")) == 2 or proc.poll() is not None, timeout=90)
        assert proc.poll() is None, (tmp_path / "bot.log").read_text()
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


class Chat:
    """One person's Telegram chat with the bot, through the fake server."""

    def __init__(self, tg: FakeTelegram, chat_id: int, language_code: str = "en") -> None:
        self.tg, self.chat_id, self.language_code = tg, chat_id, language_code

    def _wait(self, before: int) -> list[Call]:
        self.tg.wait_for(lambda: self.tg.pending() == 0)  # confirmed by the next getUpdates: handled
        return self.tg.sent_to(self.chat_id)[before:]

    def say(self, text: str | None = None, **kwargs: object) -> list[Call]:
        before = len(self.tg.sent_to(self.chat_id))
        self.tg.push_message(self.chat_id, text, language_code=self.language_code, **kwargs)  # type: ignore[arg-type]
        return self._wait(before)

    def press(self, message: Call, key: str) -> list[Call]:
        data = next(
            b["callback_data"]
            for row in message.params["reply_markup"]["inline_keyboard"]
            for b in row
            if b["callback_data"].endswith(f":{key}")
        )
        before = len(self.tg.sent_to(self.chat_id))
        self.tg.push(self.tg.press_update(self.chat_id, message, data))
        return self._wait(before)

    def text(self, calls: list[Call]) -> str:
        return "\n".join(as_lines(self.tg.message_of(c)) for c in calls)


def _with_buttons(calls: list[Call]) -> Call:
    return next(c for c in calls if c.params.get("reply_markup"))


def test_report_and_book_with_buttons_a_photo_and_a_shared_location(tg, bot, session_factory, tmp_path):
    chat = Chat(tg, 501)
    menu = chat.say("/start")
    assert "Reply a number" in chat.text(menu)  # English from the person's Telegram language
    consent = chat.press(_with_buttons(menu), "1")
    assert "DNA" in chat.text(consent)
    (edit,) = tg.calls_of("editMessageText", 501)
    assert edit.params["text"].endswith("✓ Report a missing child") and not edit.params.get("reply_markup")
    assert len(tg.calls_of("answerCallbackQuery")) == 1
    data = chat.press(_with_buttons(consent), "1")
    chat.press(_with_buttons(data), "1")  # the name question has no buttons: typed answers from here
    for text in (
        "Li Ming",
        "girl",
        "5",
        "yesterday",
        "Guangzhou station",
    ):  # "girl": typed, where buttons are
        chat.say(text)
    described = chat.say(photo=photo_with_gps(), caption="red coat")
    assert "photo" in chat.text(described)
    chat.say("Wang Fang")
    check = chat.say("1")
    done = chat.press(_with_buttons(check), "1")
    assert "case number is MC-" in chat.text(done)
    where = chat.press(_with_buttons(done), "1")
    assert "Which city or province" in chat.text(where)
    labs = chat.say(location=GUANGZHOU)
    assert "Demo sampling point (Guangzhou)" in chat.text(labs)
    days = chat.press(_with_buttons(labs), "1")
    confirm = chat.press(_with_buttons(days), "1")
    booked = chat.press(_with_buttons(confirm), "1")
    assert "Booked for case" in chat.text(booked)
    (qr,) = tg.calls_of("sendPhoto", 501)
    with session_factory() as s:
        booking = s.scalars(sa.select(Booking)).one()
        assert qr.params["caption"] in chat.text(booked)  # the sample code, as the QR code says it
        assert Image.open(io.BytesIO(qr.files["photo"])).format == "PNG"
        assert qr.files["photo"] == qr_png(qr.params["caption"]) and is_valid_sample_code(
            qr.params["caption"]
        )
        attachment = s.scalars(sa.select(Attachment)).one()
        case = s.scalars(sa.select(Case)).one()
        assert attachment.case_id == case.id and booking.case_id == case.id and attachment.photo_id
    kept = read_photo(tmp_path, attachment.photo_id)  # decrypted, as officers see it
    assert kept is not None and not Image.open(io.BytesIO(kept)).getexif().get_ifd(GPS_IFD)


def test_a_button_pressed_twice_has_no_effect(tg, bot, session_factory):
    chat = Chat(tg, 502)
    menu = _with_buttons(chat.say("/start"))
    first = chat.press(menu, "1")
    assert "DNA" in chat.text(first)
    again = chat.press(menu, "1")
    assert again == []  # nothing said, nothing done
    stale = tg.calls_of("answerCallbackQuery")[-1]
    assert "no longer open" in stale.params["text"]
    assert tg.calls_of("editMessageReplyMarkup", 502)
    # the dialogue is still at the first consent question: its own buttons still work
    assert "family's details" in chat.text(chat.press(_with_buttons(first), "1"))


def test_link_a_case_reported_by_sms_and_see_it(tg, bot, session_factory):
    sms = "+8613800138000"
    replies: list[str] = []
    for n, text in enumerate(["REPORT", "yes", "yes", "Li Ming", "boy", "5", "yesterday", "Beijing", "skip",
                              "Wang Fang", "1", "1"]):  # fmt: skip
        incoming = Incoming(Channel.SMS, sms, text, datetime.now(UTC), provider_id=f"SM{n}")
        replies = [r.text for r in process(session_factory, incoming)]
    with session_factory() as s:
        case = s.scalars(sa.select(Case)).one()
        reference, pin = case.reference, case.pin
    assert reference in replies[0]
    chat = Chat(tg, 503, language_code="zh-hans")
    assert reference not in chat.text(chat.say("/status"))  # a new chat is not the SMS contact
    role = chat.say(f"/link {reference} {pin}")
    assert "1 妈妈" in chat.text(role)
    same = chat.press(_with_buttons(role), "1")  # the SMS reporter is the mother: is it her?
    consent = chat.press(_with_buttons(same), "1")
    assert "已关联" in chat.text(chat.press(_with_buttons(consent), "1"))
    status = chat.text(chat.say("/status"))
    assert reference in status
    with session_factory() as s:  # the same person, now with this chat too: no second mother
        [mother] = s.scalars(
            sa.select(Person).where(Person.case_id == case.id, Person.role == Role.MOTHER)
        ).all()
        assert s.scalars(sa.select(PersonContact.person_id)).all() == [mother.id]


def test_a_poison_update_is_parked_apologised_for_and_the_next_is_handled(tg, bot, session_factory):
    chat = Chat(tg, 504)
    tg.unknown_files.add("photo-1")  # getFile refuses it: the dialogue fails
    apology = chat.say(photo=b"\xff\xd8 a photo the server cannot give", caption="look")
    assert "Sorry, something went wrong" in chat.text(apology)
    with session_factory() as s:
        failed = s.scalars(sa.select(Message).where(Message.status == MessageStatus.FAILED)).one()
        assert failed.error and failed.channel == Channel.TELEGRAM
    assert "Reply a number" in chat.text(chat.say("hello"))


def test_a_volunteer_registers_a_child_with_a_photo_and_a_location_and_books(
    tg, bot, session_factory, tmp_path
):
    chat = Chat(tg, 505)
    consent = chat.say("/found")
    where = chat.press(_with_buttons(consent), "1")
    assert "Where did you find the child" in chat.text(where)
    assert "When did you find" in chat.text(chat.say(location=GUANGZHOU))
    for text in ("yesterday", "6", "boy", "He says his name is Xiaobao"):
        chat.say(text)
    described = chat.say(photo=photo_with_gps(), caption="blue coat")
    assert "photo" in chat.text(described)
    chat.say("Zhang Wei")
    safe = chat.say("13800138000")
    check = chat.press(_with_buttons(safe), "2")
    registered = chat.press(_with_buttons(check), "1")
    text = chat.text(registered)
    assert "Registered: case FC-" in text and "1 Demo sampling point (Guangzhou)" in text
    (qr,) = tg.calls_of("sendPhoto", 505)  # the child's sample code as a QR code
    assert qr.params["caption"] in text
    days = chat.press(_with_buttons(registered), "1")
    confirm = chat.press(_with_buttons(days), "1")
    assert "Demo sampling point (Guangzhou)" in chat.text(chat.press(_with_buttons(confirm), "1"))
    with session_factory() as s:
        case = s.scalars(sa.select(Case)).one()
        assert case.reference.startswith("FC-")
        assert s.scalars(sa.select(Booking.case_id)).all() == [case.id]
        attachment = s.scalars(sa.select(Attachment)).one()
        assert attachment.case_id == case.id and attachment.photo_id
        volunteer = s.scalars(sa.select(Person).where(Person.role == Role.VOLUNTEER)).one()
        assert volunteer.name == "Zhang Wei"
    kept = read_photo(tmp_path, attachment.photo_id)  # decrypted, as officers see it
    assert kept is not None and not Image.open(io.BytesIO(kept)).getexif().get_ifd(GPS_IFD)
    assert "Children you registered (1):" in chat.text(chat.say("/children"))
