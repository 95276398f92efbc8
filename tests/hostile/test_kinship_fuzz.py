"""The kinship engine on random valid profiles of the Chinese table: every relationship, mutation on and off,
theta from 0 to 0.05, the persons unrelated or truly related (a child drawn from its parents, with one-repeat
mutations): never NaN, never negative, and an LR of 0 only with an inconsistent marker and no mutation model.

tests/matching/test_properties.py checks the same on a two-marker toy table with any alleles; this runs the
shipped frequency table, its whole allele sets (the mutation matrices) and real pedigrees of relatives.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.errors import CaseError
from matching.frequencies import FrequencyTable
from matching.kinship import KinshipCase, kinship_lr
from matching.mutation import MutationModel
from matching.relationships import RELATIONSHIPS
from matching.simulate import child_of, random_profiles, restrict

FUZZ = settings(max_examples=80, deadline=None, database=None, derandomize=True)
TABLE = FrequencyTable.default()

mutations = st.one_of(
    st.none(),
    st.builds(
        MutationModel,
        st.sampled_from(["equal", "proportional", "stepwise"]),
        st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=0.01)),
        st.one_of(st.just(0.0), st.floats(min_value=1e-8, max_value=1e-4)),
        st.floats(min_value=0.05, max_value=0.5),
    ),
)


@FUZZ
@given(
    relationship=st.sampled_from(sorted(RELATIONSHIPS)),
    seed=st.integers(0, 2**32 - 1),
    markers=st.lists(st.sampled_from(sorted(TABLE.markers)), min_size=1, max_size=5, unique=True),
    related=st.booleans(),
    mutation_rate=st.sampled_from([0.0, 0.3]),
    mutation=mutations,
    theta=st.floats(min_value=0.0, max_value=0.05),
)
def test_an_lr_is_never_nan_or_negative_and_zero_only_for_an_exclusion_without_mutation(
    relationship, seed, markers, related, mutation_rate, mutation, theta
):
    rel = RELATIONSHIPS[relationship]
    if relationship == "identity":
        mutation = None  # no transmission to mutate: refused by design
    rng = np.random.default_rng(seed)
    people = random_profiles(TABLE, rng, len(rel.roles), markers)
    if related:  # the last role (the child, or person2) is a child of the first two (one-repeat mutations)
        mother = people[1] if len(people) > 2 else random_profiles(TABLE, rng, 1, markers)[0]
        people[-1] = child_of(people[0], mother, rng, mutation_rate, table=TABLE)
    if rng.random() < 0.3:  # some markers untyped for one person
        people[0] = restrict(people[0], markers[: max(1, len(markers) // 2)])
    persons = dict(zip(rel.roles, people, strict=True))
    try:
        result = kinship_lr(KinshipCase(relationship, persons, mutation, theta), TABLE)
    except CaseError as exc:  # only an undisputed mother sharing no allele with the child, without mutation
        assert relationship == "trio_known_mother" and mutation is None and "mother" in str(exc), exc
        return
    values = [result.lr, result.log10_lr, *result.per_marker.values()]
    assert not any(math.isnan(v) for v in values), result
    assert result.lr >= 0.0 and all(v >= 0.0 for v in result.per_marker.values()), result
    # A model whose rates are 0 mutates nothing: it is "no mutation model" for this property.
    mutates = mutation is not None and (
        mutation.rate > 0 or (mutation.model == "stepwise" and mutation.rate2 > 0)
    )
    if result.lr == 0.0:
        assert not mutates and result.inconsistent_markers, result
    if mutates:
        assert result.lr > 0.0, result
