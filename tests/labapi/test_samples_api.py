"""The lab API's samples: walk-ins, custody events, reading a sample, keys, labs, rate limits and body sizes."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from intake.cases.found_children import register_found_child
from intake.labs.keys import revoke_key
from intake.models import AuditEvent, Case, CustodyEvent, LinkCode, Sample, SampleSource, Sex
from tests.support.factories import IDENTIFILER, bearer, booked_sample, genotypes

WALK_IN = {"source": "reporting_parent", "role": "father", "sex": "male"}


def _count(session, model) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_walk_in_gets_a_tube_code_and_a_separate_one_time_link_code(client, session, lab):
    _lab, secret, key_id = lab
    answer = client.post("/api/v1/samples", json={**WALK_IN, "by": "staff-7"}, headers=bearer(secret))
    assert answer.status_code == 201
    body = answer.get_json()
    assert set(body) == {"code", "link_code"} and body["code"] != body["link_code"]
    sample = session.scalars(sa.select(Sample).where(Sample.code == body["code"])).one()
    stored = session.scalars(sa.select(LinkCode)).one()
    assert stored.sample_id == sample.id and body["link_code"].replace("-", "") not in stored.code_hash
    session.rollback()  # SQLite: a reading transaction holds the write lock (BEGIN IMMEDIATE)
    shown = client.get(f"/api/v1/samples/{body['code']}", headers=bearer(secret)).get_json()
    assert shown["state"] == "collected" and not shown["linked"]
    assert [(e["type"], e["by"]) for e in shown["events"]] == [("collected", "staff-7")]
    assert (
        session.scalar(sa.select(AuditEvent.actor).where(AuditEvent.action == "sample.walk_in"))
        == f"labkey:{key_id}"
    )


def test_a_walk_in_for_a_known_case_and_refusals_of_bad_bodies(client, session, lab):
    _lab, secret, _ = lab
    sample = booked_sample(session, lab[0])
    reference = session.get_one(Case, sample.case_id).reference
    session.rollback()
    ok = client.post("/api/v1/samples", json={**WALK_IN, "case": reference.lower()}, headers=bearer(secret))
    assert ok.status_code == 201
    unknown = client.post(
        "/api/v1/samples", json={**WALK_IN, "case": "MC-2026-ZZZZZZ"}, headers=bearer(secret)
    )
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"
    for bad in (
        {**WALK_IN, "role": "king"},
        {**WALK_IN, "extra": 1},
        {"role": "father"},
        {**WALK_IN, "role": "officer"},
        {**WALK_IN, "by": "\x00"},  # PostgreSQL cannot store a NUL: refused before it gets there
        {**WALK_IN, "by": "nurse\nLi"},
    ):
        answer = client.post("/api/v1/samples", json=bad, headers=bearer(secret))
        assert answer.status_code in (400, 422) and answer.get_json()["error"]["message"], bad
    not_json = client.post("/api/v1/samples", data="source=x", headers=bearer(secret))
    assert not_json.status_code == 415 and not_json.get_json()["error"]["code"] == "unsupported_media_type"
    assert _count(session, Sample) == 2  # the booked one and the one good walk-in


def test_custody_events_move_the_state_and_are_kept_in_order(client, session, lab):
    _lab, secret, _ = lab
    sample = booked_sample(session, lab[0])
    url = f"/api/v1/samples/{sample.code}/events"
    received_first = client.post(url, json={"type": "received"}, headers=bearer(secret))
    assert (
        received_first.status_code == 409 and received_first.get_json()["error"]["code"] == "custody_conflict"
    )
    collected = {"type": "collected", "at": "2026-11-28T09:15:00+08:00", "by": "nurse-2"}
    first = client.post(url, json=collected, headers=bearer(secret))
    assert first.status_code == 201 and first.get_json()["state"] == "collected"
    retry = client.post(url, json=collected, headers=bearer(secret))
    assert retry.status_code == 200 and len(retry.get_json()["events"]) == 2
    assert (
        client.post(url, json={"type": "received"}, headers=bearer(secret)).get_json()["state"] == "received"
    )
    shown = client.get(f"/api/v1/samples/{sample.code}", headers=bearer(secret)).get_json()
    assert [e["type"] for e in shown["events"]] == ["booked", "collected", "received"]
    assert shown["events"][1]["at"].startswith("2026-11-28T01:15:00")
    assert "name" not in str(shown) and "+86" not in str(shown)
    destroyed = client.post(url, json={"type": "destroyed", "reason": "tube broken"}, headers=bearer(secret))
    assert destroyed.get_json()["state"] == "destroyed"
    assert client.post(url, json={"type": "collected"}, headers=bearer(secret)).status_code == 409
    future = client.post(url, json={"type": "received", "at": "2099-01-01T00:00:00Z"}, headers=bearer(secret))
    assert future.status_code == 409
    naive = client.post(url, json={"type": "received", "at": "2026-11-30T09:00:00"}, headers=bearer(secret))
    assert naive.status_code == 422


def test_a_sample_code_with_a_wrong_check_character_or_unknown_is_refused(client, session, lab):
    _lab, secret, _ = lab
    sample = booked_sample(session, lab[0])
    last = sample.code[-1]
    wrong = sample.code[:-1] + ("2" if last != "2" else "3")
    answer = client.get(f"/api/v1/samples/{wrong}", headers=bearer(secret))
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_sample_code"
    from intake.platform.codes import check_character

    data = "2345678"
    unknown = f"{data[:4]}-{data[4:]}{check_character(data)}"
    answer = client.get(f"/api/v1/samples/{unknown}", headers=bearer(secret))
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "unknown_sample"
    lowercase = client.get(f"/api/v1/samples/{sample.code.lower().replace('-', '')}", headers=bearer(secret))
    assert lowercase.status_code == 200


def test_another_labs_sample_is_refused_until_it_is_transferred(client, session, lab, other_lab):
    (mine, secret, _), (theirs, their_secret, _) = lab, other_lab
    sample = booked_sample(session, mine)
    url = f"/api/v1/samples/{sample.code}"
    for method, path, body in (("get", "", None), ("post", "/events", {"type": "collected"}),
                               ("put", "/profile", {"kit": "x", "genotypes": {"vWA": ["14"]}})):  # fmt: skip
        answer = getattr(client, method)(url + path, json=body, headers=bearer(their_secret))
        assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "other_lab", (method, path)
    client.post(url + "/events", json={"type": "collected"}, headers=bearer(secret))
    moved = client.post(
        url + "/events", json={"type": "transferred", "to_lab": theirs.id}, headers=bearer(secret)
    )
    assert moved.status_code == 201 and moved.get_json()["lab"] == theirs.id
    assert (
        client.post(url + "/events", json={"type": "received"}, headers=bearer(their_secret)).status_code
        == 201
    )
    assert client.post(url + "/events", json={"type": "destroyed"}, headers=bearer(secret)).status_code == 403
    typed = {"kit": "Identifiler", "genotypes": genotypes(IDENTIFILER, 1, sex="female")}
    assert client.put(url + "/profile", json=typed, headers=bearer(their_secret)).status_code == 201
    seen_before = client.get(url, headers=bearer(secret))  # the lab it came from still sees custody...
    assert seen_before.status_code == 200 and seen_before.get_json()["state"] == "typed"
    assert seen_before.get_json()["profile"] is None  # ...but never another lab's profile
    assert client.get(url, headers=bearer(their_secret)).get_json()["profile"]["markers"] == 15
    nowhere = client.post(
        url + "/events", json={"type": "transferred", "to_lab": 999}, headers=bearer(their_secret)
    )
    assert nowhere.status_code == 404
    missing = client.post(url + "/events", json={"type": "transferred"}, headers=bearer(their_secret))
    assert missing.status_code == 400
    stray = client.post(
        url + "/events", json={"type": "received", "to_lab": mine.id}, headers=bearer(their_secret)
    )
    assert stray.status_code == 400


def test_missing_unknown_and_revoked_keys_get_401_and_change_nothing(client, session, lab):
    _lab, secret, key_id = lab
    assert client.post("/api/v1/samples", json=WALK_IN).status_code == 401
    wrong = client.post("/api/v1/samples", json=WALK_IN, headers=bearer(secret + "x"))
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    revoke_key(session, key_id, actor="test")
    session.commit()
    revoked = client.post("/api/v1/samples", json=WALK_IN, headers=bearer(secret))
    assert revoked.status_code == 401 and revoked.get_json()["error"]["code"] == "revoked_key"
    assert _count(session, Sample) == 0 and _count(session, CustodyEvent) == 0


def test_errors_are_in_chinese_when_asked(client, lab):
    answer = client.post(
        "/api/v1/samples", json=WALK_IN, headers={**bearer(lab[1] + "x"), "Accept-Language": "zh-CN"}
    )
    assert answer.get_json()["error"]["message"] == "此API密钥未知。"


def test_requests_per_key_are_rate_limited(app, client, lab, other_lab):
    app.extensions["reunite_lab_api_limiter"].reset()
    app.config["LAB_API_RATE_LIMIT"] = "3/minute"
    statuses = [client.get("/api/v1/samples/2345-6789", headers=bearer(lab[1])).status_code for _ in range(4)]
    assert statuses[-1] == 429 and 429 not in statuses[:3]
    limited = client.get("/api/v1/samples/2345-6789", headers=bearer(lab[1]))
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert client.get("/api/v1/samples/2345-6789", headers=bearer(other_lab[1])).status_code != 429


def test_a_body_over_the_size_limit_is_refused(client, lab):
    huge = {**WALK_IN, "by": "x" * 70_000}
    assert client.post("/api/v1/samples", json=huge, headers=bearer(lab[1])).status_code == 413


def test_a_walk_in_names_a_found_childs_case_as_typed(client, session, lab):
    _lab, secret, _ = lab
    found = register_found_child(
        session, source=SampleSource.RESCUED_CHILD, sex=Sex.MALE, age_years=6, found_place="深圳",
        found_date=date(2026, 9, 1), actor="officer:1", today=date(2026, 11, 29),
    )  # fmt: skip
    reference = found.case.reference
    session.commit()
    typed = " ".join(reference.lower().split("-"))
    child = {"source": "rescued_child", "role": "child", "sex": "male"}
    ok = client.post("/api/v1/samples", json={**child, "case": typed}, headers=bearer(secret))
    assert ok.status_code == 201, ok.get_json()
    sample = session.scalars(sa.select(Sample).where(Sample.code == ok.get_json()["code"])).one()
    assert session.get_one(Case, sample.case_id).reference == reference


def test_a_body_that_is_not_utf8_json_gets_a_400_that_says_so(client, lab):
    # Flask reads such a body as none at all; the schema then said "source: Field required".
    _lab, secret, _ = lab
    for method, url, body in (
        ("post", "/api/v1/samples", b'{"source": "reporting_parent", "role": "\xff\xfe", "sex": "male"}'),
        ("post", "/api/v1/samples", b"\xff\xfe\x00{"),
        ("post", "/api/v1/samples", b'{"source": '),
        ("put", "/api/v1/samples/K7QX-M2PD/profile?kit=x", b'{"markers": {"\xff": [1]}}'),
    ):
        answer = getattr(client, method)(
            url, data=body, content_type="application/json", headers=bearer(secret)
        )
        assert answer.status_code == 400, (url, body, answer.get_json())
        assert "not valid JSON in UTF-8" in answer.get_json()["error"]["message"], (url, body)


def test_a_path_that_is_not_utf8_is_read_leniently_and_refused_with_a_reason(client, lab):
    # Werkzeug 3.1 decodes paths and forms with replacement characters: no UnicodeDecodeError reaches Flask.
    answer = client.get("/api/v1/samples/%FF%FE", headers=bearer(lab[1]))
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_sample_code"
