"""Fixtures for the Telegram channel: the fake Bot API server, and the web app's webhook pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram.webhook import CHANNEL_KEY, SECRET_HEADER
from tests.support.fake_telegram import FakeTelegram
from tests.support.webapp import web_app, web_settings

SECRET = "test-webhook-secret-0123456789"


@pytest.fixture
def tg() -> Iterator[FakeTelegram]:
    with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def app(
    tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session], tg: FakeTelegram
) -> Iterator[Flask]:
    settings = web_settings(
        tmp_path,
        engine,
        telegram_token=tg.token,
        telegram_base_url=tg.base_url,
        telegram_webhook_secret=SECRET,
    )
    app = web_app(settings, engine, session_factory, demo_labs=True)
    yield app
    channel = app.extensions.get(CHANNEL_KEY)
    if channel is not None:
        channel.api.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Webhook:
    """Telegram calling the webhook: posts updates with the secret header."""

    def __init__(self, client: FlaskClient, tg: FakeTelegram) -> None:
        self.client, self.tg = client, tg

    def post(self, update: dict[str, Any], secret: str | None = SECRET) -> Any:
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return self.client.post("/telegram/webhook", json=update, headers=headers)

    def say(self, chat_id: int, text: str | None = None, **kwargs: Any) -> list[str]:
        """Send a message from `chat_id`; return the replies it got, choices as numbered lines (as SMS shows)."""
        before = len(self.tg.sent_to(chat_id))
        response = self.post(self.tg.message_update(chat_id, text, **kwargs))
        assert response.status_code == 200, response.get_data(as_text=True)
        return [as_lines(self.tg.message_of(c)) for c in self.tg.sent_to(chat_id)[before:]]


def as_lines(message: dict[str, Any]) -> str:
    """Render a message the bot sent as the golden transcripts write it: text, then "key label" per button."""
    lines = [message.get("text", "")]
    for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for button in row:
            key = button["callback_data"].split(":", 1)[1]
            lines.append(f"{key} {button['text']}")
    return "\n".join(lines)


@pytest.fixture
def webhook(client: FlaskClient, tg: FakeTelegram) -> Webhook:
    return Webhook(client, tg)
