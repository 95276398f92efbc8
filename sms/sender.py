"""Sending SMS through Twilio's Messages API: the notification worker's provider for the `sms` channel.

Registered in the `reunite.senders` entry-point group (`sender`), so `notifications/` finds it without importing
Twilio: the SMS channel is Twilio's both ways here (the webhook and status callbacks beside it). TWILIO_API_BASE_URL
points it elsewhere (tests use a fake). It returns an `Outcome` for every answer and never raises for one.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from intake.platform.settings import Settings, TwilioSettings
from notifications.providers import Accepted, Outcome, Outgoing, Permanent, Retry

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
LOOKUP_SKEW = timedelta(minutes=5)  # our clock against Twilio's


def _retry_after(headers: Any) -> float | None:
    """Read a Retry-After header given in seconds (the form Twilio and most APIs use)."""
    raw = (headers or {}).get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw is not None else None
    except ValueError:
        return None


def _aware(moment: datetime) -> datetime:
    """Read a time without a zone as UTC (Twilio writes "-0000", which Python reads as zone unknown)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class TwilioSms:
    """SMS through Twilio's Messages API with the twilio client."""

    deduplicates = True  # the I-Twilio-Idempotency-Token header carries the notification's key

    def __init__(self, settings: TwilioSettings, timeout_seconds: float) -> None:
        if not settings.can_send:
            raise ValueError("set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER to send SMS")
        self.settings = settings
        self.client = Client(
            settings.account_sid, settings.auth_token, http_client=TwilioHttpClient(timeout=timeout_seconds)
        )
        self.url = f"{settings.api_base_url}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"

    def send(self, message: Outgoing) -> Outcome:
        data = {"To": message.address, "From": self.settings.from_number, "Body": message.text}
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
        params = {"To": message.address, "From": self.settings.from_number, "PageSize": "50"}
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


def sender(settings: Settings) -> TwilioSms | None:
    """The `sms` entry of `reunite.senders`: Twilio when its account, token and number are set, else None."""
    if not settings.twilio.can_send:
        return None
    return TwilioSms(settings.twilio, settings.notifications.timeout_seconds)
