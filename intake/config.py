"""Configuration read from environment variables (and an optional `.env` file in the working directory)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dotenv import load_dotenv


@dataclass(frozen=True)
class Settings:
    """Every setting reunite reads; see the configuration table in the README."""

    data_dir: Path
    database_url: str
    public_base_url: str | None = None
    twilio_auth_token: str | None = None
    twilio_account_sid: str | None = None
    twilio_from_number: str | None = None
    booking_horizon_days: int = 14
    load_demo_labs: bool = True
    trust_proxy_hops: int = 0
    default_region: str = "CN"  # how a phone number written without + is read (ISO 3166 region)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, *, load_dotenv_file: bool = True) -> Settings:
        """Build settings from `env` (default: the process environment, after loading `.env`)."""
        if env is None:
            if load_dotenv_file:
                load_dotenv(Path.cwd() / ".env", override=False)
            env = dict(os.environ)
        data_dir = Path(env.get("REUNITE_DATA_DIR") or Path.cwd() / "data").expanduser().resolve()
        database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'reunite.sqlite3'}"
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            public_base_url=(env.get("PUBLIC_BASE_URL") or None),
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
            booking_horizon_days=int(env.get("REUNITE_BOOKING_HORIZON_DAYS", "14")),
            load_demo_labs=env.get("REUNITE_DEMO_LABS", "1").strip().lower()
            not in ("0", "false", "no", "off"),
            trust_proxy_hops=int(env.get("REUNITE_TRUST_PROXY_HOPS", "0")),
            default_region=(env.get("REUNITE_DEFAULT_REGION") or "CN").strip().upper(),
        )
