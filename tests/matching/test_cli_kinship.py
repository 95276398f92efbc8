"""`reunite kinship-lr`: JSON Lines in, JSON Lines out, a bad line answered with its error."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from intake.cli.kinship import kinship_lr
from matching.frequencies import FrequencyTable

TABLE = FrequencyTable.default()


def _refuse_constant(name):
    raise AssertionError(f"{name} is not strict JSON")


def run(lines, *args):
    """Return the output lines of `reunite kinship-lr`, each parsed by a strict JSON parser (no NaN/Infinity)."""
    result = CliRunner().invoke(kinship_lr, list(args), input="".join(line + "\n" for line in lines))
    assert result.exit_code == 0, result.output
    return [json.loads(line, parse_constant=_refuse_constant) for line in result.stdout.splitlines()]


def p(marker, allele):
    locus = TABLE.locus(marker)
    return float(locus.frequencies[locus.index(allele)])


def test_schema_and_bad_lines_do_not_stop_the_rest():
    good = {
        "id": "case-1",
        "relationship": "duo",
        "persons": {"parent": {"D8S1179": ["13", "15"], "AMEL": ["X"]}, "child": {"d8s1179": ["13", "16"]}},
        "mutation": None,
        "theta": 0.0,
    }
    excluded = {**good, "id": "case-3", "persons": {"parent": {"TH01": ["6"]}, "child": {"TH01": ["9"]}}}
    out = run(
        [
            json.dumps(good),
            '{"id": "case-2", "relationship": "duo", "persons": {"parent": {"TPOX": ["8", "9", "11"]}, "child": {}}}',
            "",
            "not json",
            json.dumps(excluded),
            json.dumps(
                {
                    **good,
                    "id": "case-4",
                    "mutation": {"model": "stepwise", "rate": 0.005, "rate2": 1e-6, "range": 0.1},
                }
            ),
        ]
    )
    assert [row["id"] for row in out] == ["case-1", "case-2", None, "case-3", "case-4"]
    first = out[0]
    assert set(first) == {
        "id",
        "lr",
        "log10_lr",
        "per_marker",
        "inconsistent_markers",
        "untyped_markers",
        "imputed_alleles",
    }
    assert first["lr"] == pytest.approx(1 / (4 * p("D8S1179", "13")), rel=1e-12)
    assert first["per_marker"] == {"D8S1179": first["lr"]}
    assert "TPOX" in out[1]["error"] and "3 alleles" in out[1]["error"]
    assert "not JSON" in out[2]["error"]
    assert out[3]["lr"] == 0.0 and out[3]["log10_lr"] is None and out[3]["inconsistent_markers"] == ["TH01"]
    assert out[4]["lr"] == pytest.approx(first["lr"], rel=0.02)


def test_a_local_wide_table_and_the_missing_allele_options(tmp_path):
    table = tmp_path / "local.csv"
    table.write_text("Allele,TPOX\n8,0.6\n9,0.4\n")
    line = json.dumps(
        {
            "id": "x",
            "relationship": "duo",
            "persons": {"parent": {"TPOX": ["8", "11"]}, "child": {"TPOX": ["11"]}},
        }
    )
    [default] = run([line], "--frequencies", str(table))
    p11 = 0.0005 / 1.0005  # 5 / (2 * 5000), then the locus renormalised
    assert default["lr"] == pytest.approx(1 / (2 * p11), rel=1e-12)
    [raw] = run([line], "--frequencies", str(table), "--n-individuals", "100", "--no-renormalise-missing")
    assert raw["lr"] == pytest.approx(1 / (2 * 0.025), rel=1e-12)
    [fixed] = run([line], "--frequencies", str(table), "--min-allele-frequency", "0.01")
    assert fixed["lr"] == pytest.approx(1 / (2 * 0.01 / 1.01), rel=1e-12)


def test_every_relationship_answers():
    persons = {"D3S1358": ["15", "16"], "vWA": ["14", "17"], "FGA": ["22", "24"]}
    roles = {
        "duo": ("parent", "child"),
        "trio_couple": ("father", "mother", "child"),
        "trio_known_mother": ("mother", "alleged_father", "child"),
        **{
            r: ("person1", "person2")
            for r in (
                "full_siblings",
                "half_siblings",
                "grandparent",
                "avuncular",
                "first_cousins",
                "identity",
            )
        },
    }
    lines = [
        json.dumps({"id": name, "relationship": name, "persons": dict.fromkeys(r, persons), "theta": 0.01})
        for name, r in roles.items()
    ]
    lines.append(
        json.dumps(
            {
                "id": "k",
                "relationship": "kappa",
                "kappa": [0.25, 0.5, 0.25],
                "persons": dict.fromkeys(("person1", "person2"), persons),
            }
        )
    )
    out = run(lines)
    assert all("error" not in row and row["lr"] > 1 for row in out), out


def duo(parent, child, case_id="x"):
    return json.dumps({"id": case_id, "relationship": "duo", "persons": {"parent": parent, "child": child}})


@pytest.mark.parametrize("placeholder", ["0", "1000", "99.9", "99", 0, 1000])
def test_a_placeholder_allele_shared_by_parent_and_child_is_refused_not_scored_as_rare(placeholder):
    # Two markers with a shared placeholder scored about 1,000 each: past the 10,000 band with no real evidence.
    [out] = run(
        [
            duo(
                {"vWA": [placeholder, "15"], "TH01": [placeholder]},
                {"vWA": [placeholder], "TH01": [placeholder]},
            )
        ]
    )
    assert "lr" not in out
    assert out["error"].startswith(f"marker vWA: allele {placeholder} is not plausible: ")


def test_rare_but_plausible_alleles_and_microvariants_are_scored_and_the_imputed_ones_listed():
    [out] = run(
        [
            duo(
                {"D3S1358": ["21", "22"], "TH01": ["9.3", "13"], "D21S11": ["30.2"], "FGA": ["22"]},
                {"D3S1358": ["22"], "TH01": ["9.3"], "D21S11": ["30.2", "31.2"], "FGA": ["22", "23"]},
            )
        ]
    )
    assert out["imputed_alleles"] == {"D3S1358": ["22"], "TH01": ["13"]}
    p22 = 0.0005 / 1.0005
    assert out["per_marker"]["D3S1358"] == pytest.approx(1 / (2 * p22), rel=1e-12)
    assert out["per_marker"]["D21S11"] == pytest.approx(1 / (2 * p("D21S11", "30.2")), rel=1e-12)
    [plain] = run([duo({"FGA": ["22"]}, {"FGA": ["22", "23"]})])
    assert plain["imputed_alleles"] == {}


def test_a_local_table_sets_the_plausible_range(tmp_path):
    table = tmp_path / "local.csv"
    table.write_text("marker,allele,frequency\nFGA,40,0.5\nFGA,41,0.5\n")
    [out] = run([duo({"FGA": ["50.2", "41"]}, {"FGA": ["50.2"]})], "--frequencies", str(table))
    assert out["imputed_alleles"] == {"FGA": ["50.2"]}
    [refused] = run([duo({"FGA": ["50.2"]}, {"FGA": ["50.2"]})])  # the shipped table: FGA 13 to 30
    assert refused["error"].startswith("marker FGA: allele 50.2 is not plausible: outside 3 to 40")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            '{"id": "a", "relationship": "duo", "persons": {"parent": {"vWA": ["14", "15"], "VWA": ["14", "16"]},'
            ' "child": {"vWA": ["14"]}}}',
            "marker vWA is given twice (as 'vWA' and 'VWA'); give each marker once",
        ),
        (
            '{"id": "a", "relationship": "duo", "persons": {"parent": {"vWA": ["14"], "vWA": ["15"]},'
            ' "child": {"vWA": ["14"]}}}',
            "marker vWA is given twice; give each marker once",
        ),
        (
            '{"id": "a", "persons": {"parent": {"vWA": ["14"]}, "child": {"vWA": ["14"]}}}',
            'the case has no "relationship": give one of duo, ',
        ),
        (
            '{"id": "a", "relationship": null, "persons": {"parent": {"vWA": ["14"]}, "child": {"vWA": ["14"]}}}',
            'the case has no "relationship": give one of duo, ',
        ),
        (
            '{"id": "a", "relationship": "duo", "persons": {"parent": {"vWA": ["14"]}}}',
            "duo needs the roles parent, child: no child",
        ),
        (
            '{"id": "a", "relationship": "duo", "persons": {"parent": {"vWA": ["14"]}, "kid": {"vWA": ["14"]}}}',
            "duo needs the roles parent, child: no child; kid is not one of them",
        ),
        ('{"id": "a", "relationship": "duo", "theta": NaN, "persons": {}}', "line 1: not JSON (NaN is not"),
    ],
)
def test_errors_say_just_what_is_wrong(line, message):
    [out] = run([line])
    assert out["error"].startswith(message), out["error"]


def test_a_zero_lr_is_written_as_strict_json():
    [out] = run([duo({"TH01": ["6"]}, {"TH01": ["9"]})])
    assert out["lr"] == 0 and out["log10_lr"] is None and out["inconsistent_markers"] == ["TH01"]


def test_an_unreadable_frequency_file_is_one_line_without_traceback(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(b"Allele,TPOX\n8,\xff\xfe\x80\x81\n")
    result = CliRunner().invoke(
        kinship_lr, ["--frequencies", str(path)], input=duo({"TPOX": ["8"]}, {"TPOX": ["8"]})
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {path}: not text in UTF-8, UTF-16 or GBK; save the table as CSV (UTF-8)"
    ]
