"""Y-STR lineage evidence end to end: a boy's haplotype and his family's paternal line, uploaded by the lab,
attached by the worker to the candidate the autosomal search found, with the LR of `matching.ystr.lineage`
counted against the database, multiplied into the candidate's; never a candidate on its own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.models import LineageEvidence, Role
from matching.service import Worker
from matching.ystr.haplotype import parse_haplotype
from matching.ystr.lineage import lineage_lr
from tests.labapi.test_ystr_api import YFILER_PLUS
from tests.support.factories import bearer


def _y(world, code: str, haplotype: dict[str, object]) -> None:
    answer = world.client.put(f"/api/v1/samples/{code}/y-str", json={"kit": "Yfiler Plus", "haplotype": haplotype},
                              headers=bearer(world.secret))  # fmt: skip
    assert answer.status_code in (200, 201), answer.get_json()


def _run(world) -> None:
    worker = Worker(world.factory)
    worker.start()
    assert worker.run_pending().jobs.get("failed", 0) == 0


def _lineage(world) -> list[LineageEvidence]:
    with world.factory() as session:
        return list(session.scalars(sa.select(LineageEvidence)))


def test_a_boy_and_his_father_one_mutation_apart_add_the_lineage_lr_to_the_trio(world):
    family, child, _mother, _father = world.typed_trio()
    son = {**YFILER_PLUS, "DYS576": "19"}  # one single-step mutation from his father
    _y(world, family.codes["father"], YFILER_PLUS)
    _y(world, child["child"], son)
    same_line = world.family(Role.FATHER)  # another case whose man carries the boy's haplotype
    _y(world, same_line.codes["father"], son)
    other, other_y = world.family(Role.FATHER), {**YFILER_PLUS, "DYS19": "16", "DYS390": "24"}
    _y(world, other.codes["father"], other_y)
    _run(world)

    [candidate] = world.candidates()
    [lineage] = _lineage(world)
    assert lineage.candidate_id == candidate.id and lineage.relative_role == "father" and lineage.meioses == 1
    database = [parse_haplotype(son), parse_haplotype(other_y)]
    expected = lineage_lr(parse_haplotype(son), parse_haplotype(YFILER_PLUS), 1, database)
    assert (lineage.matches, lineage.database) == (1, 2)  # the boy's own and his father's cases left out
    assert lineage.log10_lr == pytest.approx(expected.log10_lr)
    assert lineage.combined_log10_lr == pytest.approx(candidate.log10_lr + expected.log10_lr)
    assert candidate.band == "candidate"  # the band stays the autosomal one
    dys576 = next(e for e in lineage.evidence if e["locus"] == "DYS576")
    assert dys576["child"] == ["19"] and dys576["relative"] == ["18"] and dys576["probability"] > 0
    assert lineage.loci_compared == 25 and lineage.inconsistent_loci == []


def test_a_haplotype_uploaded_after_the_candidate_queues_the_search_that_attaches_it(world):
    family, child, _mother, _father = world.typed_trio()
    _run(world)
    assert len(world.candidates()) == 1 and _lineage(world) == []
    _y(world, family.codes["father"], YFILER_PLUS)
    _y(world, child["child"], YFILER_PLUS)
    _run(world)
    [lineage] = _lineage(world)
    assert lineage.log10_lr is not None and lineage.log10_lr <= 0  # no database: the bound is 1, LR <= 1


def test_a_brother_typed_for_y_only_speaks_for_the_paternal_line_of_a_mother_duo(world):
    family = world.family(Role.MOTHER, Role.FULL_SIBLING)
    child = world.found_child()
    mother, father = world.person("female"), world.person("male")
    world.upload(family.codes["mother"], mother)
    world.upload(child["child"], world.child(father, mother))
    _y(world, family.codes["full_sibling"], YFILER_PLUS)  # no autosomal profile for the brother
    _y(
        world, child["child"], {**YFILER_PLUS, "DYS19": "16"}
    )  # two meioses: two single steps away is possible
    _run(world)
    duo = [c for c in world.candidates() if c.relationship == "duo"]
    assert duo, "the mother duo is found by the autosomal search"
    [lineage] = _lineage(world)
    assert (
        lineage.candidate_id == duo[0].id and lineage.relative_role == "full_sibling" and lineage.meioses == 2
    )


def test_a_lineage_match_alone_is_never_a_candidate(world):
    stranger = world.family(Role.FATHER)
    child = world.found_child()
    world.upload(stranger.codes["father"], world.person("male"))
    world.upload(child["child"], world.person("male"))
    _y(world, stranger.codes["father"], YFILER_PLUS)
    _y(world, child["child"], YFILER_PLUS)  # the same Y, unrelated autosomes
    _run(world)
    assert world.candidates() == [] and _lineage(world) == []


def test_a_microvariant_difference_makes_the_lineage_lr_zero_and_the_combined_lr_zero(world):
    family, child, _mother, _father = world.typed_trio()
    _y(world, family.codes["father"], YFILER_PLUS)
    _y(world, child["child"], {**YFILER_PLUS, "DYS458": "17.2"})
    _run(world)
    [candidate] = world.candidates()
    [lineage] = _lineage(world)
    assert lineage.log10_lr is None and lineage.combined_log10_lr is None
    assert lineage.inconsistent_loci == ["DYS458"] and candidate.band == "candidate"
