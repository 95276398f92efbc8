"""Reading the lab directory CSV: decode it, check every row and say, by line number, what is wrong with it.

`decode_lab_file(data)` reads the encodings spreadsheets save (UTF-8 with or without BOM, UTF-16, GBK/GB18030).
`read_lab_rows(text, demo=...)` returns one dict of Lab column values per row, holding only the values the row gives,
or raises InputError listing every bad line, so `intake.labs.directory_import.import_labs` can be all-or-nothing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata

from intake.models import Lab
from intake.platform.errors import InputError

REQUIRED = ("name", "province", "city", "address", "latitude", "longitude", "phone",
            "opening_days", "opening_hours", "daily_capacity")  # fmt: skip
OPTIONAL = ("name_en", "province_en", "city_en", "address_en", "demo", "active")
_MAY_BE_EMPTY = ("latitude", "longitude", "phone")
_TEXT = ("name", "province", "city", "address", "phone", "name_en", "province_en", "city_en", "address_en")
_WEEKDAYS_ZH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7}
_WEEKDAYS_EN = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
_RANGE = r"\s*(?:-|–|—|~|～|至|到|\bto\b)\s*"
_FLAGS = {"yes": True, "y": True, "true": True, "1": True, "是": True,
          "no": False, "n": False, "false": False, "0": False, "否": False}  # fmt: skip
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_lab_file(data: bytes) -> tuple[str, str]:
    """Return the text of a lab file and the encoding it was read in; raise InputError if it is not text."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    if encoding is None and b"\x00" in data[:2]:
        # UTF-16 without a BOM: the header is ASCII, so its first character has a zero high byte.
        encoding = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
    # Strict UTF-8 almost never decodes text in another encoding, so GB18030 (which reads GBK) comes second.
    for candidate in [encoding] if encoding else ["utf-8", "gb18030"]:
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text.removeprefix("\ufeff"), candidate
    raise InputError(
        "The lab file is not text in UTF-8, UTF-16 or GBK/GB18030: save it as CSV (UTF-8) and import it again."
    )


def _weekday(token: str) -> int:
    token = token.strip().lower().removeprefix("星期").removeprefix("周").removeprefix("礼拜")
    if token.isdecimal() and 1 <= int(token) <= 7:
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


def _number(text: str, key: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{key} {text!r} is not a number") from None
    if not low <= value <= high:  # NaN fails this too
        raise ValueError(f"{key} {text} is outside {low:g}..{high:g}")
    return value


def _capacity(text: str) -> int:
    if not text.isdecimal() or len(text) > 5 or not 1 <= int(text) <= 10_000:
        raise ValueError(f"daily_capacity {text!r} must be a whole number from 1 to 10000")
    return int(text)


def _flag(text: str, key: str) -> bool:
    if text.lower() not in _FLAGS:
        raise ValueError(f"{key} {text!r} must be yes or no")
    return _FLAGS[text.lower()]


def _text(text: str, key: str) -> str:
    limit = getattr(Lab.__table__.c[key].type, "length", None)  # the model's String(n) is the one truth
    if limit is not None and len(text) > limit:
        raise ValueError(f"{key} is {len(text)} characters long, at most {limit} fit")
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise ValueError(f"{key} contains a control character")
    return text


def row_values(row: dict[str, str | None], *, demo: bool = False) -> dict[str, object]:
    """Return the Lab column values one CSV row gives (empty cells give none); raise ValueError saying what is wrong.

    `demo` marks the lab as demo data whatever its `demo` cell says.
    """
    cells = {key: (value or "").strip() for key, value in row.items() if isinstance(key, str)}
    missing = [c for c in REQUIRED if c not in _MAY_BE_EMPTY and not cells.get(c)]
    if missing:
        raise ValueError("empty " + ", ".join(missing))
    given = {key: value for key, value in cells.items() if value and key in (*REQUIRED, *OPTIONAL)}
    values: dict[str, object] = {key: _text(given[key], key) for key in _TEXT if key in given}
    for key, low, high in (("latitude", -90, 90), ("longitude", -180, 180)):
        if key in given:
            values[key] = _number(given[key], key, low, high)
    values.update(
        opening_days=parse_opening_days(given["opening_days"]),
        opening_hours=parse_opening_hours(given["opening_hours"]),
        daily_capacity=_capacity(given["daily_capacity"]),
    )
    if "active" in given:
        values["active"] = _flag(given["active"], "active")
    if demo or "demo" in given:
        values["is_demo"] = demo or _flag(given["demo"], "demo")
    return values


def read_lab_rows(text: str, *, demo: bool = False) -> list[dict[str, object]]:
    """Return the Lab column values of every row, or raise InputError naming every bad line and why."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    try:
        header = [name.strip() for name in reader.fieldnames or []]
    except csv.Error as exc:
        raise InputError("The lab file is not a CSV file: %(error)s", error=str(exc)) from None
    reader.fieldnames = header
    absent = [c for c in REQUIRED if c not in header]
    if absent:
        raise InputError("The lab file lacks the column(s): %(columns)s.", columns=", ".join(absent))
    rows: list[dict[str, object]] = []
    errors: list[str] = []
    seen: dict[tuple[object, object], int] = {}
    try:
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
    except (
        csv.Error
    ) as exc:  # e.g. a field longer than the csv module's limit: nothing after it can be trusted
        errors.append(f"line {reader.line_num + 1}: {exc}")
    if errors:
        raise InputError(
            "The lab file has errors, nothing was imported: %(errors)s", errors="; ".join(errors)
        )
    if not rows:
        raise InputError("The lab file has no labs.")
    return rows
