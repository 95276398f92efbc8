"""The `reunite` command as a person runs it: a real process on a fresh data folder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REUNITE = [sys.executable, "-c", "from intake.cli import main; main()"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TWILIO_AUTH_TOKEN")}
    env["REUNITE_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_chat_runs_a_conversation_on_a_fresh_data_folder(tmp_path):
    result = subprocess.run(
        [*REUNITE, "chat", "--as", "tester"],
        input="帮助\nHELP\n",
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("reunite> ") >= 2
    assert (tmp_path / "data" / "reunite.sqlite3").exists()


def test_db_upgrade_creates_the_database(tmp_path):
    result = subprocess.run(
        [*REUNITE, "db", "upgrade"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "current" in result.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_healthz_with_a_production_server(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [*REUNITE, "serve", "--port", str(port)],
        env=_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    body = json.loads(response.read())
                    server = response.headers.get("Server", "")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not come up: {proc.stdout.read() if proc.stdout else ''}")
                time.sleep(0.2)
        assert body == {"status": "ok", "database": "sqlite"}
        assert "waitress" in server.lower() or "reunite" in server.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
