"""One settings tree (intake/platform/settings): read and checked once at start, then passed down.

Checked here: no module of the service reads the environment for its configuration (only the documented
exceptions below), the settings are read only where a process starts, every variable's bad value is refused naming
the variable, secrets stay out of reprs, and docs/configuration.md is the tree's one list of variables.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import pytest

from intake.platform.settings import SettingError, Settings
from intake.platform.settings.table import render
from intake.platform.settings.variables import documented, text

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("intake", "sms", "bot", "notifications", "matching")
SETTINGS_PACKAGE = "intake/platform/settings/"
# Modules that touch os.environ for something other than reading reunite's configuration.
ENVIRON_EXCEPTIONS = {
    "intake/runtime.py": "sets NUMBA_CACHE_DIR for numba (a library's variable) before numba starts",
    "intake/platform/backup/databases.py": "hands the environment on to pg_dump and psql, with PGPASSWORD",
}
# Where a process starts, and so reads the settings (every other module is given them).
READERS = {
    "intake/cli/support.py": "every `reunite` command",
    "intake/web/__init__.py": "create_app when no runtime is given (a WSGI server importing the app)",
    "intake/migrations/env.py": "alembic run on its own (`alembic upgrade head`)",
    "intake/platform/crypto.py": "a process that never started a runtime (alembic's data migrations)",
}
# Variables the docs name that reunite's service does not read: the test suite's and the benchmarks'.
NOT_SETTINGS = {"REUNITE_TEST_PG_URL", "REUNITE_TEST_REQUIRE_PG", "REUNITE_BENCH_PG_URL", "NUMBA_CACHE_DIR"}
VARIABLE = re.compile(
    r"\b(?:(?:REUNITE|TWILIO|TELEGRAM|SMTP)_[A-Z0-9_]*[A-Z0-9]|PUBLIC_BASE_URL|DATABASE_URL)\b"
)


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if "/migrations/versions/" not in name:
                found.append((name, ast.parse(path.read_text(encoding="utf-8"), name)))
    return found


def _reads_environment(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os":
        return node.attr in ("environ", "getenv", "environb", "putenv")
    if isinstance(node, ast.ImportFrom) and node.module == "os":
        return any(alias.name in ("environ", "getenv") for alias in node.names)
    return isinstance(node, ast.ImportFrom) and node.module == "dotenv"


def test_no_module_reads_the_environment_for_its_configuration():
    offenders = sorted(
        f"{name}:{node.lineno}"
        for name, tree in _modules()
        for node in ast.walk(tree)
        if _reads_environment(node)
        and not name.startswith(SETTINGS_PACKAGE)
        and name not in ENVIRON_EXCEPTIONS
    )
    assert offenders == [], "read the setting from the Settings tree you are given (intake/platform/settings)"


def test_the_settings_are_read_only_where_a_process_starts():
    callers = sorted(
        {
            name
            for name, tree in _modules()
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr == "from_env"
            and not name.startswith(SETTINGS_PACKAGE)
        }
    )
    assert callers == sorted(READERS)


def test_the_exceptions_are_still_needed():
    """An exception nobody needs any more is taken off the list (so the list says only what is true)."""
    by_name = dict(_modules())
    for name in ENVIRON_EXCEPTIONS:
        assert any(_reads_environment(node) for node in ast.walk(by_name[name])), name


def test_docs_configuration_is_the_trees_one_list_of_variables():
    assert (ROOT / "docs/configuration.md").read_text(encoding="utf-8") == render(), (
        "docs/configuration.md differs from the settings tree: run `make docs-config`"
    )


def test_every_variable_the_docs_name_is_one_the_tree_reads():
    known = {v.name for v, _default in documented(Settings)} | NOT_SETTINGS
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "deploy").rglob("*"))]
    named = {
        (path.name, name)
        for path in files
        if path.is_file() and path.suffix in ("", ".md", ".example", ".env", ".yml", ".yaml", ".service")
        for name in VARIABLE.findall(path.read_text(encoding="utf-8", errors="replace"))
    }
    assert sorted(n for n in named if n[1] not in known) == []


def test_the_defaults_are_the_documented_ones():
    s = Settings.from_env({}, load_dotenv_file=False)
    assert (s.booking_horizon_days, s.reply_mode, s.default_region, s.load_demo_labs) == (
        14,
        "spool",
        "CN",
        True,
    )
    assert (s.twilio.api_base_url, s.telegram.base_url) == (
        "https://api.twilio.com",
        "https://api.telegram.org/bot",
    )
    assert (s.email.port, s.email.sender, s.notifications.max_attempts, s.notifications.family_hours) == (
        25, "reunite@localhost", 10, (8, 21),
    )  # fmt: skip
    assert (s.console.login_rate_limit, s.console.idle_minutes) == ("30/minute", 30)
    assert (s.lab_api.rate_limit, s.lab_api.min_markers, s.lab_api.max_import_bytes) == (
        "120/minute",
        12,
        5242880,
    )


@pytest.mark.parametrize(
    "variable", [v for v, _default in documented(Settings) if v.reader is not text], ids=lambda v: v.name
)
def test_a_bad_value_of_any_checked_variable_is_refused_naming_it(variable):
    with pytest.raises(SettingError, match=re.escape(variable.name)):
        Settings.from_env({variable.name: "\x01 not this"}, load_dotenv_file=False)


def test_the_telegram_token_has_one_check_for_the_bot_the_webhook_and_the_worker():
    """The worker once took any token, the bot BotFather's shape only: now both read settings.telegram."""
    with pytest.raises(SettingError, match="TELEGRAM_BOT_TOKEN is not a bot token"):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "123456:fake-bot-token"}, load_dotenv_file=False)
    token = "123456:" + "A" * 35
    assert (
        Settings.from_env({"TELEGRAM_BOT_TOKEN": f" {token} "}, load_dotenv_file=False).telegram.token
        == token
    )


def test_secrets_are_never_in_a_repr():
    secrets = {
        "TWILIO_AUTH_TOKEN": "twilio-secret-value", "TELEGRAM_BOT_TOKEN": "123456:" + "S" * 30,
        "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-value", "SMTP_PASSWORD": "smtp-secret-value",
        "REUNITE_SECRET_KEY": "console-secret-value", "REUNITE_DATA_KEYS": "data-keys-value",
    }  # fmt: skip
    shown = repr(Settings.from_env(secrets, load_dotenv_file=False))
    assert not [name for name, value in secrets.items() if value in shown]


def test_sections_are_read_from_the_same_environment_once():
    env = {"TWILIO_ACCOUNT_SID": "AC" + "a" * 32, "REUNITE_CONSOLE_IDLE_MINUTES": "45", "SMTP_STARTTLS": "yes",
           "REUNITE_LAB_API_MIN_MARKERS": "15", "PUBLIC_BASE_URL": "https://reunite.example.org/"}  # fmt: skip
    s = Settings.from_env(env, load_dotenv_file=False)
    assert (s.twilio.account_sid, s.console.idle_minutes, s.email.starttls, s.lab_api.min_markers) == (
        "AC" + "a" * 32, 45, True, 15,
    )  # fmt: skip
    assert s.public_base_url == "https://reunite.example.org"
    assert dataclasses.replace(s, reply_mode="inline").twilio is s.twilio  # frozen sections, shared
