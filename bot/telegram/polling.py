"""`reunite bot`: long polling. Each update goes through the same inbox as the webhook's, and is confirmed to
Telegram (the next getUpdates offset) only after the inbox has stored and handled it.

A crash between the two gets the update again on restart; the inbox knows its update id and processes it once.
"""

from __future__ import annotations

import logging
import threading

from telegram import Update
from telegram.error import TelegramError

from bot.telegram.adapter import TelegramChannel
from bot.telegram.api import POLL_TIMEOUT_S

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ("message", "callback_query")
RETRY_PAUSE_S = 2.0
MAX_TRIES = 5


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
    failures: dict[int, int] = {}
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
            if not _handled(channel, update, failures):
                stop.wait(RETRY_PAUSE_S)
                break  # not confirmed: getUpdates gives it again, and the inbox takes it once
            offset = update.update_id + 1
            handled += 1
    return handled


def _handled(channel: TelegramChannel, update: Update, failures: dict[int, int]) -> bool:
    """Handle one update; tell whether to confirm it. One that cannot even be stored is tried MAX_TRIES times.

    A failure in the dialogue never gets here (the inbox parks it and apologises); this is the database or the
    Bot API being away, which passes, or an update no retry will help, which must not stall every chat.
    """
    try:
        channel.handle(update)
    except Exception:
        failures[update.update_id] = failures.get(update.update_id, 0) + 1
        tries = failures[update.update_id]
        log.exception("update %s could not be handled (try %s of %s)", update.update_id, tries, MAX_TRIES)
        if tries < MAX_TRIES:
            return False
        log.error("update %s skipped after %s tries", update.update_id, tries)
    failures.pop(update.update_id, None)
    return True
