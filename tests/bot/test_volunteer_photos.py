"""A volunteer's photos by Telegram (the fake Bot API over HTTP, through the webhook): every photo of an album goes
with the case, a caption is never the answer to a safety question, files come only through the Bot API's file
API, and a photo Telegram cannot give now is fetched later by the worker's job, not lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.telegram.api import BotApi
from bot.telegram.media import fetch_once
from intake.models import Attachment, Case
from intake.platform import clock
from intake.platform.photos import read_photo
from intake.platform.settings import TelegramSettings
from tests.bot.test_photos import photo_with_gps
from tests.dialogue.helpers import NOW

CHAT = 77
UP_TO_DESCRIPTION = ["/found", "1", "Guangzhou East station", "yesterday", "6", "boy", "Xiaobao"]


def _rows(session_factory) -> list[tuple[int | None, str | None]]:
    with session_factory() as s:
        return list(
            s.execute(sa.select(Attachment.case_id, Attachment.photo_id).order_by(Attachment.id)).all()
        )


def _case_id(session_factory) -> int:
    with session_factory() as s:
        return s.scalars(sa.select(Case.id)).one()


def _say_all(webhook, texts):
    return [webhook.say(CHAT, text, language_code="en") for text in texts]


@pytest.fixture
def api(tg) -> Iterator[BotApi]:
    api = BotApi(TelegramSettings(token=tg.token, base_url=tg.base_url))
    yield api
    api.close()


def test_every_photo_of_an_album_goes_with_the_registration(webhook, tg, session_factory):
    with clock.pinned(NOW):
        _say_all(webhook, UP_TO_DESCRIPTION)
        first = webhook.say(
            CHAT, photo=photo_with_gps(), language_code="en"
        )  # an album: one update per photo
        second = webhook.say(CHAT, photo=photo_with_gps(), language_code="en")
        assert "your own full name" in first[-1] and "received your photo" in second[0]
        _say_all(webhook, ["Zhang Wei", "13800138000", "2", "1"])
    case = _case_id(session_factory)
    rows = _rows(session_factory)
    assert [c for c, _p in rows] == [case, case] and all(p for _c, p in rows)


def test_a_caption_is_a_note_never_the_answer_to_who_the_child_is_safe_with(webhook, tg, session_factory):
    with clock.pinned(NOW):
        _say_all(webhook, UP_TO_DESCRIPTION)
        described = webhook.say(CHAT, photo=photo_with_gps(), caption="blue coat", language_code="en")
        assert "your own full name" in described[-1]  # at the description the caption is the description
        _say_all(webhook, ["Zhang Wei", "13800138000"])
        replies = webhook.say(CHAT, photo=photo_with_gps(), caption="1", language_code="en")
        assert "not taken as an answer" in replies[-1] and "safe with now" in replies[-1]
        assert "safe now with: With me" in webhook.say(CHAT, "3", language_code="en")[-1]
        webhook.say(CHAT, "1", language_code="en")
    with session_factory() as s:
        description = s.scalars(sa.select(Case.description)).one()
    assert "Looks: blue coat" in description and "Safe with: With me" in description
    assert [c for c, _p in _rows(session_factory)] == [_case_id(session_factory)] * 2


@pytest.mark.parametrize("path", ["local", "photos/../../x.jpg", "photos/%2e%2e/x.jpg"])
def test_a_file_path_off_the_bot_apis_file_api_is_never_read(webhook, tg, session_factory, path, tmp_path):
    if path == "local":  # a photo on this machine's disk, which python-telegram-bot would read as the file
        (tmp_path / "here.jpg").write_bytes(photo_with_gps())
        path = str(tmp_path / "here.jpg")
    tg.file_paths["photo-1"] = path
    replies = webhook.say(CHAT, photo=photo_with_gps(), language_code="en")
    assert replies[0] == "That file is not a photo we can read. Please send a JPEG, PNG or WebP photo."
    assert _rows(session_factory) == []


def test_a_photo_telegram_cannot_give_now_is_fetched_later_not_lost(webhook, tg, session_factory, app, api):
    tg.broken_files.add("photo-1")  # the file server answers 500
    with clock.pinned(NOW):
        _say_all(webhook, UP_TO_DESCRIPTION)
        replies = webhook.say(CHAT, photo=photo_with_gps(), language_code="en")
        assert "received the photo" in replies[0] and "your own full name" in replies[-1]  # answered as usual
        _say_all(webhook, ["Zhang Wei", "13800138000", "2", "1"])
    [(case, photo_id)] = _rows(session_factory)
    assert case == _case_id(session_factory) and photo_id is None
    settings = app.extensions["reunite"].settings
    with clock.pinned(NOW):
        assert fetch_once(session_factory, api, settings) == 1  # still down: left to retry
    assert _rows(session_factory)[0][1] is None
    tg.broken_files.clear()
    with clock.pinned(NOW.replace(hour=NOW.hour + 1)):
        assert fetch_once(session_factory, api, settings) == 1
    [(case, photo_id)] = _rows(session_factory)
    assert photo_id and read_photo(settings.data_dir, photo_id)


def test_a_pdf_document_is_refused_in_words_never_downloaded_nor_kept(webhook, tg, session_factory):
    with clock.pinned(NOW):
        _say_all(webhook, UP_TO_DESCRIPTION)
        update = tg.message_update(CHAT, language_code="en")
        update["message"]["document"] = {"file_id": "doc-1", "file_unique_id": "doc-1u", "file_name": "a.pdf",
                                         "mime_type": "application/pdf", "file_size": 9}  # fmt: skip
        before = len(tg.sent_to(CHAT))
        assert webhook.post(update).status_code == 200
        replies = [tg.message_of(c).get("text", "") for c in tg.sent_to(CHAT)[before:]]
    assert (
        replies[0]
        == "The file you sent (application/pdf) was not kept: we keep only photos, as JPEG, PNG or WebP."
    )
    assert "Describe the child" in replies[-1] and not tg.calls_of("getFile")
    assert _rows(session_factory) == []
