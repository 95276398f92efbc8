"""What the worker sends through, and how it finds the senders: each channel's adapter registers one.

A sender (`Provider`) has `send`, which returns an `Outcome`: `Accepted` (the provider took the message, with
its id), `Retry` (try again later, after `retry_after` seconds when the provider said so) or `Permanent` (stop:
an opted-out or invalid number, a bot the person blocked, an address the mail server refuses). None raises for
a provider's answer.

The senders live with their provider, not here: Twilio's in `sms.sender`, Telegram's in `bot.telegram.sender`
(the bot's one Bot API client), e-mail's in `notifications.email`. Each registers a factory in the
`reunite.senders` entry-point group under its channel's name; `installed_providers` asks each for a sender built
from the settings (None: its settings are missing, and that channel's rows wait, unclaimed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from typing import Protocol

from intake.models import NotificationChannel
from intake.platform.settings import Settings

SENDER_GROUP = "reunite.senders"


@dataclass(frozen=True)
class Accepted:
    provider_id: str | None


@dataclass(frozen=True)
class Retry:
    error: str
    retry_after: float | None = None


@dataclass(frozen=True)
class Permanent:
    code: str
    error: str


Outcome = Accepted | Retry | Permanent


@dataclass(frozen=True)
class Outgoing:
    """One message ready to go: address, text, and the key the provider may deduplicate on."""

    address: str
    text: str
    idempotency_key: str
    subject: str = ""
    status_callback: str | None = None


class Provider(Protocol):
    # Whether the provider refuses a second message with the same idempotency key (a retry after a crash).
    deduplicates: bool

    def send(self, message: Outgoing) -> Outcome: ...

    def lookup(self, message: Outgoing, since: datetime) -> Accepted | None:
        """Return the provider's record of this message if it already has it (sent since `since`), else None:
        asked before sending again a message whose worker died mid-send."""
        ...


SenderFactory = Callable[[Settings], Provider | None]


def installed_providers(settings: Settings) -> dict[NotificationChannel, Provider]:
    """Return a sender for each channel whose adapter is installed and whose settings are present."""
    found: dict[NotificationChannel, Provider] = {}
    for ep in sorted(entry_points(group=SENDER_GROUP), key=lambda ep: ep.name):
        factory: SenderFactory = ep.load()
        provider = factory(settings)
        if provider is not None:
            found[NotificationChannel(ep.name)] = provider
    return found
