"""A fake Telegram Bot API server on localhost, for driving the bot end to end without the internet.

It speaks the Bot API as python-telegram-bot calls it (`POST <base>/bot<token>/<method>`, form-encoded or
multipart, values JSON-encoded but strings) and serves files at `<base>/file/bot<token>/<path>`. Tests push
updates (`push_message`, `press`, ...) that `getUpdates` hands out, and read what the bot did in `calls`.

    with FakeTelegram() as tg:            # tg.base_url is TELEGRAM_API_BASE_URL, tg.token the bot's token
        tg.push_message(chat_id=1, text="/report")
        tg.wait_for(lambda: tg.sent_to(1))
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

TOKEN = "123456789:TEST-token-for-the-fake-bot-api-xyz"
STRING_FIELDS = {"text", "caption", "callback_query_id", "url", "secret_token", "file_id", "language_code"}
BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "reunite", "username": "reunite_test_bot"}


@dataclass
class Call:
    """One Bot API call the bot made: the method, its parameters, and the files uploaded (name: bytes)."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


class FakeTelegram:
    """The fake Bot API server; start it as a context manager."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}  # file_id -> content, served by getFile and the download URL
        self.broken_files: set[str] = set()  # file ids whose download answers 500
        self.unknown_files: set[str] = set()  # file ids getFile refuses (400 "invalid file_id")
        self.file_paths: dict[
            str, str
        ] = {}  # file id -> the file_path getFile answers (default photos/<id>.jpg)
        self.webhook: dict[str, Any] | None = None
        self._updates: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- lifecycle -------------------------------------------------------------------------------------------
    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        """The TELEGRAM_API_BASE_URL of this server (python-telegram-bot appends the token)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/bot"

    # --- what a person does ----------------------------------------------------------------------------------
    def next_update_id(self) -> int:
        """Return a fresh update id."""
        return next(self._ids)

    def message_update(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        language_code: str | None = "zh-hans",
        photo: bytes | None = None,
        location: tuple[float, float] | None = None,
        caption: str | None = None,
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """Return an update of a private message from `chat_id` (text, a photo, a location)."""
        user: dict[str, Any] = {"id": chat_id, "is_bot": False, "first_name": f"user{chat_id}"}
        if language_code:
            user["language_code"] = language_code
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": user,
        }
        if text is not None:
            message["text"] = text
        if caption is not None:
            message["caption"] = caption
        if photo is not None:
            file_id = f"photo-{len(self.files) + 1}"
            self.files[file_id] = photo
            message["photo"] = [
                {"file_id": file_id + "-small", "file_unique_id": file_id + "s", "width": 90, "height": 90},
                {"file_id": file_id, "file_unique_id": file_id + "u", "width": 800, "height": 600,
                 "file_size": len(photo)},
            ]  # fmt: skip
        if location is not None:
            message["location"] = {"latitude": location[0], "longitude": location[1]}
        return {"update_id": update_id or self.next_update_id(), "message": message}

    def press_update(
        self, chat_id: int, button_message: Call, data: str, *, update_id: int | None = None
    ) -> dict[str, Any]:
        """Return the update of a press on a button of a message the bot sent (its sendMessage call)."""
        message = self.message_of(button_message)
        return {
            "update_id": update_id or self.next_update_id(),
            "callback_query": {
                "id": f"cq-{next(self._ids)}",
                "from": {
                    "id": chat_id,
                    "is_bot": False,
                    "first_name": f"user{chat_id}",
                    "language_code": "zh",
                },
                "chat_instance": f"ci-{chat_id}",
                "message": message,
                "data": data,
            },
        }

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates."""
        with self._cond:
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def push_message(self, chat_id: int, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Queue a message from `chat_id`."""
        return self.push(self.message_update(chat_id, text, **kwargs))

    # --- what the bot did ------------------------------------------------------------------------------------
    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        """Return the bot's calls of `method` (to `chat_id`, if given), in order."""
        with self._cond:
            calls = list(self.calls)
        return [
            c for c in calls if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def sent_to(self, chat_id: int) -> list[Call]:
        """Return the messages (sendMessage) the bot sent to `chat_id`."""
        return self.calls_of("sendMessage", chat_id)

    def message_of(self, call: Call) -> dict[str, Any]:
        """Return the Message object the bot's sendMessage call created (with its buttons)."""
        message: dict[str, Any] = call.params["_message"]
        return message

    def wait_for(self, condition: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until `condition()` is true (returning it) or fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.02)
        raise AssertionError(
            f"timed out waiting; bot calls so far: {[(c.method, c.params) for c in self.calls]}"
        )

    def pending(self) -> int:
        """Return how many pushed updates getUpdates has not had confirmed (by a later offset)."""
        with self._cond:
            return len(self._updates)

    # --- the server --------------------------------------------------------------------------------------------
    def _answer(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[int, dict[str, Any]]:
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        record = Call(method, dict(params), files)
        result: Any = True
        if method == "getMe":
            result = BOT_USER
        elif method in ("sendMessage", "sendPhoto"):
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": params["chat_id"], "type": "private"},
                "from": BOT_USER,
            }
            if method == "sendMessage":
                message["text"] = params["text"]
            else:
                message["photo"] = [{"file_id": "qr", "file_unique_id": "qr", "width": 300, "height": 300}]
                message["caption"] = params.get("caption")
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            record.params["_message"] = message
            result = message
        elif method == "getFile":
            file_id = params["file_id"]
            if file_id not in self.files or file_id in self.unknown_files:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            result = {"file_id": file_id, "file_unique_id": file_id + "u", "file_size": len(self.files[file_id]),
                      "file_path": self.file_paths.get(file_id, f"photos/{file_id}.jpg")}  # fmt: skip
        elif method == "setWebhook":
            self.webhook = dict(params)
        elif method == "deleteWebhook":
            self.webhook = None
        with self._cond:
            self.calls.append(record)
        return 200, {"ok": True, "result": result}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = min(float(params.get("timeout") or 0), 1.0)  # answer soon, so tests stop quickly
        deadline = time.monotonic() + timeout
        with self._cond:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed ones are gone
            while not self._updates and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return list(self._updates)

    def _download(self, path: str) -> tuple[int, bytes]:
        file_id = path.rsplit("/", 1)[-1].removesuffix(".jpg")
        if file_id in self.broken_files:
            return 500, b"internal error"
        if file_id not in self.files:
            return 404, b"not found"
        return 200, self.files[file_id]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = unquote(urlsplit(self.path).path)
                prefix = f"/file/bot{fake.token}/"
                if not path.startswith(prefix):
                    self._reply(404, b"not found", "text/plain")
                    return
                status, body = fake._download(path[len(prefix) :])
                self._reply(status, body, "application/octet-stream")

            def do_POST(self) -> None:  # noqa: N802
                path = unquote(urlsplit(self.path).path)
                prefix = f"/bot{fake.token}/"
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if not path.startswith(prefix):
                    self._reply(
                        401,
                        json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"}).encode(),
                    )
                    return
                params, files = _parse_body(self.headers.get("Content-Type", ""), raw)
                status, answer = fake._answer(path[len(prefix) :], params, files)
                self._reply(status, json.dumps(answer).encode())

        return Handler


def _value(name: str, raw: str) -> Any:
    if name in STRING_FIELDS:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _parse_body(content_type: str, raw: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Parse a form-encoded or multipart Bot API request into parameters and uploaded files."""
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + raw
        )
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[str(name)] = payload
            else:
                params[str(name)] = _value(str(name), payload.decode())
        return params, files
    if not raw:
        return {}, {}
    return {k: _value(k, v) for k, v in parse_qsl(raw.decode(), keep_blank_values=True)}, {}
