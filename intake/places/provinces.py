"""Which province a case belongs to: that of the labs of its samples and appointments; while it has none, that of
its place last seen (`Case.place_province`, from the gazetteer).

The officers' console shows a case to the officers of these provinces (`intake.web.console.access`), and the
matching service alerts the same officers when it stores a candidate of the case (`matching.service.alerts`).
A case may have several provinces (a family sampled in two places); a case at no lab whose place the gazetteer
does not place has none. Who may see which case is `intake.scope`.

    province_pairs(case_ids=None, province=None) -> SELECT (case_id, province)
    cases_at_a_lab() -> SELECT case_id
    province_of_place(place) -> province | None
    provinces_of(session, case_ids) -> {case_id: [province, ...]}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import Booking, Case, Lab, LabDay, Sample
from intake.places.gazetteer import locate


def province_of_place(place: str | None) -> str | None:
    """Return the province a place people wrote lies in (`Case.place_province`): None for a place the gazetteer
    does not know, or finds in several provinces (朝阳区 is in Beijing and in Jilin's 朝阳市)."""
    provinces = {d.province for d in locate(place)} if place else set()
    return provinces.pop() if len(provinces) == 1 else None


def cases_at_a_lab() -> sa.Select[Any]:
    """Select the ids of the cases with a sample taken at a lab or an appointment at one."""
    sampled = sa.select(Sample.case_id).where(Sample.lab_id.is_not(None), Sample.case_id.is_not(None))
    return sa.union(sampled, sa.select(Booking.case_id))  # type: ignore[return-value]


def province_pairs(case_ids: Collection[int] | None = None, province: str | None = None) -> sa.Select[Any]:
    """Select (case id, province) for every sample and every appointment at a lab, and for the place of each case
    at none (of `case_ids` only, and of `province` only, if given: filtered in each branch, so a few cases or one
    province never read every sample of a large database)."""
    by_sample = sa.select(Sample.case_id, Lab.province).join(Lab, Lab.id == Sample.lab_id)
    by_booking = (
        sa.select(Booking.case_id, Lab.province)
        .join(LabDay, LabDay.id == Booking.lab_day_id)
        .join(Lab, Lab.id == LabDay.lab_id)
    )
    by_place = sa.select(Case.id, Case.place_province).where(
        Case.place_province.is_not(None), Case.id.not_in(cases_at_a_lab())
    )
    if case_ids is not None:
        by_sample = by_sample.where(Sample.case_id.in_(list(case_ids)))
        by_booking = by_booking.where(Booking.case_id.in_(list(case_ids)))
        by_place = by_place.where(Case.id.in_(list(case_ids)))
    if province is not None:
        by_sample = by_sample.where(Lab.province == province)
        by_booking = by_booking.where(Lab.province == province)
        by_place = by_place.where(Case.place_province == province)
    return sa.union(by_sample, by_booking, by_place)  # type: ignore[return-value]


def provinces_of(session: Session, case_ids: Collection[int]) -> dict[int, list[str]]:
    """Return the provinces of each case (sorted); a case at no lab is absent."""
    if not case_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for case_id, province in session.execute(province_pairs(case_ids)):
        if case_id is not None:
            found[case_id].append(province)
    return {k: sorted(v) for k, v in found.items()}
