"""A small kit for search-power tests: eight of the factory's markers (few alleles), with the bands lowered to
match, so a simulation is quick and the relatives' differences show."""

from __future__ import annotations

import pytest

import intake.cases.power as power
from matching.frequencies import FrequencyTable
from matching.search import SearchSettings

SMALL = ("D3S1358", "D5S818", "D16S539", "D13S317", "vWA", "TPOX", "CSF1PO", "D8S1179")


def use_small_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make `intake.cases.power` simulate on the small kit with bands fit for eight markers."""
    table = FrequencyTable.default()
    kit = FrequencyTable.from_loci([table.locus(m) for m in SMALL], source="small kit")
    monkeypatch.setattr(power, "_default_table", lambda: kit)
    monkeypatch.setattr(power, "SETTINGS", SearchSettings(min_shared_markers=8, candidate_lr=100.0,
                                                    inconclusive_lr=100.0))  # fmt: skip
