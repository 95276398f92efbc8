"""The production deployment of docs/deploy.md, run for real: `reunite db upgrade` on a fresh PostgreSQL database,
`reunite serve --workers 2` behind a (pretend) TLS proxy, two `reunite worker` processes sending to fake Twilio and
Telegram APIs and `reunite match-worker`; a signed SMS conversation and a Telegram webhook conversation over HTTP;
every notification sent once; every process stops cleanly on SIGTERM. Also: the systemd units pass `systemd-analyze verify`, and every command the guide names exists."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree

import click
import pytest
import sqlalchemy as sa
from twilio.request_validator import RequestValidator

from tests.dialogue import transcripts as t
from tests.dialogue.helpers import check_turn
from tests.support.databases import (
    create_database,
    drop_database,
    postgres_required,
    postgres_unavailable_reason,
)
from tests.support.factories import HUAXIA_PLATINUM, genotypes
from tests.support.fake_telegram import TOKEN as BOT_TOKEN
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_telegram_send import FakeTelegramSend
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
REUNITE = str(Path(sys.executable).with_name("reunite"))  # the console script a deployment runs
PUBLIC = "https://reunite.example.org"
WEBHOOK_SECRET = "deploy-test-webhook-secret-0123456789"
MOTHER = "+8613800138000"
CHAT = 4242
BOOK_IN_GUANGZHOU = [
    ("1", ("哪个城市或省份",)), ("广州", ("请选采血点",)), ("1", ("日期",)), ("1", ("确定预约",)),
    ("1", ("预约成功", "样本编号")),
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@dataclass
class Deployment:
    """The processes of docs/deploy.md on one PostgreSQL database, and the fakes they talk to."""

    tmp: Path
    database_url: str
    twilio: FakeTwilio
    telegram: FakeTelegram  # the Bot API the web service's webhook answers through
    telegram_send: FakeTelegramSend  # the Bot API the notification workers send through
    port: int = field(default_factory=_free_port)
    processes: dict[str, subprocess.Popen[str]] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        """The EnvironmentFile of deploy/systemd, filled in for this machine (no secret in git: these are fakes)."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tmp),
            "REUNITE_DATA_DIR": str(self.tmp / "data"),
            "DATABASE_URL": self.database_url,
            "REUNITE_DATA_KEYS": os.environ["REUNITE_DATA_KEYS"],  # the suite's test key (tests/conftest.py)
            "PUBLIC_BASE_URL": PUBLIC,
            "REUNITE_TRUST_PROXY_HOPS": "1",
            "REUNITE_DEMO_LABS": "0",
            "REUNITE_SECRET_KEY": "deploy-test-console-cookie-key",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
            # The turns below read the replies in the webhooks' answers; the spool's whole path (webhook, dialogue
            # workers, replies through the APIs) is tests/test_spool.py's and the load run's.
            "REUNITE_REPLY_MODE": "inline",
            **extra,
        }

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [REUNITE, *args], env=self.env(), cwd=self.tmp, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, f"reunite {' '.join(args)}: {done.stderr}"
        return done

    def start(self, name: str, *args: str, **extra: str) -> None:
        log = (self.tmp / f"{name}.log").open("w")
        self.processes[name] = subprocess.Popen(
            [REUNITE, *args],
            env=self.env(**extra),
            cwd=self.tmp,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def stop(self) -> dict[str, int | None]:
        """SIGTERM every process (as systemd stops them); return each one's exit code."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = {}
        for name, proc in self.processes.items():
            try:
                codes[name] = proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = None
        return codes

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                method: str | None = None) -> tuple[int, bytes]:  # fmt: skip
        """Call the web service as the TLS proxy in front of it would: with X-Forwarded-Proto/Host."""
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "reunite.example.org"}
        request = urllib.request.Request(
            self.url(path), data=body, headers={**forwarded, **(headers or {})}, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def text(self, body: str, sender: str = MOTHER) -> list[str]:
        """Text the service as Twilio delivers it: a form POST signed for PUBLIC_BASE_URL/sms/inbound."""
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": ACCOUNT_SID, "From": sender,
                  "To": FROM_NUMBER, "Body": body, "NumMedia": "0"}  # fmt: skip
        signature = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC}/sms/inbound", params)
        status, answer = self.request(
            "/sms/inbound",
            urlencode(params).encode(),
            {"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 200, answer
        return [m.text or "" for m in ElementTree.fromstring(answer).iter("Message")]

    def telegram_say(self, text: str, secret: str | None = WEBHOOK_SECRET) -> tuple[int, list[str]]:
        """Deliver a Telegram update to the webhook as Telegram does; return the status and the bot's replies."""
        before = len(self.telegram.sent_to(CHAT))
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        update = self.telegram.message_update(CHAT, text, language_code="zh-hans")
        status, _ = self.request("/telegram/webhook", json.dumps(update).encode(), headers)
        replies = [self.telegram.message_of(c).get("text", "") for c in self.telegram.sent_to(CHAT)[before:]]
        return status, replies


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    reason = postgres_unavailable_reason()
    if reason is not None:
        if postgres_required():
            pytest.fail(f"REUNITE_TEST_REQUIRE_PG is set but {reason}")
        pytest.skip(f"the production deployment runs on PostgreSQL: {reason}")
    url = create_database("reunite_deploy")
    twilio, send = FakeTwilio(), FakeTelegramSend(token=BOT_TOKEN)
    twilio.server.start()
    send.server.start()
    try:
        with FakeTelegram() as telegram:
            d = Deployment(tmp_path, url, twilio, telegram, send)
            try:
                yield d
            finally:
                d.stop()
    finally:
        twilio.server.stop()
        send.server.stop()
    drop_database(url)


@pytest.mark.postgres
def test_the_documented_deployment_answers_sms_and_telegram_and_sends_each_notification_once(deployment):
    d = deployment
    # Upgrades: the schema first, then the processes (docs/deploy.md, "Upgrades").
    assert "is current" in d.run("db", "upgrade").stdout
    d.run("labs", "load-demo")  # a real deployment imports its labs: `reunite labs import labs.csv`
    d.start("web", "serve", "--host", "127.0.0.1", "--port", str(d.port), "--workers", "2", "--threads", "4",
            TELEGRAM_API_BASE_URL=d.telegram.base_url)  # fmt: skip
    worker_env = {"TWILIO_API_BASE_URL": d.twilio.base_url, "TELEGRAM_API_BASE_URL": d.telegram_send.base_url,
                  "REUNITE_FAMILY_HOURS": "0-24"}  # fmt: skip
    d.start("worker-1", "worker", "--interval", "0.5", **worker_env)
    d.start("worker-2", "worker", "--interval", "0.5", **worker_env)
    d.start("match-worker", "match-worker", "--no-progress", "--poll", "0.5")
    d.start("dialogue-worker", "dialogue-worker", "--threads", "2", **worker_env)
    health = _wait(lambda: _healthz(d), "GET /healthz to answer")
    assert health == {"status": "ok", "database": "postgresql", "kinship_kernel": "numba",
                      "spool": {"waiting": 0, "given_up": 0}}  # fmt: skip

    # The mother reports and books by SMS; every text is signed as Twilio signs it, for the public https URL.
    for number, (text, expected) in enumerate([*t.REPORT_ZH, *BOOK_IN_GUANGZHOU], 1):
        check_turn(number, text, expected, d.text(text))
    bad = d.request("/sms/inbound", b"Body=hi", {"X-Twilio-Signature": "forged"})
    assert bad[0] == 403

    # A father reports by Telegram, through the webhook; a call without the secret is refused.
    assert d.telegram_say("你好", secret=None) == (403, [])
    assert d.telegram_say("你好", secret="wrong-secret-0123456789")[0] == 403
    # The same child as the mother's SMS report: he is told a report may exist already, and makes his own (2).
    same_child = [
        *t.REPORT_ZH[:8],
        ("广州火车站", ("可能已经有人登记过这个孩子",)),
        ("2", ("穿着",)),
        *t.REPORT_ZH[9:],
    ]
    for number, (text, expected) in enumerate([*same_child, *BOOK_IN_GUANGZHOU], 1):
        status, replies = d.telegram_say(text)
        assert status == 200
        if (
            number == 1 or number >= len(same_child) + 4
        ):  # the buttons' labels differ from SMS's lines between
            check_turn(number, text, expected[:1], replies)

    # The lab receives and types both samples: each step queues one message to the family (sample.received,
    # sample.typed), sent by whichever of the two workers claims it.
    engine = sa.create_engine(d.database_url)
    with engine.connect() as conn:
        samples = conn.execute(sa.text(
            "SELECT samples.code, lab_days.lab_id FROM samples JOIN bookings ON bookings.id = samples.booking_id"
            " JOIN lab_days ON lab_days.id = bookings.lab_day_id"
        )).all()  # fmt: skip
    assert len(samples) == 2
    for seed, (code, lab_id) in enumerate(samples):
        key = d.run("labs", "key", str(lab_id)).stdout.strip().splitlines()[-1]
        auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        for event in ("collected", "received"):
            status, body = d.request(
                f"/api/v1/samples/{code}/events", json.dumps({"type": event}).encode(), auth
            )
            assert status == 201, body
        profile = {"kit": "Huaxia Platinum", "genotypes": genotypes(HUAXIA_PLATINUM, seed)}
        status, body = d.request(f"/api/v1/samples/{code}/profile", json.dumps(profile).encode(), auth, "PUT")
        assert status == 201, body

    _wait(
        lambda: len(d.twilio.bodies_to(MOTHER)) >= 2 and len(d.telegram_send.messages) >= 2, "4 notifications"
    )
    time.sleep(3)  # several idle rounds of both workers: anything sent twice would be by now
    sms = d.twilio.bodies_to(MOTHER)
    assert len(sms) == 2 and len(set(sms)) == 2, sms
    assert d.twilio.requests == 2  # not merely deduplicated by Twilio's idempotency token: asked once each
    assert len(d.telegram_send.messages) == 2 and {m["chat"]["id"] for m in d.telegram_send.messages} == {
        CHAT
    }
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT template, channel, status, attempts FROM notifications")).all()
    engine.dispose()
    assert sorted((r.template, r.channel, r.status, r.attempts) for r in rows) == [
        ("sample.received", "sms", "sent", 1), ("sample.received", "telegram", "sent", 1),
        ("sample.typed", "sms", "sent", 1), ("sample.typed", "telegram", "sent", 1),
    ]  # fmt: skip

    # The matching worker searched both uploaded profiles (a mother and a father: no child, so no candidate).
    _wait(lambda: _jobs(d) == {"done": 2}, "the matching worker to search both profiles", timeout=120)

    codes = d.stop()  # SIGTERM, as `systemctl stop` sends: every process stops cleanly
    assert codes == {"web": 0, "worker-1": 0, "worker-2": 0, "match-worker": 0, "dialogue-worker": 0}, {
        n: d.log(n)[-2000:] for n in codes
    }


def _jobs(d: Deployment) -> dict[str, int]:
    engine = sa.create_engine(d.database_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT state, count(*) FROM match_jobs GROUP BY state")).all()
    engine.dispose()
    return {str(state): int(n) for state, n in rows}


def _healthz(d: Deployment) -> dict[str, Any] | None:
    for name, proc in d.processes.items():
        if proc.poll() is not None:
            pytest.fail(f"{name} exited with {proc.returncode}: {d.log(name)[-3000:]}")
    try:
        status, body = d.request("/healthz")
    except OSError:
        return None
    return json.loads(body) if status == 200 else None


# ------------------------------------------------------------------------------------- the guide and its units

DEPLOY_DOC = ROOT / "docs" / "deploy.md"
UNITS = ROOT / "deploy" / "systemd"


def _commands_named_in(text: str) -> set[tuple[str, ...]]:
    """Return every `reunite COMMAND [SUBCOMMAND]` written in the guide's code (blocks and inline), as paths.

    A word after `reunite` that is no command fails where `reunite` stands as a command (a line's or an inline
    snippet's start, after `;`, `&&`, `|`, `exec` or a `/bin/` path); elsewhere `reunite` is the user's name.
    """
    from intake.cli import main

    blocks = [b for b in re.findall(r"```.*?```", text, flags=re.S)]
    inline = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    paths: set[tuple[str, ...]] = set()
    for code in [*blocks, *inline]:
        for found in re.finditer(r"(?<![\w.@/-])reunite((?:[ \t]+-v+)?(?:[ \t]+[a-z][a-z-]*){1,2})", code):
            before = code[: found.start()].rsplit("\n", 1)[-1]
            at_command = before.strip() in ("", "$") or re.search(r"(;|&&|\||exec|\bbin/)\s*$", before)
            group: click.Command = main
            path: list[str] = []
            for word in found.group(1).split():
                if word.startswith("-"):
                    continue
                found_command = (
                    group.get_command(click.Context(group), word) if isinstance(group, click.Group) else None
                )  # the group's own lookup: `reunite` imports a command when it is asked for
                if found_command is None:
                    break
                group = found_command
                path.append(word)
            if not path and at_command:
                raise AssertionError(f"docs/deploy.md names `reunite{found.group(1)}`: no such command")
            if path:
                paths.add(tuple(path))
    return paths


def test_every_command_the_deployment_guide_names_exists():
    paths = _commands_named_in(DEPLOY_DOC.read_text())
    # The units' ExecStart lines and the container recipe's commands, written as the shell lines they run.
    recipes = [line.split("bin/", 1)[1] for u in UNITS.glob("*.service") for line in u.read_text().splitlines()
               if line.startswith("ExecStart=")]  # fmt: skip
    for f in (ROOT / "deploy" / "compose.yaml", ROOT / "deploy" / "Containerfile"):
        recipes += [
            " ".join(re.findall(r'"([^"]+)"', m)) for m in re.findall(r'\["reunite",[^\]]*\]', f.read_text())
        ]
    assert len(recipes) >= 8, recipes
    in_recipes = _commands_named_in("```\n" + "\n".join(recipes) + "\n```")
    assert {("serve",), ("worker",), ("match-worker",), ("db", "upgrade")} <= in_recipes
    paths |= in_recipes
    for must in [("serve",), ("worker",), ("match-worker",), ("db", "upgrade"), ("backup",), ("restore",),
                 ("bot", "set-webhook"), ("match",)]:  # fmt: skip
        assert must in paths, f"docs/deploy.md does not show `reunite {' '.join(must)}`"
    # One process runs `reunite PATH --help` for every path (a process each took 2-6 s to start on the shared
    # test machine): the same entry point, each exit code read from its SystemExit.
    script = (
        "import sys\nfrom intake.cli import main\nfailed = []\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n        main([*path.split(), '--help'], prog_name='reunite')\n"
        "    except SystemExit as exc:\n"
        "        if exc.code not in (0, None): failed.append(path)\n"
        "print('FAILED:', failed)\nsys.exit(1 if failed else 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *(" ".join(p) for p in sorted(paths))],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    assert done.stdout.count("Usage: reunite") == len(paths)


def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    units = sorted([*UNITS.glob("*.service"), *UNITS.glob("*.timer")])
    assert {u.name for u in units} == {
        "reunite-web.service", "reunite-worker@.service", "reunite-dialogue@.service", "reunite-match-worker.service",
        "reunite-backup.service", "reunite-backup.timer",
    }  # fmt: skip
    assert (UNITS / "reunite.env.example").exists()
    # The units name /opt/reunite; point them at this checkout's virtual environment, which verify checks exists.
    for unit in units:
        text = unit.read_text().replace("/opt/reunite/venv/bin/reunite", REUNITE)
        name = unit.name.replace("@.service", "@1.service")
        (tmp_path / name).write_text(
            text.replace("/etc/reunite/reunite.env", str(UNITS / "reunite.env.example"))
        )
    done = subprocess.run(
        [analyze, "verify", "--man=no", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # verify exits 0 even for an unknown key or a bad value ("..., ignoring"): any line naming our units fails.
    problems = [line for line in done.stderr.splitlines() if str(tmp_path) in line]
    assert done.returncode == 0 and not problems, done.stderr


def test_the_containerfile_copies_every_package_the_project_installs():
    pyproject = (ROOT / "pyproject.toml").read_text()
    (include,) = re.findall(r"packages = \{ find = \{ include = \[([^\]]*)\]", pyproject)
    packages = {name.strip().strip('"').rstrip("*") for name in include.split(",")}
    copied = set(re.findall(r"^COPY (\w+) \1$", (ROOT / "deploy" / "Containerfile").read_text(), flags=re.M))
    assert packages and packages == copied, (packages, copied)
