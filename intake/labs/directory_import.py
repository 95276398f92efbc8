"""Changing the lab directory: import it from CSV, load the demo directory, retire labs and bring them back.

import_labs(session, source: Path | TextIO, *, demo=False, actor="cli") -> ImportReport   (all-or-nothing)
load_demo_labs(session) -> ImportReport
set_active(session, lab_ids, *, active, demo=False, actor="cli") -> ActivationReport
A retired (inactive) lab stays in the directory with its history but is never offered and never bookable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.directory_csv import decode_lab_file, read_lab_rows
from intake.labs.slots import china_today
from intake.models import Booking, BookingStatus, Lab, LabDay, audit
from intake.platform.errors import InputError, NotFoundError

DEMO_LABS = Path(__file__).parent.parent / "data" / "demo_labs.csv"
_NEW_LAB = {"is_demo": False, "active": True}  # what a new lab is when its row does not say


@dataclass(frozen=True)
class ImportReport:
    """What an import did, and the changes a person should be told about (demo/real, retired/back)."""

    created: int
    updated: int
    encoding: str | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActivationReport:
    """Which labs were retired or brought back, and the appointments still booked at them from today on."""

    changed: list[Lab] = field(default_factory=list)
    unchanged: list[Lab] = field(default_factory=list)
    future_bookings: int = 0


def describe(lab: Lab) -> str:
    """Name a lab for the operator: id, name and city, and whether it is demo data."""
    return f"#{lab.id} {lab.name} ({lab.city}, {'demo' if lab.is_demo else 'real'})"


def _notes(lab: Lab, values: dict[str, object]) -> list[str]:
    notes = []
    if "is_demo" in values and values["is_demo"] != lab.is_demo:
        before, after = ("demo", "real") if lab.is_demo else ("real", "demo")
        notes.append(f"{describe(lab)}: was {before} data, is now {after} data")
    if "active" in values and values["active"] != lab.active:
        notes.append(
            f"{describe(lab)}: " + ("brought back" if values["active"] else "retired, no longer offered")
        )
    return notes


def import_labs(
    session: Session, source: Path | TextIO, *, demo: bool = False, actor: str = "cli"
) -> ImportReport:
    """Create or update labs (keyed by name and city) from CSV; nothing is imported if any row is invalid.

    An update changes only what the row gives: an empty cell or a missing optional column (`name_en`, `demo`,
    `active`, ...) leaves the stored value as it is. Labs absent from the file are left as they are (retire them
    with `active` = no or `set_active`). A changed capacity also applies to the lab's future days, never below
    what is already booked. A lab that changes between demo and real data, or is retired or brought back, is
    named in the report's notes.
    """
    if isinstance(source, Path):
        text, encoding = decode_lab_file(source.read_bytes())
    else:
        text, encoding = source.read(), None
    rows = read_lab_rows(text, demo=demo)
    created = updated = 0
    notes: list[str] = []
    for values in rows:
        lab = session.scalars(
            sa.select(Lab).where(Lab.name == values["name"], Lab.city == values["city"])
        ).first()
        if lab is None:
            session.add(Lab(**(_NEW_LAB | values)))
            created += 1
            continue
        notes += _notes(lab, values)
        for key, value in values.items():
            setattr(lab, key, value)
        updated += 1
        session.flush()
        capacity = lab.daily_capacity
        session.execute(
            sa.update(LabDay)
            .where(LabDay.lab_id == lab.id, LabDay.day > china_today() - timedelta(days=1))
            .values(capacity=sa.case((LabDay.booked > capacity, LabDay.booked), else_=capacity))
        )
    session.flush()
    audit(
        session, actor, "labs.import", "lab", None, created=created, updated=updated, demo=demo, notes=notes
    )
    return ImportReport(created, updated, encoding, tuple(notes))


def load_demo_labs(session: Session) -> ImportReport:
    """Import the shipped demo directory (fictional labs, one per provincial capital)."""
    return import_labs(session, DEMO_LABS, demo=True, actor="system")


def set_active(
    session: Session, lab_ids: Sequence[int], *, active: bool, demo: bool = False, actor: str = "cli"
) -> ActivationReport:
    """Retire (`active=False`) or bring back the labs `lab_ids` and, with `demo`, every demo lab.

    Appointments already booked at a retired lab are kept (the families were told where to go); the report
    counts those from today on so the operator can contact them. Raise NotFoundError for an unknown id.
    """
    if not lab_ids and not demo:
        raise InputError("Name the labs by their id, or choose all demo labs.")
    chosen = Lab.id.in_(lab_ids) | (Lab.is_demo.is_(True) if demo else sa.false())
    labs = list(session.scalars(sa.select(Lab).where(chosen).order_by(Lab.id)))
    unknown = sorted(set(lab_ids) - {lab.id for lab in labs})
    if unknown:
        raise NotFoundError("No lab has the id %(ids)s.", ids=", ".join(str(i) for i in unknown))
    changed = [lab for lab in labs if lab.active != active]
    for lab in changed:
        lab.active = active
    session.flush()
    booked = session.scalar(
        sa.select(sa.func.count())
        .select_from(Booking)
        .join(LabDay, Booking.lab_day_id == LabDay.id)
        .where(
            LabDay.lab_id.in_([lab.id for lab in labs]),
            LabDay.day >= china_today(),
            Booking.status == BookingStatus.BOOKED,
        )
    )
    action = "labs.activate" if active else "labs.deactivate"
    audit(session, actor, action, "lab", None, labs=[lab.id for lab in changed])
    unchanged = [lab for lab in labs if lab not in changed]
    return ActivationReport(changed, unchanged, int(booked or 0))
