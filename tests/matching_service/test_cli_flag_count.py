"""`reunite match --pending` prints the flags it made as they are in the database (it printed "new flags -13" for 7)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from click.testing import CliRunner

from intake.cli.match import make_match_commands
from intake.models import MatchFlag, Role


def _match(world, *args: str) -> str:
    commands = {c.name: c for c in make_match_commands(lambda: world.factory)}
    result = CliRunner().invoke(commands["match"], list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _printed(output: str, row: str) -> int:
    found = re.search(rf"{row}\s*[│|]?\s*(-?\d+)", output)
    assert found, output
    return int(found.group(1))


def test_new_flags_is_the_number_of_flags_the_run_stored(world):
    mother = world.person("female")
    for _ in range(4):  # one woman sampled in four cases: six same-person pairs, each flagged once
        world.upload(world.family(Role.MOTHER).codes["mother"], mother)
    output = _match(world, "--pending", "--no-progress")
    with world.factory() as session:
        stored = session.scalar(sa.select(sa.func.count()).select_from(MatchFlag))
    assert stored and _printed(output, "new flags") == stored
    again = _match(world, "--all", "--no-progress")  # searched again: nothing new, and never a negative count
    assert _printed(again, "new flags") == 0
