"""Sign inbound Twilio webhooks with twilio's own RequestValidator, as Twilio does."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from tests.support.fake_twilio import media_url

AUTH_TOKEN = "test-auth-token-not-a-secret"
PUBLIC_BASE_URL = "https://reunite.example.org"
TWILIO_API = "https://api.twilio.com"
ACCOUNT = "AC" + "0" * 32
_sids = itertools.count(1)


def new_sid() -> str:
    """Return a fresh MessageSid-shaped identifier."""
    return f"SM{next(_sids):032x}"


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Compute X-Twilio-Signature for a form POST to `url`."""
    return str(RequestValidator(token).compute_signature(url, params))


def message_texts(response: TestResponse) -> list[str]:
    """Return the text of every <Message> in a TwiML response."""
    root = ElementTree.fromstring(response.data)
    assert root.tag == "Response"
    return [m.text or "" for m in root.iter("Message")]


@dataclass
class Phone:
    """A parent's phone texting the service through Twilio."""

    client: FlaskClient
    number: str = "+8613800138000"
    to: str = "+8610690000000"
    sent: list[dict[str, str]] = field(default_factory=list)

    def params(self, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        return {
            "MessageSid": sid or new_sid(),
            "AccountSid": ACCOUNT,
            "From": self.number,
            "To": self.to,
            "Body": body,
            "NumMedia": "0",
            **extra,
        }

    def post(self, params: dict[str, str], *, signature: str | None = None, **kw: Any) -> TestResponse:
        url = PUBLIC_BASE_URL + "/sms/inbound"
        sig = sign(url, params) if signature is None else signature
        self.sent.append(params)
        return self.client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": sig}, **kw)

    def text(self, body: str, **extra: str) -> list[str]:
        """Send `body` and return the reply texts; fail on anything but 200."""
        response = self.post(self.params(body, **extra))
        assert response.status_code == 200, response.data
        return message_texts(response)

    def mms(
        self, body: str, *kinds: str, base: str = TWILIO_API, account: str = ACCOUNT
    ) -> tuple[list[str], list[str]]:
        """Send an MMS with one file of each content type in `kinds`, linked as Twilio links them; return the
        replies and the MediaUrls."""
        sid = "MM" + new_sid()[2:]
        urls = [media_url(base, sid, account) for _ in kinds]
        extra = {"NumMedia": str(len(kinds))}
        for i, (url, kind) in enumerate(zip(urls, kinds, strict=True)):
            extra[f"MediaUrl{i}"], extra[f"MediaContentType{i}"] = url, kind
        return self.text(body, sid=sid, **extra), urls
