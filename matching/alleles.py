"""STR allele names: one canonical string per allele ('9.3', '30.2', '12'), and its repeat number in tenths."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"^(\d+)(?:\.(\d+))?$")


def canonical_allele(value: object) -> str:
    """Return the canonical name of an allele written as a repeat number, or raise ValueError with the reason.

    '12', 12 and '012' are '12'; '9.3' and 9.3 are '9.3'; '10.0' and 10.0 are '10' (a '.0' microvariant does not
    exist, so the lab meant the integer allele). Two decimal digits other than a trailing zero ('9.35') and
    anything that is not a number ('X', '<8', 'OL', '') are refused.
    """
    if isinstance(value, bool):
        raise ValueError("a true/false value is not an allele")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValueError(f"a {type(value).__name__} is not an allele")
    match = _NUMBER.match(text)
    if match is None:
        raise ValueError("not a repeat number")
    whole, decimals = match.group(1), (match.group(2) or "").rstrip("0")
    if len(decimals) > 1:
        raise ValueError("a microvariant has one decimal digit, such as 9.3")
    whole = str(int(whole))
    return f"{whole}.{decimals}" if decimals else whole


def tenths(allele: str) -> int:
    """Return a canonical allele's repeat number in tenths: '9.3' is 93, '12' is 120."""
    whole, _, decimal = allele.partition(".")
    return int(whole) * 10 + (int(decimal) if decimal else 0)


def allele_sort_key(allele: str) -> tuple[int, str]:
    """Sort canonical alleles by repeat number."""
    return (tenths(allele), allele)
