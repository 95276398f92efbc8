"""The `reunite labs` commands: import the lab directory from CSV, list it, retire labs and bring them back.

Build the group with `make_labs_group(get_session_factory)`; the factory is only called when a command runs, so
`reunite --help` never touches the database. Every failure is one line naming the problem, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from intake.labs.directory import import_labs, load_demo_labs, matching_labs, set_active
from intake.labs.directory_import import ActivationReport, describe
from intake.models import Lab
from intake.platform.errors import ReuniteError

EMPTY = (
    "the lab directory is empty. `reunite serve` and `reunite chat` load the DEMO directory (fictional labs, "
    "one per provincial capital) into an empty directory unless REUNITE_DEMO_LABS=0; load it now with "
    "`reunite labs load-demo`, or import your labs with `reunite labs import FILE`."
)


@contextmanager
def _session(get_session_factory: Callable[[], sessionmaker[Session]]) -> Iterator[Session]:
    """Open a session that commits at the end; turn any failure into a one-line error and change nothing."""
    with get_session_factory()() as session:
        try:
            yield session
            session.commit()
        except ReuniteError as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None
        except OSError as exc:
            raise click.ClickException(f"cannot read {exc.filename or 'the file'}: {exc.strerror}") from None
        except SQLAlchemyError as exc:
            session.rollback()
            detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise click.ClickException(
                f"the database refused the change, nothing was saved: {detail}"
            ) from None


def _line(lab: Lab) -> str:
    state = "active " if lab.active else "RETIRED"
    kind = "DEMO" if lab.is_demo else "real"
    return (
        f"{lab.id:>4}  {state}  {kind}  {lab.province} {lab.city}  {lab.name} / {lab.name_en or '-'}  "
        f"{lab.address}  tel {lab.phone or '-'}  days {lab.opening_days}  {lab.opening_hours}  "
        f"capacity {lab.daily_capacity}"
    )


def _echo_activation(report: ActivationReport, active: bool) -> None:
    verb = "brought back" if active else "retired"
    for lab in report.changed:
        click.echo(f"{verb}: {describe(lab)}")
    for lab in report.unchanged:
        click.echo(f"already {'active' if active else 'retired'}: {describe(lab)}")
    click.echo(f"{len(report.changed)} labs {verb}")
    if report.future_bookings and not active:
        click.echo(
            f"{report.future_bookings} appointments from today on stay booked at these labs: "
            "tell those families or move their appointments."
        )


def make_labs_group(get_session_factory: Callable[[], sessionmaker[Session]]) -> click.Group:
    """Return the `labs` click group, opening sessions from `get_session_factory()`."""

    @click.group("labs")
    def labs() -> None:
        """Manage the directory of sampling labs."""

    @labs.command("import")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--demo", is_flag=True, help="Mark every imported lab as demo data.")
    def import_command(file: Path, demo: bool) -> None:
        """Create or update labs from a CSV FILE (all-or-nothing: any bad row imports nothing).

        Empty cells and missing optional columns leave stored values as they are; `active` = no retires a lab.
        """
        with _session(get_session_factory) as session:
            report = import_labs(session, file, demo=demo, actor="cli")
        for note in report.notes:
            click.echo(note)
        read_as = (
            f" (read as {report.encoding})" if report.encoding not in (None, "utf-8", "utf-8-sig") else ""
        )
        click.echo(f"{report.created} labs created, {report.updated} updated from {file}{read_as}")

    @labs.command("load-demo")
    def load_demo_command() -> None:
        """Import (or refresh) the shipped DEMO directory: fictional labs, one per provincial capital."""
        with _session(get_session_factory) as session:
            report = load_demo_labs(session)
        click.echo(f"{report.created} demo labs created, {report.updated} updated (fictional: retire them with "
                   "`reunite labs deactivate --demo` once real labs are imported)")  # fmt: skip

    @labs.command("list")
    @click.option("--city", default=None, help="Only labs of this city or province (Chinese or English).")
    def list_command(city: str | None) -> None:
        """List the labs, retired ones too, by province, city and name."""
        with _session(get_session_factory) as session:
            found = (
                matching_labs(session, city, include_inactive=True)
                if city
                else list(session.scalars(sa.select(Lab)))
            )
            for lab in sorted(found, key=lambda lab: (lab.province, lab.city, lab.name)):
                click.echo(_line(lab))
        if not found:
            click.echo("no labs found" if city else EMPTY)

    def activation_command(active: bool) -> click.Command:
        @click.argument("lab_ids", nargs=-1, type=int)
        @click.option("--demo", is_flag=True, help="Every demo lab.")
        def command(lab_ids: tuple[int, ...], demo: bool) -> None:
            with _session(get_session_factory) as session:
                report = set_active(session, list(lab_ids), active=active, demo=demo, actor="cli")
                left = session.scalar(sa.select(sa.func.count()).select_from(Lab).where(Lab.active.is_(True)))
            _echo_activation(report, active)
            if not left:
                click.echo("warning: no active lab is left, so parents cannot book any appointment.")

        command.__doc__ = (
            "Bring back retired labs (by id, or --demo for every demo lab)."
            if active
            else "Retire labs (by id, or --demo for every demo lab): they are no longer offered or bookable."
        )
        return click.command("activate" if active else "deactivate")(command)

    labs.add_command(activation_command(False))
    labs.add_command(activation_command(True))
    return labs
