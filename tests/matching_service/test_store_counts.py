"""What the store reports as new is what it inserted, on both databases: the re-match summaries add these counts
(PostgreSQL's rowcount for an INSERT ... ON CONFLICT DO NOTHING is not a count to rely on)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import MatchFlag
from matching.search import Flag, FlagKind
from matching.service.store import store_flags


def test_a_flag_stored_twice_is_counted_once(session: Session) -> None:
    same = Flag(FlagKind.SAME_PERSON, ("p-1", "p-2"), {"shared_markers": 20})
    other = Flag(FlagKind.SAMPLE_MIXUP, ("p-3", "p-4"), {"shared_markers": 21})
    assert store_flags(session, [same]) == 1
    assert store_flags(session, [same, other, other]) == 1
    assert store_flags(session, [same, other]) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(MatchFlag)) == 2
