"""Province scope on every console route (intake.scope): a supervisor and an admin of another province are refused
(403, nothing changed) on every route that names a case, a candidate, a profile, a photo or a flag, and see none of
the province's cases on the lists. The routes come from the app's url_map, so a new route is covered by default:
a route with an argument this test does not know fails until the test is told what to put there.

Also: a case at no lab belongs to the province of its place (its duplicate-report flag is the province's, not the
admins' only), and a supervisor cannot approve a candidate nobody confirmed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.cases.duplicates import flag_likely_duplicates
from intake.models import (
    Attachment,
    AuditEvent,
    Candidate,
    CandidateReview,
    Case,
    Channel,
    Contact,
    Direction,
    MatchFlag,
    Message,
    Officer,
    OfficerRole,
    ReviewState,
    Sex,
)
from intake.places.provinces import province_of_place
from intake.places.scope import cases_clause, may_see
from tests.console.factories import add_officer, csrf_token, lab_in, log_in, make_candidate

# Route arguments that name no case data: the accounts page is the admins' (any province's accounts), static files.
NOT_CASE_DATA = {"officer_id", "filename"}
REFERENCE = re.compile(r"[A-Z]{2}-\d{4}-[A-Z0-9]+")


@dataclass(frozen=True)
class World:
    """The records of one province (广东省) that other provinces' officers must not reach."""

    values: dict[str, str]
    references: list[str]
    candidate_id: int
    flag_id: int
    duplicate_ids: list[int]


def _report(session: Session, phone: str) -> Case:
    """A report of a missing child from `phone`, at no lab yet: last seen at Guangzhou's railway station."""
    contact = Contact(channel=Channel.SMS, address=phone)
    session.add(contact)
    session.flush()
    case = Case(reference=f"MC-2026-{phone[-6:]}", pin="123456", child_name="李小明", child_sex=Sex.MALE,
                child_age_years=5, last_seen_place="广州火车站", place_province=province_of_place("广州火车站"),
                reported_by_contact_id=contact.id)  # fmt: skip
    session.add(case)
    session.flush()
    return case


def _world(session: Session) -> World:
    lab = lab_in(session, "广东省", "广州")
    candidate_id = make_candidate(session, lab)
    candidate = session.get_one(Candidate, candidate_id)
    family = session.get_one(Case, candidate.family_case_id)
    message = Message(contact_id=family.reported_by_contact_id, channel=Channel.SMS, direction=Direction.INBOUND,
                      body="photo")  # fmt: skip
    session.add(message)
    session.flush()
    photo = Attachment(message_id=message.id, case_id=family.id, position=0, content_type="image/jpeg",
                       photo_id="p" * 32)  # fmt: skip
    session.add(photo)
    first, second = _report(session, "+8613800000101"), _report(session, "+8613800000102")
    flag = flag_likely_duplicates(session, second, actor="test")[0]
    session.commit()
    values = {"reference": family.reference, "profile_id": candidate.family_profile_ids,
              "candidate_id": str(candidate_id), "attachment_id": str(photo.id), "flag_id": str(flag.id)}  # fmt: skip
    child = session.get_one(Case, candidate.child_case_id)
    refs = [family.reference, child.reference, first.reference, second.reference]
    world = World(values, refs, candidate_id, flag.id, [first.id, second.id])
    session.rollback()
    return world


FORMS = {"decision": "approve", "note": "resolved elsewhere", "confirm": "yes", "reason": "r"}


@pytest.mark.parametrize("role", [OfficerRole.SUPERVISOR, OfficerRole.ADMIN])
def test_another_provinces_supervisor_and_admin_are_refused_on_every_route(
    app: Flask, client: FlaskClient, session: Session, role: OfficerRole
) -> None:
    world = _world(session)
    add_officer(session, "beijing", role=role, province="北京市")
    assert log_in(client, "beijing") == 302
    token = csrf_token(client, "/console/")
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("console.") or rule.endpoint == "console.static":
            continue
        arguments = set(rule.arguments)
        if arguments & NOT_CASE_DATA:
            continue
        unknown = arguments - set(world.values)
        assert not unknown, f"{rule.rule}: tell this test which record its {sorted(unknown)} names"
        path = rule.rule
        for name in arguments:
            path = re.sub(rf"<(?:\w+:)?{name}>", world.values[name], path)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            if not arguments and method == "GET":  # a list: none of the province's cases on it
                response = client.get(path)
                shown = set(REFERENCE.findall(response.get_data(as_text=True)))
                assert not shown & set(world.references), (path, shown)
                checked.append((method, path, response.status_code))
            elif arguments:
                data = {"csrf_token": token, **FORMS} if method == "POST" else None
                response = client.open(path, method=method, data=data)
                assert response.status_code == 403, (method, path, response.status_code)
                checked.append((method, path, 403))
    refused = {p for m, p, s in checked if s == 403}
    assert {f"/console/cases/{world.values['reference']}", f"/console/candidates/{world.candidate_id}/decide",
            f"/console/flags/{world.flag_id}/link", f"/console/flags/{world.flag_id}/resolve",
            f"/console/photos/{world.values['attachment_id']}",
            f"/console/profiles/{world.values['profile_id']}"} <= refused  # fmt: skip
    session.expire_all()
    assert session.scalar(sa.select(CandidateReview.state)) is None  # no decision recorded
    assert session.get_one(MatchFlag, world.flag_id).resolved_at is None
    assert session.get_one(Case, world.duplicate_ids[1]).merged_into_id is None
    session.rollback()


def test_a_case_at_no_lab_belongs_to_the_province_of_its_place(client: FlaskClient, session: Session) -> None:
    world = _world(session)
    add_officer(session, "gd", role=OfficerRole.SUPERVISOR, province="广东省")
    add_officer(session, "bj", role=OfficerRole.SUPERVISOR, province="北京市")
    officers = {o.username: o for o in session.scalars(sa.select(Officer))}
    duplicate = session.get_one(Case, world.duplicate_ids[0])
    assert duplicate.place_province == "广东省"
    assert may_see(session, officers["gd"], duplicate) and not may_see(session, officers["bj"], duplicate)
    seen = set(session.scalars(sa.select(Case.id).where(cases_clause(officers["gd"]))))
    assert set(world.duplicate_ids) <= seen
    session.rollback()
    assert log_in(client, "gd") == 302
    flags = client.get("/console/flags", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "likely duplicate report" in flags and world.references[2] in flags
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    assert log_in(client, "bj") == 302
    assert world.references[2] not in client.get("/console/flags").get_data(as_text=True)


def test_a_supervisor_cannot_approve_a_candidate_nobody_confirmed(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab)
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "boss") == 302
    token = csrf_token(client, f"/console/candidates/{cid}")
    response = client.post(f"/console/candidates/{cid}/decide", data={"decision": "approve", "csrf_token": token},
                           headers={"Accept-Language": "en"})  # fmt: skip
    assert response.status_code == 303
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "An officer must confirm the candidate before a supervisor approves it." in page
    session.expire_all()
    state = session.scalar(sa.select(CandidateReview.state).where(CandidateReview.candidate_id == cid))
    assert state in (None, ReviewState.AWAITING_REVIEW)
    refused = session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "candidate.decide_refused")
    ).one()
    assert refused.entity_id == str(cid)
    session.rollback()
