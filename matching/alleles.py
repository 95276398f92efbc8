"""STR allele names: one canonical string per allele ('9.3', '30.2', '12'), its repeat number in tenths, and
whether a person can plausibly carry it at a marker (`check_allele`, shared by every path that reads profiles).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from matching.errors import AlleleFormatError, ImplausibleAlleleError

if TYPE_CHECKING:  # frequencies imports this module
    from matching.frequencies import FrequencyTable

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


# Whole repeats allowed beyond a frequency table's smallest and largest allele at a marker (docs/kinship.md):
# wide enough for the rare alleles other populations carry beyond a regional table, narrow enough that a
# placeholder (0, 99, 99.9, 999, 1000) or a slipped digit never passes as a rare allele.
PLAUSIBLE_MARGIN = 10
# A microvariant's decimal counts the extra bases of a repeat of 3 to 5 bases: .1 to .4, never .5 to .9.
_MAX_MICROVARIANT = 4


def plausible_repeats(table_alleles: tuple[str, ...]) -> tuple[int, int]:
    """Return the smallest and largest whole repeat number allowed at a locus with these (canonical) alleles."""
    wholes = [tenths(a) // 10 for a in table_alleles]
    return max(1, min(wholes) - PLAUSIBLE_MARGIN), max(wholes) + PLAUSIBLE_MARGIN


def check_allele(marker: str, value: object, table: FrequencyTable | None = None) -> str:
    """Return the canonical allele of `value` at `marker`, or raise a ProfileError naming marker and allele.

    AlleleFormatError: not a repeat number with at most one decimal (12, 9.3, 30.2). ImplausibleAlleleError: a
    decimal of 5 to 9, or, when `table` has the marker, a whole repeat number more than PLAUSIBLE_MARGIN
    beyond the table's range at that marker (and never 0). An allele inside that range but absent from the
    table is valid: the missing-allele policy imputes its frequency.
    """
    try:
        allele = canonical_allele(value)
    except ValueError as exc:
        raise AlleleFormatError(marker, value, str(exc)) from None
    repeats, decimal = divmod(tenths(allele), 10)
    if decimal > _MAX_MICROVARIANT:
        raise ImplausibleAlleleError(
            marker,
            allele,
            f"a microvariant ends in .1 to .{_MAX_MICROVARIANT}, such as 9.3; check the typing",
        )
    if table is not None and marker in table.loci:
        alleles = table.loci[marker].alleles
        low, high = plausible_repeats(alleles)
        if not low <= repeats <= high:
            raise ImplausibleAlleleError(
                marker,
                allele,
                f"outside {low} to {high} repeats (the frequency table's {alleles[0]} to {alleles[-1]},"
                f" widened by {PLAUSIBLE_MARGIN}); a placeholder such as 0 or 99 is not an allele: leave the"
                " marker untyped, or for a real rare allele use a frequency table that lists it",
            )
    elif repeats < 1:
        raise ImplausibleAlleleError(marker, allele, "no allele has fewer than 1 repeat; check the typing")
    return allele
