"""A minimal fake of the Telegram Bot API's sendMessage on localhost, for the notification worker's tests
(the telegram adapter's full fake is tests/support/fake_telegram.py; this one only receives sendMessage).

POST /bot<token>/sendMessage with `chat_id` and `text` (form-encoded, as python-telegram-bot sends them, or JSON) answers `{"ok": true, "result": Message}`;
`blocked` chats get 403 "bot was blocked by the user", `answers` scripts the next errors (e.g. 429 with
`parameters.retry_after`), `down` answers 502.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from benchmarks.local_http import Answer, LocalServer, form_or_json

BOT_TOKEN = "123456:fake-bot-token-of-the-worker-tests"  # shaped as BotFather gives it


@dataclass
class FakeTelegramSend:
    token: str = BOT_TOKEN
    messages: list[dict[str, object]] = field(default_factory=list)
    requests: int = 0
    down: bool = False
    blocked: set[str] = field(default_factory=set)
    answers: deque[tuple[int, str, int | None]] = field(default_factory=deque)  # status, description, retry

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.server = LocalServer(self.handle)

    @property
    def base_url(self) -> str:
        return self.server.base_url

    def texts_to(self, chat_id: str) -> list[str]:
        return [str(m["text"]) for m in self.messages if str(m["chat"]["id"]) == chat_id]  # type: ignore[index]

    @staticmethod
    def _json(status: int, body: dict[str, object]) -> Answer:
        return status, {"Content-Type": "application/json"}, json.dumps(body).encode()

    def _error(self, status: int, description: str, retry_after: int | None = None) -> Answer:
        body: dict[str, object] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return self._json(status, body)

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        with self._lock:
            self.requests += 1
            if method != "POST" or path != f"/bot{self.token}/sendMessage":
                return self._error(404, "Not Found")
            if self.down:
                return self._error(502, "Bad Gateway")
            if self.answers:
                return self._error(*self.answers.popleft())
            try:
                data = form_or_json(headers, body)
                chat_id, text = str(data["chat_id"]), str(data["text"])
            except (ValueError, KeyError, TypeError):
                return self._error(400, "Bad Request: message text is empty")
            if chat_id in self.blocked:
                return self._error(403, "Forbidden: bot was blocked by the user")
            message = {"message_id": next(self._ids), "date": int(time.time()),
                       "chat": {"id": int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id,
                                "type": "private"}, "text": text}  # fmt: skip
            self.messages.append(message)
            return self._json(200, {"ok": True, "result": message})
