"""A parent's phone for the SMS benchmark: signed Twilio form POSTs and the conversation it plays.

Benchmarks are not tests and must run without them (issue 7), so this is the benchmark's own small copy of what
the test helpers do: sign each POST with twilio's RequestValidator, as Twilio does, and read the TwiML reply.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from xml.etree import ElementTree

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

AUTH_TOKEN = "bench-auth-token-not-a-secret"
PUBLIC_BASE_URL = "https://reunite.example.org"

# A Chinese parent reports a missing child, then books a sampling appointment and asks for the status.
REPORT_AND_BOOK_ZH = (
    "你好", "1", "同意", "1", "李小明", "男", "5岁", "3天前", "广州火车站", "穿红色外套，左脸有痣", "王芳", "1",
    "1", "1", "广州", "1", "1", "1", "查询",
)  # fmt: skip

_sids = itertools.count(1)


@dataclass
class Phone:
    """One phone number texting the service's /sms/inbound webhook."""

    client: FlaskClient
    number: str
    to: str = "+8610690000000"

    def text(self, body: str) -> list[str]:
        """Send `body` as a signed Twilio webhook and return the reply texts (raise on anything but 200)."""
        params = {
            "MessageSid": f"SM{next(_sids):032x}",
            "AccountSid": "AC" + "0" * 32,
            "From": self.number,
            "To": self.to,
            "Body": body,
            "NumMedia": "0",
        }
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC_BASE_URL + "/sms/inbound", params)
        response = self.client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": signature})
        if response.status_code != 200:
            raise RuntimeError(f"/sms/inbound answered {response.status_code} to {body!r}")
        return [m.text or "" for m in ElementTree.fromstring(response.data).iter("Message")]
