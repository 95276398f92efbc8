"""The one band of a comparison (`matching.bands.band_of`), at the standard's edges, and the same band everywhere
it is read: the search's comparisons, the console's words and the officers' alerts."""

from __future__ import annotations

import math

import pytest

from intake.outbox.templates import BAND_WORDS
from intake.web.console.candidates import BANDS, MEANINGS
from intake.web.console.labels import LABELS
from matching.bands import EXCLUDE_INCONSISTENT, EXCLUDE_LR, SUPPORT_LR, Band, band_of
from matching.search import SearchSettings
from matching.service.alerts import ALERTING_BANDS

ENOUGH = 23  # shared markers


@pytest.mark.parametrize(
    ("lr", "inconsistent", "band"),
    [
        (SUPPORT_LR, 0, Band.CANDIDATE),  # exactly 10,000 supports
        (9_999.999, 0, Band.INCONCLUSIVE),
        (2.5e9, 1, Band.CANDIDATE),
        (2.5e9, 2, Band.CANDIDATE),
        (5e12, EXCLUDE_INCONSISTENT, Band.EXCLUDED),  # exactly 3 inconsistent markers exclude
        (EXCLUDE_LR, 0, Band.INCONCLUSIVE),  # exactly 0.0001 does not exclude
        (EXCLUDE_LR, 2, Band.INCONCLUSIVE),
        (0.99e-4, 0, Band.EXCLUDED),  # below it excludes
        (0.0, 1, Band.EXCLUDED),
    ],
)
def test_band_at_the_standards_edges(lr: float, inconsistent: int, band: Band) -> None:
    log10_lr = math.log10(lr) if lr > 0 else -math.inf
    assert band_of(log10_lr, inconsistent, ENOUGH) is band


def test_too_few_markers_is_neither_candidate_nor_exclusion() -> None:
    assert band_of(9.0, 0, 14) is Band.NOT_ENOUGH_MARKERS
    assert band_of(-9.0, 5, 14) is Band.NOT_ENOUGH_MARKERS
    assert band_of(9.0, 0, 15) is Band.CANDIDATE
    assert band_of(9.0, 0, 10, min_shared_markers=10) is Band.CANDIDATE


def test_the_search_defaults_are_the_standards() -> None:
    s = SearchSettings()
    assert (s.candidate_lr, s.exclude_lr, s.exclude_inconsistent) == (
        SUPPORT_LR,
        EXCLUDE_LR,
        EXCLUDE_INCONSISTENT,
    )


def test_every_band_has_its_words_where_it_is_read() -> None:
    assert set(BANDS) == {b.value for b in Band}
    assert set(MEANINGS) == set(BANDS) and set(BANDS) <= set(LABELS)
    assert {Band.CANDIDATE.value} == ALERTING_BANDS and ALERTING_BANDS <= set(BAND_WORDS) <= set(BANDS)
