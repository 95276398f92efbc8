"""Printable codes people read out and type back: sample codes, case references and case PINs.

Codes use a 31-character alphabet without 0, O, 1, I and U (U and V look alike), and end in a check character c chosen so that
1*d1 + 2*d2 + ... + n*dn + c = 0 (mod 31). Because 31 is prime, every weight is non-zero and neighbouring weights
differ (the check character's weight 1 differs from n's), the check catches every single-character substitution
and every transposition of two adjacent characters. Codes are random (`secrets`), and the database's unique
constraints are the final word: `insert_with_unique_code` retries in a savepoint on the rare collision.

    new_sample_code() -> "K7QX-M2PD"          is_valid_sample_code(text), normalise_sample_code(text)
    new_case_reference(now=None, kind="MC") -> "MC-2026-4F7K2Q"
    is_valid_case_reference(text), normalise_case_reference(text) -> "MC-2026-4F7K2Q" | "FC-..." | None
    new_case_pin() -> "042917"
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

T = TypeVar("T")

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
    # NFKC folds full-width letters from a Chinese input method; a typed U can only mean V, which codes use instead.
    folded = unicodedata.normalize("NFKC", text).upper().replace("U", "V")
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "-_.–—")


def new_sample_code() -> str:
    """Return a new sample code such as "K7QX-M2PD" (seven random characters and a check character)."""
    data = _random(SAMPLE_DATA_CHARS)
    code = data + check_character(data)
    return f"{code[:4]}-{code[4:]}"


def normalise_sample_code(text: str) -> str:
    """Return `text` in the canonical "XXXX-XXXX" form (case, width, spaces and hyphens do not matter)."""
    compact = _compact(text)
    return f"{compact[:4]}-{compact[4:]}" if len(compact) == SAMPLE_DATA_CHARS + 1 else compact


def is_valid_sample_code(text: str) -> bool:
    """Tell whether `text` is a well-formed sample code with a correct check character."""
    return _valid(_compact(text), SAMPLE_DATA_CHARS)


# The kinds of case reference: a missing child's (reported by the family) and a found child's (intake.cases.found_children).
CASE_KINDS = ("MC", "FC")
_REFERENCE = re.compile(rf"({'|'.join(CASE_KINDS)})?(\d{{4}})?(\w{{{REFERENCE_DATA_CHARS + 1}}})")


def new_case_reference(now: date | None = None, kind: str = "MC") -> str:
    """Return a new case reference such as "MC-2026-4F7K2Q": the kind, the year, five random characters, a check."""
    year = (now or datetime.now(UTC)).year
    data = _random(REFERENCE_DATA_CHARS)
    return f"{kind}-{year}-{data}{check_character(data)}"


def is_valid_case_reference(text: str) -> bool:
    """Tell whether `text` is a well-formed case reference of either kind (kind and year optional, any case)."""
    m = _REFERENCE.fullmatch(_compact(text))
    return m is not None and _valid(m.group(3), REFERENCE_DATA_CHARS)


def normalise_case_reference(text: str) -> str | None:
    """Return a typed reference ("fc 2026 4f7k2q", full-width) as stored ("FC-2026-4F7K2Q"), or None if not one."""
    m = _REFERENCE.fullmatch(_compact(text))
    if m is None or not (m.group(1) and m.group(2)) or not _valid(m.group(3), REFERENCE_DATA_CHARS):
        return None
    return "-".join(m.groups())


def insert_with_unique_code(session: Session, build: Callable[[], T], *, attempts: int = 5) -> T:
    """Add the object `build()` returns, rebuilding it (with a fresh random code) if a unique constraint rejects it.

    Each attempt runs in a savepoint, so a collision rolls back only that insert and not the caller's transaction.
    Use it as `insert_with_unique_code(session, lambda: Case(reference=new_case_reference(), pin=new_case_pin()))`.
    """
    session.flush()  # so that only this object's INSERT is inside the savepoint and retried
    for _ in range(attempts):
        obj = build()
        try:
            with session.begin_nested():
                session.add(obj)
        except IntegrityError:
            continue
        return obj
    raise RuntimeError(f"no unique code after {attempts} attempts")


def new_case_pin() -> str:
    """Return a six-digit PIN an officer quotes so the family knows the call is genuine."""
    return f"{secrets.randbelow(1_000_000):06d}"
