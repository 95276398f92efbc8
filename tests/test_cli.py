"""The `reunite` command as a person runs it: a real process on a fresh data folder."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REUNITE = [sys.executable, "-c", "from intake.cli import main; main()"]


def _env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "TWILIO_AUTH_TOKEN", "NUMBA_CACHE_DIR")
    }
    env["REUNITE_DATA_DIR"] = str(tmp_path / "data")
    env.update(settings)
    return env


def _reunite(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `reunite ARGS` in `tmp_path` with a fresh data folder and these extra environment settings."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [*REUNITE, *args],
        capture_output=True,
        text=True,
        env=_env(tmp_path, **settings),
        cwd=tmp_path,
        timeout=120,
    )


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
    assert "INFO" not in result.stdout + result.stderr  # no migration chatter before the conversation


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


def test_commands_keep_migration_chatter_quiet_unless_verbose(tmp_path):
    quiet = _reunite(tmp_path / "quiet", "db", "upgrade")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    verbose = _reunite(tmp_path / "verbose", "-v", "db", "upgrade")
    assert verbose.returncode == 0, verbose.stderr
    assert "INFO alembic.runtime.migration: Running upgrade" in verbose.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_and_ask_healthz(
    tmp_path: Path, *args: str, children: list[int] | None = None, **settings: str
) -> tuple[dict[str, object], str, str]:
    """Run `reunite serve`, wait for /healthz; return its body, the Server header and what serve printed.

    `children`, if given, receives the ids of the processes serve started (Linux's /proc), read while it runs,
    once there are as many as the list held zeros (gunicorn may still be forking when the first one answers).
    """
    port = _free_port()
    proc = subprocess.Popen(
        [*REUNITE, "serve", "--port", str(port), *args],
        env=_env(tmp_path, **settings),
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
        if children is not None:
            expected, found = len(children), []
            while len(found) < expected and time.monotonic() < deadline:
                found = _child_processes(proc.pid)
                time.sleep(0.1)
            children[:] = found
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    return body, server, output


def _child_processes(pid: int) -> list[int]:
    """The ids of `pid`'s child processes, from /proc (Linux)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def test_serve_answers_healthz_with_a_production_server(tmp_path):
    body, server, output = _serve_and_ask_healthz(tmp_path)
    assert body == {"status": "ok", "database": "sqlite", "kinship_kernel": "numba",
                    "spool": {"waiting": 0, "given_up": 0}}  # fmt: skip
    assert "waitress" in server.lower() or "reunite" in server.lower()
    assert "numba" not in output
    assert "INFO" not in output  # waitress's and Alembic's progress lines are for -v


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="counts processes through Linux's /proc")
def test_serve_with_several_workers_forks_that_many_gunicorn_processes(tmp_path):
    children = [0, 0]
    body, server, output = _serve_and_ask_healthz(
        tmp_path, "--workers", "2", "--threads", "2", children=children
    )
    assert body["status"] == "ok"
    assert server.lower().startswith("gunicorn")
    assert "2 process(es) x 2 threads" in output
    assert len(children) == 2 and 0 not in children, children


def test_serve_warns_in_one_line_and_in_healthz_when_numba_is_missing(tmp_path):
    hidden = tmp_path / "no-numba"
    (hidden / "numba").mkdir(parents=True)
    (hidden / "numba" / "__init__.py").write_text('raise ImportError("numba hidden by the test")\n')
    body, _server, output = _serve_and_ask_healthz(tmp_path, PYTHONPATH=str(hidden))
    assert body["kinship_kernel"] == "numpy"
    warnings = [line for line in output.splitlines() if "numba" in line]
    assert warnings == ["warning: numba is not available: kinship scans use the numpy path (5-10x slower)."]


# Where numba will keep matching.fast's kernels, after the runtime started; then one small function is compiled
# and cached, to show the folder is really used (compiling the parallel kernels themselves takes far longer).
CACHE_PATHS = """
from intake.platform.settings import Settings
from intake.runtime import Runtime
Runtime.start(Settings.from_env())
import numba
from matching import fast
@numba.njit(cache=True)
def square(x):
    return x * x
assert square(3) == 9
print(fast._sum_jit[0]._cache._cache_path)
print(fast._above_jit[0]._cache._cache_path)
"""


def test_numba_caches_its_kernels_in_the_data_folder_unless_told_otherwise(tmp_path):
    script = tmp_path / "cache_paths.py"  # numba caches only functions defined in a file
    script.write_text(CACHE_PATHS)
    result = subprocess.run(
        [sys.executable, str(script)], env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    cache = tmp_path / "data" / "numba-cache"
    assert [Path(line).is_relative_to(cache) for line in result.stdout.split()] == [True, True]
    assert list(cache.rglob("*.nbi")), "numba wrote no cache index under the data folder"

    chosen = tmp_path / "my-cache"
    env = {**_env(tmp_path), "NUMBA_CACHE_DIR": str(chosen)}
    result = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert [Path(line).is_relative_to(chosen) for line in result.stdout.split()] == [True, True]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"REUNITE_BOOKING_HORIZON_DAYS": "abc"},
            "REUNITE_BOOKING_HORIZON_DAYS='abc': expected a whole number",
        ),
        (
            {"REUNITE_BOOKING_HORIZON_DAYS": "0"},
            "REUNITE_BOOKING_HORIZON_DAYS='0': expected a whole number from 1",
        ),
        ({"REUNITE_TRUST_PROXY_HOPS": "-1"}, "REUNITE_TRUST_PROXY_HOPS='-1': expected a whole number from 0"),
        ({"REUNITE_DEMO_LABS": "maybe"}, "REUNITE_DEMO_LABS='maybe': expected 1 or 0"),
        ({"PUBLIC_BASE_URL": "reunite.example.org"}, "PUBLIC_BASE_URL='reunite.example.org': expected a URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
        ({"DATABASE_URL": "nosuchdb://x/y"}, "DATABASE_URL names an unknown or missing database driver"),
        (
            {"DATABASE_URL": "postgresql+nosuch://x/y"},
            "DATABASE_URL names an unknown or missing database driver",
        ),
    ],
)
def test_a_malformed_setting_is_one_line_that_names_it(tmp_path, settings, expected):
    result = _reunite(tmp_path, "serve", "--port", str(_free_port()), **settings)
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: bad configuration: {expected}")


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path):
    url = f"postgresql+psycopg://postgres:s3cret@127.0.0.1:{_free_port()}/reunite"
    result = _reunite(tmp_path, "chat", DATABASE_URL=url)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        "Error: cannot start: cannot reach the database at postgresql+psycopg://postgres:***@127.0.0.1:"
    )
    assert "s3cret" not in result.stdout + result.stderr


def test_serve_on_a_port_in_use_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _reunite(tmp_path, "serve", "--port", str(port))
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert (
        result.stderr.strip().splitlines()[-1]
        == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"
    )


def test_a_command_imports_only_what_it_runs() -> None:
    """`reunite` imports a command's module when that command runs: `reunite match` loads neither the web stack
    nor Telegram's library nor the gazetteer's pinyin, and importing the models hashes no password."""
    code = (
        "import sys, time; from intake.cli import main; import intake.models.officers as o; "
        "t = time.process_time(); main(['match', '--help'], standalone_mode=False); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'telegram', 'pypinyin', 'waitress'})); "
        "print(o._dummy_hash.cache_info().currsize)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip().splitlines()[-2:] == ["[]", "0"], done.stdout + done.stderr
    listed = subprocess.run([*REUNITE, "--help"], capture_output=True, text=True, check=True, timeout=120)
    for name in ("match", "labs", "chat", "restore", "flags", "worker", "serve", "synth"):
        assert re.search(rf"^\s+{name}\s+\S", listed.stdout, re.M), (
            listed.stdout
        )  # every command still listed
