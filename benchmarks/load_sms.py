"""Load and fault run of the SMS and Telegram webhooks: `reunite serve --workers 2` on its own PostgreSQL.

Many simulated parents play the Chinese report-and-book conversation over real HTTP (keep-alive, one connection
per client thread) against the service run as in production (gunicorn gthread, pre-forked). Every request is
built and signed before the timed part. A phone retries a 5xx or a broken connection as Twilio does, with the
same MessageSid, until it gets a 200; 5% of the deliveries are sent a second time (two thirds at once, one third
after the phone's next message: out of order). The runner starts its own PostgreSQL cluster (initdb in a
temporary folder, a free port; the shared server is never touched) and its own service processes.

    .venv/bin/python benchmarks/load_sms.py                                # 10,000 deliveries, bare baseline too
    .venv/bin/python benchmarks/load_sms.py --fault postgres-restart       # PostgreSQL stopped mid-run, restarted
    .venv/bin/python benchmarks/load_sms.py --fault kill-web               # kill -9 of every web and worker process
    .venv/bin/python benchmarks/load_sms.py --telegram [--fault ...]       # Telegram updates from many chats
    .venv/bin/python benchmarks/load_sms.py --mode inline                  # the dialogue in the request (TwiML)

The service runs in the spool mode by default (REUNITE_REPLY_MODE=spool, docs/architecture.md "The spool"): one
run per count of `reunite dialogue-worker` processes in `--dialogue-workers` (1,2,4), each beside `--senders`
`reunite worker` processes that hand the SMS replies to a fake Twilio API (a separate process, recording when each
reply's idempotency token first came). Each such run reports acceptance (deliveries/s and the webhook's latency,
as the phones saw it) and, after the spool and the outbox drained, the conversation latency: from a message's
first delivery attempt to its first reply handed to the provider (p50, p99; SMS only). `--rate R` paces the
deliveries to about R a second, to measure that latency at a rate the workers sustain: parents start their
conversations at random moments (a Poisson process) and answer each reply after a pause, as in a campaign where
every parent is at a step of their own; `--lockstep` gives every first delivery the next tick of a clock at R a
second instead, so that all the phones send the same step at once (the worst case for the expensive steps).

Afterwards it checks in the database: every acknowledged (200) delivery stored exactly once, none left
unprocessed or failed, each answered with its stored replies (inline: the TwiML the phone got is what was stored;
spool and Telegram: what the fake Twilio or Bot API received, per number, none lost, none twice, SMS replies in
their messages' order), every conversation at a step of the dialogue, every phone booked.
It exits 1 if any check fails. `--target bare` runs only the bare endpoint (benchmarks/bare_sms.py).
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import http.client
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode
from xml.etree import ElementTree

import sqlalchemy as sa
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.sms_phone import AUTH_TOKEN, PUBLIC_BASE_URL, REPORT_AND_BOOK_ZH  # noqa: E402
from intake.platform.crypto import KEYS_VARIABLE, new_key  # noqa: E402

BOT_TOKEN = "123456789:LOAD-token-for-the-fake-bot-api-xyz"
WEBHOOK_SECRET = "load-run-webhook-secret-0123456789"
# Each phone books in one of the demo labs' cities in turn, so 500+ parents do not fill one lab's days.
CITIES = ["北京", "天津", "上海", "重庆", "石家庄", "太原", "呼和浩特", "沈阳", "长春", "哈尔滨", "南京", "杭州", "合肥", "福州", "南昌", "济南", "郑州", "武汉", "长沙", "广州", "南宁", "海口", "成都", "贵阳", "昆明", "拉萨", "西安", "兰州", "西宁", "银川", "乌鲁木齐"]  # fmt: skip
CITY_TURN = REPORT_AND_BOOK_ZH.index("广州")
# Each phone reports a child of its own name: the same child from two phones is a likely duplicate report
# (intake/duplicates.py), which the dialogue answers with JOIN instead of a booking.
NAME_TURN = REPORT_AND_BOOK_ZH.index("李小明")
SURNAMES, GIVEN = "李王张刘陈杨赵黄周吴", "明红华军丽强芳龙燕伟静磊洋敏勇艳杰娟涛超"


def child_name(phone: int) -> str:
    """A child's name of its own for each phone (distinct for the first 4,000 phones)."""
    return SURNAMES[phone % 10] + GIVEN[phone // 10 % 20] + GIVEN[phone // 200 % 20]


GIVE_UP_S = 120.0  # a phone retries one delivery for at most this long (Twilio's own retries span longer)
BOOKED = "已预约"
LAB_CAPACITY = 5000  # bookings a day at each demo lab during the run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the database and the servers under test --------------------------------------------------------------------
class Cluster:
    """A PostgreSQL cluster of our own (initdb in a temporary folder, a free port), stopped and started at will."""

    def __init__(self, folder: Path, statements: bool = False) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins and not shutil.which("initdb"):
            raise SystemExit("initdb not found: install PostgreSQL's server binaries (postgresql package)")
        self.bin = Path(bins[-1]).parent if bins else Path(str(shutil.which("initdb"))).parent
        self.data, self.port, self.log = folder / "pgdata", free_port(), folder / "postgres.log"
        # PostgreSQL refuses to run as root: then the cluster is the `postgres` system user's, in its own folder.
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            folder.chmod(0o755)
            shutil.chown(folder, "postgres")
        subprocess.run([*self.as_user, self.bin / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "--no-sync", "-E",
                        "UTF8"], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={folder} " \
                  "-c max_connections=200"  # fmt: skip
        if statements:
            options += " -c shared_preload_libraries=pg_stat_statements"
        self.options = options
        self.start()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        subprocess.run([*self.as_user, self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-o", self.options, "-w", "start"],
                       check=True, stdout=subprocess.DEVNULL)  # fmt: skip

    def stop(self) -> None:
        subprocess.run([*self.as_user, self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip

    def create_database(self, name: str) -> str:
        admin = sa.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)


class Server:
    """One web service in its own process group (gunicorn's arbiter and its workers), killed as one."""

    def __init__(self, argv: list[str], env: dict[str, str], port: int, log: Path) -> None:
        self.argv, self.env, self.port, self.log = argv, env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> float:
        """Start it and wait until it answers; return how long that took."""
        began = time.monotonic()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, stdout=log, stderr=log, start_new_session=True,
                                         cwd=ROOT)  # fmt: skip
        while not self.port:  # a worker: ready when it has said what it serves (after its start-up)
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.argv[0]} exited with {self.proc.returncode}; see {self.log}")
            if b"reunite" in self.log.read_bytes():
                return time.monotonic() - began
            if time.monotonic() - began > 120:
                raise SystemExit(f"{self.argv} did not start within 120 s; see {self.log}")
            time.sleep(0.1)
        while time.monotonic() - began < 120:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.argv[0]} exited with {self.proc.returncode}; see {self.log}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                conn.close()
                return time.monotonic() - began
            except OSError:
                time.sleep(0.1)
        raise SystemExit(f"{self.argv} did not answer within 120 s; see {self.log}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class _FakeApi(BaseHTTPRequestHandler):
    """A fake provider's HTTP API: keep-alive as the real ones, quiet, answering JSON."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, body: bytes, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve_fake_api(port: int, handler: type[_FakeApi], ready: Any) -> None:
    """Serve `handler` on 127.0.0.1:`port` until the process ends; set `ready` once it listens."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


def _recorded_by(fake: multiprocessing.Process, port: int, path: str, *, timeout: float) -> Any:
    """Return what a fake API recorded (its JSON answer to GET `path`), then stop its process."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("GET", path)
    recorded = json.loads(conn.getresponse().read())
    fake.terminate()
    return recorded


def _fake_bot_api(port: int, ready: Any) -> None:
    """The Telegram Bot API the service sends replies to (in its own process, off the client's GIL)."""
    sent: Counter[str] = Counter()
    lock = threading.Lock()
    ids = iter(range(1, 1 << 62))

    class Handler(_FakeApi):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps(dict(sent)).encode()
            self._send(body)

        def do_POST(self) -> None:  # noqa: N802
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            method = self.path.rsplit("/", 1)[-1]
            chat = "0"
            if method in ("sendMessage", "sendPhoto"):
                text = data.decode("utf-8", "replace")
                marker = (
                    'name="chat_id"' if "multipart" in self.headers.get("Content-Type", "") else "chat_id="
                )
                after = text.split(marker, 1)[1] if marker in text else ""
                chat = "".join(
                    c for c in after.lstrip('\r\n"=').split("&")[0].split("\r\n")[0] if c.isdigit()
                )
                with lock:
                    sent[f"{method}:{chat}"] += 1
            with lock:
                message_id = next(ids)
            result: Any = True
            if method in ("sendMessage", "sendPhoto", "getMe"):
                result = {"message_id": message_id, "date": int(time.time()),
                          "chat": {"id": int(chat or 0), "type": "private"}, "text": "ok",
                          "id": 123456789, "is_bot": True, "first_name": "reunite", "username": "load_bot"}  # fmt: skip
            self._send(json.dumps({"ok": True, "result": result}).encode())

    _serve_fake_api(port, Handler, ready)


def _fake_twilio_api(port: int, ready: Any) -> None:
    """Twilio's Messages API the notification worker hands the spool's replies to (in its own process): records
    when each idempotency token first came and, per number, the tokens in the order they came."""
    first: dict[str, float] = {}
    order: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    ids = iter(range(1, 1 << 62))

    class Handler(_FakeApi):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            with lock:
                body = json.dumps({"first": first, "order": order}).encode()
            self._send(body)

        def do_POST(self) -> None:  # noqa: N802
            now = time.time()
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            form = {k: v[0] for k, v in parse_qs(data.decode()).items()}
            token = self.headers.get("I-Twilio-Idempotency-Token", "")
            with lock:
                if token not in first:
                    first[token] = now
                    order[form.get("To", "")].append(token)
                sid = f"SM{next(ids):032x}"
            self._send(json.dumps({"sid": sid, "status": "queued", "to": form.get("To")}).encode(), 201)

    _serve_fake_api(port, Handler, ready)


# --- the deliveries --------------------------------------------------------------------------------------------
@dataclass
class Delivery:
    key: str  # MessageSid, or the update id
    phone: int
    turn: int
    path: str
    body: bytes
    headers: dict[str, str]


def sms_conversations(phones: int, first_phone: int = 0) -> list[list[Delivery]]:
    """Sign every phone's conversation in advance: one Delivery per message, in order."""
    validator = RequestValidator(AUTH_TOKEN)
    url = PUBLIC_BASE_URL + "/sms/inbound"
    out = []
    for p in range(first_phone, first_phone + phones):
        turns = list(REPORT_AND_BOOK_ZH)
        turns[CITY_TURN] = CITIES[p % len(CITIES)]
        turns[NAME_TURN] = child_name(p)
        conversation = []
        for t, text in enumerate(turns):
            params = {"MessageSid": f"SM{p:08x}{t:024x}", "AccountSid": "AC" + "0" * 32, "From": f"+86138{p:08d}",
                      "To": "+8610690000000", "Body": text, "NumMedia": "0"}  # fmt: skip
            headers = {"Content-Type": "application/x-www-form-urlencoded",
                       "X-Twilio-Signature": str(validator.compute_signature(url, params))}  # fmt: skip
            conversation.append(
                Delivery(params["MessageSid"], p, t, "/sms/inbound", urlencode(params).encode(), headers)
            )
        out.append(conversation)
    return out


def telegram_conversations(chats: int) -> list[list[Delivery]]:
    """Every chat's conversation as Telegram updates (update ids unique across the run), with the secret."""
    out = []
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    for c in range(chats):
        chat_id = 700_000_000 + c
        turns = list(REPORT_AND_BOOK_ZH)
        turns[CITY_TURN] = CITIES[c % len(CITIES)]
        turns[NAME_TURN] = child_name(c)
        conversation = []
        for t, text in enumerate(turns):
            update_id = c * 100 + t + 1
            update = {"update_id": update_id, "message": {
                "message_id": t + 1, "date": 1_790_000_000, "text": text, "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": f"p{c}", "language_code": "zh-hans"}}}  # fmt: skip
            body = json.dumps(update, ensure_ascii=False).encode()
            conversation.append(Delivery(str(update_id), c, t, "/telegram/webhook", body, headers))
        out.append(conversation)
    return out


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)  # of each 200 answer
    first_sent: dict[str, float] = field(
        default_factory=dict
    )  # key: when its first attempt went (time.time())
    answers: dict[str, list[str]] = field(default_factory=dict)  # key: the first 200 answer's reply texts
    acked: Counter[str] = field(default_factory=Counter)  # key: 200s
    last_answer: dict[int, list[str]] = field(default_factory=dict)  # phone: its last message's replies
    errors_5xx: int = 0
    connection_errors: int = 0
    retries: int = 0
    other_status: Counter[int] = field(default_factory=Counter)
    duplicate_mismatch: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    duplicates: int = 0
    out_of_order: int = 0
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _texts(body: bytes, telegram: bool) -> list[str]:
    if telegram:
        return []
    return [m.text or "" for m in ElementTree.fromstring(body).iter("Message")]


class Client:
    """Client threads, each with one keep-alive connection, each playing whole conversations one after another."""

    def __init__(self, port: int, conversations: list[list[Delivery]], threads: int, duplicates: float,
                 telegram: bool, seed: int = 12, rate: float = 0.0, lockstep: bool = False) -> None:  # fmt: skip
        self.port, self.threads, self.telegram = port, threads, telegram
        rng = random.Random(seed)
        # --rate R, a campaign (the default): parents start their conversations at random moments, R / (messages
        # of a conversation) a second on average (a Poisson process), and each answers the previous reply after a
        # pause of 0.5 to 1.5 times `think` seconds, chosen so that on average 80% of the client threads are in a
        # conversation; the deliveries come at about R a second, every parent at a step of their own.
        # --rate R --lockstep: every first delivery is given the next slot of a clock ticking R a second, and the
        # phones take turns: every parent sends the same step within the same few seconds (the worst case).
        self.gap = 1.0 / rate if rate > 0 and lockstep else 0.0
        self.think = 0.8 * threads / rate if rate > 0 and not lockstep else 0.0
        self._next_slot = 0.0
        starts, at = [], 0.0
        for c in conversations:
            starts.append(at)
            if self.think:
                at += rng.expovariate(rate / len(c))
        self.queue = list(reversed(list(zip(conversations, starts, strict=True))))
        self.began = 0.0
        self.total = sum(len(c) for c in conversations)
        # Which deliveries are sent twice, and of those which come back after the next message (out of order).
        self.twice = {d.key: ("late" if rng.random() < 1 / 3 else "now")
                      for c in conversations for d in c if rng.random() < duplicates}  # fmt: skip
        self.results = Results()
        self._queue_lock = threading.Lock()

    def _next_conversation(self) -> tuple[list[Delivery], float] | None:
        with self._queue_lock:
            return self.queue.pop() if self.queue else None

    def _deliver(
        self, conn: http.client.HTTPConnection, d: Delivery
    ) -> tuple[http.client.HTTPConnection, list[str]]:
        """Send one delivery until it is answered 200, as Twilio retries; return the connection and the replies."""
        r, deadline, attempt = self.results, time.monotonic() + GIVE_UP_S, 0
        if self.gap and d.key not in r.first_sent:
            with self._queue_lock:
                slot = max(time.monotonic(), self._next_slot)
                self._next_slot = slot + self.gap
            time.sleep(max(0.0, slot - time.monotonic()))
        with r.lock:
            r.first_sent.setdefault(d.key, time.time())
        while True:
            if attempt:
                with r.lock:
                    r.retries += 1
                time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
            attempt += 1
            began = time.perf_counter()
            try:
                conn.request("POST", d.path, d.body, d.headers)
                response = conn.getresponse()
                data = response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                with r.lock:
                    r.connection_errors += 1
                if time.monotonic() > deadline:
                    r.gave_up.append(d.key)
                    return conn, []
                continue
            elapsed = time.perf_counter() - began
            if response.status == 200:
                texts = _texts(data, self.telegram)
                with r.lock:
                    r.latencies.append(elapsed)
                    r.acked[d.key] += 1
                    first = r.answers.setdefault(d.key, texts)
                    if first != texts:
                        r.duplicate_mismatch.append(d.key)
                return conn, texts
            with r.lock:
                if response.status >= 500:
                    r.errors_5xx += 1
                else:
                    r.other_status[response.status] += 1
            if response.status < 500 or time.monotonic() > deadline:
                r.gave_up.append(d.key)
                return conn, []

    def _run(self, start: threading.Barrier) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        start.wait()
        r = self.results
        while (taken := self._next_conversation()) is not None:
            conversation, start_at = taken
            late: Delivery | None = None
            for i, d in enumerate(conversation):
                # a campaign: the parent comes at its moment, then reads each reply and answers
                if self.think:
                    pause = self.began + start_at - time.monotonic() if i == 0 else \
                        self.think * random.uniform(0.5, 1.5)  # fmt: skip
                    time.sleep(max(0.0, pause))
                    if pause > 2.0:  # the server closes a keep-alive connection idle for 5 s: a new one
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                conn, texts = self._deliver(conn, d)
                if late is not None:  # the earlier message's repeat arrives after this newer one
                    conn, _ = self._deliver(conn, late)
                    late = None
                    with r.lock:
                        r.duplicates += 1
                        r.out_of_order += 1
                when = self.twice.get(d.key)
                if when == "now":
                    conn, _ = self._deliver(conn, d)
                    with r.lock:
                        r.duplicates += 1
                elif when == "late":
                    late = d
                with r.lock:
                    r.done += 1
            if late is not None:
                conn, _ = self._deliver(conn, late)
                with r.lock:
                    r.duplicates += 1
            r.last_answer[conversation[0].phone] = texts
        conn.close()

    def run(self, during: Any = None) -> float:
        """Run every conversation; `during(results, total)` runs beside (the fault). Return the wall time."""
        start = threading.Barrier(self.threads + 1)
        workers = [
            threading.Thread(target=self._run, args=(start,), daemon=True) for _ in range(self.threads)
        ]
        for w in workers:
            w.start()
        fault = (
            threading.Thread(target=during, args=(self.results, self.total), daemon=True) if during else None
        )
        self.began = time.monotonic()
        start.wait()
        began = time.perf_counter()
        if fault:
            fault.start()
        for w in workers:
            w.join()
        wall = time.perf_counter() - began
        if fault:
            fault.join()
        return wall


# --- the checks afterwards ---------------------------------------------------------------------------------------
def verify_reunite(
    url: str,
    client: Client,
    telegram: bool,
    bot_sent: dict[str, int],
    faulty: bool,
    notes: list[str],
    handed: dict[str, Any] | None = None,
) -> list[str]:
    """Check the database against what the phones were told; return what is wrong (empty: all is well)."""
    import intake.models  # noqa: F401 - registers every table
    from intake.dialogue.engine import STEPS
    from intake.models import Channel, Contact, Conversation, Direction, Message, MessageStatus

    problems: list[str] = []
    r = client.results
    channel = Channel.TELEGRAM if telegram else Channel.SMS
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        inbound = {
            row.provider_id: row
            for row in conn.execute(
                sa.select(Message.id, Message.provider_id, Message.status, Message.contact_id).where(
                    Message.channel == channel, Message.direction == Direction.INBOUND
                )
            )
        }
        rows = conn.scalar(
            sa.select(sa.func.count())
            .select_from(Message)
            .where(Message.channel == channel, Message.direction == Direction.INBOUND)
        )
        replies: dict[int, list[str]] = defaultdict(list)
        for in_reply_to, body in conn.execute(
            sa.select(Message.in_reply_to_id, Message.body)
            .where(Message.channel == channel, Message.direction == Direction.OUTBOUND)
            .order_by(Message.id)
        ):
            replies[in_reply_to].append(body)
        steps = Counter(conn.execute(sa.select(Conversation.step)).scalars())
        contacts = dict(
            conn.execute(sa.select(Contact.id, Contact.address).where(Contact.channel == channel)).all()
        )
    engine.dispose()

    sent_keys = {d.key for c in _all_conversations(client) for d in c}
    if rows != len(inbound):
        problems.append(f"{rows} inbound rows for {len(inbound)} provider ids: a delivery stored twice")
    not_stored = [k for k in r.acked if k not in inbound]
    if not_stored:
        problems.append(f"{len(not_stored)} deliveries answered 200 but not stored, e.g. {not_stored[:3]}")
    if set(inbound) - sent_keys:
        problems.append("messages stored that no phone sent")
    unacked = sent_keys - set(r.acked)
    if unacked:
        problems.append(
            f"{len(unacked)} deliveries never answered 200 (the phone gave up), e.g. {sorted(unacked)[:3]}"
        )
    status = Counter(str(row.status) for row in inbound.values())
    for bad in (MessageStatus.RECEIVED, MessageStatus.FAILED):
        if status.get(str(bad)):
            problems.append(
                f"{status[str(bad)]} inbound messages left {bad} (stored, never answered properly)"
            )
    unanswered = [k for k, row in inbound.items() if not replies.get(row.id)]
    if unanswered:
        problems.append(f"{len(unanswered)} inbound messages without a stored reply, e.g. {unanswered[:3]}")
    if handed:  # the spool: what the fake Twilio API was handed, per number, against the stored replies
        prefix = "reunite-notification-reply:"  # the dialogue's replies (reminders may go out too)
        replies_handed = {number: [t for t in tokens if t.startswith(prefix)]
                          for number, tokens in handed["order"].items()}  # fmt: skip
        bot_sent = {f"sendMessage:{number}": len(tokens) for number, tokens in replies_handed.items()}
        keys = {number: [tuple(int(x) for x in t.removeprefix(prefix).split(":")) for t in tokens]
                for number, tokens in replies_handed.items()}  # fmt: skip
        disordered = [number for number, k in keys.items() if k != sorted(k)]
        if disordered:
            problems.append(
                f"replies handed to Twilio out of their messages' order for {len(disordered)} numbers"
            )
    if not telegram and not handed:
        differ = [k for k, texts in r.answers.items() if k in inbound and replies.get(inbound[k].id) != texts]
        if differ:
            problems.append(
                f"{len(differ)} deliveries answered otherwise than their stored replies, e.g. {differ[:3]}"
            )
    else:
        stored_per_chat: Counter[str] = Counter()
        for row in inbound.values():
            stored_per_chat[contacts[row.contact_id]] += len(replies.get(row.id, []))
        sent_per_chat: Counter[str] = Counter()
        for key, n in bot_sent.items():
            if key.startswith("sendMessage:"):
                sent_per_chat[key.split(":", 1)[1]] += n
        lost = {
            c: stored_per_chat[c] - sent_per_chat[c]
            for c in stored_per_chat
            if stored_per_chat[c] > sent_per_chat[c]
        }
        twice = {
            c: sent_per_chat[c] - stored_per_chat[c]
            for c in sent_per_chat
            if sent_per_chat[c] > stored_per_chat[c]
        }
        if lost:
            problems.append(
                f"{sum(lost.values())} stored replies never sent to Telegram, in {len(lost)} chats"
            )
        if twice and not faulty:
            problems.append(
                f"{sum(twice.values())} replies sent to Telegram more than once, in {len(twice)} chats"
            )
        elif (
            twice
        ):  # at least once: sent, then the fault took the "sent" mark with it, so the retry sent it again
            notes.append(f"{sum(twice.values())} replies sent to Telegram twice, in {len(twice)} chats (sent, "
                         "then the fault lost their 'sent' mark: at-least-once)")  # fmt: skip
    if r.duplicate_mismatch:
        problems.append(f"{len(r.duplicate_mismatch)} repeated deliveries answered otherwise than the first")
    invalid = {s: n for s, n in steps.items() if s is not None and s not in STEPS}
    if invalid:
        problems.append(f"conversations at steps the dialogue does not have: {invalid}")
    if (
        telegram or handed
    ):  # what each chat was told last, from the database (the bot sent it, the client never sees it)
        last_inbound: dict[int, int] = {}
        for row in inbound.values():
            last_inbound[row.contact_id] = max(row.id, last_inbound.get(row.contact_id, 0))
        r.last_answer = {contact: replies.get(message_id, []) for contact, message_id in last_inbound.items()}
    not_booked = [p for p, texts in r.last_answer.items() if not any(BOOKED in t for t in texts)]
    if not_booked:
        problems.append(f"{len(not_booked)} phones did not end booked, e.g. phone {not_booked[0]}: "
                        f"{r.last_answer[not_booked[0]]}")  # fmt: skip
    return problems


def _all_conversations(client: Client) -> list[list[Delivery]]:
    return client.conversations  # type: ignore[attr-defined, no-any-return]


def verify_bare(url: str, client: Client) -> list[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        stored = set(conn.execute(sa.text("SELECT sid FROM bare_inbound")).scalars())
    engine.dispose()
    missing = [k for k in client.results.acked if k not in stored]
    return [f"{len(missing)} deliveries answered 200 but not stored"] if missing else []


# --- one run -----------------------------------------------------------------------------------------------------
def figures(name: str, wall: float, r: Results) -> str:
    ms = sorted(s * 1000 for s in r.latencies)
    n = len(ms)
    p99 = ms[min(n - 1, int(n * 0.99))]
    return (f"{name:<34} {n:>6} answered 200 in {wall:6.1f} s = {n / wall:7.1f}/s   p50 {statistics.median(ms):6.1f} ms"
            f"  p99 {p99:7.1f} ms  max {ms[-1]:7.1f} ms   5xx {r.errors_5xx}  conn errors {r.connection_errors}"
            f"  retries {r.retries}  repeats {r.duplicates} ({r.out_of_order} out of order)"
            f"{steady_rate(r)}")  # fmt: skip


def steady_rate(r: Results) -> str:
    """A paced run's rate once the parents have come and before they leave: first deliveries a second between the
    first and the third quarter of them (a campaign's arrivals ramp up and down at its ends)."""
    sent = sorted(r.first_sent.values())
    if len(sent) < 8:
        return ""
    q1, q3 = sent[len(sent) // 4], sent[3 * len(sent) // 4]
    return f"  steady {(3 * len(sent) // 4 - len(sent) // 4) / max(q3 - q1, 1e-6):.1f}/s" if q3 > q1 else ""


def fault_plan(kind: str, cluster: Cluster, servers: list[Server], outage_s: float, log: list[str]) -> Any:
    def fault(results: Results, total: int) -> None:
        while results.done < total * 0.4:
            time.sleep(0.05)
            if results.done >= total:
                return
        began = time.monotonic()
        if kind == "postgres-restart":
            cluster.stop()
            log.append(f"PostgreSQL stopped at delivery {results.done}/{total}")
            time.sleep(outage_s)
            cluster.start()
            log.append(f"PostgreSQL started again after {time.monotonic() - began:.1f} s down")
        elif kind == "kill-web":
            for server in servers:
                server.kill9()
            workers = f" and of its {len(servers) - 1} worker processes" if len(servers) > 1 else ""
            log.append(f"kill -9 of every web process{workers} at delivery {results.done}/{total}")
            took = servers[0].start()
            for server in servers[1:]:
                server.start()
            log.append(f"reunite serve answering again {took:.1f} s after its restart")

    return fault


def run_one(
    args: argparse.Namespace, target: str, cluster: Cluster, folder: Path, dialogue_workers: int = 0
) -> tuple[str, list[str], list[str]]:
    """Run the load against one target; return its figures line, the fault log and the problems found.

    With `dialogue_workers` (the spool mode), that many `reunite dialogue-worker` processes and `--senders`
    `reunite worker` processes run beside the service, and the run waits until every reply was handed to the
    provider (a fake Twilio API, or the fake Bot API)."""
    name_suffix = f"_{dialogue_workers}dw" if dialogue_workers else ""
    url = cluster.create_database(f"load_{target}{name_suffix}")
    port = free_port()
    env = {**os.environ, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
           "REUNITE_REPLY_MODE": "spool" if dialogue_workers else "inline",
           "REUNITE_SPOOL_HOLD_ABOVE": str(args.hold_above), "REUNITE_NOTIFY_THREADS": "8",
           # the appointment reminders go out at once, whatever the hour: the run waits for every message queued
           # (outside the families' hours, 8-21 China time, they would wait until morning) and does the same work
           "REUNITE_FAMILY_HOURS": "0-24"}  # fmt: skip
    bot: multiprocessing.Process | None = None
    bot_port = free_port()
    api: multiprocessing.Process | None = None
    api_port = free_port()
    if target == "bare":
        from benchmarks.bare_sms import create_table

        engine = sa.create_engine(url)
        create_table(engine)
        engine.dispose()
        env["BARE_DATABASE_URL"] = url
        argv = [sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-k", "gthread", "--threads",
                str(args.threads), "-b", f"127.0.0.1:{port}", "--keep-alive", "5", "benchmarks.bare_sms:app"]  # fmt: skip
        env["PYTHONPATH"] = str(ROOT)
    else:
        env.update(
            DATABASE_URL=url,
            REUNITE_DATA_DIR=str(folder / f"data_{target}"),
            REUNITE_BOOKING_HORIZON_DAYS="60",
        )
        env.setdefault(KEYS_VARIABLE, new_key())  # every process on a PostgreSQL database needs the same keys
        if args.telegram:
            ready = multiprocessing.Event()
            bot = multiprocessing.Process(target=_fake_bot_api, args=(bot_port, ready), daemon=True)
            bot.start()
            ready.wait(10)
            env.update(TELEGRAM_BOT_TOKEN=BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
                       TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{bot_port}/bot")  # fmt: skip
        elif dialogue_workers:
            ready = multiprocessing.Event()
            api = multiprocessing.Process(target=_fake_twilio_api, args=(api_port, ready), daemon=True)
            api.start()
            ready.wait(10)
            env.update(TWILIO_ACCOUNT_SID="AC" + "2" * 32, TWILIO_FROM_NUMBER="+8610690000000",
                       TWILIO_API_BASE_URL=f"http://127.0.0.1:{api_port}")  # fmt: skip
        argv = [str(Path(sys.executable).parent / "reunite"), "serve", "--host", "127.0.0.1", "--port", str(port),
                "--workers", str(args.workers), "--threads", str(args.threads)]  # fmt: skip
    server = Server(argv, env, port, folder / f"{target}{name_suffix}.log")
    server.start()
    helpers: list[Server] = []
    reunite = str(Path(sys.executable).parent / "reunite")
    env["PYTHONUNBUFFERED"] = "1"  # a worker's first line says it is ready
    for i in range(dialogue_workers):
        helpers.append(
            Server(
                [reunite, "dialogue-worker", "--nice", str(args.dialogue_nice)],
                env,
                0,
                folder / f"dialogue{name_suffix}_{i}.log",
            )  # fmt: skip
        )
    if dialogue_workers and not args.telegram:
        for i in range(args.senders):
            helpers.append(Server([reunite, "worker", "--interval", "0.05"], env, 0,
                                  folder / f"sender{name_suffix}_{i}.log"))  # fmt: skip
    if not args.drain_after:
        for helper in helpers:
            helper.start()
    if target != "bare":
        # The demo labs take 4-20 bookings a day: 500+ parents choosing "the first day" would fill them, and a
        # day filled between the question and the answer is asked again (a dialogue path tested on its own).
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE labs SET daily_capacity = :n"), {"n": LAB_CAPACITY})
            conn.execute(sa.text("UPDATE lab_days SET capacity = :n"), {"n": LAB_CAPACITY})
        engine.dispose()
    phones = -(-args.deliveries // len(REPORT_AND_BOOK_ZH))
    telegram = args.telegram and target != "bare"
    conversations = telegram_conversations(phones) if telegram else sms_conversations(phones)
    client = Client(port, conversations, args.concurrency, args.duplicates, telegram, rate=args.rate,
                    lockstep=args.lockstep)  # fmt: skip
    client.conversations = conversations  # type: ignore[attr-defined]
    log: list[str] = []
    during = (
        fault_plan(args.fault, cluster, [server, *helpers], args.outage, log)
        if target != "bare" and args.fault != "none"
        else None
    )
    profiler = None
    if args.py_spy and target != "bare":
        profiler = _py_spy(server, folder, args)
    drained = 0.0
    if args.pg_stats:
        _statements(url, reset=True)
    try:
        wall = client.run(during)
        if args.drain_after:  # the webhooks alone took the load; now the workers drain what they stored
            for helper in helpers:
                helper.start()
        if args.pg_stats:
            print(f"{name_suffix or target}: PostgreSQL time while the deliveries came in, by statement:")
            print(_statements(url, reset=True))
        if dialogue_workers:
            drained = wait_drained(url, telegram)
            if args.pg_stats:
                print(f"{name_suffix or target}: PostgreSQL time while the spool and the outbox drained:")
                print(_statements(url, reset=False))
    finally:
        if profiler is not None:
            profiler.wait()
        server.stop()
        for helper in helpers:
            helper.stop()
    handed: dict[str, Any] = _recorded_by(api, api_port, "/handed", timeout=30) if api is not None else {}
    bot_sent: dict[str, int] = _recorded_by(bot, bot_port, "/counts", timeout=10) if bot is not None else {}
    problems = (
        verify_bare(url, client)
        if target == "bare"
        else verify_reunite(url, client, telegram, bot_sent, during is not None, log, handed)
    )
    r = client.results
    if r.gave_up:
        problems.append(f"{len(r.gave_up)} deliveries given up (status {dict(r.other_status)})")
    name = "bare Flask (gunicorn, 2 workers)" if target == "bare" else (
        f"reunite {'Telegram' if telegram else 'SMS'} ({args.workers} workers"
        + (f", spool, {dialogue_workers} dialogue, nice {args.dialogue_nice}" if dialogue_workers else ", inline")
        + (f", hold above {args.hold_above:g}/s of growth" if dialogue_workers and args.hold_above else "")
        + (", drained after" if dialogue_workers and args.drain_after else "")
        + ")")  # fmt: skip
    line = figures(name, wall, r)
    if dialogue_workers:
        line += "\n" + conversation_figures(url, client, handed, wall, drained)
    return line, log, problems


def _statements(url: str, *, reset: bool, top: int = 12) -> str:
    """With --pg-stats: the statements that took PostgreSQL's time since the last reset (pg_stat_statements),
    most first; then reset."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
            rows = conn.execute(sa.text(
                "SELECT total_exec_time, calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 150)"
                " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname ="
                " current_database()) ORDER BY total_exec_time DESC LIMIT :n"), {"n": top}).all()  # fmt: skip
            if reset:
                conn.execute(sa.text("SELECT pg_stat_statements_reset()"))
    finally:
        engine.dispose()
    return "\n".join(f"  {ms / 1000:8.2f} s {calls:8d} calls  {query}" for ms, calls, query in rows)


def wait_drained(url: str, telegram: bool, limit_s: float = 600.0) -> float:
    """Wait until the spool is empty and no reply waits to be sent; return how long that took after the load."""
    began = time.monotonic()
    engine = sa.create_engine(url)
    waiting = "SELECT (SELECT count(*) FROM deliveries)" + (
        "" if telegram else " + (SELECT count(*) FROM notifications WHERE status IN ('pending', 'sending'))"
    )
    try:
        while time.monotonic() - began < limit_s:
            with contextlib.suppress(sa.exc.OperationalError), engine.connect() as conn:
                if not conn.execute(sa.text(waiting)).scalar():
                    return time.monotonic() - began
            time.sleep(0.2)
    finally:
        engine.dispose()
    return time.monotonic() - began


def conversation_figures(
    url: str, client: Client, handed: dict[str, Any], wall: float, drained: float
) -> str:
    """Conversation latency: from a message's first delivery attempt to its first reply handed to the provider."""
    total = len(client.results.acked)
    processed = f"{total} processed in {wall + drained:6.1f} s = {total / (wall + drained):7.1f}/s" \
                f" (drained {drained:4.1f} s after the load)"  # fmt: skip
    if not handed:
        return f"{'':<34} {processed}   (conversation latency: measured on SMS only)"
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        sid_of = dict(conn.execute(sa.text(
            "SELECT id, provider_id FROM messages WHERE direction = 'in'")).all())  # fmt: skip
    engine.dispose()
    latencies = []
    for token, at in handed["first"].items():
        inbound_id, _sep, n = token.removeprefix("reunite-notification-reply:").partition(":")
        sid = sid_of.get(int(inbound_id)) if inbound_id.isdigit() and n == "0" else None
        sent = client.results.first_sent.get(sid or "")
        if sent is not None:
            latencies.append((at - sent) * 1000)
    ms = sorted(latencies)
    if not ms:
        return f"{'':<34} {processed}   no reply handed to the provider"
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (f"{'':<34} {processed}   conversation latency (in -> reply handed to Twilio): p50"
            f" {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms  max {ms[-1]:7.1f} ms ({len(ms)} messages)")  # fmt: skip


def _py_spy(server: Server, folder: Path, args: argparse.Namespace) -> subprocess.Popen[bytes] | None:
    """Sample one worker for a few seconds mid-run with py-spy, if installed; write the top functions."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("py-spy is not installed: no profile", file=sys.stderr)
        return None
    assert server.proc is not None
    workers = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True
    ).stdout.split()
    out = Path(args.py_spy)
    return subprocess.Popen([spy, "record", "--pid", workers[0], "--duration", "10", "--format", "raw", "--output",
                             str(out), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


WATCHED = ("Connection.wait (psycopg/", "DefaultDialect._do_ping_w_event", "SessionTransaction.commit (sqlalchemy",
           "refuse_unsigned (sms/", "read_form (sms/", "twiml (sms/")  # fmt: skip


def spy_summary(path: Path) -> list[str]:
    """Where one worker's sampled time went: the share of samples in reunite's functions and a few watched ones."""
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _sep, count = line.rpartition(" ")
        total += int(count)
        names = {frame.rsplit(":", 1)[0] for frame in stack.split(";")}  # one count per function per sample
        for name in names:
            if name.split(" (", 1)[-1].startswith(("intake/", "sms/", "bot/")) or name.startswith(WATCHED):
                inclusive[name] += int(count)
    top = [f"{n / total:5.0%}  {name})" for name, n in inclusive.most_common(16)]
    return [
        f"py-spy, one reunite worker, {total} samples (idle threads left out; share of samples in):",
        *top,
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("both", "reunite", "bare"), default="both",
                        help="both: the bare endpoint first, as the floor, then reunite")  # fmt: skip
    parser.add_argument("--fault", choices=("none", "postgres-restart", "kill-web"), default="none")
    parser.add_argument("--telegram", action="store_true", help="Telegram updates instead of SMS")
    parser.add_argument(
        "--deliveries", type=int, default=10_000, help="first deliveries (repeats come on top)"
    )
    parser.add_argument("--concurrency", type=int, default=64, help="parents texting at the same time")
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of deliveries sent twice")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--outage", type=float, default=3.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--mode", choices=("spool", "inline"), default="spool",
                        help="spool: the webhook stores, dialogue workers answer (the default); inline: TwiML")  # fmt: skip
    parser.add_argument("--dialogue-workers", default="1,2,4",
                        help="spool: one run per count of `reunite dialogue-worker` processes")  # fmt: skip
    parser.add_argument(
        "--senders", type=int, default=2, help="spool: `reunite worker` processes sending SMS"
    )
    parser.add_argument("--dialogue-nice", type=int, default=10,
                        help="spool: the dialogue workers' --nice (0: the web's priority)")  # fmt: skip
    parser.add_argument("--rate", type=float, default=0.0,
                        help="deliveries a second, paced: parents arriving at random moments and answering after"
                             " a pause (0: every phone sends as fast as it is answered)")  # fmt: skip
    parser.add_argument("--lockstep", action="store_true",
                        help="with --rate: first deliveries on a clock ticking --rate a second, taken in turn by"
                             " the phones, so that every parent sends the same step at once (the worst case)")  # fmt: skip
    parser.add_argument("--py-spy", metavar="FILE", help="sample one reunite worker for 10 s into FILE")
    parser.add_argument(
        "--hold-above",
        type=float,
        default=0.0,
        help="spool: REUNITE_SPOOL_HOLD_ABOVE for the dialogue workers (they hold back while the spool grows faster than this, deliveries/s)",
    )
    parser.add_argument(
        "--drain-after",
        action="store_true",
        help="spool: start the dialogue workers and senders only when the load ends (the webhooks alone, as when"
        " the workers run on other machines)",
    )
    parser.add_argument(
        "--pg-stats",
        action="store_true",
        help="print PostgreSQL's time by statement (pg_stat_statements) for the load and the drain",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, the cluster)")
    args = parser.parse_args()

    load_before = " ".join(f"{x:.1f}" for x in os.getloadavg())
    folder = Path(tempfile.mkdtemp(prefix="reunite-load-"))
    cluster = Cluster(folder, statements=args.pg_stats)
    lines, failed = [], False
    try:
        targets = ["bare", "reunite"] if args.target == "both" else [args.target]
        counts = [int(n) for n in args.dialogue_workers.split(",")] if args.mode == "spool" else [0]
        runs = [(t, n) for t in targets for n in ([0] if t == "bare" else counts)]
        for target, dialogue_workers in runs:
            line, log, problems = run_one(args, target, cluster, folder, dialogue_workers)
            lines.append(line)
            for entry in log:
                lines.append(f"    {entry}")
            for problem in problems:
                lines.append(f"    FAILED: {problem}")
            failed = failed or bool(problems)
            if not problems:
                lines.append("    checked: every 200 stored once" + ("" if target == "bare" else
                             " and answered with its stored replies, no repeat with an effect, every conversation"
                             " at a dialogue step, every parent booked"))  # fmt: skip
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    phones = -(-args.deliveries // len(REPORT_AND_BOOK_ZH))
    print(f"reunite load run: {phones * len(REPORT_AND_BOOK_ZH)} first deliveries ({len(REPORT_AND_BOOK_ZH)} each) from {phones} "
          f"{'chats' if args.telegram else 'phones'}, {args.concurrency} at a time, {args.duplicates:.0%} sent twice, "
          f"fault: {args.fault}; {args.mode} mode; {os.cpu_count()} cores; own PostgreSQL {cluster.port}")  # fmt: skip
    print("\n".join(lines))
    if args.py_spy and Path(args.py_spy).exists():
        print("\n".join(spy_summary(Path(args.py_spy))))
    print(
        f"load average before / after: {load_before} / {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
        "(the machine is shared: other jobs run beside this one)"
    )
    print("reproduce: .venv/bin/python benchmarks/load_sms.py " + " ".join(sys.argv[1:]))
    if args.keep:
        print(f"logs and the cluster: {folder}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
