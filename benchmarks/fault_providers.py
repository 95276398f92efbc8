"""Fake Twilio and Telegram servers for fault runs (benchmarks/fault_notifications.py, tests/notifications/
test_fault_run.py): their answers change over timed phases, and they record every request.

Phases (seconds from the first request after `FaultClock.start()`): every send gets 500 while `error_seconds` last, then 429 with a
Retry-After (Twilio: the header; Telegram: `parameters.retry_after`) while `throttle_seconds` last, then normal
acceptance, except for `blocked` recipients who always get the terminal answer (Twilio 400 code 21610
"unsubscribed recipient", Telegram 403 "bot was blocked by the user") once the error phases are over.

Each worker process is given its own base URL, `.../w/<tag>`, so the fake knows which process sent a request.
`on_accept(tag, send)` runs after a send is recorded as accepted and before the answer goes back: a harness can
SIGKILL that worker there, which lands the kill exactly between the provider's acceptance and the worker's commit.

Twilio's Messages API is not known to honour `I-Twilio-Idempotency-Token` (docs/notifications.md), so by default
this fake sends a repeated token again (`deduplicate=False`); with True it answers with the first message.
GET on the Messages path lists what was accepted for a `To`, newest first, and is logged in `lookups`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qs

from benchmarks.local_http import Answer, LocalServer, form_or_json

# The fakes' own credentials: nothing real, and nothing shared with the tests' fakes.
ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "fake-twilio-token"
FROM_NUMBER = "+8610690000000"
BOT_TOKEN = "123456:fake-bot-token-for-the-fault-run"  # shaped as BotFather gives it

_TAG = re.compile(r"/w/([A-Za-z0-9_-]+)(/.*)")
_JSON = {"Content-Type": "application/json"}


@dataclass
class FaultClock:
    """The phases shared by both fakes: errors, then throttling, then normal (with blocked recipients)."""

    error_seconds: float = 0.0
    throttle_seconds: float = 0.0
    retry_after: int = 1
    started: float | None = None

    armed: bool = False

    def start(self) -> None:
        """Begin the phases at the next request (workers take a moment to start)."""
        self.armed = True

    def phase(self) -> str:
        """Return "error", "throttle" or "normal" (before `start`: normal)."""
        if self.started is None:
            if not self.armed:
                return "normal"
            self.started = time.monotonic()
        elapsed = time.monotonic() - self.started
        if elapsed < self.error_seconds:
            return "error"
        if elapsed < self.error_seconds + self.throttle_seconds:
            return "throttle"
        return "normal"


@dataclass(frozen=True)
class Request:
    """One request as the fake saw it, and what it answered."""

    at: float  # time.monotonic() when it arrived
    tag: str  # which worker process (its base URL's tag)
    channel: str  # "sms" or "telegram"
    address: str
    text: str
    token: str | None  # Twilio's I-Twilio-Idempotency-Token
    status: int
    message_id: str | None = None  # set when accepted
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass(frozen=True)
class Lookup:
    """A GET of Twilio's Messages list (a worker checking before it sends a message again)."""

    at: float
    tag: str
    address: str
    found: int  # messages listed


@dataclass
class FaultProvider:
    """What both fakes share: the phases, the blocked recipients, the log of requests, the accept hook."""

    clock: FaultClock
    blocked: set[str] = field(default_factory=set)
    on_accept: Callable[[str, Request], None] | None = None
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.server = LocalServer(self.handle)

    def url_for(self, tag: str) -> str:
        """Return the base URL one worker process is given (TWILIO_API_BASE_URL / TELEGRAM_API_BASE_URL)."""
        return f"{self.server.base_url}/w/{tag}"

    @property
    def accepted(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.message_id is not None]

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        match = _TAG.fullmatch(path.split("?")[0])
        if method != "POST" or match is None:
            return 404, _JSON, b'{"message": "not found"}'
        tag, rest = match.groups()
        parsed = self.parse(rest, headers, body)
        if parsed is None:
            return 404, _JSON, b'{"message": "not found"}'
        address, text, token = parsed
        phase = self.clock.phase()
        with self._lock:
            if phase == "error":
                status, answer = self.error(500)
            elif phase == "throttle":
                status, answer = self.error(429)
            elif address in self.blocked:
                status, answer = self.error(403)
            else:
                status, answer = 200, None
            message_id = None
            if answer is None:
                message_id, answer = self.accept(address, text)
                status = answer[0]
            request = Request(time.monotonic(), tag, self.channel, address, text, token, status, message_id)
            self.requests.append(request)
        if message_id is not None and self.on_accept is not None:
            self.on_accept(tag, request)  # may SIGKILL the worker waiting for this very answer
        return answer

    # -- what each fake speaks ------------------------------------------------------------------------------

    channel = ""

    def parse(self, path: str, headers: dict[str, str], body: bytes) -> tuple[str, str, str | None] | None:
        raise NotImplementedError

    def error(self, kind: int) -> tuple[int, Answer]:
        raise NotImplementedError

    def accept(self, address: str, text: str) -> tuple[str, Answer]:
        raise NotImplementedError


@dataclass
class FaultTwilio(FaultProvider):
    """Twilio's Messages API (POST .../Accounts/{sid}/Messages.json, form-encoded) under the phases."""

    deduplicate: bool = False
    channel = "sms"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._tokens: dict[str, str] = {}
        self.lookups: list[Lookup] = []

    def parse(self, path: str, headers: dict[str, str], body: bytes) -> tuple[str, str, str | None] | None:
        if path != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return None
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        return form.get("To", ""), form.get("Body", ""), headers.get("I-Twilio-Idempotency-Token")

    def list_messages(self, path: str) -> Answer:
        """Answer the Messages list filtered by To, newest first (never faulted), and log the lookup."""
        match = _TAG.fullmatch(path.split("?")[0])
        if match is None or match.group(2) != f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return 404, _JSON, b'{"message": "not found"}'
        to = parse_qs(path.partition("?")[2]).get("To", [""])[0]
        with self._lock:
            sent = [r for r in self.requests if r.message_id is not None and r.address == to]
            page = [{"sid": r.message_id, "to": r.address, "body": r.text, "status": "sent",
                     "date_created": format_datetime(r.created)} for r in reversed(sent)]  # fmt: skip
            self.lookups.append(Lookup(time.monotonic(), match.group(1), to, len(page)))
        return 200, _JSON, json.dumps({"messages": page, "next_page_uri": None}).encode()

    def _body(self, status: int, code: int, message: str) -> bytes:
        return json.dumps({"code": code, "message": message, "status": status,
                           "more_info": f"https://www.twilio.com/docs/errors/{code}"}).encode()  # fmt: skip

    def error(self, kind: int) -> tuple[int, Answer]:
        if kind == 500:
            return 500, (500, _JSON, self._body(500, 20500, "An internal server error has occurred"))
        if kind == 429:
            headers = {**_JSON, "Retry-After": str(self.clock.retry_after)}
            return 429, (429, headers, self._body(429, 20429, "Too Many Requests"))
        return 400, (400, _JSON, self._body(400, 21610, "Attempt to send to unsubscribed recipient"))

    def accept(self, address: str, text: str) -> tuple[str, Answer]:
        sid = f"SM{next(self._ids):032x}"
        body = json.dumps({"sid": sid, "to": address, "body": text, "status": "queued"}).encode()
        return sid, (201, _JSON, body)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if method == "GET":
            return self.list_messages(path)
        token = headers.get("I-Twilio-Idempotency-Token")
        if self.deduplicate and token:
            with self._lock:
                first = self._tokens.get(token)
            if first is not None:  # the first message again, nothing sent (logged, not as accepted)
                parsed = self.parse(_TAG.sub(r"\2", path), headers, body) or ("", "", token)
                tag = m.group(1) if (m := _TAG.fullmatch(path)) else ""
                with self._lock:
                    self.requests.append(
                        Request(time.monotonic(), tag, self.channel, parsed[0], parsed[1], token, 201)
                    )
                return 201, _JSON, json.dumps({"sid": first, "status": "queued"}).encode()
        answer = super().handle(method, path, headers, body)
        if self.deduplicate and token and answer[0] == 201:
            with self._lock:
                self._tokens.setdefault(token, json.loads(answer[2])["sid"])
        return answer


@dataclass
class FaultTelegram(FaultProvider):
    """Telegram's Bot API sendMessage (POST /bot<token>/sendMessage, a form or JSON) under the phases."""

    channel = "telegram"

    def parse(self, path: str, headers: dict[str, str], body: bytes) -> tuple[str, str, str | None] | None:
        if path != f"/bot{BOT_TOKEN}/sendMessage":
            return None
        try:
            data = form_or_json(headers, body)
            return str(data["chat_id"]), str(data["text"]), None
        except (ValueError, KeyError, TypeError):
            return None

    def _error(self, status: int, description: str, retry_after: int | None = None) -> Answer:
        body: dict[str, object] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return status, _JSON, json.dumps(body).encode()

    def error(self, kind: int) -> tuple[int, Answer]:
        if kind == 500:
            return 500, self._error(500, "Internal Server Error")
        if kind == 429:
            retry = self.clock.retry_after
            return 429, self._error(429, f"Too Many Requests: retry after {retry}", retry)
        return 403, self._error(403, "Forbidden: bot was blocked by the user")

    def accept(self, address: str, text: str) -> tuple[str, Answer]:
        message_id = next(self._ids)
        message = {"message_id": message_id, "date": int(time.time()),
                   "chat": {"id": int(address), "type": "private"}, "text": text}  # fmt: skip
        return str(message_id), (200, _JSON, json.dumps({"ok": True, "result": message}).encode())
