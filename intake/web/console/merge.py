"""Linking two likely duplicate reports as one family (`intake.case_merge`), from their flag: a supervisor or an
admin of both cases' province first sees the two reports side by side (step one, audited: it shows personal
data), then confirms (step two: a POST with the confirmation box ticked). The earlier report is kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from intake.cases.duplicates import LIKELY_DUPLICATE_REPORT
from intake.cases.merge import merge_cases
from intake.models import Case, MatchFlag, OfficerRole, audit
from intake.platform.errors import ReuniteError
from intake.platform.i18n import N_
from intake.web.console.access import require_case
from intake.web.console.app import bp, db, officer, render, roles_required, t
from intake.web.console.pages import reporters

SUPERVISORS = (OfficerRole.SUPERVISOR, OfficerRole.ADMIN)


def _pair(flag_id: int, denied: str) -> tuple[MatchFlag, Case, Case]:
    """The open duplicate flag and its two cases (earlier first); 404 for another flag, 403 outside the
    officer's province (audited as `denied`)."""
    s, me = db(), officer()
    flag = s.get(MatchFlag, flag_id)
    if flag is None or flag.kind != LIKELY_DUPLICATE_REPORT or len(flag.case_ids or []) != 2:
        abort(404)
    found = [s.get(Case, int(i)) for i in sorted(flag.case_ids)]
    cases = [c for c in found if c is not None]
    if len(cases) != 2:
        abort(404)
    for case in cases:
        require_case(s, me, case, denied)
    return flag, cases[0], cases[1]


@bp.get("/flags/<int:flag_id>/link")
@roles_required(*SUPERVISORS)
def link_form(flag_id: int) -> ResponseReturnValue:
    s, me = db(), officer()
    flag, keep, other = _pair(flag_id, "case.merge_denied")
    audit(s, me.actor, "case.merge_view", "match_flag", flag.id, cases=[keep.id, other.id])
    s.commit()
    return render("link.html", flag=flag, keep=keep, other=other, reporters=reporters([keep, other]))


@bp.post("/flags/<int:flag_id>/link")
@roles_required(*SUPERVISORS)
def link_cases(flag_id: int) -> ResponseReturnValue:
    s, me = db(), officer()
    flag, keep, other = _pair(flag_id, "case.merge_denied")
    if request.form.get("confirm") != "yes":
        flash(t(N_("Tick the box to confirm that both reports are of the same child.")))
        return redirect(url_for("console.link_form", flag_id=flag_id)), 303
    try:
        merge_cases(s, keep, other, actor=me.actor, flag=flag)
    except ReuniteError as exc:
        s.rollback()
        audit(s, me.actor, "case.merge_refused", "match_flag", flag_id, reason=exc.message)
        s.commit()
        flash(t(exc.message, **exc.params))
        return redirect(url_for("console.link_form", flag_id=flag_id)), 303
    s.commit()
    keep_ref, other_ref = s.scalars(
        sa.select(Case.reference).where(Case.id.in_([keep.id, other.id])).order_by(Case.id)
    )
    flash(t(N_("Case %(other)s is now part of case %(keep)s; both families were told the case number."),
            other=other_ref, keep=keep_ref))  # fmt: skip
    return redirect(url_for("console.case_page", reference=keep_ref)), 303
