"""Fixtures of the notification tests: fake Twilio, Telegram and SMTP servers on localhost, a family with a
booked sample, and workers pointed at the fakes. Time is pinned (intake.platform.clock), so tests move it to a retry."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram.api import close_shared
from intake.models import Channel, Contact, Lab, Person, Role
from intake.platform import clock
from intake.platform.settings import Settings
from notifications.worker import Worker
from tests.support.factories import SampleRef, booked_sample, make_lab
from tests.support.fake_telegram_send import BOT_TOKEN, FakeTelegramSend
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.support.webapp import replace_settings

T0 = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)  # Saturday 10:00 in China; the family's appointment is Monday
PHONE = "+8613800000001"
CHAT = "777001"


@contextmanager
def at(seconds: float = 0) -> Iterator[datetime]:
    """Pin the clock `seconds` after T0."""
    with clock.pinned(T0 + timedelta(seconds=seconds)) as now:
        yield now


@pytest.fixture(autouse=True)
def _pinned() -> Iterator[None]:
    with at(0):
        yield


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegramSend]:
    fake = FakeTelegramSend()
    fake.server.start()
    yield fake
    close_shared()  # the workers' Bot API clients, each on this fake's port
    fake.server.stop()


@dataclass
class Mailbox:
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield box, controller.port
    controller.stop()


@pytest.fixture
def worker_settings(
    tmp_path: Path, fake_twilio: FakeTwilio, fake_telegram: FakeTelegramSend, mailbox: tuple[Mailbox, int]
) -> Settings:
    """The settings of a worker sending through the fakes, read from the environment as `reunite worker` reads them."""
    env = {
        "REUNITE_DATA_DIR": str(tmp_path), "PUBLIC_BASE_URL": "https://reunite.example.org",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_API_BASE_URL": fake_telegram.base_url,
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mailbox[1]), "SMTP_FROM": "alerts@reunite.example.org",
        "REUNITE_RETRY_BASE_SECONDS": "30", "REUNITE_RETRY_MAX_SECONDS": "3600", "REUNITE_NOTIFY_MAX_ATTEMPTS": "5",
        "REUNITE_NOTIFY_LEASE_SECONDS": "300",
    }  # fmt: skip
    settings = Settings.from_env(env, load_dotenv_file=False)
    return replace_settings(settings, notifications_timeout_seconds=5)


@pytest.fixture
def make_worker(session_factory: sessionmaker[Session], worker_settings: Settings) -> Any:
    """Make a worker on `worker_settings`, with `changes` to its notification policy (max_attempts=3, ...)."""

    def make(**changes: Any) -> Worker:
        policy = {f"notifications_{name}": value for name, value in changes.items()}
        return Worker(session_factory, replace_settings(worker_settings, **policy))

    return make


@pytest.fixture
def lab(session: Session) -> Lab:
    lab = make_lab(session)
    lab.name_en, lab.city_en, lab.address_en = "Test Lab Beijing", "Beijing", "1 Test Road"
    session.commit()
    return lab


@pytest.fixture
def family(session: Session, lab: Lab) -> SampleRef:
    """A mother who reported by SMS and booked a sample at `lab` for Monday 2026-11-30."""
    return booked_sample(session, lab, phone=PHONE)


def add_telegram_contact(
    session: Session, case_id: int, *, chat: str = CHAT, language: str = "en"
) -> Contact:
    """Give the family a second channel: the father, on Telegram (committed)."""
    contact = Contact(channel=Channel.TELEGRAM, address=chat, language=language, language_chosen=True)
    session.add(contact)
    session.flush()
    session.add(Person(case_id=case_id, role=Role.FATHER, contact_id=contact.id))
    session.commit()
    return contact
