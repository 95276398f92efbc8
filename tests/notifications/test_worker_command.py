"""`reunite worker` as an operator runs it: a real process that sends what is queued, and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from intake.models import Channel, Contact
from intake.outbox.queue import notify_family
from intake.platform.db import transaction
from intake.platform.settings import Settings
from intake.runtime import Runtime
from tests.support.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER

REUNITE = [sys.executable, "-c", "from intake.cli import main; main()"]


def _env(tmp_path: Path, fake_twilio) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "TELEGRAM_", "SMTP_", "DATABASE_"))
    }
    env.update(REUNITE_DATA_DIR=str(tmp_path / "data"), TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
               TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE_URL=fake_twilio.base_url, REUNITE_FAMILY_HOURS="0-24")  # fmt: skip
    return env


def _queue(tmp_path: Path, number: str) -> None:
    settings = Settings.from_env({"REUNITE_DATA_DIR": str(tmp_path / "data")}, load_dotenv_file=False)
    rt = Runtime.start(settings, demo_labs=False)
    with transaction(rt.session_factory) as session:
        contact = Contact(channel=Channel.SMS, address=number, language="en")
        session.add(contact)
        session.flush()
        notify_family(session, contact=contact, key=f"cli:{number}", template="sample.received",
                      params={"code": "K7QX-M2PD", "reference": "MC-2026-TEST01"})  # fmt: skip
    rt.engine.dispose()


def test_worker_once_sends_what_is_queued(tmp_path, fake_twilio):
    _queue(tmp_path, "+8613800000009")
    done = subprocess.run([*REUNITE, "worker", "--once"], capture_output=True, text=True, cwd=tmp_path,
                          env=_env(tmp_path, fake_twilio), timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "sending on sms" in done.stdout
    (body,) = fake_twilio.bodies_to("+8613800000009")
    assert body.startswith("reunite, case MC-2026-TEST01: the lab has received your DNA sample K7QX-M2PD")


def test_the_worker_runs_until_sigterm(tmp_path, fake_twilio):
    _queue(tmp_path, "+8613800000010")
    process = subprocess.Popen([*REUNITE, "worker", "--interval", "0.2"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=_env(tmp_path, fake_twilio))  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not fake_twilio.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(fake_twilio.messages) == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert len(fake_twilio.messages) == 1
