"""A fake Twilio REST server on localhost that speaks the Messages API's JSON: POST
/2010-04-01/Accounts/{AccountSid}/Messages.json with HTTP Basic auth (account SID, auth token), answering 201
with a Message resource, or Twilio's error JSON (`{"code", "message", "more_info", "status"}`).

Like Twilio it deduplicates on the `I-Twilio-Idempotency-Token` header: a second request with a token it has seen
gets the first message back and sends nothing new. GET on the same path lists the messages sent, filtered by
`To` and `From`, newest first (the worker's lookup before it sends again after a crash). Tests script failures: `down` (503), `answers` (a queue of
(status, error code, headers) for the next requests), `opted_out` and `invalid` numbers (21610, 21211).

MMS media as Twilio keeps them: GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}
with HTTP Basic auth answers 307 to a short-lived `/cdn/{MediaSid}` on the same server (Twilio redirects to its
CDN, mms.twiliocdn.com), which gives the bytes put in `media` (404 for others); `media_requests` counts them,
and `redirect_to` sends the redirect elsewhere.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from email.utils import format_datetime
from urllib.parse import parse_qs

from benchmarks.local_http import Answer, LocalServer
from intake.platform import clock

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-twilio-token"
FROM_NUMBER = "+8610690000000"
_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json")
_MEDIA = re.compile(
    r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages/(?:SM|MM)[0-9a-f]{32}/Media/(ME[0-9a-f]{32})"
)
_media_sids = itertools.count(1)


def media_url(base_url: str, message_sid: str, account_sid: str = ACCOUNT_SID) -> str:
    """Return a fresh MediaUrl of the message `message_sid`, as Twilio gives it in an inbound MMS."""
    return f"{base_url}/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/ME{next(_media_sids):032x}"


ERRORS = {
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
}


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    messages: list[dict[str, object]] = field(default_factory=list)  # each message sent, once
    requests: int = 0
    down: bool = False
    answers: deque[tuple[int, int, dict[str, str]]] = field(default_factory=deque)
    opted_out: set[str] = field(default_factory=set)
    invalid: set[str] = field(default_factory=set)
    tokens: dict[str, dict[str, object]] = field(default_factory=dict)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    status_callbacks: list[str | None] = field(default_factory=list)  # the StatusCallback of each message
    lookups: int = 0  # GETs of the Messages list
    media: dict[str, bytes] = field(default_factory=dict)  # MediaSid (or a whole MediaUrl): the file's bytes
    media_requests: list[tuple[str, str | None]] = field(
        default_factory=list
    )  # (path, Authorization) of each
    redirect_to: str | None = None  # where a media request is redirected (default: this server's /cdn/)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self.server = LocalServer(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def bodies_to(self, number: str) -> list[str]:
        return [str(m["body"]) for m in self.messages if m["to"] == number]

    def _error(self, status: int, code: int, headers: dict[str, str] | None = None) -> Answer:
        body = {"code": code, "message": ERRORS.get(code, "error"), "status": status,
                "more_info": f"https://www.twilio.com/docs/errors/{code}"}  # fmt: skip
        return status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(body).encode()

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            self.requests += 1
            self.headers_seen.append(headers)
            if method == "GET" and (path.startswith("/cdn/") or _MEDIA.fullmatch(path)):
                return self._media(path, headers)
            match = _PATH.fullmatch(path.split("?")[0])
            if method not in ("GET", "POST") or match is None:
                return self._error(404, 20404)
            expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
            if match.group(1) != self.account_sid or headers.get("Authorization") != expected:
                return self._error(401, 20003)
            if self.down:
                return self._error(503, 20500)
            if method == "GET":
                return self._list(path)
            if self.answers:
                status, code, extra = self.answers.popleft()
                return self._error(status, code, extra)
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            token = headers.get("I-Twilio-Idempotency-Token")
            if token and token in self.tokens:
                return 201, {"Content-Type": "application/json"}, json.dumps(self.tokens[token]).encode()
            if form.get("To") in self.invalid:
                return self._error(400, 21211)
            if form.get("To") in self.opted_out:
                return self._error(400, 21610)
            message = self._message(form)
            self.messages.append(message)
            self.status_callbacks.append(form.get("StatusCallback"))
            if token:
                self.tokens[token] = message
            return 201, {"Content-Type": "application/json"}, json.dumps(message).encode()

    def put_media(self, url: str, data: bytes) -> None:
        """Keep `data` as the file of the MediaUrl `url`."""
        self.media[url.rsplit("/", 1)[1]] = data

    def _media(self, path: str, headers: dict[str, str]) -> Answer:
        self.media_requests.append((path, headers.get("Authorization")))
        if self.down:
            return self._error(503, 20500)
        if path.startswith("/cdn/"):
            data = self.media.get(path.removeprefix("/cdn/"))
            if data is None:
                return self._error(404, 20404)
            return 200, {"Content-Type": "application/octet-stream"}, data
        match = _MEDIA.fullmatch(path)
        assert match is not None
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if match.group(1) != self.account_sid or headers.get("Authorization") != expected:
            return self._error(401, 20003)
        if match.group(2) not in self.media:
            return self._error(404, 20404)
        target = self.redirect_to or f"{self.base_url}/cdn/"
        return 307, {"Location": target + match.group(2)}, b""

    def _list(self, path: str) -> Answer:
        """Answer the Messages list filtered by To and From, newest first (Twilio's page, without paging)."""
        self.lookups += 1
        query = {k: v[0] for k, v in parse_qs(path.partition("?")[2]).items()}
        found = [m for m in reversed(self.messages)
                 if all(m[k.lower()] == v for k, v in query.items() if k in ("To", "From"))]  # fmt: skip
        page = {"messages": found[: int(query.get("PageSize", 50))], "page": 0, "next_page_uri": None}
        return 200, {"Content-Type": "application/json"}, json.dumps(page).encode()

    def _message(self, form: dict[str, str]) -> dict[str, object]:
        sid = f"SM{next(self._sids):032x}"
        now = format_datetime(clock.now())  # the tests' pinned time, so a lookup's time window is tested
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json"
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": form.get("Body", ""),
            "date_created": now, "date_sent": None, "date_updated": now, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": form.get("From"), "messaging_service_sid": None,
            "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD", "sid": sid,
            "status": "queued", "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": form.get("To"), "uri": uri,
        }  # fmt: skip
