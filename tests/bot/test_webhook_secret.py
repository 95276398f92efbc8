"""The Telegram webhook's secret: without TELEGRAM_WEBHOOK_SECRET a bot token alone takes no update (503 with the
reason, not 500), and the header is compared in constant time (`hmac.compare_digest` decides)."""

from __future__ import annotations

import hmac

import pytest
import sqlalchemy as sa

from bot.telegram.webhook import SECRET_HEADER
from intake.models import Message
from intake.models.spool import Delivery
from tests.bot.conftest import SECRET
from tests.support.webapp import web_app, web_settings


@pytest.mark.parametrize("reply_mode", ["inline", "spool"])
def test_a_bot_token_without_the_webhook_secret_refuses_updates_with_503(
    tmp_path, engine, session_factory, tg, reply_mode
):
    settings = web_settings(
        tmp_path, engine, reply_mode=reply_mode, telegram_token=tg.token, telegram_base_url=tg.base_url
    )
    client = web_app(settings, engine, session_factory).test_client()
    for headers in ({}, {SECRET_HEADER: SECRET}):
        response = client.post("/telegram/webhook", json=tg.message_update(4242, "/start"), headers=headers)
        assert response.status_code == 503
        assert "TELEGRAM_WEBHOOK_SECRET" in response.get_json()["error"]["message"]
    with session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0
    assert tg.sent_to(4242) == []


@pytest.mark.parametrize(
    ("given", "verdict", "status"), [("a-wrong-secret-0123456789", True, 200), (SECRET, False, 403)]
)
def test_compare_digest_is_what_decides_on_the_secret(client, tg, monkeypatch, given, verdict, status):
    calls = []

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return verdict

    monkeypatch.setattr(hmac, "compare_digest", spy)
    response = client.post(
        "/telegram/webhook", json=tg.message_update(4242, "/start"), headers={SECRET_HEADER: given}
    )
    assert response.status_code == status
    assert calls == [(given.encode(), SECRET.encode())]
