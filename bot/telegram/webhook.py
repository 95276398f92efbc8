"""Telegram's webhook on the web service: `POST /telegram/webhook` (registered by the `reunite.webhooks` entry point).

The `X-Telegram-Bot-Api-Secret-Token` header must equal TELEGRAM_WEBHOOK_SECRET, compared in constant time;
anything else is refused with 403 before anything is stored. An accepted update is stored by the inbox (unique on
its update id) and committed before it is processed and before the 200: a crash loses nothing, and Telegram's
retry of an update already stored changes nothing and is not answered twice. An update whose processing fails is
parked by the inbox with its error and apologised for, and still answered 200, so Telegram does not retry it for
a day and the chat is never stalled. The database unreachable is a 5xx instead, so Telegram retries the update
and the retry processes it (see "Load and faults" in docs/reliability.md).

In the spool mode (REUNITE_REPLY_MODE=spool, the default) the update is stored as it came in the spool, keyed by
its update id, in one statement, and answered 200 at once; a dialogue worker hands it to `spool_processor`, which
runs the same `TelegramChannel.handle` (dialogue, buttons, QR codes, the press of a button) and sends the
replies through the Bot API (docs/architecture.md, "The spool"). With `inline` the update is processed in the
request, as described above.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from telegram import Update

from bot.telegram.adapter import TelegramChannel, read_update
from bot.telegram.api import BotApi
from intake.inbound import spool
from intake.models import Channel
from intake.platform.secret_compare import same_secret
from intake.platform.settings import TelegramSettings
from intake.runtime import Runtime
from intake.web.support import json_error, runtime

bp = Blueprint("telegram", __name__, url_prefix="/telegram")
log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHANNEL_KEY = "telegram_channel"
_start_lock = threading.Lock()


def telegram_settings() -> TelegramSettings:
    """Return the app's Telegram settings (its runtime's, read and checked when the service started)."""
    return runtime().settings.telegram


def _channel(settings: TelegramSettings) -> TelegramChannel:
    with _start_lock:
        channel = current_app.extensions.get(CHANNEL_KEY)
        if channel is None:
            rt = runtime()
            channel = TelegramChannel(rt.session_factory, BotApi(settings), rt.settings.data_dir)
            current_app.extensions[CHANNEL_KEY] = channel
    assert isinstance(channel, TelegramChannel)
    return channel


def _update(body: Any) -> Update | None:
    if not isinstance(body, dict) or not isinstance(body.get("update_id"), int) or body["update_id"] < 0:
        return None
    try:
        return Update.de_json(body, None)
    except (KeyError, TypeError, ValueError):
        return None


@bp.post("/webhook")
def webhook() -> Response:
    """Take one update from Telegram: check the secret, store it, process it once, answer 200."""
    settings = telegram_settings()
    if not settings.token or not settings.webhook_secret:
        return json_error(
            503, "The Telegram channel is not configured: set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET."
        )
    given = request.headers.get(SECRET_HEADER, "")
    if not same_secret(given, settings.webhook_secret):
        log.warning("webhook call without the right secret token")
        return json_error(403, f"Missing or wrong {SECRET_HEADER} header.")
    body = request.get_json(silent=True)
    update = _update(body)
    if update is None:
        return json_error(400, "The body is not a Telegram update (JSON with a non-negative update_id).")
    rt = runtime()
    if rt.settings.reply_mode == "spool" and isinstance(body, dict):  # _update checked it is one
        what = read_update(update)
        if what is None:  # an edit, a join...: nothing the intake takes, as the adapter would decide
            return jsonify(ok=True)
        # one statement; a retried update still waiting is stored once
        spool.store(rt.engine, Channel.TELEGRAM, str(update.update_id), str(what.chat_id), body)
        return jsonify(ok=True)
    _channel(settings).handle(update)
    return jsonify(ok=True)


def spool_processor(rt: Runtime, settings: TelegramSettings | None = None) -> spool.Processor | None:
    """Return the dialogue worker's processor of spooled Telegram updates (None: no bot token set)."""
    settings = settings or rt.settings.telegram
    if not settings.token:
        return None
    channel = TelegramChannel(rt.session_factory, BotApi(settings), rt.settings.data_dir)

    def processor(delivery: spool.Spooled) -> None:
        update = Update.de_json(delivery.payload, None)
        channel.handle(update)

    return processor
