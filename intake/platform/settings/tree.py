"""Every setting reunite reads, as one tree: the core's at the root, one section per adapter and per web part.

Read once when a process starts (`Settings.from_env`, called by the `reunite` commands and by `create_app`),
checked as it is read, and then passed down: the runtime carries it to the web apps, the workers and the
adapters, and every database session carries it too (`session_settings`), for code that has only a session. No
module reads the environment for its configuration after that (tests/test_settings.py checks it).
docs/configuration.md, the one list of the variables, is generated from these fields (`make docs-config`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session

from intake.platform.settings.variables import (
    SettingError,
    choice,
    flag,
    hours,
    number,
    rate_limit,
    read,
    region,
    section,
    shaped,
    url,
    variable,
    whole,
)

MAX_HORIZON_DAYS = 366
MAX_PROXY_HOPS = 10
MAX_RETAIN_DAYS = 36_500  # a hundred years; 0 keeps the data for ever
REPLY_MODES = ("spool", "inline")
TWILIO_API = "https://api.twilio.com"
TELEGRAM_API = "https://api.telegram.org/bot"
# The data folder's subfolder for numba's JIT cache (kept out of backups: it is rebuilt on start).
NUMBA_CACHE_FOLDER = "numba-cache"
SETTINGS_INFO_KEY = "reunite_settings"  # where a session's `info` carries the settings (Runtime.start)
DAYS = whole(0, MAX_RETAIN_DAYS)
PER_SECOND = number(0, 10000)


def telegram_api(name: str, raw: str) -> str:
    """The Bot API server in python-telegram-bot's `base_url` meaning (ends in /bot); the server alone also works."""
    base = str(url("http://127.0.0.1:8081/bot")(name, raw))
    return base if base.endswith("/bot") else base + "/bot"


@dataclass(frozen=True)
class TwilioSettings:
    """Twilio, both ways: the inbound webhook's signatures, the sending of SMS, the download of MMS photos."""

    account_sid: str | None = variable(
        "TWILIO_ACCOUNT_SID",
        "your Twilio account SID: outgoing notifications and the dialogue's replies in the spool mode, and"
        " downloading MMS photos (with `TWILIO_AUTH_TOKEN`; without both they wait); when set, the webhook takes"
        " media of this account only",
        reader=shaped("AC[0-9a-fA-F]{32}", " is not an account SID: expected AC and 32 hexadecimal digits"),
    )
    auth_token: str | None = variable(
        "TWILIO_AUTH_TOKEN",
        "your Twilio auth token; the SMS webhook answers 503 until it is set",
        secret=True,
    )
    from_number: str | None = variable("TWILIO_FROM_NUMBER", "the Twilio number messages are sent from")
    api_base_url: str = variable(
        "TWILIO_API_BASE_URL",
        "where Twilio's REST API is (tests point it at a fake); also the only place the SMS webhook takes"
        " `MediaUrl`s from and MMS photos are downloaded from",
        TWILIO_API,
        reader=url(TWILIO_API),
    )

    @property
    def can_send(self) -> bool:
        """Tell whether SMS can be sent through Twilio's API (account, token and number are all set)."""
        return bool(self.account_sid and self.auth_token and self.from_number)


@dataclass(frozen=True)
class TelegramSettings:
    """Telegram, both ways: the bot's token, where its Bot API server is, the webhook's secret."""

    token: str | None = variable(
        "TELEGRAM_BOT_TOKEN",
        "the bot's token from BotFather; the Telegram webhook answers 503, `reunite bot` refuses to start and"
        " Telegram notifications wait until it is set",
        reader=shaped(
            r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}",
            " is not a bot token: expected 123456:ABC... as BotFather gives it",
        ),
        secret=True,
    )
    base_url: str = variable(
        "TELEGRAM_API_BASE_URL",
        "the Bot API server, with python-telegram-bot's `base_url` meaning: the token is appended"
        " (`http://127.0.0.1:8081/bot` for a self-hosted server; the server alone, without `/bot`, works too);"
        " files are fetched from the same server's `/file/bot`",
        TELEGRAM_API,
        reader=telegram_api,
    )
    webhook_secret: str | None = variable(
        "TELEGRAM_WEBHOOK_SECRET",
        "16-256 characters `A-Z a-z 0-9 _ -`; Telegram sends it in `X-Telegram-Bot-Api-Secret-Token`, and the"
        " webhook answers 403 to any call without it (503 while it is unset)",
        reader=shaped(r"[A-Za-z0-9_-]{16,256}", ": expected 16 to 256 characters of A-Z, a-z, 0-9, _ and -"),
        secret=True,
    )

    @property
    def base_file_url(self) -> str:
        """Return where files are downloaded: `<server>/file/bot<token>/<path>` beside `<server>/bot<token>`."""
        head, sep, _tail = self.base_url.rstrip("/").rpartition("/bot")
        return f"{head}/file/bot" if sep else self.base_url.rstrip("/") + "/file/bot"


@dataclass(frozen=True)
class EmailSettings:
    """The mail server officers' e-mail alerts go through."""

    host: str | None = variable(
        "SMTP_HOST", "the mail server for officers' e-mail; e-mails wait until it is set"
    )
    port: int = variable("SMTP_PORT", "its port", 25, reader=whole(1, 65535))
    sender: str = variable("SMTP_FROM", "the sender address", "reunite@localhost")
    user: str | None = variable("SMTP_USER", "the login, when the server needs one")
    password: str | None = variable("SMTP_PASSWORD", "its password", secret=True)
    starttls: bool = variable("SMTP_STARTTLS", "1: STARTTLS before the login", False, reader=flag)


@dataclass(frozen=True)
class NotificationSettings:
    """How the notification worker retries, leases and spaces its sends (docs/notifications.md)."""

    base_delay_seconds: float = variable(
        "REUNITE_RETRY_BASE_SECONDS", "the first retry's backoff ceiling in seconds (doubles per attempt)", 30.0,
        reader=number(0.01, 86400),
    )  # fmt: skip
    max_delay_seconds: float = variable(
        "REUNITE_RETRY_MAX_SECONDS", "the longest backoff, in seconds", 3600.0, reader=number(0.01, 7 * 86400)
    )
    max_attempts: int = variable(
        "REUNITE_NOTIFY_MAX_ATTEMPTS", "attempts before a temporary failure counts as permanent", 10,
        reader=whole(1, 100),
    )  # fmt: skip
    lease_seconds: float = variable(
        "REUNITE_NOTIFY_LEASE_SECONDS",
        "how long a claimed row is a worker's; a row still `sending` after that is taken over (a worker died)",
        300.0,
        reader=number(1, 86400),
    )
    sms_per_second: float = variable(
        "REUNITE_SMS_PER_SECOND",
        "SMS sent per second, per worker process (0: no limit)",
        0.0,
        reader=PER_SECOND,
    )
    telegram_per_second: float = variable(
        "REUNITE_TELEGRAM_PER_SECOND", "Telegram messages sent per second, per worker process (0: no limit)", 0.0,
        reader=PER_SECOND,
    )  # fmt: skip
    email_per_second: float = variable(
        "REUNITE_EMAIL_PER_SECOND", "e-mails sent per second, per worker process (0: no limit)", 0.0,
        reader=PER_SECOND,
    )  # fmt: skip
    family_hours: tuple[int, int] = variable(
        "REUNITE_FAMILY_HOURS",
        "hours of the day, China time, in which families are messaged (`0-24`: any hour); officers' alerts go"
        " at once",
        (8, 21),
        reader=hours,
    )
    send_threads: int = variable(
        "REUNITE_NOTIFY_THREADS",
        "sends a worker process has in flight at once: a provider answers in tens to hundreds of milliseconds,"
        " and one send at a time caps a worker at a few messages a second; a contact's messages still go one"
        " after the other; 8 measured well on PostgreSQL (docs/deploy.md)",
        1,
        reader=whole(1, 64),
    )
    timeout_seconds: float = 10.0  # how long a provider may take to answer one send
    batch_size: int = 32  # notifications claimed per pass (at most one reply per contact in a pass)


@dataclass(frozen=True)
class ConsoleSettings:
    """The officers' console (docs/console.md)."""

    secret_key: str | None = variable(
        "REUNITE_SECRET_KEY",
        "signs the officers' console session cookies; set it when several machines serve the console",
        shown="generated into `$REUNITE_DATA_DIR/secret_key`",
        secret=True,
    )
    login_rate_limit: str = variable(
        "REUNITE_CONSOLE_LOGIN_RATE_LIMIT", "console login attempts per address (Flask-Limiter notation)",
        "30/minute", reader=rate_limit,
    )  # fmt: skip
    rate_limit_storage: str = variable(
        "REUNITE_CONSOLE_RATE_LIMIT_STORAGE",
        "where the login counts live; `redis://host:6379` to share them between processes",
        "memory://",
    )
    idle_minutes: int = variable(
        "REUNITE_CONSOLE_IDLE_MINUTES", "a console session unused this long ends (the officer logs in again)", 30,
        reader=whole(1, 7 * 24 * 60),
    )  # fmt: skip


@dataclass(frozen=True)
class LabApiSettings:
    """The labs' API (docs/labs-api.md)."""

    rate_limit: str = variable(
        "REUNITE_LAB_API_RATE_LIMIT",
        "requests per key (Flask-Limiter notation)",
        "120/minute",
        reader=rate_limit,
    )
    rate_limit_storage: str = variable(
        "REUNITE_LAB_API_RATE_LIMIT_STORAGE",
        "where the counts live; `redis://host:6379` to share them between processes",
        "memory://",
    )
    min_markers: int = variable(
        "REUNITE_LAB_API_MIN_MARKERS",
        "fewest autosomal STR markers a profile needs",
        12,
        reader=whole(1, 100),
    )
    max_import_bytes: int = variable(
        "REUNITE_LAB_API_MAX_IMPORT_BYTES",
        "largest GeneMapper file, in bytes; JSON bodies keep the service's 64 KB limit",
        5 * 1024 * 1024,
        reader=whole(1, 1024 * 1024 * 1024),
    )


@dataclass(frozen=True)
class Settings:
    """Every setting reunite reads; docs/configuration.md lists them (generated from these fields)."""

    data_dir: Path = variable(
        "REUNITE_DATA_DIR", "the data folder; holds the SQLite database by default", shown="`./data`"
    )
    database_url: str = variable(
        "DATABASE_URL",
        "SQLAlchemy URL; for PostgreSQL `postgresql+psycopg://user:pass@host:5432/reunite`",
        shown="`sqlite:///$REUNITE_DATA_DIR/reunite.sqlite3`",
    )
    public_base_url: str | None = variable(
        "PUBLIC_BASE_URL",
        "the public base URL Twilio calls, e.g. `https://reunite.example.org`; signatures are checked against"
        " `PUBLIC_BASE_URL + /sms/inbound`, delivery reports and officers' links use it, console cookies are"
        " `Secure` when it is https. Unset: the URL as the server sees it",
        reader=url("https://reunite.example.org"),
    )
    trust_proxy_hops: int = variable(
        "REUNITE_TRUST_PROXY_HOPS",
        "how many reverse proxies (0 to 10) to trust for `X-Forwarded-For/Proto/Host/Port`",
        0,
        reader=whole(0, MAX_PROXY_HOPS),
    )
    reply_mode: str = variable(
        "REUNITE_REPLY_MODE",
        "`spool`: the webhooks store each delivery and answer at once, dialogue workers answer through the"
        " providers' APIs (SQLite: inside `reunite serve`); `inline`: the dialogue runs in the webhook's request"
        " and its replies are in the answer (TwiML), for small installations. The SMS webhook answers inline"
        ' while `TWILIO_ACCOUNT_SID` or `TWILIO_FROM_NUMBER` is unset (docs/architecture.md, "The spool")',
        REPLY_MODES[0],
        reader=choice(*REPLY_MODES),
    )
    spool_hold_above: float = variable(
        "REUNITE_SPOOL_HOLD_ABOVE",
        "the dialogue workers hold back while the spool grows faster than this many deliveries a second (0: never),"
        " so that in a peak the webhooks sharing their cores accept first; the spool is drained when the peak"
        " passes. Set it where the workers share the web's machine, to about what they drain (docs/reliability.md,"
        ' "Acceptance first")',
        0.0,
        reader=number(0, 1_000_000),
    )
    spool_hold_max_seconds: float = variable(
        "REUNITE_SPOOL_HOLD_MAX_SECONDS",
        "the longest the dialogue workers hold back in one peak; a longer peak is drained as it goes",
        60.0,
        reader=number(1, 3600),
    )
    load_demo_labs: bool = variable(
        "REUNITE_DEMO_LABS",
        "load the demo lab directory when the lab directory is empty; set `0` in production",
        True,
        reader=flag,
    )
    booking_horizon_days: int = variable(
        "REUNITE_BOOKING_HORIZON_DAYS",
        "how far ahead appointments can be booked (1 to 366 days)",
        14,
        reader=whole(1, MAX_HORIZON_DAYS),
    )
    default_region: str = variable(
        "REUNITE_DEFAULT_REGION",
        "the region (ISO 3166 code) in which an SMS sender's number written without `+` is read",
        "CN",
        reader=region,
    )
    # How long data is kept, in days (0: for ever); `reunite retention` and the worker enforce them
    # (intake/cases/retention.py, docs/reliability.md "Privacy").
    retain_messages_days: int = variable(
        "REUNITE_RETAIN_MESSAGES_DAYS",
        'days the text of messages in and out is kept (0: for ever; what each period erases: docs/reliability.md, "Retention")',
        365,
        reader=DAYS,
    )
    retain_notifications_days: int = variable(
        "REUNITE_RETAIN_NOTIFICATIONS_DAYS",
        "days a finished notification's address and parameters are kept (0: for ever)",
        90,
        reader=DAYS,
    )
    retain_closed_cases_days: int = variable(
        "REUNITE_RETAIN_CLOSED_CASES_DAYS",
        "days the personal details of a closed case are kept (0: for ever)",
        730,
        reader=DAYS,
    )
    retain_case_photos_days: int = variable(
        "REUNITE_RETAIN_CASE_PHOTOS_DAYS",
        "days the photos of a closed case are kept (0: for ever)",
        30,
        reader=DAYS,
    )
    retain_failed_days: int = variable(
        "REUNITE_RETAIN_FAILED_DAYS",
        "days the errors of failed inbound messages and parked match jobs are kept (0: for ever)",
        180,
        reader=DAYS,
    )
    retain_match_jobs_days: int = variable(
        "REUNITE_RETAIN_MATCH_JOBS_DAYS",
        "days finished matching jobs are kept (0: for ever)",
        90,
        reader=DAYS,
    )
    # intake.platform.crypto reads it; never in a repr, so never in a log
    data_keys: str | None = variable(
        "REUNITE_DATA_KEYS",
        "the keys that encrypt genotypes, match evidence and photos at rest, comma-separated, newest first"
        " (`reunite keys new` makes one); required with PostgreSQL; keep them off the database host and its"
        ' backups (docs/reliability.md, "Encryption at rest")',
        shown="generated into `$REUNITE_DATA_DIR/data_keys` (SQLite only)",
        secret=True,
    )
    twilio: TwilioSettings = section(TwilioSettings)
    telegram: TelegramSettings = section(TelegramSettings)
    email: EmailSettings = section(EmailSettings)
    notifications: NotificationSettings = section(NotificationSettings)
    console: ConsoleSettings = section(ConsoleSettings)
    lab_api: LabApiSettings = section(LabApiSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, load_dotenv_file: bool = True) -> Settings:
        """Read and check every setting from `env` (default: the process environment, after loading `.env`)."""
        if env is None:
            if load_dotenv_file:
                load_dotenv(Path.cwd() / ".env", override=False)
            env = dict(os.environ)
        data_dir = Path(env.get("REUNITE_DATA_DIR", "").strip() or Path.cwd() / "data").expanduser().resolve()
        database_url = env.get("DATABASE_URL", "").strip() or f"sqlite:///{data_dir / 'reunite.sqlite3'}"
        try:
            make_url(database_url)
        except ArgumentError:
            raise SettingError(
                "DATABASE_URL is not a database URL: expected e.g. postgresql+psycopg://user:pass@host:5432/reunite"
                " or sqlite:///path/to/reunite.sqlite3"
            ) from None
        return read(cls, env, data_dir=data_dir, database_url=database_url)

    @classmethod
    def default(cls, data_dir: Path) -> Settings:
        """Return the defaults with `data_dir` as the data folder (tests and benchmarks, no environment read)."""
        return cls.from_env({"REUNITE_DATA_DIR": str(data_dir)})


def session_settings(session: Session) -> Settings | None:
    """Return the settings a session carries (every session of a started runtime does), else None."""
    found = session.info.get(SETTINGS_INFO_KEY)
    return found if isinstance(found, Settings) else None
