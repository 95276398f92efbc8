"""Which province a case belongs to: that of the labs of its samples and appointments.

The officers' console shows a case to the officers of these provinces (`intake.web.console.access`), and the
matching service alerts the same officers when it stores a candidate of the case (`matching.service.alerts`).
A case may have several provinces (a family sampled in two places); a volunteer's registration not yet at a lab
has none.

    province_pairs() -> SELECT (case_id, province)
    provinces_of(session, case_ids) -> {case_id: [province, ...]}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import Booking, Lab, LabDay, Sample


def province_pairs(case_ids: Collection[int] | None = None) -> sa.Select[Any]:
    """Select (case id, province) for every sample and every appointment at a lab (of `case_ids` only, if given:
    filtered in each branch, so a few cases never read every sample of a large database)."""
    by_sample = sa.select(Sample.case_id, Lab.province).join(Lab, Lab.id == Sample.lab_id)
    by_booking = (
        sa.select(Booking.case_id, Lab.province)
        .join(LabDay, LabDay.id == Booking.lab_day_id)
        .join(Lab, Lab.id == LabDay.lab_id)
    )
    if case_ids is not None:
        by_sample = by_sample.where(Sample.case_id.in_(list(case_ids)))
        by_booking = by_booking.where(Booking.case_id.in_(list(case_ids)))
    return sa.union(by_sample, by_booking)  # type: ignore[return-value]


def provinces_of(session: Session, case_ids: Collection[int]) -> dict[int, list[str]]:
    """Return the provinces of each case (sorted); a case at no lab is absent."""
    if not case_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for case_id, province in session.execute(province_pairs(case_ids)):
        if case_id is not None:
            found[case_id].append(province)
    return {k: sorted(v) for k, v in found.items()}
