"""The lab directory: import it from CSV, find labs by city or province, and list their next free days.

import_labs(session, source: Path | TextIO, *, demo=False, actor="cli") -> ImportReport   (all-or-nothing)
load_demo_labs(session) -> ImportReport
find_labs(session, query, *, today, limit=5) -> list[LabOption]       (LabOption: lab, days)
free_days(session, lab, *, today, horizon_days=14, count=3) -> list[DayAvailability]   (day, free)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.lab_csv import parse_opening_days, parse_opening_hours, read_lab_rows
from intake.models import Lab, LabDay, audit
from intake.slots import DayAvailability, china_today, free_days

# DayAvailability, free_days and the parsers are re-exported so the dialogue needs only this module.
__all__ = ["DayAvailability", "ImportReport", "LabOption", "find_labs", "free_days", "import_labs", "load_demo_labs",
           "matching_labs", "parse_opening_days", "parse_opening_hours"]  # fmt: skip

DEMO_LABS = Path(__file__).parent / "data" / "demo_labs.csv"
_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "地区", "省", "市",
             "autonomousregion", "province", "municipality", "city", "shi", "sheng")  # fmt: skip
# Pinyin and older spellings people type for the places whose English names are not their pinyin.
_ALIASES = {"xizang": "tibet", "wulumuqi": "urumqi", "huhehaote": "hohhot", "haerbin": "harbin", "lasa": "lhasa",
            "neimenggu": "innermongolia", "peking": "beijing", "canton": "guangzhou"}  # fmt: skip


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    created: int
    updated: int


@dataclass(frozen=True)
class LabOption:
    """A lab offered to a person, with its next free days."""

    lab: Lab
    days: list[DayAvailability]


def import_labs(
    session: Session, source: Path | TextIO, *, demo: bool = False, actor: str = "cli"
) -> ImportReport:
    """Create or update labs (keyed by name and city) from CSV; nothing is imported if any row is invalid.

    Labs absent from the file are left as they are (deactivate them by setting `active`); a changed capacity
    also applies to the lab's future days, never below what is already booked.
    """
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source.read()
    rows = read_lab_rows(text, demo=demo)
    created = updated = 0
    for values in rows:
        lab = session.scalars(
            sa.select(Lab).where(Lab.name == values["name"], Lab.city == values["city"])
        ).first()
        if lab is None:
            session.add(Lab(**values))
            created += 1
            continue
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
    audit(session, actor, "labs.import", "lab", None, created=created, updated=updated, demo=demo)
    return ImportReport(created, updated)


def load_demo_labs(session: Session) -> ImportReport:
    """Import the shipped demo directory (fictional labs, one per provincial capital)."""
    return import_labs(session, DEMO_LABS, demo=True, actor="system")


def _key(text: str | None) -> str:
    # NFKC folds full-width letters and spaces typed with a Chinese input method; dropping accents lets "Ürümqi" match.
    value = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or "").lower())
    value = "".join(ch for ch in value if ch.isalnum() and not unicodedata.combining(ch))
    for suffix in _SUFFIXES:
        if value != suffix:
            value = value.removesuffix(suffix)
    return _ALIASES.get(value, value)


def matching_labs(session: Session, query: str) -> list[Lab]:
    """Return the active labs of the named city, or else of the named province (Chinese or English, any case)."""
    wanted = _key(query)
    if not wanted:
        return []
    # The directory is small (hundreds of labs), so matching in Python keeps the fuzzy rules in one place.
    labs = session.scalars(sa.select(Lab).where(Lab.active.is_(True)).order_by(Lab.id)).all()
    found = [lab for lab in labs if wanted in (_key(lab.city), _key(lab.city_en))]
    if not found:
        found = [lab for lab in labs if wanted in (_key(lab.province), _key(lab.province_en))]
    return found


def find_labs(
    session: Session, query: str, *, today: date, limit: int = 5, horizon_days: int = 14
) -> list[LabOption]:
    """Return up to `limit` labs of the named city (or else province) that have free days, with those days."""
    options = []
    for lab in matching_labs(session, query):
        days = free_days(session, lab, today=today, horizon_days=horizon_days)
        if days:  # a lab fully booked for the whole horizon is no use to offer
            options.append(LabOption(lab, days))
        if len(options) == limit:
            break
    return options
