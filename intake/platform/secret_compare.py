"""Secrets, signatures and PINs compared in constant time, in one place: `same_secret(given, expected)`.

A comparison that stops at the first differing character (`==`, `!=`) tells an attacker, by how long it took, how
much of a guess was right. Every check of a case PIN, a lab API key, Twilio's request signature and Telegram's
webhook secret goes through here, to `hmac.compare_digest` (looked up when called, so a test can watch it).
Text is compared as UTF-8 bytes: `compare_digest` refuses non-ASCII text, and a PIN typed in full-width digits
must be a wrong PIN, not an error.
"""

from __future__ import annotations

import hmac


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8", "replace") if isinstance(value, str) else value


def same_secret(given: str | bytes, expected: str | bytes) -> bool:
    """Tell whether `given` is `expected`, in a time that does not depend on where they first differ."""
    return hmac.compare_digest(_bytes(given), _bytes(expected))
