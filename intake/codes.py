"""Printable codes people read out and type back: sample codes, case references and case PINs.

Codes use a 31-character alphabet without 0/O, 1/I and U/V, and end in a check character: a weighted sum of the
characters modulo 31 (a prime), with distinct weights 1..n. Because 31 is prime and the weights differ, the check
catches every single-character substitution and every transposition of two adjacent characters.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTWXYZ" + "V"  # 31 characters; U is dropped (U/V look alike)
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_MOD = len(ALPHABET)
assert _MOD == 31

SAMPLE_DATA_CHARS = 7  # 31**7 ≈ 2.75e10 codes
REFERENCE_DATA_CHARS = 5  # 31**5 ≈ 2.9e7 references; the unique constraint catches the rare collision


def check_character(data: str) -> str:
    """Return the check character for `data` (characters of ALPHABET)."""
    total = sum((position + 1) * _INDEX[ch] for position, ch in enumerate(data))
    return ALPHABET[(-total) % _MOD]


def _random(n: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(n))


def _valid(compact: str, data_chars: int) -> bool:
    if len(compact) != data_chars + 1 or any(ch not in _INDEX for ch in compact):
        return False
    return check_character(compact[:-1]) == compact[-1]


def _compact(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch not in " -_.")


def new_sample_code() -> str:
    """Return a new sample code such as "K7QX-M2PD" (seven random characters and a check character)."""
    data = _random(SAMPLE_DATA_CHARS)
    code = data + check_character(data)
    return f"{code[:4]}-{code[4:]}"


def normalise_sample_code(text: str) -> str:
    """Return `text` in the canonical "XXXX-XXXX" form (case, spaces and hyphens do not matter)."""
    compact = _compact(text)
    return f"{compact[:4]}-{compact[4:]}" if len(compact) == SAMPLE_DATA_CHARS + 1 else compact


def is_valid_sample_code(text: str) -> bool:
    """Tell whether `text` is a well-formed sample code with a correct check character."""
    return _valid(_compact(text), SAMPLE_DATA_CHARS)


def new_case_reference() -> str:
    """Return a new case reference such as "MC-7K2QX4" (five random characters and a check character)."""
    data = _random(REFERENCE_DATA_CHARS)
    return f"MC-{data}{check_character(data)}"


def is_valid_case_reference(text: str) -> bool:
    """Tell whether `text` is a well-formed case reference ("MC-" optional, any case)."""
    compact = _compact(text)
    compact = compact[2:] if compact.startswith("MC") and len(compact) == REFERENCE_DATA_CHARS + 3 else compact
    return _valid(compact, REFERENCE_DATA_CHARS)


def new_case_pin() -> str:
    """Return a six-digit PIN an officer quotes so the family knows the call is genuine."""
    return f"{secrets.randbelow(1_000_000):06d}"
