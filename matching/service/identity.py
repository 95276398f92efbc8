"""A person sampled twice: the samples of a SAME_PERSON flag are linked (`SampleLink`), never matched as kin.

The search never compares identical profiles as relatives (`matching.search`) and flags them; here the flag's
two samples are recorded as one person's, once per pair (lower sample id first), so officers see the link on
the flags page and the cases can be joined up.

    link_same_person(session, flags) -> int     (new links)
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.models import DnaProfile, MatchFlag, SampleLink, audit
from matching.search import Flag, FlagKind

HOW = "same_person"


def _link(session: Session, flag: Flag) -> bool:
    samples = sorted(
        set(session.scalars(sa.select(DnaProfile.sample_id).where(DnaProfile.id.in_(flag.profile_ids))))
    )
    if len(samples) != 2:
        return False  # a profile gone (erased) or both of one sample: nothing to link
    first, second = samples
    query = sa.select(SampleLink.id).where(
        SampleLink.sample_id == first, SampleLink.same_as_sample_id == second
    )
    if session.scalar(query) is not None:
        return False
    flag_id = session.scalar(
        sa.select(MatchFlag.id).where(
            MatchFlag.kind == str(flag.kind), MatchFlag.profile_ids == ",".join(sorted(flag.profile_ids))
        )
    )
    try:
        with session.begin_nested():  # two workers linking the same pair: the unique key keeps one row
            link = SampleLink(sample_id=first, same_as_sample_id=second, flag_id=flag_id, how=HOW)
            session.add(link)
    except IntegrityError:
        return False
    audit(session, "system:matching", "sample.same_person", "sample", first, same_as=second, flag=flag_id)
    return True


def link_same_person(session: Session, flags: Iterable[Flag]) -> int:
    """Link the two samples of each SAME_PERSON flag (stored already); return how many links are new."""
    return sum(_link(session, f) for f in flags if f.kind is FlagKind.SAME_PERSON)
