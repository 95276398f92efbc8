"""Properties of profile parsing and of the LR engine over generated input (hypothesis, derandomised).

Parsing: any raw profile either gives a Profile whose alleles are canonical and plausible, or a ProfileError
naming the problem; never another exception. Engine: no NaN, no negative or infinite LR, and an LR of 0 only
with an inconsistent marker and no mutation model.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.alleles import canonical_allele, check_allele
from matching.errors import CaseError, ProfileError
from matching.frequencies import FrequencyTable
from matching.kinship import KinshipCase, kinship_lr
from matching.mutation import MutationModel
from matching.profiles import Profile, parse_profile
from matching.relationships import RELATIONSHIPS

TABLE = FrequencyTable.default()
SMALL = FrequencyTable.from_csv_text(
    "marker,allele,frequency\nTPOX,8,0.5\nTPOX,9,0.2\nTPOX,9.3,0.05\nTPOX,11,0.25\n"
    "TH01,6,0.1\nTH01,7,0.3\nTH01,9.3,0.6\n"
)
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

allele_values = st.one_of(
    st.integers(min_value=-5, max_value=2000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["0", "99.9", "9.3", "30.2", "10.0", "012", "", " ", "X", "OL", "<8", "1e3", "15.35", "１２"]
    ),
    st.text(max_size=6),
    st.none(),
    st.booleans(),
)
marker_names = st.one_of(
    st.sampled_from([*TABLE.markers, "VWA", "THO1", "Penta D", "AMEL", "DYS19", "D6S477", "HLA-DQA1"]),
    st.text(max_size=8),
)
raw_profiles = st.dictionaries(
    marker_names,
    st.one_of(st.lists(allele_values, max_size=4), allele_values, st.text(max_size=10)),
    max_size=6,
)


@PROPERTY
@given(raw_profiles)
def test_a_raw_profile_parses_to_plausible_alleles_or_raises_a_profile_error(raw):
    try:
        profile = parse_profile(raw, table=TABLE)
    except ProfileError as exc:
        assert str(exc)
        return
    assert profile.genotypes
    for marker, (a, b) in profile.genotypes.items():
        for allele in (a, b):
            assert canonical_allele(allele) == allele
            assert check_allele(marker, allele, TABLE) == allele


def _genotypes(table):
    loci = {m: [*table.locus(m).alleles, "12", "5.2"] for m in table.markers}  # two alleles the table lacks
    return st.fixed_dictionaries(
        {},
        optional={
            m: st.tuples(st.sampled_from(a), st.sampled_from(a)).map(sorted).map(tuple)
            for m, a in loci.items()
        },
    )


MODELS = st.one_of(
    st.none(),
    st.builds(
        MutationModel,
        st.sampled_from(["equal", "proportional", "stepwise"]),
        st.floats(min_value=0.0, max_value=0.05),
        st.just(1e-6),
        st.just(0.1),
    ),
)


@settings(PROPERTY, max_examples=50)
@given(
    relationship=st.sampled_from(sorted(RELATIONSHIPS)),
    genotypes=st.lists(_genotypes(SMALL), min_size=3, max_size=3),
    mutation=MODELS,
    theta=st.sampled_from([0.0, 0.0, 0.01, 0.1]),
)
def test_an_lr_is_a_finite_non_negative_number_and_zero_only_for_an_exclusion_without_mutation(
    relationship, genotypes, mutation, theta
):
    rel = RELATIONSHIPS[relationship]
    if relationship == "identity":
        mutation = None  # identity has no transmission to mutate (refused by design)
    persons = {
        role: Profile(g or {"TPOX": ("8", "8")}) for role, g in zip(rel.roles, genotypes, strict=False)
    }
    try:
        result = kinship_lr(KinshipCase(relationship, persons, mutation, theta), SMALL)
    except (
        CaseError
    ) as exc:  # only the undisputed mother who shares no allele with the child, without mutation
        assert relationship == "trio_known_mother" and mutation is None and "mother" in str(exc)
        return
    values = [result.lr, *result.per_marker.values()]
    assert all(not math.isnan(v) and v >= 0 and math.isfinite(v) for v in values), result
    assert not math.isnan(result.log10_lr)
    if result.lr == 0.0:
        assert mutation is None and result.inconsistent_markers, result
        assert result.log10_lr == -math.inf
    else:
        assert result.log10_lr == math.log10(result.lr) or math.isclose(
            result.log10_lr, math.log10(result.lr), rel_tol=1e-9, abs_tol=1e-9
        )
    if mutation is not None and relationship != "identity":
        assert result.lr > 0.0
