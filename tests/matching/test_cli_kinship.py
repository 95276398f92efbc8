"""`reunite kinship-lr`: JSON Lines in, JSON Lines out, a bad line answered with its error."""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner

from intake.cli.kinship import kinship_lr
from matching.frequencies import FrequencyTable

TABLE = FrequencyTable.default()


def run(lines, *args):
    result = CliRunner().invoke(kinship_lr, list(args), input="".join(line + "\n" for line in lines))
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


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
    assert set(first) == {"id", "lr", "log10_lr", "per_marker", "inconsistent_markers", "untyped_markers"}
    assert first["lr"] == pytest.approx(1 / (4 * p("D8S1179", "13")), rel=1e-12)
    assert first["per_marker"] == {"D8S1179": first["lr"]}
    assert "TPOX" in out[1]["error"] and "3 alleles" in out[1]["error"]
    assert "not JSON" in out[2]["error"]
    assert (
        out[3]["lr"] == 0.0 and out[3]["log10_lr"] == -math.inf and out[3]["inconsistent_markers"] == ["TH01"]
    )
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
