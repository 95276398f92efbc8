"""Sending Telegram messages for the notification worker (the `telegram` channel), through the bot's one Bot API
client (`bot.telegram.api.BotApi`, python-telegram-bot), the same the adapter answers with.

Registered in the `reunite.senders` entry-point group (`sender`), so `notifications/` finds it without importing
Telegram. python-telegram-bot turns the Bot API's answers into exceptions; `send` turns them into an `Outcome`
and never raises for one: flood control (429) and network trouble or a 5xx are retried (after the `retry_after`
Telegram gives), a bot the person blocked (403) is permanent, and so is any other refusal.
"""

from __future__ import annotations

import warnings
from concurrent.futures import TimeoutError as CallTimeout
from datetime import datetime, timedelta

from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.api import BotApi, shared_api
from intake.platform.settings import Settings
from notifications.providers import Accepted, Outcome, Outgoing, Permanent, Retry


def _seconds(exc: RetryAfter) -> float:
    """Return how long Telegram asked to wait (an int of seconds, or a timedelta in python-telegram-bot 23)."""
    with warnings.catch_warnings():  # the int form is deprecated in 22.2: either form is read
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        after = exc.retry_after
    return after.total_seconds() if isinstance(after, timedelta) else float(after)


class TelegramSender:
    """Telegram messages through the Bot API's sendMessage."""

    deduplicates = False  # the Bot API has no idempotency key: a crash mid-send is counted instead

    def __init__(self, api: BotApi, timeout_seconds: float) -> None:
        self.api = api
        self.timeout = timeout_seconds

    def send(self, message: Outgoing) -> Outcome:
        t = self.timeout
        call = self.api.bot.send_message(
            message.address, message.text, read_timeout=t, write_timeout=t, connect_timeout=t, pool_timeout=t
        )
        try:
            sent = self.api.run(call)
        except RetryAfter as exc:
            return Retry(f"Telegram: {exc.message}", _seconds(exc))
        except (NetworkError, CallTimeout, OSError) as exc:  # TimedOut and 5xx are NetworkErrors
            return Retry(f"Telegram unreachable: {type(exc).__name__}: {exc}")
        except Forbidden as exc:
            return Permanent("telegram_blocked", f"Telegram: {exc.message}")
        except TelegramError as exc:  # BadRequest, InvalidToken, ChatMigrated, Conflict
            return Permanent(f"telegram_{type(exc).__name__.lower()}", f"Telegram: {exc.message}")
        return Accepted(str(sent.message_id))

    def lookup(self, message: Outgoing, since: datetime) -> Accepted | None:
        """Find nothing: the Bot API cannot list the messages a bot sent."""
        return None


def sender(settings: Settings) -> TelegramSender | None:
    """The `telegram` entry of `reunite.senders`: the bot when TELEGRAM_BOT_TOKEN is set, else None."""
    if not settings.telegram.token:
        return None
    return TelegramSender(shared_api(settings.telegram), settings.notifications.timeout_seconds)
