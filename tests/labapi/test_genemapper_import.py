"""The GeneMapper import through the API: realistic exports of two kits, each sample stored whole or not at all."""

from __future__ import annotations

import sqlalchemy as sa

from intake.models import AuditEvent, DnaProfile, Sample
from intake.platform.codes import check_character
from tests.labapi.genemapper_files import CHINESE, LADDER, table
from tests.support.factories import (
    HUAXIA_PLATINUM,
    IDENTIFILER,
    bearer,
    collected_sample,
    genotypes,
)

URL = "/api/v1/imports/genemapper"


def _import(client, secret, body: bytes, **query):
    return client.post(URL, data=body, query_string=query, content_type="text/plain", headers=bearer(secret))


def _stored(session) -> dict[int, dict[str, list[str]]]:
    stored = {p.sample_id: p.genotypes for p in session.scalars(sa.select(DnaProfile))}
    session.rollback()  # SQLite: a reading transaction holds the write lock (BEGIN IMMEDIATE)
    return stored


def test_an_identifiler_export_stores_every_good_sample_and_answers_for_every_row(
    client, session, lab, other_lab
):
    a, b, c, d = (collected_sample(client, session, lab, f"+861380000000{i}") for i in range(4))
    theirs = collected_sample(client, session, other_lab, "+8613800000009")
    homozygous_twice = genotypes(IDENTIFILER, 2) | {"TH01": ["9.3", "9.3"], "vWA": ["16"]}
    off_ladder = genotypes(IDENTIFILER, 3, "female") | {"D18S51": ["15", "OL"]}
    mixture = genotypes(IDENTIFILER, 4) | {"FGA": ["21", "22", "24"]}
    text = table([
        ("Allelic Ladder", LADDER), ("PC", genotypes(IDENTIFILER, 9)), ("NC", {"D8S1179": []}),
        (a.code, genotypes(IDENTIFILER, 1, "female")), (b.code, homozygous_twice), (c.code, off_ladder), (d.code, mixture),
        ("Sample_12", genotypes(IDENTIFILER, 5)), (theirs.code, genotypes(IDENTIFILER, 6)),
    ], alleles=4)  # fmt: skip
    answer = _import(client, lab[1], ("\ufeff" + text).encode("utf-8"), kit="Identifiler")
    assert answer.status_code == 200
    body = answer.get_json()
    by_name = {s["name"]: s for s in body["samples"]}
    assert len(body["samples"]) == 9 and (body["stored"], body["refused"], body["skipped"]) == (3, 3, 3)
    assert [by_name[n]["kind"] for n in ("Allelic Ladder", "PC", "NC")] == ["ladder", "positive_control",
                                                                             "negative_control"]  # fmt: skip
    assert by_name[a.code]["status"] == "stored" and by_name[a.code]["markers"] == 15
    assert by_name[c.code]["status"] == "stored" and by_name[c.code]["left_out"] == ["D18S51"]
    assert by_name[d.code]["reason"] == "possible_mixture" and "FGA" in by_name[d.code]["message"]
    assert by_name["Sample_12"]["reason"] == "no_sample_code"
    assert by_name[theirs.code]["reason"] == "other_lab"
    stored = _stored(session)
    assert set(stored) == {a.id, b.id, c.id}
    assert stored[b.id]["TH01"] == ["9.3", "9.3"] and stored[b.id]["vWA"] == ["16", "16"]
    assert stored[a.id]["Amelogenin"] == ["X"] and "D18S51" not in stored[c.id]
    assert session.scalar(sa.select(DnaProfile.kit).where(DnaProfile.sample_id == a.id)) == "Identifiler"
    session.rollback()
    again = _import(client, lab[1], text.encode("utf-8")).get_json()
    assert (again["stored"], again["unchanged"]) == (0, 3)


def test_a_gbk_export_of_a_23_marker_kit_with_chinese_headers(client, session, lab):
    samples = [collected_sample(client, session, lab, f"+861390000000{i}") for i in range(3)]
    typed = []
    for i, sample in enumerate(samples):
        profile = {
            ("VWA" if m == "vWA" else m.replace(" ", "")): v
            for m, v in genotypes(HUAXIA_PLATINUM, 10 + i, "female").items()
        }
        profile["AM"] = profile.pop("AMEL")
        typed.append((f"{sample.code}-第{i + 1}次", profile))
    text = table([("等位基因分型标准物", LADDER), *typed, ("阴性对照", {"D8S1179": []})], headers=CHINESE, alleles=20,
                 newline="\n", panel="华夏白金")  # fmt: skip
    body = _import(client, lab[1], text.encode("gbk")).get_json()
    assert body["stored"] == 3 and body["skipped"] == 2 and len(body["samples"]) == 5
    stored = _stored(session)
    for i, sample in enumerate(samples):
        assert len([m for m in stored[sample.id] if m != "Amelogenin"]) == 23
        penta_e = genotypes(HUAXIA_PLATINUM, 10 + i)["Penta E"]
        assert stored[sample.id]["PentaE"] == [penta_e[0], penta_e[-1]]
    assert (
        session.scalar(sa.select(DnaProfile.kit).where(DnaProfile.sample_id == samples[0].id)) == "华夏白金"
    )
    audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "genemapper.import")).one()
    assert audit.actor == f"labkey:{lab[2]}" and audit.detail["encoding"] == "gbk"


def test_a_sample_typed_twice_in_one_file_with_other_alleles_is_refused_whole(client, session, lab):
    sample = collected_sample(client, session, lab, "+8613700000001")
    rows = genotypes(IDENTIFILER, 1, "female") | {"D8S1179": ["12", "13"]}
    text = table([(sample.code, rows), (sample.code + "_rerun", {"D8S1179": ["10", "11"]})])
    answer = _import(client, lab[1], text.encode()).get_json()
    assert answer["refused"] == 1 and answer["samples"][0]["reason"] == "typed_twice"
    message = answer["samples"][0]["message"]
    assert "D8S1179" in message and "12,13" in message and "10,11" in message and "_rerun" in message
    assert _stored(session) == {}


def test_a_rerun_that_agrees_is_one_sample_and_fills_a_marker_the_first_run_missed(client, session, lab):
    sample = collected_sample(client, session, lab, "+8613700000002")
    rows = genotypes(IDENTIFILER, 1, "female")
    first = rows | {"FGA": []}  # dropped out in the first run
    text = table([(sample.code, first), (sample.code + "_rerun", rows)])
    answer = _import(client, lab[1], text.encode()).get_json()
    assert (answer["stored"], answer["refused"], len(answer["samples"])) == (1, 0, 1), answer
    assert _stored(session)[sample.id]["FGA"] == sorted(rows["FGA"], key=float)


def test_a_file_that_is_no_genotypes_table_or_too_big_is_refused(app, client, lab):
    bad = _import(client, lab[1], b"just some text\nnothing here\n")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_genemapper_file"
    app.config["LAB_API_MAX_IMPORT_BYTES"] = 1000
    data = "2345"
    code = f"{data}-678{check_character(data + '678')}"
    big = table([(code, genotypes(IDENTIFILER, 1))] * 5).encode()
    assert len(big) > 1000 and _import(client, lab[1], big).status_code == 413
    assert _import(client, "nokey", b"x").status_code == 401


def test_the_import_accepts_more_than_the_json_body_limit(client, session, lab):
    samples = [collected_sample(client, session, lab, f"+86136000000{i:02d}") for i in range(2)]
    filler = [(f"Ladder_{i}", LADDER) for i in range(600)]
    body = table(
        [*filler, *((s.code, genotypes(IDENTIFILER, 20 + n, "female")) for n, s in enumerate(samples))]
    ).encode()
    assert len(body) > 64 * 1024
    assert _import(client, lab[1], body).get_json()["stored"] == 2
    assert session.scalar(sa.select(sa.func.count()).select_from(Sample)) == 2


def test_a_file_cut_mid_row_refuses_the_cut_sample_and_stores_the_others(client, session, lab):
    whole, cut = (collected_sample(client, session, lab, f"+861350000000{i}") for i in range(2))
    true = genotypes(IDENTIFILER, 1, "female") | {"D5S818": ["12", "13"]}
    text = table([(whole.code, genotypes(IDENTIFILER, 2, "female")), (cut.code, true)])
    at = text.index(f"{cut.code}\tID_Lab_v2\tD5S818\tB\t1")
    cut_text = text[: text.index("\tB\t1", at) + len("\tB\t1")]  # the export stops after "1" of 12
    answer = _import(client, lab[1], cut_text.encode()).get_json()
    by_code = {s["code"]: s for s in answer["samples"]}
    assert by_code[whole.code]["status"] == "stored"
    assert by_code[cut.code]["status"] == "refused" and by_code[cut.code]["reason"] == "cut_row"
    assert cut.id not in _stored(session)  # never D5S818 1,1 for a true 12,13


def test_a_row_shorter_than_the_header_refuses_its_sample(client, session, lab):
    short, whole = (collected_sample(client, session, lab, f"+861350000001{i}") for i in range(2))
    text = table(
        [(short.code, genotypes(IDENTIFILER, 1, "female")), (whole.code, genotypes(IDENTIFILER, 2, "female"))]
    )
    lines = text.split("\r\n")
    row = next(n for n, line in enumerate(lines) if f"{short.code}\tID_Lab_v2\tTH01" in line)
    lines[row] = "\t".join(lines[row].split("\t")[:6])  # cut after Allele 1: a homozygote it is not
    answer = _import(client, lab[1], "\r\n".join(lines).encode()).get_json()
    by_code = {s["code"]: s for s in answer["samples"]}
    assert by_code[short.code]["reason"] == "cut_row" and str(row + 1) in by_code[short.code]["message"]
    assert by_code[whole.code]["status"] == "stored" and set(_stored(session)) == {whole.id}


def test_a_file_cut_at_a_row_boundary_is_noticed(client, session, lab):
    whole, cut = (collected_sample(client, session, lab, f"+861350000002{i}") for i in range(2))
    text = table([("Allelic Ladder", {m: ["10", "11"] for m in IDENTIFILER}), (whole.code, genotypes(IDENTIFILER, 2, "female")),
                  (cut.code, genotypes(IDENTIFILER, 1, "female"))])  # fmt: skip
    at = text.index(f"{cut.code}\tID_Lab_v2\tD5S818")
    cut_text = text[: text.rindex("\r\n", 0, at) + 2]  # the last rows (D5S818, FGA, AMEL) are gone
    answer = _import(client, lab[1], cut_text.encode()).get_json()
    by_code = {s["code"]: s for s in answer["samples"]}
    assert by_code[cut.code]["reason"] == "missing_rows" and "D5S818" in by_code[cut.code]["message"]
    assert set(_stored(session)) == {whole.id}
    alone = table([(cut.code, genotypes(IDENTIFILER, 1, "female"))])
    alone = alone[: alone.index(f"{cut.code}\tID_Lab_v2\tD5S818")].rsplit("\r\n", 1)[0] + "\r\n"
    refused = _import(
        client, lab[1], alone.encode(), kit="Identifiler"
    )  # alone: the kit says what is missing
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "kit_mismatch"
    assert "D5S818, FGA" in refused.get_json()["error"]["message"] and set(_stored(session)) == {whole.id}


def test_real_control_names_are_skipped_with_their_kind(client, session, lab):
    sample = collected_sample(client, session, lab, "+8613500000031")
    controls = {"AL_IF+": "ladder", "9947A_IF+_1_19.02.2019": "positive_control", "K(-)_Platte3": "negative_control",
                "Pos.ktr.": "positive_control", "Neg.ktr.": "negative_control", "NTC": "negative_control",
                "H2O": "negative_control", "试剂空白": "negative_control"}  # fmt: skip
    text = table(
        [
            *((name, {"D8S1179": ["10", "11"]}) for name in controls),
            (sample.code, genotypes(IDENTIFILER, 1, "female")),
        ]
    )
    answer = _import(client, lab[1], text.encode("utf-8")).get_json()
    kinds = {s["name"]: (s["kind"], s["status"]) for s in answer["samples"]}
    assert {name: kinds[name] for name in controls} == {n: (k, "skipped") for n, k in controls.items()}
    assert answer["skipped"] == 8 and answer["stored"] == 1


def test_a_file_with_no_human_str_marker_or_of_another_kit_is_one_file_level_refusal(client, session, lab):
    sample = collected_sample(client, session, lab, "+8613500000041")
    plant = table([(sample.code, {"ITS2": ["210"], "rbcL": ["180", "182"], "matK": ["300"]})])
    answer = _import(client, lab[1], plant.encode())
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "no_str_markers"
    text = table([(sample.code, genotypes(IDENTIFILER, 1, "female"))])
    wrong_kit = _import(client, lab[1], text.encode(), kit="PowerPlex 16")
    assert wrong_kit.status_code == 400 and wrong_kit.get_json()["error"]["code"] == "kit_mismatch"
    assert "D2S1338" in wrong_kit.get_json()["error"]["message"] and _stored(session) == {}
    assert _import(client, lab[1], text.encode(), kit="Identifiler Plus").get_json()["stored"] == 1


def test_na_cells_are_empty_cells(client, session, lab):
    sample = collected_sample(client, session, lab, "+8613500000051")
    profile = genotypes(IDENTIFILER, 1, "female") | {"TH01": ["9.3", "NA"], "AMEL": ["X", "NA"]}
    answer = _import(client, lab[1], table([(sample.code, profile)]).encode()).get_json()
    assert answer["stored"] == 1, answer
    assert _stored(session)[sample.id]["TH01"] == ["9.3", "9.3"]


def test_a_utf16_export_without_a_byte_order_mark_is_read_and_its_encoding_named(client, session, lab):
    sample = collected_sample(client, session, lab, "+8613500000061")
    text = table([("Allelic Ladder", LADDER), (sample.code, genotypes(IDENTIFILER, 1, "female"))])
    assert _import(client, lab[1], text.encode("utf-16-le")).get_json()["stored"] == 1
    audit = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "genemapper.import")).one()
    assert audit.detail["encoding"] == "utf-16-le"
    session.rollback()
    damaged = _import(client, lab[1], text.encode("utf-16-le")[:-1])
    assert damaged.status_code == 400 and "utf-16-le" in damaged.get_json()["error"]["message"]


def test_a_sample_whose_amelogenin_contradicts_the_recorded_sex_is_stored_with_a_notice(client, session, lab):
    mother = collected_sample(client, session, lab, "+8613500000071")  # booked by SMS as the mother: female
    answer = _import(
        client, lab[1], table([(mother.code, genotypes(IDENTIFILER, 1, "male"))]).encode()
    ).get_json()
    [sample] = answer["samples"]
    assert sample["status"] == "stored" and [n["code"] for n in sample["notices"]] == ["sex_mismatch"]
