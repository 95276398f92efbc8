"""The Telegram webhook over real HTTP under the faults of issue 12, bounded (the long runs: benchmarks/load_sms.py)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import sqlalchemy as sa

from bot.telegram.webhook import SECRET_HEADER
from intake.dialogue.types import Incoming
from intake.inbound.inbox import process, render_plain
from intake.models import Channel, Direction, Message, MessageStatus, utcnow
from tests.bot.conftest import SECRET
from tests.support.concurrency import run_together
from tests.support.webapp import served


def _post(base_url: str, update: dict) -> int:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    body = json.dumps(update).encode()
    conn.request(
        "POST", "/telegram/webhook", body, {"Content-Type": "application/json", SECRET_HEADER: SECRET}
    )
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def test_fifty_identical_updates_at_once_one_row_answered_once_all_200(app, tg, session_factory):
    update = tg.message_update(42, "你好")
    with served(app) as url:
        statuses = run_together(50, lambda _: _post(url, update), range(50))

    assert statuses == [200] * 50
    with session_factory() as s:
        rows = s.scalars(
            sa.select(Message).where(
                Message.channel == Channel.TELEGRAM, Message.direction == Direction.INBOUND
            )
        ).all()
        assert [(m.provider_id, m.status) for m in rows] == [
            (str(update["update_id"]), MessageStatus.PROCESSED)
        ]
        stored_replies = s.scalar(
            sa.select(sa.func.count()).select_from(Message).where(Message.in_reply_to_id == rows[0].id)
        )
    assert len(tg.sent_to(42)) == stored_replies == 1  # one effect: answered once, not 50 times


def test_replies_stored_but_never_sent_are_sent_by_the_retry_once(webhook, tg, session_factory):
    # The web process was killed after the replies were committed and before sendMessage: Telegram got no 200
    # and retries the update. The retry must send the stored reply (once), not skip it as already processed.
    update = tg.message_update(43, "你好")
    incoming = Incoming(Channel.TELEGRAM, "43", "你好", utcnow(), provider_id=str(update["update_id"]))
    (reply,) = process(session_factory, incoming, replies_of_duplicate=False)
    assert tg.sent_to(43) == []

    assert webhook.post(update).status_code == 200
    assert webhook.post(update).status_code == 200  # and again: nothing more is sent

    (sent,) = tg.sent_to(43)
    assert sent.params["text"] == render_plain(reply)  # as stored: the choices as numbered lines
    with session_factory() as s:
        statuses = s.scalars(sa.select(Message.status).where(Message.direction == Direction.OUTBOUND)).all()
    assert statuses == [MessageStatus.SENT]
