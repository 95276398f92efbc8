"""Render a notification's text for its channel; an SMS is kept within two segments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from intake.outbox.templates import render
from sms.segments import is_gsm7, segment_count

MAX_SMS_SEGMENTS = 2
KEEP_WHOLE = frozenset(
    {"code", "reference", "day", "hours", "url", "phone", "pin", "text"}
)  # shortened, these would be wrong, not shorter (a dialogue's reply goes whole, as its TwiML answer did)


def fit_sms(template: str, language: str, params: Mapping[str, Any]) -> str:
    """Return the SMS text, shortening its longest free-text parameter (a lab's name or address) with "…"
    until it fits in MAX_SMS_SEGMENTS segments ("..." in a GSM-7 text, which "…" would make UCS-2)."""
    values = dict(params)
    text = render(template, language, values)
    # "…" is not in the GSM-7 alphabet: in an English text it would turn every segment into UCS-2's 70 characters
    ellipsis = "..." if is_gsm7(text) else "…"
    while segment_count(text) > MAX_SMS_SEGMENTS:
        free = [
            k
            for k, v in values.items()
            if k not in KEEP_WHOLE and isinstance(v, str) and v.removesuffix(ellipsis)
        ]
        if not free:
            break  # nothing left to shorten: the template itself is too long (its test says so)
        longest = max(free, key=lambda k: len(values[k]))
        values[longest] = values[longest].removesuffix(ellipsis)[:-1].rstrip() + ellipsis
        text = render(template, language, values)
    return text
