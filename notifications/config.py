"""The notification worker's settings: where the providers are and how to retry, from environment variables.

Twilio's account, token and number are the service's own settings (`intake.platform.settings.Settings`); the rest is read
here, so the core's settings do not grow with every provider. A malformed value raises `SettingError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from intake.platform.settings import SettingError, Settings

TWILIO_API = "https://api.twilio.com"
TELEGRAM_API = "https://api.telegram.org"


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise SettingError(f"{name}={raw!r}: expected a number from {low:g} to {high:g}")
    return value


def _hours(env: Mapping[str, str], name: str, default: tuple[int, int]) -> tuple[int, int]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    start, _, end = raw.partition("-")
    if start.isdigit() and end.isdigit() and 0 <= int(start) < int(end) <= 24:
        return int(start), int(end)
    raise SettingError(f"{name}={raw!r}: expected hours FROM-TO in China time, e.g. 8-21 (0-24: any hour)")


@dataclass(frozen=True)
class WorkerSettings:
    """Providers and retry policy of `reunite worker`; see docs/notifications.md."""

    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_api_base_url: str = TWILIO_API
    status_callback_base_url: str | None = None  # PUBLIC_BASE_URL: Twilio posts delivery reports there
    telegram_bot_token: str | None = None
    telegram_api_base_url: str = TELEGRAM_API
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "reunite@localhost"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    timeout_seconds: float = 10.0
    base_delay_seconds: float = 30.0  # first retry after about this long, doubling each time (with jitter)
    max_delay_seconds: float = 3600.0
    max_attempts: int = 10
    lease_seconds: float = 300.0  # a claimed row not finished by then is taken over by another worker
    batch_size: int = 20
    # Sends per second on each channel, per worker process (0: no limit); see docs/notifications.md.
    sms_per_second: float = 0.0
    telegram_per_second: float = 0.0
    email_per_second: float = 0.0
    # Hours of the day in China (from, to) in which families are messaged; officers' alerts go at any hour.
    family_hours: tuple[int, int] = (8, 21)

    @classmethod
    def from_env(cls, settings: Settings, env: Mapping[str, str] | None = None) -> WorkerSettings:
        env = dict(os.environ) if env is None else env
        return cls(
            twilio_account_sid=settings.twilio_account_sid,
            twilio_auth_token=settings.twilio_auth_token,
            twilio_from_number=settings.twilio_from_number,
            twilio_api_base_url=(env.get("TWILIO_API_BASE_URL") or TWILIO_API).rstrip("/"),
            status_callback_base_url=settings.public_base_url,
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_base_url=(env.get("TELEGRAM_API_BASE_URL") or TELEGRAM_API).rstrip("/"),
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=int(_number(env, "SMTP_PORT", 25, 1, 65535)),
            smtp_from=env.get("SMTP_FROM") or "reunite@localhost",
            smtp_user=env.get("SMTP_USER") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_starttls=(env.get("SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes", "on")),
            base_delay_seconds=_number(env, "REUNITE_RETRY_BASE_SECONDS", 30, 0.01, 86400),
            max_delay_seconds=_number(env, "REUNITE_RETRY_MAX_SECONDS", 3600, 0.01, 7 * 86400),
            max_attempts=int(_number(env, "REUNITE_NOTIFY_MAX_ATTEMPTS", 10, 1, 100)),
            lease_seconds=_number(env, "REUNITE_NOTIFY_LEASE_SECONDS", 300, 1, 86400),
            sms_per_second=_number(env, "REUNITE_SMS_PER_SECOND", 0, 0, 10000),
            telegram_per_second=_number(env, "REUNITE_TELEGRAM_PER_SECOND", 0, 0, 10000),
            email_per_second=_number(env, "REUNITE_EMAIL_PER_SECOND", 0, 0, 10000),
            family_hours=_hours(env, "REUNITE_FAMILY_HOURS", (8, 21)),
        )
