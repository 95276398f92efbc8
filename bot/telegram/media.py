"""Telegram photos that could not be downloaded while their update was handled: fetched by `reunite worker`.

The adapter downloads a photo at once (`bot.telegram.adapter`); when Telegram cannot give it then (down, slow,
5xx), its attachment stays due and this worker task (`telegram_media` in `reunite.worker_tasks`) downloads it
through the same Bot API server's file API (`BotApi.download`: getFile, then `<server>/file/bot<token>/...`
only), with the retries of `intake.inbound.media`. Without TELEGRAM_BOT_TOKEN nothing is fetched and the rows wait.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker
from telegram.error import BadRequest, TelegramError

from bot.telegram.adapter import FILE_PREFIX
from bot.telegram.api import BotApi, shared_api
from intake.inbound.media import MediaGone, MediaUnavailable, fetch_pending
from intake.models import Channel
from intake.platform.photos import MAX_PHOTO_BYTES
from intake.platform.settings import Settings


def download(api: BotApi, url: str) -> bytes:
    """Return the bytes of one Telegram photo reference; raise MediaUnavailable (retry), MediaGone or PhotoError."""
    if not url.startswith(FILE_PREFIX):
        raise MediaGone("not a Telegram file reference")
    try:
        return api.download(url[len(FILE_PREFIX) :], MAX_PHOTO_BYTES)
    except BadRequest as exc:  # an unknown or expired file id: Telegram will not give it
        raise MediaGone(f"Telegram: {exc.message}") from None
    except (TelegramError, TimeoutError) as exc:
        raise MediaUnavailable(f"Telegram: {type(exc).__name__}") from None


def fetch_once(factory: sessionmaker[Session], api: BotApi, settings: Settings) -> int:
    """Download the due Telegram photos (one batch); return how many were handled."""
    return fetch_pending(factory, Channel.TELEGRAM, lambda url: download(api, url), settings.data_dir)


def worker_task(session_factory: sessionmaker[Session], settings: Settings) -> int:
    """The `reunite worker` pass for Telegram photos (entry point `telegram_media`); nothing without a token."""
    if not settings.telegram.token:
        return 0
    return fetch_once(session_factory, shared_api(settings.telegram), settings)
