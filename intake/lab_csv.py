"""Reading the lab directory CSV: check every row and say, by line number, what is wrong with it.

`read_lab_rows(text, demo=...)` returns one dict of Lab column values per row or raises InputError listing every bad
line, so `intake.labs.import_labs` can be all-or-nothing.
"""

from __future__ import annotations

import csv
import io
import re

from intake.errors import InputError

REQUIRED = ("name", "province", "city", "address", "latitude", "longitude", "phone",
            "opening_days", "opening_hours", "daily_capacity")  # fmt: skip
OPTIONAL = ("name_en", "province_en", "city_en", "address_en", "demo")
_MAY_BE_EMPTY = ("latitude", "longitude", "phone")
_WEEKDAYS_ZH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_WEEKDAYS_EN = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_RANGE = r"\s*(?:-|–|—|~|～|至|到|\bto\b)\s*"
_YES = ("yes", "y", "true", "1", "是")


def _weekday(token: str) -> int:
    token = token.strip().lower().removeprefix("星期").removeprefix("周").removeprefix("礼拜")
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token)
    if token in _WEEKDAYS_ZH:
        return _WEEKDAYS_ZH[token]
    if len(token) >= 3 and token[:3] in _WEEKDAYS_EN:
        return _WEEKDAYS_EN[token[:3]]
    raise ValueError(f"unknown weekday {token!r} (write like 1-5, Mon-Fri or 周一至周五)")


def parse_opening_days(text: str) -> str:
    """Return ISO weekdays as "1,2,3,4,5" from "1-5", "Mon-Fri", "周一至周五", "1,3,5" and the like."""
    days: set[int] = set()
    # Ranges first become "a-b" so that "Mon - Fri" or "Monday to Friday" survive the split on spaces.
    for part in re.split(r"[,，、;；/\s]+", re.sub(_RANGE, "-", text.strip(), flags=re.IGNORECASE)):
        if not part:
            continue
        ends = part.split("-")
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
    """Return "HH:MM-HH:MM" from "9:00-17:00", "09:00~17:00", "9：00至17：00" and the like."""
    m = re.fullmatch(r"\s*(\d{1,2})[:：](\d{2})" + _RANGE + r"(\d{1,2})[:：](\d{2})\s*", text)
    if not m:
        raise ValueError(f"cannot read opening hours {text!r} (write like 09:00-17:00)")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if not (h1 < 24 and h2 <= 24 and m1 < 60 and m2 < 60 and (h1, m1) < (h2, m2)):
        raise ValueError(f"opening hours {text!r} are not a valid time range")
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"


def _number(row: dict[str, str], key: str, low: float, high: float) -> float | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{key} {text!r} is not a number") from None
    if not low <= value <= high:
        raise ValueError(f"{key} {text} is outside {low:g}..{high:g}")
    return value


def _capacity(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= 10_000:
        raise ValueError(f"daily_capacity {text.strip()!r} must be a whole number from 1 to 10000")
    return int(text)


def row_values(row: dict[str, str], *, demo: bool = False) -> dict[str, object]:
    """Return the Lab column values of one CSV row; raise ValueError saying what is wrong."""
    missing = [c for c in REQUIRED if c not in _MAY_BE_EMPTY and not (row.get(c) or "").strip()]
    if missing:
        raise ValueError("empty " + ", ".join(missing))
    values: dict[str, object] = {c: (row.get(c) or "").strip() or None for c in OPTIONAL[:-1]}
    values.update(
        {c: row[c].strip() for c in ("name", "province", "city", "address")},
        phone=(row.get("phone") or "").strip() or None,
        latitude=_number(row, "latitude", -90, 90),
        longitude=_number(row, "longitude", -180, 180),
        opening_days=parse_opening_days(row["opening_days"]),
        opening_hours=parse_opening_hours(row["opening_hours"]),
        daily_capacity=_capacity(row["daily_capacity"]),
        is_demo=demo or (row.get("demo") or "").strip().lower() in _YES,
    )
    return values


def read_lab_rows(text: str, *, demo: bool = False) -> list[dict[str, object]]:
    """Return the Lab column values of every row, or raise InputError naming every bad line and why."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    absent = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if absent:
        raise InputError("The lab file lacks the column(s): %(columns)s.", columns=", ".join(absent))
    rows: list[dict[str, object]] = []
    errors: list[str] = []
    seen: dict[tuple[object, object], int] = {}
    for row in reader:
        line = reader.line_num  # the physical line, so quoted newlines do not shift the numbers
        try:
            values = row_values(row, demo=demo)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        key = (values["name"], values["city"])
        if key in seen:
            errors.append(f"line {line}: repeats the lab of line {seen[key]} (same name and city)")
        seen[key] = line
        rows.append(values)
    if errors:
        raise InputError(
            "The lab file has errors, nothing was imported: %(errors)s", errors="; ".join(errors)
        )
    if not rows:
        raise InputError("The lab file has no labs.")
    return rows
