"""Joint pedigrees in the service: a mother and the paternal grandparents, uploaded by the lab, find the child as
one pedigree; the candidate names who was typed; a relative typed later supersedes the smaller pedigree."""

from __future__ import annotations

from intake.models import CandidateStatus, Role
from matching.service import Worker
from matching.simulate import child_of

GRANDPARENTS_AND_MOTHER = ["mother", "paternal_grandfather", "paternal_grandmother"]


def _worker(world) -> Worker:
    worker = Worker(world.factory)
    worker.start()
    return worker


def _grandparents_world(world):
    family = world.family(Role.MOTHER, Role.PATERNAL_GRANDFATHER, Role.PATERNAL_GRANDMOTHER)
    child = world.found_child()
    mother, gf, gm = world.person("female"), world.person("male"), world.person("female")
    father = child_of(gf, gm, world.rng, sex="male")
    return family, child, {"mother": mother, "paternal_grandfather": gf, "paternal_grandmother": gm}, father


def test_mother_and_paternal_grandparents_find_the_child_as_one_pedigree(world):
    family, child, profiles, father = _grandparents_world(world)
    ids = {role: world.upload(family.codes[role], p) for role, p in profiles.items()}
    child_id = world.upload(child["child"], world.child(father, profiles["mother"]))
    _worker(world).run_pending()

    [pedigree] = [c for c in world.candidates() if c.relationship == "pedigree"]
    assert pedigree.pedigree == GRANDPARENTS_AND_MOTHER
    assert pedigree.family_profile_ids == ",".join(sorted(ids.values()))
    assert pedigree.child_profile_id == child_id and pedigree.family_case_id == family.case_id
    assert pedigree.band == "candidate" and pedigree.status is CandidateStatus.NEW
    roles = {r for marker in pedigree.evidence for r in marker["genotypes"]}
    assert roles == {"child", *GRANDPARENTS_AND_MOTHER}  # every typed relative's genotype, per marker
    duo = [c for c in world.candidates() if c.relationship == "duo"]
    assert all(d.log10_lr is not None and d.log10_lr < pedigree.log10_lr for d in duo)  # type: ignore[operator]


def test_a_grandmother_typed_later_rebuilds_the_pedigree_and_supersedes_the_smaller_one(world):
    family, child, profiles, father = _grandparents_world(world)
    world.upload(family.codes["mother"], profiles["mother"])
    world.upload(family.codes["paternal_grandfather"], profiles["paternal_grandfather"])
    world.upload(child["child"], world.child(father, profiles["mother"]))
    worker = _worker(world)
    worker.run_pending()
    [first] = [c for c in world.candidates() if c.relationship == "pedigree"]
    assert first.pedigree == ["mother", "paternal_grandfather"]

    world.upload(family.codes["paternal_grandmother"], profiles["paternal_grandmother"])
    worker.run_pending()  # the family-side search of the new relative
    earlier, now = [c for c in world.candidates() if c.relationship == "pedigree"]
    assert earlier.id == first.id and earlier.status is CandidateStatus.SUPERSEDED
    assert earlier.superseded_by_id == now.id and now.pedigree == GRANDPARENTS_AND_MOTHER
    assert now.log10_lr is not None and first.log10_lr is not None and now.log10_lr > first.log10_lr
