"""`reunite labs`: the lab directory's commands (`intake.cli.labs`) with the lab API keys' (`intake.cli.lab_keys`)."""

from __future__ import annotations

from intake.cli.lab_keys import make_labs_group_with_keys
from intake.cli.support import runtime_from_env

labs = make_labs_group_with_keys(lambda: runtime_from_env(demo_labs=False).session_factory)
