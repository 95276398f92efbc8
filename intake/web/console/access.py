"""The console's side of province scope (`intake.scope` is the rule): a page refuses, with an audited 403, what
the officer may not see.
"""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from sqlalchemy.orm import Session

from intake.models import Candidate, Case, MatchFlag, Officer, audit
from intake.places.scope import candidates_clause, flags_clause, may_see

Row = TypeVar("Row", Candidate, MatchFlag)


def require_case(session: Session, officer: Officer, case: Case, action: str = "case.view_denied") -> None:
    """Refuse (403) a case outside the officer's province; the refusal is audited and committed."""
    if not may_see(session, officer, case):
        audit(session, officer.actor, action, "case", case.id)
        session.commit()
        abort(403)


def require_candidate(
    session: Session, officer: Officer, candidate_id: int, action: str, **detail: Any
) -> Candidate:
    """Return the candidate (404 if there is none), refusing (403) one of no case in the officer's province;
    the refusal is audited as `action` (with `detail`) and committed."""
    return _require(
        session, officer, Candidate, candidate_id, candidates_clause(officer), action, "candidate", detail
    )


def require_flag(session: Session, officer: Officer, flag_id: int, action: str) -> MatchFlag:
    """Return the flag (404 if there is none), refusing (403) one of no case in the officer's province;
    the refusal is audited as `action` and committed."""
    return _require(session, officer, MatchFlag, flag_id, flags_clause(officer), action, "flag", {})


def _require(
    session: Session, officer: Officer, model: type[Row], row_id: int, scope: sa.ColumnElement[bool], action: str,
    entity: str, detail: dict[str, Any],
) -> Row:  # fmt: skip
    row = session.get(model, row_id)
    if row is None:
        abort(404)
    if session.scalar(sa.select(model.id).where(model.id == row.id, scope)) is None:
        audit(session, officer.actor, action, entity, row.id, **detail)
        session.commit()
        abort(403)
    return row
