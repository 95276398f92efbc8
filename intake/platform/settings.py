"""Configuration read from environment variables (and an optional `.env` file in the working directory).

A malformed setting raises `SettingError`, whose message names the variable, what it holds and what is expected,
so that the `reunite` command can say it in one line.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
MAX_HORIZON_DAYS = 366
MAX_PROXY_HOPS = 10
MAX_RETAIN_DAYS = 36_500  # a hundred years; 0 keeps the data for ever


class SettingError(ValueError):
    """A setting that cannot be used; the message names the variable and what it should hold."""


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """Return the whole number in `env[name]` (default when unset or blank), between `low` and `high`."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise SettingError(f"{name}={raw!r}: expected a whole number from {low} to {high}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Return the yes/no value of `env[name]` (default when unset or blank)."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE_WORDS or raw in FALSE_WORDS:
        return raw in TRUE_WORDS
    raise SettingError(f"{name}={raw!r}: expected 1 or 0 (also true/false, yes/no, on/off)")


# The data folder's subfolder for numba's JIT cache (kept out of backups: it is rebuilt on start).
NUMBA_CACHE_FOLDER = "numba-cache"


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    """Return DATABASE_URL (default: SQLite in the data folder), checked to be a SQLAlchemy URL."""
    url = env.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'reunite.sqlite3'}"
    try:
        make_url(url)
    except ArgumentError:
        raise SettingError(
            "DATABASE_URL is not a database URL: expected e.g. postgresql+psycopg://user:pass@host:5432/reunite"
            " or sqlite:///path/to/reunite.sqlite3"
        ) from None
    return url


def _base_url(env: Mapping[str, str]) -> str | None:
    """Return PUBLIC_BASE_URL if set, checked to be an http(s) URL with a host."""
    raw = env.get("PUBLIC_BASE_URL", "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SettingError(f"PUBLIC_BASE_URL={raw!r}: expected a URL such as https://reunite.example.org")
    return raw


@dataclass(frozen=True)
class Settings:
    """Every setting reunite reads; see the configuration table in the README."""

    data_dir: Path
    database_url: str
    public_base_url: str | None = None
    twilio_auth_token: str | None = None
    twilio_account_sid: str | None = None
    twilio_from_number: str | None = None
    # Twilio's REST API, where MMS media live (a fake server's URL in tests): MediaUrl must point there
    twilio_api_base_url: str = "https://api.twilio.com"
    booking_horizon_days: int = 14
    load_demo_labs: bool = True
    trust_proxy_hops: int = 0
    default_region: str = "CN"  # how a phone number written without + is read (ISO 3166 region)
    # How webhooks answer (docs/architecture.md, "The spool"): "spool" stores the delivery and answers at once,
    # dialogue workers answer through the provider's API; "inline" runs the dialogue in the request and answers
    # in the response (TwiML), for small installations.
    reply_mode: str = "spool"
    # How long data is kept, in days (0: for ever); `reunite retention` and the worker enforce them
    # (intake/cases/retention.py, docs/reliability.md "Privacy").
    retain_messages_days: int = 365
    retain_notifications_days: int = 90
    retain_closed_cases_days: int = 730
    retain_case_photos_days: int = 30
    retain_failed_days: int = 180
    retain_match_jobs_days: int = 90
    # REUNITE_DATA_KEYS as given (intake.platform.crypto reads it); never in a repr, so never in a log
    data_keys: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, load_dotenv_file: bool = True) -> Settings:
        """Build settings from `env` (default: the process environment, after loading `.env`)."""
        if env is None:
            if load_dotenv_file:
                load_dotenv(Path.cwd() / ".env", override=False)
            env = dict(os.environ)
        data_dir = Path(env.get("REUNITE_DATA_DIR") or Path.cwd() / "data").expanduser().resolve()
        return cls(
            data_dir=data_dir,
            database_url=_database_url(env, data_dir),
            public_base_url=_base_url(env),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
            twilio_api_base_url=(env.get("TWILIO_API_BASE_URL") or "https://api.twilio.com")
            .strip()
            .rstrip("/"),
            booking_horizon_days=_whole_number(env, "REUNITE_BOOKING_HORIZON_DAYS", 14, 1, MAX_HORIZON_DAYS),
            load_demo_labs=_flag(env, "REUNITE_DEMO_LABS", True),
            trust_proxy_hops=_whole_number(env, "REUNITE_TRUST_PROXY_HOPS", 0, 0, MAX_PROXY_HOPS),
            default_region=(env.get("REUNITE_DEFAULT_REGION") or "CN").strip().upper(),
            reply_mode=_choice(env, "REUNITE_REPLY_MODE", REPLY_MODES),
            retain_messages_days=_days(env, "REUNITE_RETAIN_MESSAGES_DAYS", 365),
            retain_notifications_days=_days(env, "REUNITE_RETAIN_NOTIFICATIONS_DAYS", 90),
            retain_closed_cases_days=_days(env, "REUNITE_RETAIN_CLOSED_CASES_DAYS", 730),
            retain_case_photos_days=_days(env, "REUNITE_RETAIN_CASE_PHOTOS_DAYS", 30),
            retain_failed_days=_days(env, "REUNITE_RETAIN_FAILED_DAYS", 180),
            retain_match_jobs_days=_days(env, "REUNITE_RETAIN_MATCH_JOBS_DAYS", 90),
            data_keys=env.get("REUNITE_DATA_KEYS", "").strip() or None,
        )


REPLY_MODES = ("spool", "inline")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """Return `env[name]` if it is one of `choices` (the first when unset or blank)."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return choices[0]
    if raw not in choices:
        raise SettingError(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return raw


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    """Return a retention period in days (0: keep for ever)."""
    return _whole_number(env, name, default, 0, MAX_RETAIN_DAYS)
