"""The lab API (and the console showing what came in) against hostile callers: wrong, revoked or missing keys, another lab's samples, guessed sample
codes (the per-key rate limit), and SQL-injection-like and XSS-like text in every free-text field.

Every refusal is audited in its own transaction ("labapi.refused" with its code, "labapi.rate_limited"); hostile
text is stored verbatim by bound parameters and shown escaped in the officers' console.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from intake.labs.keys import issue_key, revoke_key
from intake.models import AuditEvent, Case, CustodyEvent, DnaProfile, Lab, LabKey, Sample
from intake.platform import clock
from intake.platform.codes import new_sample_code
from tests.console.factories import add_officer, lab_in, log_in
from tests.support.factories import IDENTIFILER, bearer, booked_sample, genotypes, lab_with_key
from tests.support.webapp import web_app, web_settings

HOSTILE = [
    "'; DROP TABLE samples; --",
    "Robert'); DELETE FROM custody_events WHERE ('1'='1",
    "1 OR 1=1 UNION SELECT key_hash FROM lab_keys--",
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ config }}{% raw %}",
    "javascript:alert(1)//&amp;",
]


@pytest.fixture
def app(tmp_path, engine, session_factory):
    return web_app(web_settings(tmp_path, engine), engine, session_factory)


@pytest.fixture
def client(app):
    return app.test_client()


def _audits(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    rows = list(
        session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )
    session.commit()
    return rows


def test_missing_unknown_and_revoked_keys_and_an_inactive_lab_are_refused_and_audited(client, session):
    lab, secret, key_id = lab_with_key(session, "北京")
    code = booked_sample(session, lab).code
    path = f"/api/v1/samples/{code}"
    assert client.get(path).get_json()["error"]["code"] == "no_key"
    assert client.get(path, headers=bearer("not-a-key")).get_json()["error"]["code"] == "unknown_key"
    assert client.get(path, headers=bearer(secret)).status_code == 200
    revoke_key(session, key_id, actor="test")
    session.commit()
    revoked = client.get(path, headers=bearer(secret))
    assert revoked.status_code == 401 and revoked.get_json()["error"]["code"] == "revoked_key"
    other, other_secret, _ = lab_with_key(session, "上海")
    session.get_one(Lab, other.id).active = False
    session.commit()
    inactive = client.get(path, headers=bearer(other_secret))
    assert inactive.status_code == 403 and inactive.get_json()["error"]["code"] == "inactive_lab"
    refused = _audits(session, "labapi.refused")
    assert [a.detail["code"] for a in refused] == ["no_key", "unknown_key", "revoked_key", "inactive_lab"]
    assert all(a.detail["path"] == path and a.detail["method"] == "GET" for a in refused)
    assert all(secret not in repr(a.detail) + a.actor for a in refused)  # never the secret itself


def test_an_expired_key_is_refused_from_the_minute_it_expires_and_audited(client, session):
    lab, _, _ = lab_with_key(session, "北京")
    code = booked_sample(session, lab).code
    key, secret = issue_key(session, lab.id, actor="test", valid_days=30)
    session.commit()
    path = f"/api/v1/samples/{code}"
    assert key.expires_at is not None
    with clock.pinned(key.expires_at - timedelta(minutes=1)):
        assert client.get(path, headers=bearer(secret)).status_code == 200
    with clock.pinned(key.expires_at):
        expired = client.get(path, headers=bearer(secret))
    assert expired.status_code == 401
    error = expired.get_json()["error"]
    assert error["code"] == "expired_key" and f"{key.expires_at:%Y-%m-%d}" in error["message"]
    assert [a.detail["code"] for a in _audits(session, "labapi.refused")] == ["expired_key"]


def test_a_new_key_works_for_a_year_unless_told_otherwise(session):
    lab, _, _ = lab_with_key(session, "北京")
    now = clock.now()
    with clock.pinned(now):
        key, _ = issue_key(session, lab.id, actor="test")
        short, _ = issue_key(session, lab.id, actor="test", valid_days=7)
    assert key.expires_at == now + timedelta(days=365) and short.expires_at == now + timedelta(days=7)
    with pytest.raises(ValueError):
        issue_key(session, lab.id, actor="test", valid_days=0)
    session.rollback()


def test_another_labs_sample_is_refused_changed_in_nothing_and_audited(client, session):
    lab, secret, _ = lab_with_key(session, "北京")
    _other, other_secret, other_key = lab_with_key(session, "上海")
    sample = booked_sample(session, lab)
    assert (
        client.post(
            f"/api/v1/samples/{sample.code}/events", json={"type": "collected"}, headers=bearer(secret)
        ).status_code
        == 201
    )
    session.commit()
    events_before = session.scalar(sa.select(sa.func.count()).select_from(CustodyEvent))
    session.commit()
    stranger = bearer(other_secret)
    answers = [
        client.get(f"/api/v1/samples/{sample.code}", headers=stranger),
        client.post(f"/api/v1/samples/{sample.code}/events", json={"type": "destroyed"}, headers=stranger),
        client.put(f"/api/v1/samples/{sample.code}/profile", headers=stranger,
                   json={"kit": "Identifiler", "genotypes": genotypes(IDENTIFILER, 1)}),
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [403, 403, 403]
    assert {a.get_json()["error"]["code"] for a in answers} == {"other_lab"}
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(CustodyEvent)) == events_before
    assert session.scalar(sa.select(sa.func.count()).select_from(DnaProfile)) == 0
    session.commit()
    refused = _audits(session, "labapi.refused")
    assert [(a.actor, a.detail["code"]) for a in refused] == [(f"labkey:{other_key}", "other_lab")] * 3


def test_guessing_sample_codes_hits_the_rate_limit_which_holds_and_is_audited(app, client, session):
    app.config["LAB_API_RATE_LIMIT"] = "10/minute"
    lab, secret, key_id = lab_with_key(session, "北京")
    _other, other_secret, _ = lab_with_key(session, "上海")
    real = booked_sample(session, lab).code
    statuses = [
        client.get(f"/api/v1/samples/{new_sample_code()}", headers=bearer(secret)).status_code
        for _ in range(25)
    ]
    assert statuses == [404] * 10 + [429] * 15  # well-formed guesses: unknown, then locked out for the window
    assert (
        client.get(f"/api/v1/samples/{real}", headers=bearer(secret)).status_code == 429
    )  # even a right one
    assert client.get(f"/api/v1/samples/{real}", headers=bearer(other_secret)).status_code == 403  # per key
    unknown = [a for a in _audits(session, "labapi.refused") if a.detail["code"] == "unknown_sample"]
    assert len(unknown) == 10 and {a.actor for a in unknown} == {f"labkey:{key_id}"}
    limited = _audits(session, "labapi.rate_limited")
    assert len(limited) == 16 and all(a.actor.startswith("labapi:key:") for a in limited)
    bad_guesses = [client.get("/api/v1/samples/AAAA-AAAA", headers=bearer(other_secret)) for _ in range(3)]
    assert [a.get_json()["error"]["code"] for a in bad_guesses] == ["bad_sample_code"] * 3  # check character


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_stored_verbatim_and_escaped_in_the_console(text, client, session):
    lab = lab_in(session, "北京市", "北京")
    from intake.labs.keys import issue_key

    _key, secret = issue_key(session, lab.id, actor="test")
    session.commit()
    sample = booked_sample(session, lab)
    walk_in = client.post("/api/v1/samples", headers=bearer(secret),
                          json={"source": "reporting_parent", "role": "father", "sex": "male", "by": text[:120]})  # fmt: skip
    assert walk_in.status_code == 201, walk_in.get_json()
    event = client.post(f"/api/v1/samples/{sample.code}/events", headers=bearer(secret),
                        json={"type": "collected", "by": text, "reason": text})  # fmt: skip
    assert event.status_code == 201, event.get_json()
    profile = client.put(f"/api/v1/samples/{sample.code}/profile", headers=bearer(secret),
                         json={"kit": text[:64], "genotypes": genotypes(IDENTIFILER, 3, sex="female")})  # fmt: skip
    assert profile.status_code == 201, profile.get_json()
    session.expire_all()
    stored = session.scalars(sa.select(CustodyEvent).where(CustodyEvent.reason.is_not(None))).one()
    assert (stored.by, stored.reason) == (text, text)
    assert session.scalars(sa.select(DnaProfile.kit)).one() == text[:64]
    walked = session.scalars(sa.select(Sample).where(Sample.code == walk_in.get_json()["code"])).one()
    assert [
        e.by for e in session.scalars(sa.select(CustodyEvent).where(CustodyEvent.sample_id == walked.id))
    ] == [text[:120]]
    assert session.scalar(sa.select(sa.func.count()).select_from(LabKey)) == 1  # nothing was executed
    case = session.get_one(Case, sample.case_id)
    # What a parent texts (the child's name, the place last seen, the description) is shown on the same page.
    case.child_name, case.last_seen_place, case.description = text[:60], text, text
    reference = case.reference
    session.commit()
    add_officer(session, "li.wei")
    assert log_in(client, "li.wei") == 302
    page = client.get(f"/console/cases/{reference}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for shown in (text, text[:64], text[:60]):
        assert str(escape(shown)) in page
        if any(c in shown for c in "<>\"'"):
            assert shown not in page


def test_a_cut_utf16_genemapper_export_is_a_400_with_a_reason(client, session):
    _lab, secret, _ = lab_with_key(session, "北京")
    cut = "Sample Name\tMarker\tAllele 1\r\n".encode("utf-16")[:-1]  # BOM, then an odd number of bytes
    answer = client.post(
        "/api/v1/imports/genemapper", data=cut, content_type="text/plain", headers=bearer(secret)
    )
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_genemapper_file"
