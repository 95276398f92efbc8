"""How one environment variable becomes one setting: its name, its meaning, how it is read and checked.

Each setting of the tree (`intake.platform.settings.tree`) is a dataclass field made by `variable(...)`, which
carries the variable's name, what it means and its reader; a section is a field made by `section(...)`. `read`
builds a section from an environment in one pass, and `documented` lists every variable with its default and
meaning, from which the configuration table in docs/configuration.md is generated: the variables, their defaults
and their checks have this one definition.

A reader gets the variable's name and its value (stripped, never blank: a blank or unset variable keeps the
default) and returns the setting, or raises `SettingError` with a message naming the variable, what it holds and
what is expected, so that the `reunite` command can say it in one line.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import phonenumbers
from limits import parse_many

TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
_VARIABLE, _SECTION = "reunite_variable", "reunite_section"

T = TypeVar("T")
Reader = Callable[[str, str], Any]


class SettingError(ValueError):
    """A setting that cannot be used; the message names the variable and what it should hold."""


@dataclasses.dataclass(frozen=True)
class Variable:
    """One environment variable: its name, what it means, how it is read, and how its default is shown."""

    name: str
    meaning: str
    reader: Reader
    shown_default: str | None = None  # None: the field's default, written as the variable would hold it


def variable(
    name: str, meaning: str, default: Any = None, *, reader: Reader | None = None, shown: str | None = None,
    secret: bool = False,
) -> Any:  # fmt: skip
    """Return a dataclass field read from the variable `name` (a secret one is never in a repr, so never logged)."""
    spec = Variable(name, meaning, reader or text, shown)
    return dataclasses.field(default=default, repr=not secret, metadata={_VARIABLE: spec})


def section(cls: type[T]) -> Any:
    """Return a dataclass field holding the settings section `cls`, read from the same environment."""
    return dataclasses.field(default_factory=cls, metadata={_SECTION: cls})


def read(cls: type[T], env: Mapping[str, str], **given: Any) -> T:
    """Build `cls` from `env`: each variable that is set (not blank) is read and checked; the rest keep defaults."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in given:
            continue
        if _SECTION in f.metadata:
            values[f.name] = read(f.metadata[_SECTION], env)
        elif _VARIABLE in f.metadata:
            spec: Variable = f.metadata[_VARIABLE]
            raw = env.get(spec.name, "").strip()
            if raw:
                values[f.name] = spec.reader(spec.name, raw)
    return cls(**values, **given)


def sections(cls: type[Any]) -> Iterator[tuple[str, type[Any]]]:
    """Yield the name and class of each section of `cls`."""
    for f in dataclasses.fields(cls):
        if _SECTION in f.metadata:
            yield f.name, f.metadata[_SECTION]


def documented(cls: type[Any], *, with_sections: bool = True) -> Iterator[tuple[Variable, str]]:
    """Yield every variable of `cls` (and of its sections), in declaration order, with its default as documented."""
    for f in dataclasses.fields(cls):
        if _SECTION in f.metadata:
            if with_sections:
                yield from documented(f.metadata[_SECTION])
        elif _VARIABLE in f.metadata:
            spec: Variable = f.metadata[_VARIABLE]
            yield spec, spec.shown_default if spec.shown_default is not None else shown_value(f.default)


def shown_value(value: Any) -> str:
    """Write a default as the variable would hold it (`(unset)` for none)."""
    if value is None or value is dataclasses.MISSING:
        return "(unset)"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return "-".join(str(v) for v in value)
    return str(value)


# -- readers ------------------------------------------------------------------------------------------------


def text(name: str, raw: str) -> str:
    """Any text."""
    return raw


def region(name: str, raw: str) -> str:
    """A region whose phone numbers `phonenumbers` knows (ISO 3166 code, any case)."""
    code = raw.upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingError(f"{name}={raw!r}: expected a region code such as CN, HK or US (ISO 3166)")
    return code


def whole(low: int, high: int) -> Reader:
    """A whole number from `low` to `high`."""

    def reader(name: str, raw: str) -> int:
        value = int(raw) if re.fullmatch(r"[+-]?[0-9]+", raw) else None
        if value is None or not low <= value <= high:
            raise SettingError(f"{name}={raw!r}: expected a whole number from {low} to {high}")
        return value

    return reader


def number(low: float, high: float) -> Reader:
    """A number (decimals allowed) from `low` to `high`."""

    def reader(name: str, raw: str) -> float:
        try:
            value: float | None = float(raw)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise SettingError(f"{name}={raw!r}: expected a number from {low:g} to {high:g}")
        return value

    return reader


def flag(name: str, raw: str) -> bool:
    """Yes or no: 1/0, true/false, yes/no, on/off."""
    word = raw.lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise SettingError(f"{name}={raw!r}: expected 1 or 0 (also true/false, yes/no, on/off)")


def choice(*choices: str) -> Reader:
    """One of `choices` (any case)."""

    def reader(name: str, raw: str) -> str:
        if raw.lower() not in choices:
            raise SettingError(f"{name}={raw!r}: expected one of {', '.join(choices)}")
        return raw.lower()

    return reader


def url(example: str) -> Reader:
    """An http(s) URL with a host, without its trailing slash."""

    def reader(name: str, raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingError(f"{name}={raw!r}: expected a URL such as {example}")
        return raw.rstrip("/")

    return reader


def shaped(pattern: str, refusal: str) -> Reader:
    """Text of the shape `pattern`, else the error `<name><refusal>` (without the value: it may be a secret)."""
    shape = re.compile(pattern)

    def reader(name: str, raw: str) -> str:
        if not shape.fullmatch(raw):
            raise SettingError(f"{name}{refusal}")
        return raw

    return reader


def rate_limit(name: str, raw: str) -> str:
    """A Flask-Limiter rate limit such as 30/minute (several separated by ;)."""
    try:
        parse_many(raw)
    except ValueError:
        raise SettingError(f"{name}={raw!r}: expected a rate limit such as 30/minute") from None
    return raw


def hours(name: str, raw: str) -> tuple[int, int]:
    """Hours FROM-TO of a day, 0 <= FROM < TO <= 24."""
    start, _, end = raw.partition("-")
    if start.isdigit() and end.isdigit() and 0 <= int(start) < int(end) <= 24:
        return int(start), int(end)
    raise SettingError(f"{name}={raw!r}: expected hours FROM-TO in China time, e.g. 8-21 (0-24: any hour)")
