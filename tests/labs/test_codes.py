"""Printable codes: alphabet, check character, and the typos it must catch."""

from __future__ import annotations

import re
from datetime import date

from intake.platform.codes import (
    ALPHABET,
    CASE_KINDS,
    is_valid_case_reference,
    is_valid_sample_code,
    new_case_pin,
    new_case_reference,
    new_sample_code,
    normalise_case_reference,
    normalise_sample_code,
)


def test_alphabet_has_no_confusable_characters():
    assert not set("01OIU") & set(ALPHABET)
    assert len(set(ALPHABET)) == len(ALPHABET) == 31


def test_new_codes_are_valid_and_shaped():
    for _ in range(200):
        code = new_sample_code()
        assert len(code) == 9 and code[4] == "-" and is_valid_sample_code(code)
        assert is_valid_case_reference(new_case_reference())
        pin = new_case_pin()
        assert len(pin) == 6 and pin.isdigit()


def test_case_and_spacing_do_not_matter():
    code = new_sample_code()
    assert is_valid_sample_code(code.lower().replace("-", " "))
    assert normalise_sample_code(code.lower().replace("-", "")) == code


def test_every_single_substitution_is_caught():
    for _ in range(20):
        compact = new_sample_code().replace("-", "")
        for i, original in enumerate(compact):
            for ch in ALPHABET:
                if ch != original:
                    assert not is_valid_sample_code(compact[:i] + ch + compact[i + 1 :])


def test_every_adjacent_transposition_is_caught():
    for _ in range(200):
        compact = new_sample_code().replace("-", "")
        for i in range(len(compact) - 1):
            if compact[i] != compact[i + 1]:
                swapped = compact[:i] + compact[i + 1] + compact[i] + compact[i + 2 :]
                assert not is_valid_sample_code(swapped)


def test_malformed_codes_are_invalid():
    for text in ["", "ABC", "ABCD-EFGH-JK", "0000-0000", "ABCD-EFG!"]:
        assert not is_valid_sample_code(text)


def test_typing_variants_are_accepted():
    code = "K7QX-M2PD"
    code = code[:-1] + [c for c in ALPHABET if is_valid_sample_code(code[:-1] + c)][0]
    wide = "".join(
        chr(ord(c) + 0xFEE0) if c != "-" else "－" for c in code.lower()
    )  # full-width, as an IME types
    assert normalise_sample_code(wide) == code and is_valid_sample_code(f" {code[:4]} — {code[5:]} ")
    with_v = next(c for c in (new_sample_code() for _ in range(1000)) if "V" in c)
    assert is_valid_sample_code(with_v.replace("V", "u"))


def test_case_references_carry_the_year_and_a_check():
    ref = new_case_reference(date(2027, 3, 1))
    assert re.fullmatch(r"MC-2027-[2-9A-HJ-NP-TV-Z]{6}", ref)
    assert is_valid_case_reference(ref.lower()) and is_valid_case_reference(ref[8:])
    assert not is_valid_case_reference(ref[:-2] + ref[-1] + ref[-2]) or ref[-1] == ref[-2]


def test_found_child_references_are_read_as_missing_child_references_are():
    for kind in CASE_KINDS:
        ref = new_case_reference(date(2026, 5, 1), kind)
        assert re.fullmatch(rf"{kind}-2026-[2-9A-HJ-NP-TV-Z]{{6}}", ref) and is_valid_case_reference(ref)
        typed = " ".join(ref.lower().split("-"))  # "fc 2026 4f7k2q", as a phone keyboard gives it
        wide = "".join(chr(ord(c) + 0xFEE0) for c in ref.replace("-", ""))  # full-width, as an IME types
        assert normalise_case_reference(typed) == normalise_case_reference(wide) == ref
    assert normalise_case_reference("XC-2026-" + ref[8:]) is None  # an unknown kind
    assert normalise_case_reference(ref[8:]) is None  # kind and year are needed to find the case
    assert normalise_case_reference(ref[:-1] + next(c for c in ALPHABET if c != ref[-1])) is None
