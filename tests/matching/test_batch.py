"""The batch API and its numba kernels agree with the per-case computation."""

from __future__ import annotations

import numpy as np
import pytest

from matching import fast
from matching.batch import DuoScorer, GenotypeEncoding, TrioScorer
from matching.errors import FrequencyTableError
from matching.frequencies import FrequencyTable
from matching.kinship import KinshipCase, kinship_lr
from matching.mutation import MutationModel
from matching.profiles import Profile, parse_profile

TABLE = FrequencyTable.default()
SMALL_MARKERS = ("TPOX", "D3S1358", "TH01", "D5S818")  # theta tables are costlier: few, small loci


def random_profile(rng, markers, untyped=0.15):
    raw = {}
    for marker in markers:
        if rng.random() < untyped:
            continue
        locus = TABLE.locus(marker)
        raw[marker] = [str(a) for a in rng.choice(locus.alleles, size=2, p=locus.frequencies)]
    return parse_profile(raw or {markers[0]: [TABLE.locus(markers[0]).alleles[0]]})


@pytest.mark.parametrize(
    ("markers", "mutation", "theta"),
    [
        (TABLE.markers, None, 0.0),
        (TABLE.markers, MutationModel("stepwise", 0.005, 1e-6, 0.1), 0.0),
        (SMALL_MARKERS, MutationModel("equal", 0.005), 0.02),
        (SMALL_MARKERS, None, 0.03),
    ],
)
def test_scorers_equal_the_per_case_lr(markers, mutation, theta):
    rng = np.random.default_rng(11)
    encoding = GenotypeEncoding(TABLE, markers)
    child = random_profile(rng, markers, untyped=0.1)
    fathers = [random_profile(rng, markers) for _ in range(25)]
    mothers = [random_profile(rng, markers) for _ in range(25)]
    # Make a few candidates the real parents, so that some LRs are large and some markers inconsistent.
    for i in range(5):
        fathers[i] = Profile(
            {m: (g[0], fathers[i].genotypes.get(m, g)[1]) for m, g in child.genotypes.items()}
        )
    trio = TrioScorer(encoding, child, mutation, theta)
    duo = DuoScorer(encoding, child, mutation, theta)
    f, m = encoding.encode(fathers), encoding.encode(mothers)
    trio_fast, duo_fast = trio.log10_lr(f, m), duo.log10_lr(f)
    np.testing.assert_array_equal(trio_fast, trio.log10_lr(f, m, use_numba=False))
    np.testing.assert_array_equal(duo_fast, duo.log10_lr(f, use_numba=False))
    for i in range(len(fathers)):
        persons = {"father": fathers[i], "mother": mothers[i], "child": child}
        expected = kinship_lr(KinshipCase("trio_couple", persons, mutation, theta), TABLE)
        assert trio_fast[i] == pytest.approx(expected.log10_lr, rel=1e-9, abs=1e-12)
        assert trio.inconsistent_counts(f, m)[i] == len(expected.inconsistent_markers)
        pair = kinship_lr(KinshipCase("duo", {"parent": fathers[i], "child": child}, mutation, theta), TABLE)
        assert duo_fast[i] == pytest.approx(pair.log10_lr, rel=1e-9, abs=1e-12)
        assert duo.inconsistent_counts(f)[i] == len(pair.inconsistent_markers)


def test_codes_are_uint16_marker_major_with_an_untyped_code():
    encoding = GenotypeEncoding(TABLE)
    codes = encoding.encode([parse_profile({"TH01": ["9", "9.3"]}), parse_profile({"FGA": ["22"]})])
    assert codes.dtype == np.uint16 and codes.shape == (23, 2)
    row = encoding.markers.index("TH01")
    assert codes[row, 1] == encoding.loci["TH01"].untyped
    assert max(locus.untyped for locus in encoding.loci.values()) == 35 * 36 // 2
    first = encoding.loci["TH01"]
    assert first.code(("9", "9")) == 0  # the commonest genotype gets code 0


def test_an_allele_outside_the_table_must_be_added_first():
    encoding = GenotypeEncoding(TABLE, ("TPOX",))
    with pytest.raises(FrequencyTableError, match="extend the table"):
        encoding.encode([parse_profile({"TPOX": ["15", "8"]})])


def test_numba_is_used_when_installed():
    assert fast.HAVE_NUMBA
