"""The Y-STR upload: a male sample's Yfiler Plus haplotype stored encrypted, retried safely, replaced only with
a reason, refused with a reason (a woman's sample, a locus the kit lacks, a mixture), read back audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.models import AuditEvent, MatchJob, Person, Role, Sample, Sex, YHaplotype
from tests.labapi.genemapper_files import table
from tests.support.factories import HUAXIA_PLATINUM, bearer, booked_sample, genotypes

# A full Yfiler Plus haplotype as a lab writes it (25 entries: DYS385 and DYF387S1 carry two alleles).
YFILER_PLUS = {
    "DYS576": "18", "DYS389 I": "13", "DYS635": "21", "DYS389 II": "29", "DYS627": "19", "DYS460": "10",
    "DYS458": "17", "DYS19": "15", "Y GATA H4": "12", "DYS448": "20", "DYS391": "10", "DYS456": "15",
    "DYS390": "23", "DYS438": "10", "DYS392": "13", "DYS518": "38", "DYS570": "17", "DYS437": "14",
    "DYS385 a/b": ["18", "13"], "DYS449": "30", "DYS393": "13", "DYS439": "12", "DYS481": "22",
    "DYF387S1": ["36", "38"], "DYS533": "11",
}  # fmt: skip


def _father(session, lab, sex=Sex.MALE, role=Role.FATHER, phone="+8613800000001"):
    ref = booked_sample(session, lab[0], phone=phone)
    session.get(Person, ref.person_id).role = role
    session.get(Sample, ref.id).sex = sex
    session.commit()
    return ref


def _typed(client, lab, code, sex):
    """Record the sample collected and store its autosomal profile; return the profile's id."""
    client.post(f"/api/v1/samples/{code}/events", json={"type": "collected"}, headers=bearer(lab[1]))
    body = {"kit": "Huaxia Platinum", "genotypes": genotypes(HUAXIA_PLATINUM, 1, sex)}
    put = client.put(f"/api/v1/samples/{code}/profile", json=body, headers=bearer(lab[1]))
    assert put.status_code == 201, put.get_json()
    return put.get_json()["profile"]


def _put(client, secret, code, haplotype=YFILER_PLUS, **extra):
    body = {"kit": "Yfiler Plus", "haplotype": haplotype, **extra}
    return client.put(f"/api/v1/samples/{code}/y-str", json=body, headers=bearer(secret))


def test_a_male_sample_haplotype_is_201_encrypted_and_audited_then_200_unchanged(
    client, session, engine, lab
):
    ref = _father(session, lab)
    answer = _put(client, lab[1], ref.code)
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["outcome"] == "created" and body["loci"] == 25 and body["kit"] == "Yfiler Plus"
    assert body["haplotype"]["DYS385"] == ["13", "18"] and body["haplotype"]["YGATAH4"] == ["12"]
    assert body["haplotype"]["DYS389II"] == ["29"]
    with engine.connect() as raw:  # the database holds sealed bytes, not the alleles
        stored = raw.execute(sa.text("SELECT haplotype FROM y_haplotypes")).scalar_one()
    assert b"DYS19" not in bytes(stored) and bytes(stored)[:1] == b"\x01"
    as_copies = {k: v for k, v in YFILER_PLUS.items() if k != "DYS385 a/b"} | {
        "DYS385a": "13",
        "DYS385b": "18",
    }
    again = _put(client, lab[1], ref.code, as_copies)
    assert again.status_code == 200 and again.get_json()["outcome"] == "unchanged"
    assert again.get_json()["haplotype_id"] == body["haplotype_id"]
    actions = list(session.scalars(sa.select(AuditEvent.action)))
    assert actions.count("y_haplotype.upload") == 2
    session.rollback()
    read = client.get(f"/api/v1/samples/{ref.code}/y-str", headers=bearer(lab[1]))
    assert read.status_code == 200 and read.get_json()["haplotype"]["DYF387S1"] == ["36", "38"]
    assert "y_haplotype.read" in list(session.scalars(sa.select(AuditEvent.action)))


def test_a_different_haplotype_is_409_unless_replaced_with_a_reason(client, session, lab):
    ref = _father(session, lab)
    first = _put(client, lab[1], ref.code).get_json()["haplotype_id"]
    other = {**YFILER_PLUS, "DYS576": "19"}
    assert _put(client, lab[1], ref.code, other).status_code == 409
    no_reason = _put(client, lab[1], ref.code, other, replace=True)
    assert no_reason.status_code == 422 and no_reason.get_json()["error"]["code"] == "reason_required"
    replaced = _put(client, lab[1], ref.code, other, replace=True, reason="re-typed")
    assert replaced.status_code == 201 and replaced.get_json()["outcome"] == "replaced"
    rows = {r.id: r for r in session.scalars(sa.select(YHaplotype))}
    assert (
        rows[first].replaced_by_id == replaced.get_json()["haplotype_id"]
        and rows[first].replace_reason == "re-typed"
    )


def test_a_female_sample_is_refused_with_the_reason(client, session, lab):
    mother = booked_sample(session, lab[0])  # a mother: female by her role
    answer = _put(client, lab[1], mother.code)
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "female_sample"
    assert "no Y chromosome" in answer.get_json()["error"]["message"]
    zh = client.put(f"/api/v1/samples/{mother.code}/y-str", json={"kit": "Yfiler Plus", "haplotype": YFILER_PLUS},
                    headers=bearer(lab[1]) | {"Accept-Language": "zh-CN"})  # fmt: skip
    assert "没有Y染色体" in zh.get_json()["error"]["message"]
    assert session.scalars(sa.select(YHaplotype)).first() is None


def test_an_amelogenin_x_only_profile_refuses_a_y_haplotype(client, session, lab):
    ref = _father(session, lab, sex=Sex.UNKNOWN, role=Role.FULL_SIBLING)
    _typed(client, lab, ref.code, "female")
    answer = _put(client, lab[1], ref.code)
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "female_sample"


@pytest.mark.parametrize(
    ("change", "code"),
    [({"DYS999": "12"}, "unknown_locus"), ({"D8S1179": "12"}, "unknown_locus"), ({"DYS19": ["14", "15"]}, "two_alleles"),
     ({"DYS385 a/b": ["11", "13", "14"]}, "too_many_alleles"), ({"DYS19": "OL"}, "bad_allele"),
     ({"DYS19": "0"}, "implausible_allele"), ({"DYS385a": "13"}, "locus_twice")],
)  # fmt: skip
def test_bad_loci_and_alleles_are_422_with_the_code(client, session, lab, change, code):
    ref = _father(session, lab)
    answer = _put(client, lab[1], ref.code, {**YFILER_PLUS, **change})
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == code, answer.get_json()
    assert answer.get_json()["error"]["message"]


def test_too_few_loci_and_another_kit_are_refused(client, session, lab):
    ref = _father(session, lab)
    few = _put(client, lab[1], ref.code, {"DYS19": "14", "DYS390": "23"})
    assert few.status_code == 422 and few.get_json()["error"]["code"] == "too_few_loci"
    assert "Only 2 Y-STR loci" in few.get_json()["error"]["message"]
    kit = client.put(f"/api/v1/samples/{ref.code}/y-str", json={"kit": "PowerPlex Y23", "haplotype": YFILER_PLUS},
                     headers=bearer(lab[1]))  # fmt: skip
    assert kit.status_code == 422 and kit.get_json()["error"]["code"] == "kit_not_supported"


def test_another_labs_key_cannot_store_or_read(client, session, lab, other_lab):
    ref = _father(session, lab)
    assert _put(client, other_lab[1], ref.code).status_code == 403
    _put(client, lab[1], ref.code)
    assert client.get(f"/api/v1/samples/{ref.code}/y-str", headers=bearer(other_lab[1])).status_code in (
        403,
        404,
    )


def test_a_stored_haplotype_queues_a_search_of_the_samples_profile(client, session, lab):
    ref = _father(session, lab)
    profile_id = _typed(client, lab, ref.code, "male")
    session.execute(sa.delete(MatchJob))
    session.commit()
    _put(client, lab[1], ref.code)
    jobs = session.scalars(sa.select(MatchJob)).all()
    assert [j.profile_id for j in jobs] == [profile_id]


def test_the_openapi_document_describes_the_y_str_upload(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/samples/{code}/y-str"]["put"]
    assert "Y-STR" in operation["summary"] or "Y-STR" in operation.get("description", "")


def _export(samples):
    # A Yfiler Plus Genotypes Table: one row per marker, DYS385 and DYF387S1 with their two alleles on one row.
    rows = [
        (name, {m: ([v] if isinstance(v, str) else list(v)) for m, v in h.items()}) for name, h in samples
    ]
    return table(rows, panel="YfilerPlus_Panel_v1").encode()


def _import(client, secret, body, **query):
    return client.post("/api/v1/imports/genemapper/y-str", data=body, query_string=query,
                       content_type="text/plain", headers=bearer(secret))  # fmt: skip


def test_a_yfiler_plus_export_stores_each_good_sample_and_answers_for_every_row(client, session, lab):
    good, mixture, off_ladder = (_father(session, lab, phone=f"+861380000001{i}") for i in range(3))
    mother = booked_sample(session, lab[0], phone="+8613800000077")
    body = _export([
        ("Allelic Ladder", {"DYS19": ["10", "11", "12"]}), (good.code, YFILER_PLUS),
        (mixture.code, {**YFILER_PLUS, "DYS19": ["15", "16"]}), (off_ladder.code, {**YFILER_PLUS, "DYS576": "OL"}),
        (mother.code, YFILER_PLUS),
    ])  # fmt: skip
    answer = _import(client, lab[1], body)
    assert answer.status_code == 200, answer.get_json()
    out = answer.get_json()
    by_name = {s["name"]: s for s in out["samples"]}
    assert (out["stored"], out["refused"], out["skipped"]) == (2, 2, 1)
    assert by_name[good.code]["status"] == "stored" and by_name[good.code]["markers"] == 25
    assert by_name[mixture.code]["reason"] == "two_alleles" and "DYS19" in by_name[mixture.code]["message"]
    assert by_name[off_ladder.code]["status"] == "stored" and by_name[off_ladder.code]["left_out"] == [
        "DYS576"
    ]
    assert by_name[mother.code]["reason"] == "female_sample"
    stored = {r.sample_id: r.haplotype for r in session.scalars(sa.select(YHaplotype))}
    session.rollback()
    assert stored[good.id]["DYS385"] == ["13", "18"] and "DYS576" not in stored[off_ladder.id]
    again = _import(client, lab[1], _export([(good.code, YFILER_PLUS)])).get_json()
    assert again["unchanged"] == 1 and again["samples"][0]["profile"] == by_name[good.code]["profile"]


def test_an_autosomal_export_or_another_kit_is_refused_whole(client, session, lab):
    ref = _father(session, lab)
    autosomal = table([(ref.code, genotypes(HUAXIA_PLATINUM, 1, "male"))]).encode()
    answer = _import(client, lab[1], autosomal)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "no_y_markers"
    kit = _import(client, lab[1], _export([(ref.code, YFILER_PLUS)]), kit="PowerPlex Y23")
    assert kit.status_code == 400 and kit.get_json()["error"]["code"] == "kit_not_supported"
    assert session.scalars(sa.select(YHaplotype)).first() is None


def test_a_locus_sent_twice_in_the_json_is_refused_not_the_last_kept(client, session, lab):
    ref = _father(session, lab)
    body = '{"kit": "Yfiler Plus", "haplotype": {"DYS19": "14", "DYS19": "15", "DYS390": "23"}}'
    answer = client.put(f"/api/v1/samples/{ref.code}/y-str", data=body, content_type="application/json",
                        headers=bearer(lab[1]))  # fmt: skip
    assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "locus_twice"
