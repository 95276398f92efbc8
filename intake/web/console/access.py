"""The console's side of province scope (`intake.scope` is the rule): a page refuses, with an audited 403, what
the officer may not see.
"""

from __future__ import annotations

from flask import abort
from sqlalchemy.orm import Session

from intake.models import Case, Officer, audit
from intake.places.scope import may_see


def require_case(session: Session, officer: Officer, case: Case, action: str = "case.view_denied") -> None:
    """Refuse (403) a case outside the officer's province; the refusal is audited and committed."""
    if not may_see(session, officer, case):
        audit(session, officer.actor, action, "case", case.id)
        session.commit()
        abort(403)
