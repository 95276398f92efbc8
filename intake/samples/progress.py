"""Which samples of a case are collected and typed, for the family's status reply: never a genotype."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import Case, CustodyState, DnaProfile, Person, Role, Sample
from intake.samples.custody import custody_events, derive_state

_COLLECTED = {CustodyState.COLLECTED, CustodyState.RECEIVED, CustodyState.TYPED}


@dataclass(frozen=True)
class SampleProgress:
    """One sample of a case: its code, whose it is, and how far the lab has got with it."""

    code: str
    role: Role | None
    state: CustodyState
    collected: bool
    typed: bool


def case_sample_progress(session: Session, case: Case) -> list[SampleProgress]:
    """Return the progress of every sample of the case, oldest first (cancelled bookings left out)."""
    progress = []
    samples = session.scalars(sa.select(Sample).where(Sample.case_id == case.id).order_by(Sample.id))
    for sample in samples:
        state = derive_state(sample, custody_events(session, sample))
        if state is CustodyState.CANCELLED:
            continue
        person = session.get(Person, sample.person_id) if sample.person_id is not None else None
        typed = session.scalar(
            sa.select(sa.func.count())
            .select_from(DnaProfile)
            .where(DnaProfile.sample_id == sample.id, DnaProfile.replaced_at.is_(None))
        )
        progress.append(
            SampleProgress(
                sample.code, person.role if person else None, state, state in _COLLECTED, bool(typed)
            )
        )
    return progress
