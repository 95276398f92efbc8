"""What every `reunite` command shares: starting the runtime from the environment, with one-line errors."""

from __future__ import annotations

import click

from intake.config import Settings
from intake.runtime import Runtime


def runtime_from_env(demo_labs: bool | None = None) -> Runtime:
    """Start the runtime from the environment's settings; a bad setting is a one-line CLI error."""
    try:
        return Runtime.start(Settings.from_env(), demo_labs=demo_labs)
    except ValueError as exc:
        raise click.ClickException(f"bad configuration: {exc}") from exc
