"""Fixtures of the kinship engine's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def shard(request: pytest.FixtureRequest) -> int:
    """Return the shard of reference cases that the collecting module checks (its SHARD)."""
    return int(request.module.SHARD)
