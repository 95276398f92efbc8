"""Flags are resolved in the console with a note, audited; only flags of the officer's cases."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import AuditEvent, Candidate, MatchFlag
from tests.console.factories import add_officer, csrf_token, lab_in, log_in, make_candidate


def _flag(session: Session, lab_province: str, city: str, kind: str, phone: str) -> int:
    cid = make_candidate(session, lab_in(session, lab_province, city), phone=phone)
    case_id, profile_id = session.execute(
        sa.select(Candidate.child_case_id, Candidate.child_profile_id).where(Candidate.id == cid)
    ).one()
    flag = MatchFlag(kind=kind, profile_ids=profile_id, case_ids=[case_id], detail={})
    session.add(flag)
    session.commit()
    return flag.id


def test_an_officer_resolves_a_flag_with_a_note(client: FlaskClient, session: Session) -> None:
    mine = _flag(session, "北京市", "北京", "likely_duplicate_report", "+8613800000041")
    theirs = _flag(session, "上海市", "上海", "same_person", "+8613800000042")
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get("/console/flags", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"/console/flags/{mine}/resolve" in page and f"/console/flags/{theirs}/resolve" not in page
    token = csrf_token(client, "/console/flags")
    empty = client.post(f"/console/flags/{mine}/resolve", data={"note": " ", "csrf_token": token},
                        headers={"Accept-Language": "en"}, follow_redirects=True)  # fmt: skip
    assert "Say how the flag was resolved" in empty.get_data(as_text=True)
    done = client.post(f"/console/flags/{mine}/resolve", data={"note": "同一家庭，已合并", "csrf_token": token},
                       headers={"Accept-Language": "en"}, follow_redirects=True)  # fmt: skip
    text = done.get_data(as_text=True)
    assert "is resolved" in text and "同一家庭，已合并" in text
    refused = client.post(f"/console/flags/{theirs}/resolve", data={"note": "x", "csrf_token": token})
    assert refused.status_code == 403
    session.expire_all()
    actions = dict(session.execute(sa.select(AuditEvent.action, AuditEvent.entity_id)
                                   .where(AuditEvent.action.in_(["match_flag.resolve", "flag.resolve_denied"]))).all())  # fmt: skip
    assert actions == {"match_flag.resolve": str(mine), "flag.resolve_denied": str(theirs)}
    assert session.get(MatchFlag, theirs).resolved_at is None  # type: ignore[union-attr]
    session.rollback()
