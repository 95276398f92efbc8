"""Count SMS segments the way carriers bill them: GSM-7 text in 160/153-character parts, anything else in UCS-2."""

from __future__ import annotations

_GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = "^{}\\[~]|€\f"


def is_gsm7(text: str) -> bool:
    """Tell whether `text` can be sent in the GSM-7 alphabet."""
    return all(ch in _GSM7_BASIC or ch in _GSM7_EXTENDED for ch in text)


def segment_count(text: str) -> int:
    """Return how many SMS segments `text` takes (Chinese: 70 characters, or 67 per part when split)."""
    if is_gsm7(text):
        units = sum(2 if ch in _GSM7_EXTENDED else 1 for ch in text)
        single, part = 160, 153
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units
        single, part = 70, 67
    if units <= single:
        return 1
    return -(-units // part)
