"""The lab directory as parents search it: find the labs of the place a person writes, with their next free days.

find_labs(session, query, *, today, limit=5, horizon_days=None) -> list[LabOption]       (LabOption: lab, days)
matching_labs(session, query, *, include_inactive=False) -> list[Lab]
no_labs_reason(session, query, *, today, horizon_days=None) -> InputError    (why nothing was found, what to send)
nearest_labs(session, latitude, longitude, limit=3) -> list[NearbyLab]      (NearbyLab: lab, distance_km)
A place may be a city or a province, in Chinese (Simplified or Traditional) or English/pinyin, with its
administrative suffixes, a province before the city (广东深圳) or a district after it (北京市朝阳区). A place the
directory does not name (深圳, shenzhen, 兰考县, 宝安区) is placed in its city and province by the gazetteer of
Chinese divisions (`intake.places.gazetteer`), and the labs of that city, else of that province, are offered.
Importing and retiring labs: intake.labs.directory_import; bookable days: intake.labs.slots.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.directory_csv import parse_opening_days, parse_opening_hours
from intake.labs.directory_import import DEMO_LABS, ImportReport, import_labs, load_demo_labs, set_active
from intake.labs.slots import DayAvailability, free_days, horizon_of
from intake.models import Lab
from intake.places.gazetteer import locate
from intake.platform.errors import InputError
from intake.platform.text import has_han, simplified

# Re-exported so the dialogue and the CLI need only this module.
__all__ = ["DEMO_LABS", "DayAvailability", "ImportReport", "LabOption", "NearbyLab", "find_labs", "free_days",
           "import_labs", "load_demo_labs", "matching_labs", "nearest_labs", "no_labs_reason", "parse_opening_days",
           "parse_opening_hours", "set_active"]  # fmt: skip

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "地区", "省", "市",
             "autonomousregion", "province", "municipality", "district", "county", "city", "shi", "sheng")  # fmt: skip
# Pinyin, older spellings and short forms people type for places whose directory names differ.
_ALIASES = {"xizang": "tibet", "wulumuqi": "urumqi", "huhehaote": "hohhot", "haerbin": "harbin", "lasa": "lhasa",
            "neimenggu": "innermongolia", "neimeng": "innermongolia", "peking": "beijing", "canton": "guangzhou",
            "内蒙": "内蒙古"}  # fmt: skip
PROVINCE, CITY, DISTRICT = "province", "city", "district"
# Chinese addresses run from the largest unit to the smallest, each closed by its suffix: 广东省深圳市南山区.
_ADMIN = re.compile(
    r"(.+?)(维吾尔自治区|壮族自治区|回族自治区|特别行政区|自治区|省|自治州|地区|市|盟|区|县|旗)"
)
_LEVEL = {
    "自治州": CITY,
    "地区": CITY,
    "市": CITY,
    "盟": CITY,
    "区": DISTRICT,
    "县": DISTRICT,
    "旗": DISTRICT,
}


@dataclass(frozen=True)
class LabOption:
    """A lab offered to a person, with its next free days."""

    lab: Lab
    days: list[DayAvailability]


def fold_text(text: str) -> str:
    """Return `text` folded for comparing places: width and script as everywhere, then case and accents taken away."""
    # intake.platform.text.simplified folds full width and Traditional Chinese exactly as for keywords and answers.
    value = simplified(text or "").casefold()
    return "".join(ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch))


def _key(folded: str) -> str:
    value = "".join(ch for ch in folded if ch.isalnum())
    for suffix in _SUFFIXES:
        if value != suffix:
            value = value.removesuffix(suffix)
    return _ALIASES.get(value, value)


def _parts(folded: str) -> list[tuple[str, str | None]]:
    """Split a folded place into (key, level) parts at punctuation, spaces and Chinese administrative suffixes."""
    parts: list[tuple[str, str | None]] = []
    for chunk in re.split(r"[\W_]+", folded):
        end = 0
        for m in _ADMIN.finditer(chunk):
            parts.append((_key(m.group(1)), _LEVEL.get(m.group(2), PROVINCE)))
            end = m.end()
        parts.append((_key(chunk[end:]), None))
    return [(key, level) for key, level in parts if key]


def _cities(lab: Lab) -> set[str]:
    return {_key(fold_text(lab.city)), _key(fold_text(lab.city_en or ""))} - {""}


def _provinces(lab: Lab) -> set[str]:
    return {_key(fold_text(lab.province)), _key(fold_text(lab.province_en or ""))} - {""}


def _match(labs: list[Lab], query: str) -> list[Lab]:
    """Return the labs of the city the query names, narrowed by its province; else of its province."""
    folded = fold_text(query)
    whole, parts = _key(folded), _parts(folded)
    if not whole:
        return []
    # Chinese written without separators may hold a province and a city in one part: 广东深圳, 新疆乌鲁木齐市.
    plain = [key for key, level in parts if level in (CITY, None) and has_han(key)]
    provinces = {whole} | {key for key, level in parts if level in (PROVINCE, None)}
    provinces |= {
        p for lab in labs for p in _provinces(lab) for key in plain if len(p) > 1 and key.startswith(p)
    }
    in_province = [lab for lab in labs if _provinces(lab) & provinces]
    towns = {whole} | {key for key, level in parts if level in (CITY, None)}
    found = [lab for lab in labs if _cities(lab) & towns]
    if not found:  # a city inside such a part, or followed by its district: 深圳宝安
        found = [lab for lab in labs if any(len(c) > 1 and c in key for c in _cities(lab) for key in plain)]
    if found:
        return [lab for lab in found if lab in in_province] or found
    if in_province:
        return in_province
    # A district alone (海淀区) names a city only when the directory has a city of that name.
    by_district = [lab for lab in labs if _cities(lab) & {key for key, level in parts if level == DISTRICT}]
    return by_district or _by_gazetteer(labs, query)


def _by_gazetteer(labs: list[Lab], query: str) -> list[Lab]:
    """Return the labs of the city, else of the province, that holds the place named (深圳, lankao, 兰考县)."""
    places = locate(query)
    cities = {_key(fold_text(d.city)) for d in places if d.city}
    in_city = [lab for lab in labs if _cities(lab) & cities]
    if in_city:
        return in_city
    provinces = {_key(fold_text(d.province)) for d in places}
    return [lab for lab in labs if _provinces(lab) & provinces]


def matching_labs(session: Session, query: str, *, include_inactive: bool = False) -> list[Lab]:
    """Return the active labs of the named city, or else of the named province (Chinese or English, any case)."""
    query_labs = sa.select(Lab).order_by(Lab.id)
    if not include_inactive:
        query_labs = query_labs.where(Lab.active.is_(True))
    # The directory is small (hundreds of labs), so matching in Python keeps the fuzzy rules in one place.
    return _match(list(session.scalars(query_labs)), query)


def find_labs(
    session: Session, query: str, *, today: date, limit: int = 5, horizon_days: int | None = None
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


def no_labs_reason(
    session: Session, query: str, *, today: date, horizon_days: int | None = None
) -> InputError:
    """Return the error to answer when `find_labs` found nothing: why, and what to send instead."""
    if not _key(fold_text(query)):
        return InputError("Please write the name of a city or province, like Guangzhou or Guangdong.")
    place = query.strip()
    place = place if len(place) <= 20 else place[:19] + "…"  # an echo must not eat the SMS budget
    if matching_labs(session, query):
        return InputError(
            "The labs in %(place)s have no free day in the next %(days)s days. Send a nearby city or province.",
            place=place, days=horizon_days or horizon_of(session),
        )  # fmt: skip
    return InputError(
        "No lab found in %(place)s. Send the city (like Guangzhou), or the province (like Guangdong) to see the "
        "labs in its cities, often in the provincial capital.",
        place=place,
    )


EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class NearbyLab:
    """An active lab with coordinates, and how far it is from a shared location (great-circle distance)."""

    lab: Lab
    distance_km: float


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance between two points in kilometres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def check_location(latitude: float, longitude: float) -> None:
    """Refuse a location that is not a point on Earth (latitude -90..90, longitude -180..180, finite)."""
    if (
        not (math.isfinite(latitude) and math.isfinite(longitude))
        or abs(latitude) > 90
        or abs(longitude) > 180
    ):
        raise InputError("That location is not a place on Earth. Please share it again or write the city.")


def nearest_labs(session: Session, latitude: float, longitude: float, limit: int = 3) -> list[NearbyLab]:
    """Return up to `limit` active labs with coordinates, nearest first, with their distance from the point."""
    check_location(latitude, longitude)
    labs = session.scalars(
        sa.select(Lab).where(Lab.active.is_(True), Lab.latitude.is_not(None), Lab.longitude.is_not(None))
    )
    near = [
        NearbyLab(lab, distance_km(latitude, longitude, float(lab.latitude or 0), float(lab.longitude or 0)))
        for lab in labs
    ]
    near.sort(key=lambda n: (n.distance_km, n.lab.id))
    return near[: max(0, limit)]
