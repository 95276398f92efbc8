"""Watch `hmac.compare_digest`: the tests that secrets are compared in constant time (intake.secret_compare)."""

from __future__ import annotations

import hmac

import pytest


def watch_compare_digest(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, bytes]]:
    """Record every `hmac.compare_digest` call's arguments (still comparing); return the list it fills."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((bytes(a), bytes(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    return calls
