"""What flows in and out of the dialogue engine: channel-free messages, questions with their options, replies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from intake.models import Channel
from intake.platform.i18n import Msg


@dataclass(frozen=True)
class Media:
    """A photo or other file sent with a message, as the provider references it (downloaded later)."""

    url: str
    content_type: str


@dataclass(frozen=True)
class Incoming:
    """One message from a person, as any channel adapter hands it to the engine."""

    channel: Channel
    address: str  # E.164 phone number, Telegram chat id, terminal user name
    text: str
    received_at: datetime
    provider_id: str | None = None  # Twilio MessageSid, Telegram update id
    media: tuple[Media, ...] = ()
    location: tuple[float, float] | None = None  # (latitude, longitude) a chat app shared, in degrees


@dataclass(frozen=True)
class Choice:
    """One option offered to the person: SMS shows "reply KEY", Telegram shows a button sending KEY."""

    key: str
    label: str


@dataclass(frozen=True)
class Reply:
    """One message back to the person, already translated, with the choices it offers (maybe none)."""

    text: str
    choices: tuple[Choice, ...] = field(default=())
    code: str | None = (
        None  # a code the person shows at a lab (a sample code): a chat app may add it as a QR code
    )


@dataclass(frozen=True)
class Option:
    """One offered choice: the key to reply, its label, and other words that mean it (any language)."""

    key: str
    label: Msg | str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    """What a step asks, with the options it offers (maybe none, for free text)."""

    text: Msg | str
    options: tuple[Option, ...] = ()
