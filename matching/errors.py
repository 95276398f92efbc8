"""The errors of the kinship engine, as a small documented tree.

    KinshipError                 anything `matching` refuses; the message says what to change
    ├── ProfileError             a DNA profile cannot be used as given
    │   ├── UnknownMarkerError   a marker name that no kit or table knows
    │   ├── AlleleFormatError    an allele that is not a repeat number such as 12, 9.3 or 30.2
    │   ├── ImplausibleAlleleError  a repeat number no person carries at that marker (a placeholder such as 0
    │   │                        or 1000, a typo): outside the table's range with a margin, or a decimal of 5 to 9
    │   ├── DuplicateMarkerError a marker given twice in one profile (under one spelling or two)
    │   ├── TriallelicError      three or more alleles at one autosomal marker (reported, never dropped)
    │   └── EmptyProfileError    no typed autosomal marker at all
    ├── FrequencyTableError      an allele-frequency table that cannot be read or lacks a marker
    └── CaseError                a case that cannot be computed: unknown relationship, missing role, bad
                                 mutation model or parameters, a theta outside [0, 1)

Every class is a `ValueError`, so callers that only care about "bad input" can catch that. `matching` stays pure:
adapters (the CLI, the matching service) turn these into a JSON error, an HTTP 4xx or a message to a lab.
"""

from __future__ import annotations


class KinshipError(ValueError):
    """Base of every error the kinship engine raises on purpose."""


class ProfileError(KinshipError):
    """A DNA profile cannot be used as given."""


class UnknownMarkerError(ProfileError):
    """A marker name is neither a known STR kit marker nor in the frequency table."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        super().__init__(
            f"unknown marker {marker!r}: use a standard STR name such as D8S1179, vWA, TH01 or Penta D"
        )


class AlleleFormatError(ProfileError):
    """An allele is not written as a repeat number (12, 9.3, 30.2)."""

    def __init__(self, marker: str, allele: object, reason: str = "") -> None:
        self.marker = marker
        self.allele = allele
        detail = f" ({reason})" if reason else ""
        super().__init__(
            f"marker {marker}: allele {allele!r} is not a repeat number such as 12, 9.3 or 30.2{detail}"
        )


class ImplausibleAlleleError(ProfileError):
    """An allele is a repeat number, but not one a person can carry at this marker (a placeholder or a typo)."""

    def __init__(self, marker: str, allele: str, reason: str) -> None:
        self.marker = marker
        self.allele = allele
        super().__init__(f"marker {marker}: allele {allele} is not plausible: {reason}")


class DuplicateMarkerError(ProfileError):
    """A profile gives one marker twice, under one spelling or two (which one holds is not for us to guess)."""

    def __init__(self, marker: str, spellings: tuple[str, ...]) -> None:
        self.marker = marker
        self.spellings = spellings
        written = f" (as {' and '.join(repr(s) for s in spellings)})" if len(set(spellings)) > 1 else ""
        super().__init__(f"marker {marker} is given twice{written}; give each marker once")


class TriallelicError(ProfileError):
    """A marker has three or more alleles: a tri-allelic pattern, a mixture or a typing error."""

    def __init__(self, marker: str, alleles: tuple[str, ...]) -> None:
        self.marker = marker
        self.alleles = alleles
        super().__init__(
            f"marker {marker}: {len(alleles)} alleles ({', '.join(alleles)}); a tri-allelic pattern or a"
            " mixture cannot enter a likelihood ratio: check the typing, or leave this marker out"
        )


class EmptyProfileError(ProfileError):
    """A profile has no typed autosomal STR marker."""

    def __init__(self, who: str = "profile") -> None:
        self.who = who
        super().__init__(f"{who}: no typed autosomal STR marker; send at least one marker with its alleles")


class FrequencyTableError(KinshipError):
    """An allele-frequency table cannot be read, or lacks a marker that a profile uses."""


class CaseError(KinshipError):
    """A kinship case cannot be computed as stated (relationship, roles, mutation model, theta)."""
