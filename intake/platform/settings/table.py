"""docs/configuration.md, generated from the settings tree: `python -m intake.platform.settings.table > docs/configuration.md`
(`make docs-config`); tests/test_settings.py fails when the file and the tree differ."""

from __future__ import annotations

import sys

from intake.platform.settings.tree import Settings
from intake.platform.settings.variables import documented, sections

HEADER = """\
# Configuration

<!-- Generated from intake/platform/settings/tree.py by `make docs-config`: edit the tree, not this file. -->

reunite reads its settings from environment variables, and from a `.env` file in the working directory if there is
one (never commit it: it is in `.gitignore`). They are read and checked once, when a command starts: a malformed
value stops it at once with one line naming the variable (exit code 1). Blank counts as unset. This is the one
list of them; [deploy.md](deploy.md#3-settings-and-secrets) says which to set in production.
"""

TITLES = {  # section: (heading, what follows it)
    "": ("The service", "`settings`: the core's own settings."),
    "twilio": ("Twilio", "`settings.twilio`: the SMS channel both ways, in `sms/`."),
    "telegram": ("Telegram", "`settings.telegram`: the bot both ways, in `bot/telegram/`."),
    "email": ("E-mail", "`settings.email`: officers' e-mail alerts, sent by `notifications/mail.py`."),
    "notifications": (
        "The notification worker",
        "`settings.notifications`: `reunite worker`'s retries, lease, rates and hours"
        " ([notifications.md](notifications.md#sending-reunite-worker-the-notifications-adapter)).",
    ),
    "console": ("The officers' console", "`settings.console` ([console.md](console.md))."),
    "lab_api": ("The labs' API", "`settings.lab_api` ([labs-api.md](labs-api.md))."),
}
READ_BY_OTHERS = """\
## Read by the libraries, not by reunite

| variable | default | meaning |
| --- | --- | --- |
| `NUMBA_CACHE_DIR` | `$REUNITE_DATA_DIR/numba-cache` | where numba keeps its compiled kinship kernels (reunite sets it to the data folder before numba starts, unless it is set) |
"""


def _cell(default: str) -> str:
    return default if default.startswith(("(", "`", "generated")) else f"`{default}`"


def _table(cls: type[object], *, with_sections: bool = True) -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    found = documented(cls, with_sections=with_sections)
    rows += [f"| `{v.name}` | {_cell(default)} | {v.meaning} |" for v, default in found]
    return "\n".join(rows) + "\n"


def _section(name: str, table: str) -> str:
    heading, intro = TITLES[name]
    return f"## {heading}\n\n{intro}\n\n{table}"


def render() -> str:
    """Return docs/configuration.md as the tree defines it."""
    parts = [HEADER, _section("", _table(Settings, with_sections=False))]
    parts += [_section(name, _table(cls)) for name, cls in sections(Settings)]
    parts.append(READ_BY_OTHERS)
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
