"""Fold what people type into one comparable form, the same way everywhere: keywords, answers, languages.

A parent on a basic phone may type full-width letters and digits (a Chinese input method), Traditional characters
(a Hong Kong or Taiwan phone, or a handset set that way), capitals, spaces between syllables, or a full stop at
the end. `simplified` keeps the words as written but in one script and width; `fold` also drops case, spaces and
end punctuation, for comparing a whole message with a list of words. Modules with rules of their own (places,
sample codes, dates) start from `simplified` and add theirs.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import opencc

# Marks a person may end a message with; "?" is kept because it is the HELP keyword on its own.
END_MARKS = ".!。！~～,，、;；"
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@cache
def _to_simplified() -> opencc.OpenCC:
    # t2s is OpenCC's character-and-phrase conversion from Traditional to Simplified Chinese.
    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """Return `text` in NFKC (full-width to ASCII, ① to 1) and Simplified Chinese, otherwise as written."""
    normal = unicodedata.normalize("NFKC", text)
    return str(_to_simplified().convert(normal)) if has_han(normal) else normal


def fold(text: str) -> str:
    """Return `text` folded for comparing a whole message with words: simplified, case-free, no spaces or end marks."""
    folded = simplified(text).casefold().strip().rstrip(END_MARKS)
    return "".join(folded.split())


def has_han(text: str) -> bool:
    """Tell whether `text` holds a Chinese character."""
    return _HAN.search(text) is not None


def has_latin(text: str) -> bool:
    """Tell whether `text` holds a Latin letter (after NFKC, so full-width letters count)."""
    return any(ch.isascii() and ch.isalpha() for ch in unicodedata.normalize("NFKC", text))
