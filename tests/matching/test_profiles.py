"""Marker names, allele names and profile parsing: what labs send, and the errors they can act on."""

from __future__ import annotations

import pytest

from matching.alleles import canonical_allele, tenths
from matching.errors import (
    AlleleFormatError,
    EmptyProfileError,
    ProfileError,
    TriallelicError,
    UnknownMarkerError,
)
from matching.markers import MarkerKind, normalise_marker
from matching.profiles import parse_profile


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


def test_same_marker_under_two_spellings_is_refused():
    with pytest.raises(AlleleFormatError, match="twice"):
        parse_profile({"vWA": ["14", "15"], "VWA": ["14", "16"]})
