"""The webhook: the secret header, each update stored before the 200 and processed once, chats in order."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from intake.models import Attachment, Channel, Direction, Message, MessageStatus
from tests.bot.conftest import SECRET


def _inbound(session_factory) -> list[Message]:
    with session_factory() as s:
        return list(
            s.scalars(
                sa.select(Message)
                .where(Message.channel == Channel.TELEGRAM, Message.direction == Direction.INBOUND)
                .order_by(Message.id)
            )
        )


def test_forged_or_missing_secret_is_refused_and_nothing_is_stored(webhook, tg, session_factory):
    update = tg.message_update(7, "你好")
    for secret in (None, "", "wrong-secret-0123456789", SECRET + "x", SECRET[:-1]):
        response = webhook.post(update, secret=secret)
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert _inbound(session_factory) == []
    assert tg.sent_to(7) == []


def test_a_message_is_answered_with_buttons_and_stored_first(webhook, tg, session_factory):
    replies = webhook.say(7, "你好")
    assert replies == [
        "您好，这里是“团圆”寻亲服务，用DNA帮家人找走失的孩子。请回复数字：\n1 登记走失孩子\n2 预约采血\n3 查询进度"
    ]
    (message,) = _inbound(session_factory)
    assert message.status == MessageStatus.PROCESSED and message.body == "你好"


def test_a_retried_update_is_processed_once_and_answered_once(webhook, tg, session_factory):
    update = tg.message_update(7, "你好")
    assert webhook.post(update).status_code == 200
    assert webhook.post(update).status_code == 200
    assert len(_inbound(session_factory)) == 1
    assert len(tg.sent_to(7)) == 1


def test_a_body_that_is_no_update_gets_400(webhook, client):
    from bot.telegram.webhook import SECRET_HEADER

    for body in (b"not json", b"[]", b'{"update_id": "x"}', b'{"update_id": -1}'):
        response = client.post(
            "/telegram/webhook",
            data=body,
            headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
        )
        assert response.status_code == 400


def test_fifty_updates_from_ten_chats_in_parallel_each_chat_in_order(webhook, tg, session_factory):
    texts = [
        "STATUS",
        "HELP",
        "LANGUAGE",
        "中文",
        "HELP",
    ]  # each answer depends on the one before (the language)
    for text in texts:  # the same conversation alone first: the replies every chat must get, in this order
        webhook.say(99, text, language_code="en")
    expected = [c.params["text"] for c in tg.sent_to(99)]
    assert "Send REPORT" in expected[1] and "报失" in expected[-2]  # English help, then Chinese help
    chats = [100 + n for n in range(10)]
    updates = {chat: [tg.message_update(chat, text, language_code="en") for text in texts] for chat in chats}
    failures: list[str] = []

    def talk(chat: int) -> None:
        for update in updates[chat]:  # Telegram sends one chat's updates one at a time; chats in parallel
            response = webhook.post(update)
            if response.status_code != 200:
                failures.append(f"{chat}: {response.status_code}")

    threads = [threading.Thread(target=talk, args=(chat,)) for chat in chats]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    inbound = _inbound(session_factory)
    assert len(inbound) == 55 and all(m.status == MessageStatus.PROCESSED for m in inbound)
    for chat in chats:
        assert [c.params["text"] for c in tg.sent_to(chat)] == expected, chat


def test_a_photo_is_kept_by_id_and_its_file_deleted_with_the_persons_data(webhook, tg, session_factory, app):
    from tests.bot.test_photos import photo_with_gps

    replies = webhook.say(8, photo=photo_with_gps(), language_code="en")
    assert replies[0] == "Thank you, we received your photo and kept it with your message."
    with session_factory() as s:
        (photo_id,) = s.scalars(sa.select(Attachment.photo_id)).all()
    kept = app.extensions["reunite"].settings.data_dir / "photos" / f"{photo_id}.enc"  # encrypted
    assert kept.exists()
    webhook.say(8, "DELETE")
    assert kept.exists()  # asked, not yet confirmed
    webhook.say(8, "1")
    with session_factory() as s:
        assert s.scalars(sa.select(Attachment.photo_id)).all() == [None]
    assert not kept.exists()


def test_a_file_that_is_no_photo_is_refused_in_words_and_not_kept(webhook, tg, session_factory, app):
    replies = webhook.say(9, photo=b"%PDF-1.4 not a photo", language_code="en")
    assert replies == ["That file is not a photo we can read. Please send a JPEG, PNG or WebP photo."]
    with session_factory() as s:
        assert s.scalars(sa.select(Attachment)).all() == []
        assert s.scalars(sa.select(Message.status).where(Message.direction == Direction.INBOUND)).all() == [
            MessageStatus.PROCESSED
        ]
    assert not (app.extensions["reunite"].settings.data_dir / "photos").exists()


def test_an_update_that_fails_is_parked_answered_200_apologised_for_once(webhook, tg, session_factory):
    tg.unknown_files.add("photo-1")  # getFile refuses it: the dialogue fails
    update = tg.message_update(10, photo=b"\xff\xd8 cannot be downloaded", language_code="en")
    assert webhook.post(update).status_code == 200
    assert (
        webhook.post(update).status_code == 200
    )  # Telegram's retry: not processed, not apologised for again
    (apology,) = [c.params["text"] for c in tg.sent_to(10)]
    assert apology.startswith("Sorry, something went wrong on our side.")
    (message,) = _inbound(session_factory)
    assert message.status == MessageStatus.FAILED and message.error
    assert webhook.say(10, "HELP", language_code="en")[0].startswith("Send REPORT")  # the chat goes on


def test_the_webhook_secret_is_compared_in_constant_time(webhook, tg, monkeypatch):
    from tests.support.constant_time import watch_compare_digest

    calls = watch_compare_digest(monkeypatch)
    assert webhook.post(tg.message_update(7, "你好"), secret=SECRET[:-1] + "y").status_code == 403
    assert (SECRET[:-1].encode() + b"y", SECRET.encode()) in calls
