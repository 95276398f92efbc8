"""Frequency tables: the shipped Chinese table, long and wide CSV, renormalisation, missing alleles."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from matching.errors import FrequencyTableError
from matching.frequencies import FrequencyTable, MissingAllelePolicy


def test_shipped_table_has_23_markers_399_alleles_renormalised_and_its_citation():
    table = FrequencyTable.default()
    assert len(table.markers) == 23
    assert sum(len(table.locus(m).alleles) for m in table.markers) == 399
    for marker in table.markers:
        assert table.locus(marker).frequencies.sum() == pytest.approx(1.0, abs=1e-12)
    assert {"PentaD", "PentaE", "vWA", "TH01"} <= set(table.markers)
    citation = resources.files("matching").joinpath("data", "CITATION.txt").read_text(encoding="utf-8")
    assert "GB/T 37223" in citation and "5/(2N)" in citation


def test_long_and_wide_forms_give_the_same_table(tmp_path):
    long = tmp_path / "long.csv"
    long.write_text(
        "marker,allele,frequency\nTPOX,8,0.5\nTPOX,9,0.2\nTPOX,9.3,0.1\nTPOX,10,0.25\nPenta D,12,1\n"
    )
    wide = tmp_path / "wide.csv"
    wide.write_text("Allele,TPOX,PENTA_D\n8,0.5,\n9,0.2,\n9.3,0.1,\n10,0.25,\n12,,1\nN,500,400\n")
    a, b = FrequencyTable.from_csv(long), FrequencyTable.from_csv(wide)
    assert a.markers == b.markers == ("TPOX", "PentaD")
    locus = a.locus("TPOX")
    assert locus.alleles == ("8", "9", "9.3", "10")  # by repeat number
    np.testing.assert_allclose(locus.frequencies, np.array([0.5, 0.2, 0.1, 0.25]) / 1.05, rtol=1e-15)
    np.testing.assert_array_equal(locus.frequencies, b.locus("TPOX").frequencies)


def test_semicolon_wide_table_with_decimal_commas(tmp_path):
    path = tmp_path / "familias.csv"
    path.write_text("Allele;vWA;TH01\n14;0,3;0,5\n15;0,7;0,5\n")
    table = FrequencyTable.from_csv(path)
    assert table.locus("vWA").frequencies.tolist() == pytest.approx([0.3, 0.7])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("marker,allele,frequency\nTPOX,8,0.5\nTPOX,8,0.5\n", "listed twice"),
        ("marker,allele,frequency\nTPOX,eight,0.5\n", "line 2"),
        ("marker,allele,frequency\nTPOX,8,-1\n", "from 0 to 1"),
        ("locus;x\n", "header"),
    ],
)
def test_bad_tables_say_where(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(FrequencyTableError, match=message):
        FrequencyTable.from_csv(path)


def test_missing_allele_policy_default_and_options():
    locus = FrequencyTable.default().locus("TPOX")
    assert MissingAllelePolicy().frequency == 0.0005  # 5 / (2 * 5000)
    assert locus.with_alleles(["8", "11"], MissingAllelePolicy()) is locus  # nothing missing: unchanged
    added = locus.with_alleles(["15"], MissingAllelePolicy())
    assert "15" in added.alleles and added.frequencies.sum() == pytest.approx(1.0)
    assert added.frequencies[added.index("15")] == pytest.approx(0.0005 / 1.0005)
    kept = locus.with_alleles(["15"], MissingAllelePolicy(n_individuals=1000, renormalise=False))
    assert kept.frequencies[kept.index("15")] == 0.0025
    np.testing.assert_array_equal(kept.frequencies[[kept.index(a) for a in locus.alleles]], locus.frequencies)
    assert MissingAllelePolicy(min_frequency=0.001).frequency == 0.001
    with pytest.raises(FrequencyTableError):
        MissingAllelePolicy(n_individuals=0)


def test_a_marker_missing_from_the_table_is_named():
    with pytest.raises(FrequencyTableError, match="SE33"):
        FrequencyTable.default().locus("SE33")


WIDE_WITH_CHINESE_NOTE = "Allele,TPOX,备注\n8,0.6,\n9,0.4,\n"


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "gbk", "gb18030"]
)
def test_tables_saved_by_spreadsheets_in_any_usual_encoding_are_read(tmp_path, encoding):
    path = tmp_path / f"{encoding}.csv"
    path.write_bytes(WIDE_WITH_CHINESE_NOTE.encode(encoding))
    table = FrequencyTable.from_csv(path)
    assert table.markers == ("TPOX",)
    assert table.locus("TPOX").alleles == ("8", "9")
    assert table.locus("TPOX").frequencies.tolist() == pytest.approx([0.6, 0.4])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04" + b"\x00" * 40, "spreadsheet workbook, not CSV"),
        (b"Allele,TPOX\n8,\xff\xfe\x80\x81\n", "not text in UTF-8, UTF-16 or GBK"),
    ],
)
def test_unreadable_bytes_are_refused_in_one_line(tmp_path, data, message):
    path = tmp_path / "table.csv"
    path.write_bytes(data)
    with pytest.raises(FrequencyTableError, match=message) as info:
        FrequencyTable.from_csv(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
