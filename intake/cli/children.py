"""`reunite children register`: officers register a rescued child or a child suspected of being kidnapped.

The output is the found-child case
reference and a sample code for the child and for each adult who claimed to be a parent; with `--json`, one
JSON object `{"case": ..., "samples": {"child": ..., "claimed_mother": ...}}` for scripts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime

import click
from sqlalchemy.orm import Session, sessionmaker

from intake.cases.found_children import CLAIMED_ROLES, register_found_child
from intake.cli.support import runtime_from_env
from intake.models import Role, SampleSource, Sex
from intake.platform.errors import ReuniteError

SOURCES = {
    "rescued": SampleSource.RESCUED_CHILD,
    "suspected-kidnapped": SampleSource.SUSPECTED_KIDNAPPED_CHILD,
}
SEXES = [s.value for s in Sex]


def _claimed(values: tuple[str, ...]) -> list[tuple[Role, Sex]]:
    claimed = []
    for value in values:
        role, _, sex = value.partition(":")
        if role.strip().lower() not in CLAIMED_ROLES or sex.strip().lower() not in SEXES:
            raise click.BadParameter(f"{value!r}: write ROLE:SEX, e.g. mother:female or father:male")
        claimed.append((CLAIMED_ROLES[role.strip().lower()], Sex(sex.strip().lower())))
    return claimed


def make_children_group(get_session_factory: Callable[[], sessionmaker[Session]]) -> click.Group:
    """Return the `children` group, opening sessions from `get_session_factory()`."""

    @click.group("children")
    def children() -> None:
        """Register found children (rescued, suspected kidnapped) for DNA sampling."""

    @children.command("register")
    @click.option("--source", type=click.Choice(sorted(SOURCES)), required=True)
    @click.option("--sex", type=click.Choice(SEXES), required=True)
    @click.option("--age", type=click.IntRange(0, 25), required=True, help="Estimated age in years.")
    @click.option("--found-place", required=True, help="Where the child was found.")
    @click.option("--found-date", type=click.DateTime(["%Y-%m-%d"]), required=True, help="YYYY-MM-DD.")
    @click.option("--description", default=None, help="What the child looks like, wore, said.")
    @click.option("--claimed-parent", "claimed", multiple=True, help="An adult who claimed to be a parent "
                  "(suspected-kidnapped only): ROLE:SEX, e.g. father:male. Repeat for each.")  # fmt: skip
    @click.option("--lab", "lab_id", type=int, default=None, help="The lab that will take the samples.")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object for scripts.")
    def register(
        source: str, sex: str, age: int, found_place: str, found_date: datetime, description: str | None,
        claimed: tuple[str, ...], lab_id: int | None, as_json: bool,
    ) -> None:  # fmt: skip
        """Register a found child; print the case reference and the sample codes."""
        with get_session_factory()() as session:
            try:
                registered = register_found_child(
                    session, source=SOURCES[source], sex=Sex(sex), age_years=age, found_place=found_place,
                    found_date=date(found_date.year, found_date.month, found_date.day), actor="officer:cli",
                    description=description, claimed_parents=_claimed(claimed), lab_id=lab_id,
                )  # fmt: skip
            except ReuniteError as exc:
                raise click.ClickException(str(exc)) from exc
            session.commit()
        if as_json:
            click.echo(json.dumps({"case": registered.case.reference, "samples": registered.samples}))
            return
        click.echo(f"found-child case {registered.case.reference}")
        for who, code in registered.samples.items():
            click.echo(f"  sample {code}  {who}")

    return children


children = make_children_group(lambda: runtime_from_env(demo_labs=False).session_factory)
