"""The Telegram settings, read from the environment (and `.env`) like the rest of reunite's."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from intake.platform.settings import SettingError

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and - in a webhook's secret token.
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")
_TOKEN = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,100}")


@dataclass(frozen=True)
class TelegramSettings:
    """The bot's token, where its Bot API server is, and the secret Telegram sends with each webhook call."""

    token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    webhook_secret: str | None = None

    @property
    def base_file_url(self) -> str:
        """Return where files are downloaded: `<server>/file/bot<token>/<path>` beside `<server>/bot<token>`."""
        head, sep, _tail = self.base_url.rstrip("/").rpartition("/bot")
        return f"{head}/file/bot" if sep else self.base_url.rstrip("/") + "/file/bot"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TelegramSettings:
        """Read the settings; a malformed one raises SettingError naming the variable."""
        env = dict(os.environ) if env is None else env
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip() or None
        if token is not None and not _TOKEN.fullmatch(token):
            raise SettingError(
                "TELEGRAM_BOT_TOKEN is not a bot token: expected 123456:ABC... as BotFather gives it"
            )
        base_url = env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_BASE_URL
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingError(
                f"TELEGRAM_API_BASE_URL={base_url!r}: expected a URL such as http://127.0.0.1:8081/bot"
            )
        secret = env.get("TELEGRAM_WEBHOOK_SECRET", "").strip() or None
        if secret is not None and not _SECRET.fullmatch(secret):
            raise SettingError(
                "TELEGRAM_WEBHOOK_SECRET: expected 16 to 256 characters of A-Z, a-z, 0-9, _ and -"
            )
        return cls(token=token, base_url=base_url, webhook_secret=secret)
