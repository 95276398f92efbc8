"""The providers the worker sends through: Twilio's Messages API, Telegram's Bot API, SMTP.

Each `send` returns an `Outcome`: `Accepted` (the provider took the message, with its id), `Retry` (try again
later, after `retry_after` seconds when the provider said so) or `Permanent` (stop: an opted-out or invalid
number, a bot the person blocked, an address the mail server refuses). None raises for a provider's answer.
"""

from __future__ import annotations

import hashlib
import json
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from intake.models.outbox import MAX_NOTIFICATION_PROVIDER_ID_CHARS
from notifications.config import WorkerSettings


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


# Twilio error codes that no retry can fix (https://www.twilio.com/docs/api/errors).
TWILIO_PERMANENT = {
    21211: "invalid_number",
    21214: "invalid_number",
    21217: "invalid_number",
    21408: "region_not_permitted",
    21610: "opted_out",
    21612: "unreachable",
    21614: "not_mobile",
    30003: "unreachable",
    30004: "blocked",
    30005: "unknown_number",
    30006: "landline",
}


def _retry_after(headers: Any) -> float | None:
    """Read a Retry-After header given in seconds (the form Twilio and most APIs use)."""
    raw = (headers or {}).get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


class TwilioSms:
    """SMS through Twilio's Messages API with the twilio client; TWILIO_API_BASE_URL points it elsewhere."""

    deduplicates = True  # the I-Twilio-Idempotency-Token header carries the notification's key

    def __init__(self, settings: WorkerSettings) -> None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number):
            raise ValueError("set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER to send SMS")
        self.settings = settings
        self.client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=TwilioHttpClient(timeout=settings.timeout_seconds),
        )
        self.url = (
            f"{settings.twilio_api_base_url}/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"
        )

    def send(self, message: Outgoing) -> Outcome:
        data = {"To": message.address, "From": self.settings.twilio_from_number, "Body": message.text}
        if message.status_callback:
            data["StatusCallback"] = message.status_callback
        try:
            response = self.client.request(
                "POST", self.url, data=data, headers={"I-Twilio-Idempotency-Token": message.idempotency_key}
            )
        except (TwilioException, requests.RequestException, OSError) as exc:
            return Retry(f"Twilio unreachable: {type(exc).__name__}")
        try:
            body = json.loads(response.text or "{}")
        except ValueError:
            body = {}
        if response.status_code in (200, 201):
            return Accepted(str(body.get("sid") or "") or None)
        code = body.get("code") if isinstance(body, dict) else None
        text = f"Twilio {response.status_code} {code or ''}: {body.get('message', '')}".strip()
        if response.status_code == 429 or response.status_code >= 500 or response.status_code == 401:
            return Retry(text, _retry_after(response.headers))
        if isinstance(code, int) and code in TWILIO_PERMANENT:
            return Permanent(f"twilio_{code}", text)
        return Permanent(f"http_{response.status_code}", text)

    def lookup(self, message: Outgoing, since: datetime) -> Accepted | None:
        """Find a message Twilio already has with the same number, sender and text, created since `since`
        (less LOOKUP_SKEW for the clocks). The list is Twilio's Messages resource filtered by To and From,
        newest first. An error, or a text Twilio changed (smart encoding), finds nothing: the message is sent
        again, a possible copy rather than a lost message."""
        params = {"To": message.address, "From": self.settings.twilio_from_number, "PageSize": "50"}
        try:
            response = self.client.request("GET", self.url, params=params)
            body = json.loads(response.text or "{}") if response.status_code == 200 else {}
        except (TwilioException, requests.RequestException, OSError, ValueError):
            return None
        for found in body.get("messages") or []:
            try:
                created = _aware(parsedate_to_datetime(str(found.get("date_created"))))
            except (TypeError, ValueError):
                continue
            if found.get("body") == message.text and created >= _aware(since) - LOOKUP_SKEW:
                return Accepted(str(found.get("sid") or "") or None)
        return None


LOOKUP_SKEW = timedelta(minutes=5)  # our clock against Twilio's


def _aware(moment: datetime) -> datetime:
    """Read a time without a zone as UTC (Twilio writes "-0000", which Python reads as zone unknown)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class TelegramBot:
    """Telegram through the Bot API's sendMessage (plain HTTP; TELEGRAM_API_BASE_URL points it elsewhere)."""

    deduplicates = False  # the Bot API has no idempotency key: a crash mid-send is counted instead

    def __init__(self, settings: WorkerSettings) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("set TELEGRAM_BOT_TOKEN to send Telegram messages")
        # TELEGRAM_API_BASE_URL may name the server (https://api.telegram.org) or, as python-telegram-bot's
        # base_url does, end in /bot (http://127.0.0.1:8081/bot): the token follows "/bot" either way.
        base = settings.telegram_api_base_url.rstrip("/")
        prefix = base if base.endswith("/bot") else f"{base}/bot"
        self.url = f"{prefix}{settings.telegram_bot_token}/sendMessage"
        self.timeout = settings.timeout_seconds
        self.http = requests.Session()

    def send(self, message: Outgoing) -> Outcome:
        try:
            response = self.http.post(
                self.url, json={"chat_id": message.address, "text": message.text}, timeout=self.timeout
            )
            body = response.json()
        except (requests.RequestException, ValueError) as exc:
            return Retry(f"Telegram unreachable: {type(exc).__name__}")
        if response.status_code == 200 and body.get("ok"):
            return Accepted(str(body.get("result", {}).get("message_id", "")) or None)
        description = f"Telegram {response.status_code}: {body.get('description', '')}"
        if response.status_code == 429 or response.status_code >= 500:
            after = (body.get("parameters") or {}).get("retry_after")
            return Retry(description, float(after) if isinstance(after, int | float) else None)
        if response.status_code == 403:
            return Permanent("telegram_blocked", description)
        return Permanent(f"telegram_{response.status_code}", description)

    def lookup(self, message: Outgoing, since: datetime) -> Accepted | None:
        """Find nothing: the Bot API cannot list the messages a bot sent."""
        return None


_MSGID_UNSAFE = re.compile(r"[^A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]")


class Smtp:
    """E-mail to officers through an SMTP server (STARTTLS and login when configured)."""

    deduplicates = False  # SMTP has none either; the Message-ID lets a mail client hide a second copy

    def __init__(self, settings: WorkerSettings) -> None:
        if not settings.smtp_host:
            raise ValueError("set SMTP_HOST to e-mail officers")
        self.settings = settings

    def send(self, message: Outgoing) -> Outcome:
        s = self.settings
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = s.smtp_from, message.address, message.subject
        # The same notification always has the same Message-ID, so a copy sent twice reads as one.
        domain = s.smtp_from.rpartition("@")[2] or "reunite.local"
        message_id = f"<{_MSGID_UNSAFE.sub('.', message.idempotency_key)}@{domain}>"
        if (
            len(message_id) > MAX_NOTIFICATION_PROVIDER_ID_CHARS
        ):  # it is kept as the provider id: hash a long key
            digest = hashlib.sha256(message.idempotency_key.encode("utf-8")).hexdigest()[:32]
            message_id = f"<reunite.{digest}@{domain[: MAX_NOTIFICATION_PROVIDER_ID_CHARS - 43]}>"
        mail["Message-ID"] = message_id
        mail.set_content(message.text)
        assert s.smtp_host is not None
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout_seconds) as smtp:
                if s.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.smtp_user and s.smtp_password:
                    smtp.login(s.smtp_user, s.smtp_password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return Permanent("smtp_refused", f"SMTP refused the recipient: {list(exc.recipients.values())}")
        except smtplib.SMTPResponseException as exc:
            text = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            return Permanent("smtp_refused", text) if exc.smtp_code >= 500 else Retry(text)
        except (smtplib.SMTPException, OSError) as exc:
            return Retry(f"SMTP unreachable: {type(exc).__name__}")
        return Accepted(mail["Message-ID"])

    def lookup(self, message: Outgoing, since: datetime) -> Accepted | None:
        """Find nothing: SMTP cannot tell what it delivered (the Message-ID hides a copy in the mail client)."""
        return None
