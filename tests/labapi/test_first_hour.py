"""What a new lab engineer hits in the first hour with curl: bodies without Content-Type, odd dates, placeholder
alleles, misspelled markers, the wrong sex or kit, walk-ins that do not fit their case, loose types, the limit and
the language of every refusal. Each is a 4xx with a reason, and nothing wrong is stored."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from intake.cases.found_children import register_found_child
from intake.models import Case, DnaProfile, Sample, SampleSource, Sex
from tests.support.factories import IDENTIFILER, TODAY, bearer, booked_sample, collected_sample, genotypes

FORM = "application/x-www-form-urlencoded"  # what curl -d sends when no Content-Type is given


def _profiles(session) -> int:
    session.expire_all()
    count = session.scalar(sa.select(sa.func.count()).select_from(DnaProfile))
    session.rollback()
    return int(count or 0)


def _put(client, secret, code, body, **headers):
    return client.put(f"/api/v1/samples/{code}/profile", json=body, headers=bearer(secret) | headers)


@pytest.mark.parametrize("content_type", [FORM, None])
def test_a_json_body_sent_without_a_json_content_type_is_read_as_json(client, session, lab, content_type):
    sample = booked_sample(session, lab[0])
    url = f"/api/v1/samples/{sample.code}"
    kwargs = {"headers": bearer(lab[1])} | ({"content_type": content_type} if content_type else {})
    event = client.post(url + "/events", data=json.dumps({"type": "collected", "by": "nurse-2"}), **kwargs)
    assert event.status_code == 201, event.get_data(as_text=True)
    body = json.dumps({"kit": "Identifiler", "genotypes": genotypes(IDENTIFILER, 2, "female")})
    profile = client.put(url + "/profile", data=body, **kwargs)
    assert profile.status_code == 201 and profile.get_json()["markers"] == 15
    walk_in = {"source": "reporting_parent", "role": "father", "sex": "male"}
    assert client.post("/api/v1/samples", data=json.dumps(walk_in), **kwargs).status_code == 201


def test_a_body_that_is_not_json_is_a_4xx_with_the_reason_on_every_json_route(client, session, lab):
    sample = booked_sample(session, lab[0])
    routes = [("post", f"/api/v1/samples/{sample.code}/events"), ("put", f"/api/v1/samples/{sample.code}/profile"),
              ("post", "/api/v1/samples")]  # fmt: skip
    for method, url in routes:
        for data, content_type, status in (
            ("kit=Identifiler", FORM, 415), ("<xml/>", "text/xml", 415), ("{not json", "application/json", 400),
            (b"\xff\xfe", None, 415), ("", FORM, 422),  # no body at all: the schema names what is missing
        ):  # fmt: skip
            kwargs = {"content_type": content_type} if content_type else {}
            answer = getattr(client, method)(url, data=data, headers=bearer(lab[1]), **kwargs)
            assert answer.status_code == status, (url, data, answer.get_data(as_text=True))
            assert answer.get_json()["error"]["message"]
    chinese = client.post(routes[0][1], data="type=collected", content_type=FORM,
                          headers=bearer(lab[1]) | {"Accept-Language": "zh"})  # fmt: skip
    assert chinese.status_code == 415 and "JSON" in chinese.get_json()["error"]["message"]
    assert "必须" in chinese.get_json()["error"]["message"]


@pytest.mark.parametrize(
    "at", ["0001-01-01T00:00:00+14:00", "1970-01-01T00:00:00+00:00", "9999-12-31T23:59:59-14:00"]
)
def test_an_event_time_that_is_no_real_instant_is_a_422(client, session, lab, at):
    sample = booked_sample(session, lab[0])
    answer = client.post(f"/api/v1/samples/{sample.code}/events", json={"type": "collected", "at": at},
                         headers=bearer(lab[1]))  # fmt: skip
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_request", (
        answer.get_json()
    )
    assert "at" in answer.get_json()["error"]["message"]


def test_custody_events_must_be_in_time_order(client, session, lab):
    sample = booked_sample(session, lab[0])
    url = f"/api/v1/samples/{sample.code}/events"
    collected = {"type": "collected", "at": "2026-11-30T14:00:00+08:00"}
    assert client.post(url, json=collected, headers=bearer(lab[1])).status_code == 201
    early = client.post(
        url, json={"type": "received", "at": "2026-11-30T11:00:00+08:00"}, headers=bearer(lab[1])
    )
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "custody_conflict"
    assert "collected" in early.get_json()["error"]["message"]
    later = client.post(
        url, json={"type": "received", "at": "2026-11-30T16:00:00+08:00"}, headers=bearer(lab[1])
    )
    assert later.status_code == 201 and later.get_json()["state"] == "received"


@pytest.mark.parametrize(
    ("alleles", "code"),
    [(["12", "99"], "implausible_allele"), (["12", "999"], "implausible_allele"), (["12", 99], "implausible_allele"),
     (["12", 1e30], "bad_allele"), (["12", "1e30"], "bad_allele"), (["0", "12"], "implausible_allele")],
)  # fmt: skip
def test_a_placeholder_allele_is_refused_with_the_marker_and_the_range(client, session, lab, alleles, code):
    sample = collected_sample(client, session, lab)
    profile = genotypes(IDENTIFILER, 1, "female") | {"D8S1179": alleles}
    answer = _put(client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": profile})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == code, answer.get_json()
    assert "D8S1179" in answer.get_json()["error"]["message"]
    assert _profiles(session) == 0


def test_a_placeholder_at_a_marker_the_frequency_table_lacks_is_refused_too(client, session, lab):
    sample = collected_sample(client, session, lab)
    profile = genotypes(IDENTIFILER, 1, "female") | {"SE33": ["99", "28.2"]}
    answer = _put(client, lab[1], sample.code, {"kit": "unknown kit", "genotypes": profile})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "implausible_allele"
    assert "SE33" in answer.get_json()["error"]["message"] and _profiles(session) == 0


@pytest.mark.parametrize(
    ("marker", "nearest"), [("D8S1197", "D8S1179"), ("D99S999", None), ("D5S8181", "D5S818")]
)
def test_a_misspelled_or_unknown_marker_is_refused_not_stored_and_counted(
    client, session, lab, marker, nearest
):
    sample = collected_sample(client, session, lab)
    profile = genotypes(IDENTIFILER, 1, "female") | {marker: ["12", "13"]}
    answer = _put(client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": profile})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "unknown_marker"
    message = answer.get_json()["error"]["message"]
    assert marker in message and (nearest is None or nearest in message)
    assert _profiles(session) == 0


def test_markers_the_named_kit_does_not_type_are_refused(client, session, lab):
    sample = collected_sample(client, session, lab)
    profile = genotypes(IDENTIFILER, 1, "female") | {"D1S1656": ["12", "13"]}
    answer = _put(client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": profile})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "kit_mismatch"
    assert "D1S1656" in answer.get_json()["error"]["message"]
    assert _put(client, lab[1], sample.code, {"kit": "GlobalFiler", "genotypes": profile}).status_code == 201


def test_a_mother_booked_by_sms_is_recorded_female_and_a_male_amelogenin_is_flagged_to_the_lab(
    client, session, lab
):
    sample = collected_sample(client, session, lab)
    assert session.get_one(Sample, sample.id).sex is Sex.FEMALE  # from her role, when she booked
    session.rollback()
    male = _put(
        client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": genotypes(IDENTIFILER, 1, "male")}
    )
    assert male.status_code == 201 and [n["code"] for n in male.get_json()["notices"]] == ["sex_mismatch"]
    assert (
        sample.code in male.get_json()["notices"][0]["message"]
        and "X,Y" in male.get_json()["notices"][0]["message"]
    )
    female = genotypes(IDENTIFILER, 1, "female")
    replaced = _put(client, lab[1], sample.code,
                    {"kit": "Identifiler", "genotypes": female, "replace": True, "reason": "swapped tube"})  # fmt: skip
    assert replaced.status_code == 201 and replaced.get_json()["notices"] == []
    same = _put(
        client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": female | {"AMEL": ["X", "X"]}}
    )
    assert (
        same.status_code == 200 and same.get_json()["outcome"] == "unchanged"
    )  # AMEL X and X,X are one call


def test_a_parent_booked_before_the_sex_was_recorded_is_checked_by_role(client, session, lab):
    sample = collected_sample(client, session, lab)
    session.get_one(Sample, sample.id).sex = Sex.UNKNOWN  # booked by an older release
    session.commit()
    male = _put(
        client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": genotypes(IDENTIFILER, 1, "male")}
    )
    assert male.status_code == 201 and male.get_json()["notices"][0]["code"] == "sex_mismatch"


@pytest.mark.parametrize(
    ("walk_in", "found", "code"),
    [({"source": "rescued_child", "role": "mother", "sex": "female"}, False, "source_role_mismatch"),
     ({"source": "reporting_parent", "role": "child", "sex": "male"}, False, "source_role_mismatch"),
     ({"source": "reporting_parent", "role": "father", "sex": "male"}, True, "case_mismatch"),
     ({"source": "suspected_kidnapped_child", "role": "child", "sex": "male"}, True, "case_mismatch"),
     ({"source": "reporting_parent", "role": "mother", "sex": "male"}, False, "sex_mismatch")],
)  # fmt: skip
def test_a_walk_in_whose_source_role_and_case_do_not_fit_is_refused(
    client, session, lab, walk_in, found, code
):
    if found:
        case = register_found_child(
            session, source=SampleSource.RESCUED_CHILD, sex=Sex.MALE, age_years=6, found_place="深圳",
            found_date=TODAY, actor="officer:1", today=TODAY,
        ).case  # fmt: skip
    else:
        case = session.get_one(Case, booked_sample(session, lab[0]).case_id)
    reference = case.reference
    session.commit()
    before = session.scalar(sa.select(sa.func.count()).select_from(Sample))
    session.rollback()
    answer = client.post("/api/v1/samples", json=walk_in | {"case": reference}, headers=bearer(lab[1]))
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == code, answer.get_json()
    assert session.scalar(sa.select(sa.func.count()).select_from(Sample)) == before


def test_types_are_strict(client, session, lab):
    sample = collected_sample(client, session, lab)
    profile = genotypes(IDENTIFILER, 1, "female")
    assert _put(client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": profile}).status_code == 201
    other = genotypes(IDENTIFILER, 2, "female")
    for replace in ("yes", "true", 1):
        answer = _put(client, lab[1], sample.code,
                      {"kit": "Identifiler", "genotypes": other, "replace": replace, "reason": "swap"})  # fmt: skip
        assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_request", replace
        assert "replace" in answer.get_json()["error"]["message"]
    moved = client.post(f"/api/v1/samples/{sample.code}/events", json={"type": "transferred", "to_lab": "9"},
                        headers=bearer(lab[1]))  # fmt: skip
    assert moved.status_code == 422 and "to_lab" in moved.get_json()["error"]["message"]


def test_a_body_over_the_limit_is_a_413_that_names_the_limit(client, session, lab):
    sample = booked_sample(session, lab[0])
    big = json.dumps({"kit": "x" * 70_000})
    answer = client.put(f"/api/v1/samples/{sample.code}/profile", data=big, content_type="application/json",
                        headers=bearer(lab[1]))  # fmt: skip
    assert answer.status_code == 413 and answer.get_json()["error"]["code"] == "too_large"
    assert "65536" in answer.get_json()["error"]["message"]


def test_refusals_are_in_chinese_with_accept_language_zh(client, session, lab):
    sample = collected_sample(client, session, lab)
    zh = {"Accept-Language": "zh"}
    wrong = _put(
        client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": {"D8S1197": ["12", "13"]}}, **zh
    )
    assert wrong.status_code == 422 and "基因座" in wrong.get_json()["error"]["message"]
    loose = _put(client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": {}, "replace": "yes"}, **zh)
    assert loose.status_code == 422 and "replace" in loose.get_json()["error"]["message"]
    assert "必须" in loose.get_json()["error"]["message"]
    missing = client.post(f"/api/v1/samples/{sample.code}/events", json={}, headers=bearer(lab[1]) | zh)
    assert missing.status_code == 422 and "缺少" in missing.get_json()["error"]["message"]
    big = client.put(f"/api/v1/samples/{sample.code}/profile", data="x" * 70_000, content_type="application/json",
                     headers=bearer(lab[1]) | zh)  # fmt: skip
    assert big.status_code == 413 and "65536" in big.get_json()["error"]["message"]
    assert "字节" in big.get_json()["error"]["message"]
    assert "字节".encode() in big.get_data()  # readable in curl's output, not \u escapes
    male = genotypes(IDENTIFILER, 1, "male")
    sex = _put(client, lab[1], sample.code, {"kit": "Identifiler", "genotypes": male}, **zh)
    assert (
        sex.get_json()["notices"][0]["code"] == "sex_mismatch"
        and "性别" in sex.get_json()["notices"][0]["message"]
    )
