"""The synthetic population generator (pure) and the recall benchmark built on it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from matching.alleles import tenths
from matching.frequencies import FrequencyTable
from matching.synthetic import (
    IDENTIFILER,
    Config,
    Generator,
    RelativeKind,
    genotype_dicts,
    kits,
    mendel_inconsistent,
)

TABLE = FrequencyTable.default()


def _draw(config: Config, seed: int = 1, chunk: int = 10_000):
    gen = Generator(TABLE, config, seed=seed, chunk=chunk)
    families = list(gen.families())
    found = list(gen.found())
    cat = {
        k: np.concatenate([getattr(f, k) for f in families])
        for k in ("father", "mother", "child", "relative")
    }
    return gen, families, cat, found


def test_founders_follow_the_table_chi_square():
    gen = Generator(TABLE, Config(families=0, children=0), seed=11)
    people = gen.founders(20_000)
    for m, marker in enumerate(TABLE.markers):
        p = TABLE.locus(marker).frequencies
        counts = np.bincount(people[:, m, :].ravel(), minlength=len(p))
        expected = p * counts.sum()
        common = expected >= 5  # pool the rare alleles into one class, as a chi-square test needs
        observed = np.append(counts[common], counts[~common].sum())
        wanted = np.append(expected[common], expected[~common].sum())
        keep = wanted > 0
        chi2 = float((((observed - wanted) ** 2)[keep] / wanted[keep]).sum())
        df = int(keep.sum()) - 1
        assert chi2 < df + 5 * np.sqrt(2 * df) + 10, (marker, chi2, df)


def test_a_skewed_draw_would_fail_the_chi_square():
    """The check above has teeth: drawing a marker from another marker's frequencies is caught."""
    gen = Generator(TABLE, Config(families=0, children=0), seed=11)
    gen._cdf[0] = np.cumsum(np.ones(len(gen._cdf[0])) / len(gen._cdf[0]))  # uniform instead of the table
    people = gen.founders(20_000)
    p = TABLE.locus(TABLE.markers[0]).frequencies
    counts = np.bincount(people[:, 0, :].ravel(), minlength=len(p))
    expected = p * counts.sum()
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 > 10 * len(p)


def test_true_children_are_the_missing_children_of_distinct_families_mendel_consistent():
    config = Config(families=3_000, children=1_000, true_share=0.4, mutation_rate=0.0)
    gen, _families, fam, found = _draw(config, chunk=700)
    family = np.concatenate([f.family for f in found])
    genotypes = np.concatenate([f.genotypes for f in found])
    true = np.flatnonzero(family >= 0)
    assert len(true) == 400 == config.true_children
    assert len(set(family[true].tolist())) == 400
    assert np.array_equal(genotypes[true], fam["child"][family[true]])
    assert not mendel_inconsistent(
        genotypes[true], fam["father"][family[true]], fam["mother"][family[true]]
    ).any()
    unrelated = np.flatnonzero(family < 0)
    inconsistent = mendel_inconsistent(
        genotypes[unrelated], fam["father"][: len(unrelated)], fam["mother"][: len(unrelated)]
    )
    assert inconsistent.any(axis=1).mean() > 0.9  # unrelated children are excluded almost always


def test_mutations_are_single_steps_within_a_group_and_recorded():
    config = Config(families=2_000, children=2_000, true_share=1.0, mutation_rate=0.02)
    _gen, _families, fam, found = _draw(config)
    (chunk,) = found
    true = chunk.family
    inconsistent = mendel_inconsistent(chunk.genotypes, fam["father"][true], fam["mother"][true])
    mutated = np.zeros_like(inconsistent)
    for i, markers in enumerate(chunk.mutated_markers):
        mutated[i, list(markers)] = True
    assert not (inconsistent & ~mutated).any()  # every inconsistency is a recorded mutation
    share = (chunk.mutations > 0).mean()
    expected = 1 - (1 - 0.02) ** (2 * len(TABLE.markers))
    assert abs(share - expected) < 0.05
    for i, m in zip(*np.nonzero(inconsistent), strict=True):
        alleles = TABLE.locus(TABLE.markers[m]).alleles
        child = {tenths(alleles[a]) for a in chunk.genotypes[i, m]}
        parents = {tenths(alleles[a]) for a in (*fam["father"][true[i], m], *fam["mother"][true[i], m])}
        assert any(abs(c - p) == 10 for c in child for p in parents)  # one repeat away from a parent's allele


def test_force_one_mutation_mutates_exactly_one_marker_among_those_allowed():
    gen = Generator(TABLE, Config(families=0, children=0), seed=3)
    people = gen.founders(500)
    before = people.copy()
    allowed = [TABLE.markers.index(m) for m in IDENTIFILER]
    mutated = gen.force_one_mutation(people, allowed)
    assert (mutated.sum(axis=1) == 1).all()
    changed = (people != before).any(axis=2)
    assert np.array_equal(changed, mutated)
    assert not changed[:, [i for i in range(len(TABLE.markers)) if i not in allowed]].any()


def test_relatives_and_typing_shares():
    config = Config(families=5_000, children=0, one_parent_share=0.2, relative_share=0.1)
    _gen, families, fam, _found = _draw(config)
    typed_f = np.concatenate([f.father_typed for f in families])
    typed_m = np.concatenate([f.mother_typed for f in families])
    kind = np.concatenate([f.relative_kind for f in families])
    assert (typed_f | typed_m).all()
    assert abs((typed_f ^ typed_m).mean() - 0.2) < 0.03
    assert abs((kind > 0).mean() - 0.1) < 0.02
    sib = kind == RelativeKind.FULL_SIBLING
    grand = kind == RelativeKind.GRANDPARENT
    assert not mendel_inconsistent(fam["relative"][sib], fam["father"][sib], fam["mother"][sib]).mean() > 0.01
    # the father is a child of the typed grandparent: they share an allele at (almost) every marker
    assert mendel_inconsistent(fam["father"][grand], fam["relative"][grand], None).mean() < 0.01


def test_identifiler_profiles_have_exactly_its_fifteen_markers():
    (_full, pp21, identifiler) = kits(TABLE)
    assert len(identifiler.markers) == 15 and set(identifiler.markers) == set(IDENTIFILER)
    assert len(pp21.markers) == 20
    gen = Generator(TABLE, Config(families=0, children=0), seed=2)
    (profile,) = genotype_dicts(TABLE, gen.founders(1), identifiler.markers)
    assert set(profile) == set(IDENTIFILER)
    for marker, (a, b) in profile.items():
        assert tenths(a) <= tenths(b) and a in TABLE.locus(marker).alleles


def test_the_same_seed_draws_the_same_population():
    config = Config(families=300, children=100)
    a = _draw(config, seed=9)[2]["father"]
    b = _draw(config, seed=9)[2]["father"]
    c = _draw(config, seed=10)[2]["father"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_found_children_need_the_families_first():
    gen = Generator(TABLE, Config(families=10, children=5), seed=1)
    with pytest.raises(RuntimeError):
        next(gen.found())


def _bench_recall():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_recall.py"
    spec = importlib.util.spec_from_file_location("bench_recall", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_recall"] = module
    spec.loader.exec_module(module)
    return module


def test_recall_benchmark_finds_planted_trios_and_draws_the_figure(tmp_path):
    bench = _bench_recall()
    figure = tmp_path / "lr.png"
    conditions = bench.run(families=1_500, children=4, seed=5, figure=figure)
    by_name = {c.name: c for c in conditions}
    trio = by_name["trio 23 markers"]
    assert trio.found == 4 and len(trio.true_log10) == 4 and min(trio.true_log10) > 4
    assert trio.pairs == 4 * 1_499
    assert {c.relationship for c in conditions} == {"trio", "duo"}
    assert {c.kit for c in conditions} == {"23", "15"}
    for c in conditions:  # the histogram holds every unrelated pair, the true pair never
        assert c.hist.sum() == c.pairs
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = bench.report(conditions, 1_500, 4, 1.0)
    assert "trio 15 markers, 1 mutation" in text and "make bench-recall" in text
