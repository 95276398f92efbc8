"""A synchronous handle on python-telegram-bot's Bot, for the inbox's synchronous path and Flask's threads.

python-telegram-bot is asynchronous; reunite's inbox and web service are not. BotApi runs one event loop in a
daemon thread and runs each Bot API call there, so the polling loop and any number of web threads share one Bot
and its connection pool.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

from telegram import Bot
from telegram.request import HTTPXRequest

from intake.platform.photos import PhotoError, too_large
from intake.platform.settings import TelegramSettings

T = TypeVar("T")
_shared: dict[TelegramSettings, BotApi] = {}
_shared_lock = threading.Lock()
CALL_TIMEOUT_S = 120.0
POLL_TIMEOUT_S = 25  # getUpdates long polling: how long the Bot API server may hold the request


def on_file_api(file_path: str | None, base_file_url: str) -> bool:
    """Tell whether a file's path (as getFile gave it) is a URL under the bot's file API, without `..` parts."""
    if not file_path or not file_path.startswith(base_file_url.rstrip("/") + "/"):
        return False
    rest = urlsplit(file_path[len(base_file_url.rstrip("/")) :])
    return not rest.query and not rest.fragment and ".." not in rest.path.split("/") and "%" not in rest.path


class BotApi:
    """The Bot API of one bot, called synchronously from any thread."""

    def __init__(self, settings: TelegramSettings) -> None:
        if not settings.token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="telegram-api", daemon=True)
        self._thread.start()
        request = HTTPXRequest(connection_pool_size=16, pool_timeout=30.0, read_timeout=30.0)
        updates_request = HTTPXRequest(connection_pool_size=1, read_timeout=POLL_TIMEOUT_S + 10.0)
        self.bot = Bot(
            settings.token,
            base_url=settings.base_url,
            base_file_url=settings.base_file_url,
            request=request,
            get_updates_request=updates_request,
        )

    def run(self, call: Coroutine[Any, Any, T]) -> T:
        """Run one Bot API call on the bot's event loop and return its result (or raise its error)."""
        return asyncio.run_coroutine_threadsafe(call, self._loop).result(CALL_TIMEOUT_S)

    def start(self) -> None:
        """Initialise the bot: getMe, which also checks the token."""
        self.run(self.bot.initialize())

    def download(self, file_id: str, max_bytes: int, timeout: float | None = None) -> bytes:
        """Download a file the person sent (getFile, then the file URL); refuse one larger than `max_bytes`.

        Only through the Bot API server's file API (`<server>/file/bot<token>/<path>`): a file path that is not
        there (one on this machine's disk, which python-telegram-bot would read, or a `..` path) is refused.
        """

        async def fetch() -> bytes:
            file = await self.bot.get_file(file_id, read_timeout=timeout, connect_timeout=timeout)
            if file.file_size is not None and file.file_size > max_bytes:
                raise too_large()
            if not on_file_api(file.file_path, self.bot.base_file_url):
                raise PhotoError(
                    "That file is not a photo we can read. Please send a JPEG, PNG or WebP photo."
                )
            return bytes(await file.download_as_bytearray(read_timeout=timeout, connect_timeout=timeout))

        return self.run(fetch())

    def close(self) -> None:
        """Close the bot's connections and stop its event loop."""
        try:
            self.run(self.bot.shutdown())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)


def shared_api(settings: TelegramSettings) -> BotApi:
    """Return this process's BotApi for `settings` (made on first use): the worker's tasks share one client."""
    with _shared_lock:
        api = _shared.get(settings)
        if api is None:
            api = _shared[settings] = BotApi(settings)
        return api


def close_shared() -> None:
    """Close every shared BotApi of this process (its connections and its event loop thread)."""
    with _shared_lock:
        apis = list(_shared.values())
        _shared.clear()
    for api in apis:
        api.close()
