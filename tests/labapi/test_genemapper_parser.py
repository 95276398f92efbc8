"""Reading GeneMapper Genotypes Tables as labs save them: encodings, headers, columns, controls (no database)."""

from __future__ import annotations

import pytest

from intake.labs.genemapper import GeneMapperFormatError, classify, read_genotypes_table
from intake.platform.codes import check_character
from tests.labapi.genemapper_files import CHINESE, LADDER, table
from tests.support.factories import IDENTIFILER, genotypes


def _code(data: str) -> str:
    return f"{data[:4]}-{data[4:]}{check_character(data)}"


CODE = _code("K7QXM2P")


def test_a_utf8_export_with_bom_crlf_and_trailing_tabs_is_read_row_by_row():
    text = table([("Allelic Ladder", LADDER), (CODE, genotypes(IDENTIFILER, 1))], sizes=True)
    parsed = read_genotypes_table(("\ufeff" + text).encode("utf-8"))
    assert parsed.encoding == "utf-8"
    ladder, sample = parsed.samples
    assert ladder.kind == "ladder" and sample.kind == "sample" and sample.code == CODE
    assert len(sample.rows) == 16 and sample.rows[0] == ("D8S1179", genotypes(IDENTIFILER, 1)["D8S1179"])
    assert sample.panel == "ID_Lab_v2"


def test_a_gbk_export_with_chinese_headers_and_twenty_allele_columns():
    text = table(
        [(f"{CODE}_复检", {"VWA": ["14", "17"], "AM": ["X"]})], headers=CHINESE, alleles=20, newline="\n"
    )
    parsed = read_genotypes_table(text.encode("gbk"))
    assert parsed.encoding == "gbk"
    (sample,) = parsed.samples
    assert sample.code == CODE and sample.rows == [("VWA", ["14", "17"]), ("AM", ["X"])]


def test_columns_in_the_labs_own_order_and_without_optional_ones():
    text = "Marker\tAllele 2\tSample Name\tAllele 1\nvWA\t17\t" + CODE + "\t14\nTH01\t\t" + CODE + "\t9.3\n"
    (sample,) = read_genotypes_table(text.encode()).samples
    assert sample.rows == [("vWA", ["14", "17"]), ("TH01", ["9.3"])]


@pytest.mark.parametrize(
    ("name", "sample_type", "kind"),
    [("Ladder_01", "", "ladder"), ("PC", "", "positive_control"), ("007", "", "positive_control"),
     ("9947A", "", "positive_control"), ("NC-2", "", "negative_control"), ("空白", "", "negative_control"),
     ("阳性对照", "", "positive_control"), ("anything", "Allelic Ladder", "ladder"),
     ("x", "Negative Control", "negative_control"), ("Sample_12", "", "unknown"), (CODE, "Sample", "sample")],
)  # fmt: skip
def test_ladders_and_controls_are_recognised(name, sample_type, kind):
    assert classify(name, sample_type)[0] == kind


def test_a_file_that_is_not_a_genotypes_table_is_refused_with_a_reason():
    with pytest.raises(GeneMapperFormatError, match="Sample Name, Marker and Allele 1"):
        read_genotypes_table(b"Sample Name\tSize 1\nx\t100\n")
    with pytest.raises(GeneMapperFormatError):
        read_genotypes_table(b"")
    with pytest.raises(GeneMapperFormatError):
        read_genotypes_table(b"\x81\xff\xfe\x00garbage" * 3)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_detected_and_named(encoding):
    text = table([("Allelic Ladder", LADDER), (CODE, genotypes(IDENTIFILER, 1))])
    parsed = read_genotypes_table(text.encode(encoding))
    assert (
        parsed.encoding == encoding and parsed.samples[1].code == CODE and len(parsed.samples[1].rows) == 16
    )


@pytest.mark.parametrize(
    ("name", "kind"),
    [("AL_IF+", "ladder"), ("9947A_IF+_1_19.02.2019", "positive_control"), ("K(-)_Platte3", "negative_control"),
     ("K(+)", "positive_control"), ("Pos.ktr.", "positive_control"), ("Neg.ktr.", "negative_control"),
     ("NTC", "negative_control"), ("H2O", "negative_control"), ("试剂空白", "negative_control"),
     ("ALEX_7", "unknown"), ("NCX", "unknown")],
)  # fmt: skip
def test_real_control_names(name, kind):
    assert classify(name)[0] == kind
