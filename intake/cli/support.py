"""What every `reunite` command shares: starting the runtime from the environment, with one-line errors."""

from __future__ import annotations

import click

from intake.platform.settings import SettingError, Settings
from intake.runtime import Runtime, StartError


def settings_from_env() -> Settings:
    """Read the settings from the environment; a malformed setting is a one-line CLI error."""
    try:
        return Settings.from_env()
    except SettingError as exc:
        raise click.ClickException(f"bad configuration: {exc}") from None


def runtime_from_env(demo_labs: bool | None = None, settings: Settings | None = None) -> Runtime:
    """Start the runtime from the environment's settings (or `settings`, already read by the command); a bad
    setting or database is a one-line CLI error."""
    settings = settings or settings_from_env()
    try:
        return Runtime.start(settings, demo_labs=demo_labs)
    except SettingError as exc:
        raise click.ClickException(f"bad configuration: {exc}") from None
    except StartError as exc:
        raise click.ClickException(f"cannot start: {exc}") from None
