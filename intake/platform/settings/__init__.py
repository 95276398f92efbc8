"""Configuration: every setting, read from environment variables (and an optional `.env` file) once at start.

tree.py       the settings tree: the core's settings, a section per adapter (twilio, telegram, email) and per
              part (notifications, console, lab_api); `Settings.from_env` reads and checks them all at once
variables.py  how one variable is declared, read and checked (`SettingError` names it), and listed for the docs
table.py      docs/configuration.md, the one list of the variables, generated from the tree
"""

from intake.platform.settings.tree import (
    NUMBA_CACHE_FOLDER,
    SETTINGS_INFO_KEY,
    ConsoleSettings,
    EmailSettings,
    LabApiSettings,
    NotificationSettings,
    Settings,
    TelegramSettings,
    TwilioSettings,
    session_settings,
)
from intake.platform.settings.variables import SettingError

__all__ = [
    "NUMBA_CACHE_FOLDER",
    "SETTINGS_INFO_KEY",
    "ConsoleSettings",
    "EmailSettings",
    "LabApiSettings",
    "NotificationSettings",
    "SettingError",
    "Settings",
    "TelegramSettings",
    "TwilioSettings",
    "session_settings",
]
