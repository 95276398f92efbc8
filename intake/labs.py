"""The lab directory: import it from CSV, find labs by city or province, and list their next free days."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from intake.errors import InputError
from intake.models import Lab, LabDay, audit

CHINA = timezone(timedelta(hours=8), "CST")  # China has one zone and no daylight saving; needs no tzdata
DEMO_LABS = Path(__file__).parent / "data" / "demo_labs.csv"
REQUIRED = ("name", "province", "city", "address", "latitude", "longitude", "phone",
            "opening_days", "opening_hours", "daily_capacity")  # fmt: skip
_WEEKDAYS_ZH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_WEEKDAYS_EN = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "省",
    "市",
    " province",
    " city",
)


@dataclass(frozen=True)
class ImportReport:
    """What an import did."""

    created: int
    updated: int


@dataclass(frozen=True)
class DayAvailability:
    """One bookable day at a lab and how many places are left."""

    day: date
    free: int


@dataclass(frozen=True)
class LabOption:
    """A lab offered to a person, with its next free days."""

    lab: Lab
    days: list[DayAvailability]


def _weekday(token: str) -> int:
    token = token.strip().lower().removeprefix("周").removeprefix("星期")
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token)
    if token in _WEEKDAYS_ZH:
        return _WEEKDAYS_ZH[token]
    if token[:3] in _WEEKDAYS_EN:
        return _WEEKDAYS_EN[token[:3]]
    raise ValueError(f"unknown weekday {token!r}")


def parse_opening_days(text: str) -> str:
    """Return ISO weekdays as "1,2,3,4,5" from "1-5", "Mon-Fri", "周一至周五", "1,3,5" and the like."""
    days: set[int] = set()
    for part in re.split(r"[,，、;/ ]+", text.strip()):
        if not part:
            continue
        ends = re.split(r"\s*(?:-|–|~|至|到)\s*", part)
        if len(ends) == 2:
            first, last = _weekday(ends[0]), _weekday(ends[1])
            if first > last:
                raise ValueError(f"weekday range {part!r} runs backwards")
            days.update(range(first, last + 1))
        elif len(ends) == 1:
            days.add(_weekday(ends[0]))
        else:
            raise ValueError(f"cannot read opening days {part!r}")
    if not days:
        raise ValueError("no opening days")
    return ",".join(str(d) for d in sorted(days))


def parse_opening_hours(text: str) -> str:
    """Return "HH:MM-HH:MM" from "9:00-17:00", "09:00~17:00" and the like."""
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*(?:-|–|~|至|到)\s*(\d{1,2}):(\d{2})\s*", text)
    if not m:
        raise ValueError(f"cannot read opening hours {text!r} (write like 09:00-17:00)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if not (0 <= h1 < 24 and 0 <= h2 <= 24 and m1 < 60 and m2 < 60 and (h1, m1) < (h2, m2)):
        raise ValueError(f"opening hours {text!r} are not a valid time range")
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"


def _row_values(row: dict[str, str], demo: bool) -> dict[str, object]:
    missing = [
        c for c in REQUIRED if c not in ("latitude", "longitude", "phone") and not (row.get(c) or "").strip()
    ]
    if missing:
        raise ValueError("missing " + ", ".join(missing))
    lat = float(row["latitude"]) if (row.get("latitude") or "").strip() else None
    lon = float(row["longitude"]) if (row.get("longitude") or "").strip() else None
    if lat is not None and not -90 <= lat <= 90 or lon is not None and not -180 <= lon <= 180:
        raise ValueError("latitude must be within -90..90 and longitude within -180..180")
    capacity = int(row["daily_capacity"])
    if not 1 <= capacity <= 10_000:
        raise ValueError("daily_capacity must be a whole number from 1 to 10000")

    def opt(key: str) -> str | None:
        return (row.get(key) or "").strip() or None

    return {
        "name": row["name"].strip(), "province": row["province"].strip(), "city": row["city"].strip(),
        "address": row["address"].strip(), "latitude": lat, "longitude": lon, "phone": opt("phone"),
        "opening_days": parse_opening_days(row["opening_days"]),
        "opening_hours": parse_opening_hours(row["opening_hours"]), "daily_capacity": capacity,
        "name_en": opt("name_en"), "province_en": opt("province_en"), "city_en": opt("city_en"),
        "address_en": opt("address_en"),
        "is_demo": demo or (opt("demo") or "").lower() in ("yes", "y", "true", "1", "是"),
    }  # fmt: skip


def import_labs(
    session: Session, source: Path | TextIO, *, demo: bool = False, actor: str = "cli"
) -> ImportReport:
    """Create or update labs (keyed by name and city) from CSV; nothing is imported if any row is invalid."""
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source.read()
    reader = csv.DictReader(io.StringIO(text))
    absent = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if absent:
        raise InputError("The lab file lacks the column(s): %(columns)s.", columns=", ".join(absent))
    rows, errors = [], []
    for number, row in enumerate(reader, start=2):
        try:
            rows.append(_row_values(row, demo))
        except (ValueError, TypeError) as exc:
            errors.append(f"line {number}: {exc}")
    if errors:
        raise InputError(
            "The lab file has errors, nothing was imported: %(errors)s", errors="; ".join(errors)
        )
    if not rows:
        raise InputError("The lab file has no labs.")
    created = updated = 0
    for values in rows:
        lab = session.scalars(
            sa.select(Lab).where(Lab.name == values["name"], Lab.city == values["city"])
        ).first()
        if lab is None:
            session.add(Lab(**values))
            created += 1
        else:
            for key, value in values.items():
                setattr(lab, key, value)
            updated += 1
    session.flush()
    audit(session, actor, "labs.import", "lab", None, created=created, updated=updated, demo=demo)
    return ImportReport(created, updated)


def load_demo_labs(session: Session) -> ImportReport:
    """Import the shipped demo directory (fictional labs, one per provincial capital)."""
    return import_labs(session, DEMO_LABS, demo=True, actor="system")


def _key(text: str | None) -> str:
    value = (text or "").strip().lower().replace("'", "").replace("’", "").replace("-", "")
    for suffix in _SUFFIXES:
        value = value.removesuffix(suffix)
    return value.replace(" ", "")


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


def china_today() -> date:
    """Return today's date in China, where every lab is (the server may run in another zone)."""
    return datetime.now(CHINA).date()


def bookable_days(lab: Lab, *, today: date, horizon_days: int = 14) -> list[date]:
    """Return the lab's opening days from tomorrow up to `horizon_days` ahead."""
    open_weekdays = {int(d) for d in lab.opening_days.split(",")}
    candidates = (today + timedelta(days=n) for n in range(1, horizon_days + 1))
    return [d for d in candidates if d.isoweekday() in open_weekdays]


def ensure_lab_days(session: Session, lab: Lab, days: list[date]) -> None:
    """Create the LabDay rows that do not exist yet; safe when several requests do it at once."""
    if not days:
        return
    rows = [{"lab_id": lab.id, "day": d, "capacity": lab.daily_capacity, "booked": 0} for d in days]
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(LabDay).values(rows).on_conflict_do_nothing(index_elements=["lab_id", "day"]))


def free_days(
    session: Session, lab: Lab, *, today: date, horizon_days: int = 14, count: int = 3
) -> list[DayAvailability]:
    """Return the lab's next `count` bookable days that still have free places."""
    days = bookable_days(lab, today=today, horizon_days=horizon_days)
    ensure_lab_days(session, lab, days)
    rows = session.execute(
        sa.select(LabDay.day, LabDay.capacity - LabDay.booked)
        .where(LabDay.lab_id == lab.id, LabDay.day.in_(days), LabDay.booked < LabDay.capacity)
        .order_by(LabDay.day)
        .limit(count)
    ).all()
    return [DayAvailability(day, int(free)) for day, free in rows]
