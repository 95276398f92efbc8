"""The `reunite labs` commands: import a lab directory from CSV and list the labs.

Build the group with `make_labs_group(get_session_factory)`; the factory is only called when a command runs, so
`reunite --help` never touches the database.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from intake.errors import InputError
from intake.labs import import_labs, matching_labs
from intake.models import Lab


def make_labs_group(get_session_factory: Callable[[], sessionmaker[Session]]) -> click.Group:
    """Return the `labs` click group, opening sessions from `get_session_factory()`."""

    @click.group("labs")
    def labs() -> None:
        """Manage the directory of sampling labs."""

    @labs.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--demo", is_flag=True, help="Mark every imported lab as demo data.")
    def import_command(file: Path, demo: bool) -> None:
        """Create or update labs from a CSV FILE (all-or-nothing: any bad row imports nothing)."""
        with get_session_factory()() as session:
            try:
                report = import_labs(session, file, demo=demo, actor="cli")
            except InputError as exc:
                session.rollback()
                raise click.ClickException(str(exc)) from exc
            session.commit()
        click.echo(f"{report.created} labs created, {report.updated} updated from {file}")

    @labs.command("list")
    @click.option("--city", default=None, help="Only labs of this city or province (Chinese or English).")
    def list_command(city: str | None) -> None:
        """List the labs in the directory."""
        with get_session_factory()() as session:
            if city:
                found = matching_labs(session, city)
            else:
                found = list(session.scalars(sa.select(Lab).order_by(Lab.province, Lab.city, Lab.name)))
            for lab in found:
                flags = " [DEMO]" if lab.is_demo else ""
                flags += "" if lab.active else " [inactive]"
                click.echo(
                    f"{lab.id:>4}  {lab.name} / {lab.name_en or '-'}  {lab.province} {lab.city}  {lab.address}  "
                    f"tel {lab.phone or '-'}  days {lab.opening_days}  {lab.opening_hours}  "
                    f"capacity {lab.daily_capacity}{flags}"
                )
            if not found:
                click.echo("no labs found" if city else "the lab directory is empty")

    return labs
