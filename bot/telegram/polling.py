"""`reunite bot`: long polling. Each update goes through the same inbox as the webhook's, and is confirmed to
Telegram (the next getUpdates offset) only after the inbox has stored and handled it.

A crash between the two gets the update again on restart; the inbox knows its update id and processes it once.
"""

from __future__ import annotations

import logging
import threading
import time

from telegram.error import TelegramError

from bot.telegram.adapter import TelegramChannel
from bot.telegram.api import POLL_TIMEOUT_S

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
RETRY_PAUSE_S = 2.0


def run_polling(
    channel: TelegramChannel, *, stop: threading.Event | None = None, poll_timeout: int = POLL_TIMEOUT_S
) -> int:
    """Poll for updates and handle them one by one until `stop` is set; return the number of updates handled."""
    stop = stop or threading.Event()
    api = channel.api
    api.run(api.bot.delete_webhook())  # getUpdates is refused while a webhook is set
    channel.register_commands()
    offset: int | None = None
    handled = 0
    while not stop.is_set():
        try:
            updates = api.run(
                api.bot.get_updates(offset=offset, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
            )
        except TelegramError as exc:  # the server is away for a moment: try again, never give up
            log.warning("getUpdates failed: %s; trying again", exc)
            stop.wait(RETRY_PAUSE_S)
            continue
        for update in updates:  # in update id order, so one chat's messages are handled in order
            channel.handle(update)
            offset = update.update_id + 1
            handled += 1
    return handled


def wait_for(condition: threading.Event, seconds: float) -> bool:
    """Wait until `condition` is set or `seconds` pass (for callers that stop the loop from another thread)."""
    deadline = time.monotonic() + seconds
    while not condition.is_set() and time.monotonic() < deadline:
        condition.wait(0.05)
    return condition.is_set()
