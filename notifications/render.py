"""Render a notification's text for its channel; an SMS is kept within two segments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from intake.outbox import render
from sms.segments import segment_count

MAX_SMS_SEGMENTS = 2
KEEP_WHOLE = frozenset({"code", "reference", "day", "url"})  # shortened, these would be wrong, not shorter


def fit_sms(template: str, language: str, params: Mapping[str, Any]) -> str:
    """Return the SMS text, shortening its longest free-text parameter (a lab's name or address) with "…"
    until it fits in MAX_SMS_SEGMENTS segments."""
    values = dict(params)
    text = render(template, language, values)
    while segment_count(text) > MAX_SMS_SEGMENTS:
        free = [k for k, v in values.items() if k not in KEEP_WHOLE and isinstance(v, str) and len(v) > 1]
        if not free:
            break  # nothing left to shorten: the template itself is too long (its test says so)
        longest = max(free, key=lambda k: len(values[k]))
        values[longest] = values[longest].rstrip("…")[:-1].rstrip() + "…"
        text = render(template, language, values)
    return text
