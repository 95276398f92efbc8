"""Marker names, allele names and profile parsing: what labs send, and the errors they can act on."""

from __future__ import annotations

import pytest

from matching.alleles import PLAUSIBLE_MARGIN, canonical_allele, check_allele, tenths
from matching.errors import (
    AlleleFormatError,
    DuplicateMarkerError,
    EmptyProfileError,
    ImplausibleAlleleError,
    ProfileError,
    TriallelicError,
    UnknownMarkerError,
)
from matching.frequencies import FrequencyTable
from matching.markers import MarkerKind, normalise_marker
from matching.profiles import parse_profile

TABLE = FrequencyTable.default()


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("vWA", "vWA"),
        ("VWA", "vWA"),
        ("TH01", "TH01"),
        ("THO1", "TH01"),
        ("th01", "TH01"),
        ("Penta D", "PentaD"),
        ("PentaD", "PentaD"),
        ("PENTA_D", "PentaD"),
        ("penta_d", "PentaD"),
        ("Penta E", "PentaE"),
        ("penta-e", "PentaE"),
        (" d8s1179 ", "D8S1179"),
        ("D21 S11", "D21S11"),
        ("CSF1P0", "CSF1PO"),
    ],
)
def test_marker_names_fold_to_one_spelling(written, canonical):
    marker = normalise_marker(written)
    assert marker.name == canonical
    assert marker.kind is MarkerKind.AUTOSOMAL


def test_amelogenin_and_y_markers_are_kept_apart():
    assert normalise_marker("AMEL") == normalise_marker("Amelogenin")
    assert normalise_marker("AMEL").kind is MarkerKind.SEX
    assert normalise_marker("DYS391").kind is MarkerKind.Y
    assert normalise_marker("Y indel").kind is MarkerKind.Y


def test_unknown_marker_names_the_marker():
    with pytest.raises(UnknownMarkerError, match="'HLA-DQA1'"):
        normalise_marker("HLA-DQA1")


@pytest.mark.parametrize(
    ("written", "canonical"),
    [("12", "12"), (12, "12"), ("9.3", "9.3"), (9.3, "9.3"), ("30.2", "30.2"), ("10.0", "10"), ("012", "12")],
)
def test_alleles_are_canonical_strings(written, canonical):
    assert canonical_allele(written) == canonical


@pytest.mark.parametrize("bad", ["X", "<8", "OL", "", "9.35", True, None, "1e3"])
def test_non_numeric_alleles_are_refused(bad):
    with pytest.raises(ValueError):
        canonical_allele(bad)


def test_tenths_orders_microvariants():
    assert tenths("9.3") == 93
    assert tenths("10") == 100


def test_profile_homozygote_as_one_or_two_alleles_and_other_markers():
    profile = parse_profile(
        {"TH01": ["9"], "vwa": ["17", "14"], "Penta D": [], "AMEL": ["X", "Y"], "DYS19": ["14"], "FGA": None}
    )
    assert profile.genotypes == {"TH01": ("9", "9"), "vWA": ("14", "17")}
    assert profile.other == {"Amelogenin": ("X", "Y"), "DYS19": ("14",)}
    assert profile.genotype("PentaD") is None


def test_triallelic_pattern_is_reported_with_the_marker():
    with pytest.raises(TriallelicError) as info:
        parse_profile({"TPOX": ["8", "9", "11"]})
    assert info.value.marker == "TPOX"
    assert "3 alleles (8, 9, 11)" in str(info.value)
    assert isinstance(info.value, ProfileError)


def test_bad_allele_names_marker_and_value():
    with pytest.raises(AlleleFormatError, match="D5S818.*'eleven'"):
        parse_profile({"D5S818": ["eleven", "12"]})


def test_empty_profile():
    with pytest.raises(EmptyProfileError):
        parse_profile({})
    with pytest.raises(EmptyProfileError):
        parse_profile({"AMEL": ["X"], "TH01": []})


def test_same_marker_under_two_spellings_is_refused_saying_just_that():
    with pytest.raises(DuplicateMarkerError) as info:
        parse_profile({"vWA": ["14", "15"], "VWA": ["14", "16"]})
    assert str(info.value) == "marker vWA is given twice (as 'vWA' and 'VWA'); give each marker once"
    with pytest.raises(DuplicateMarkerError, match="marker TH01 is given twice"):
        parse_profile({"TH01": [], "THO1": ["9"]})  # even when one of them is empty: which one holds?


@pytest.mark.parametrize("marker", TABLE.markers)
def test_placeholders_and_slipped_digits_are_implausible_at_every_shipped_marker(marker):
    for placeholder in ("0", "99", "99.9", "999", "1000", "150", 0, 1000):
        with pytest.raises(ImplausibleAlleleError) as info:
            check_allele(marker, placeholder, TABLE)
        assert info.value.marker == marker and str(info.value).startswith(f"marker {marker}: allele ")
    alleles = TABLE.locus(marker).alleles
    for allele in alleles:  # every allele of the table, microvariants included
        assert check_allele(marker, allele, TABLE) == allele
    low, high = int(float(alleles[0])) - PLAUSIBLE_MARGIN, int(float(alleles[-1])) + PLAUSIBLE_MARGIN
    assert check_allele(marker, f"{high}.3", TABLE) == f"{high}.3"
    with pytest.raises(ImplausibleAlleleError, match=f"outside {max(low, 1)} to {high} repeats"):
        check_allele(marker, str(high + 1), TABLE)
    if low > 1:
        assert check_allele(marker, str(low), TABLE) == str(low)
        with pytest.raises(ImplausibleAlleleError):
            check_allele(marker, str(low - 1), TABLE)


@pytest.mark.parametrize(
    ("allele", "valid"), [("9.3", True), ("30.2", True), ("15.4", True), ("15.5", False)]
)
def test_a_microvariant_decimal_counts_extra_bases_of_a_repeat(allele, valid):
    if valid:
        assert check_allele("D6S477", allele) == allele  # no table for this marker: only the form is checked
    else:
        with pytest.raises(ImplausibleAlleleError, match=r"\.1 to \.4"):
            check_allele("D6S477", allele)


def test_without_a_table_only_zero_and_malformed_alleles_are_refused():
    assert check_allele("D6S477", "45") == "45"
    with pytest.raises(ImplausibleAlleleError, match="fewer than 1 repeat"):
        check_allele("D6S477", "0")
    with pytest.raises(AlleleFormatError, match="D6S477.*'1e3'"):
        check_allele("D6S477", "1e3")


def test_a_profile_parsed_with_the_table_refuses_placeholders_and_keeps_other_markers_apart():
    raw = {"TH01": ["9.3", "13"], "AMEL": ["X", "Y"], "DYS19": ["14"]}
    profile = parse_profile(raw, table=TABLE)
    assert profile.genotypes == {"TH01": ("9.3", "13")}
    with pytest.raises(ImplausibleAlleleError, match="marker TH01: allele 1000"):
        parse_profile({**raw, "TH01": ["1000", "9"]}, table=TABLE)
    assert parse_profile({"TH01": ["1000", "9"]}).genotypes == {"TH01": ("9", "1000")}  # no table, no range
