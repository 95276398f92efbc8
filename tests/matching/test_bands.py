"""The Chinese standard's bands for a combined LR."""

from __future__ import annotations

import pytest

from matching.bands import Band, classify_parentage


@pytest.mark.parametrize(
    ("lr", "inconsistent", "band"),
    [
        (10_000.0, 0, Band.SUPPORTS),
        (2.5e9, 1, Band.SUPPORTS),
        (9_999.9, 0, Band.INCONCLUSIVE),
        (0.0001, 2, Band.INCONCLUSIVE),
        (0.99e-4, 0, Band.EXCLUDES),
        (0.0, 1, Band.EXCLUDES),
        (5e6, 3, Band.EXCLUDES),
    ],
)
def test_bands(lr, inconsistent, band):
    assert classify_parentage(lr, inconsistent) is band
