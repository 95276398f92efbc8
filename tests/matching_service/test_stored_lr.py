"""What the service stores is what the reference path computes, and what it must hold out stays out: a stored
candidate's log10 LR equals `matching.kinship.kinship_lr` for the same pair, and a found child whose sample sex
is unknown but whose case says female, typed X,Y, is flagged and never indexed."""

from __future__ import annotations

import math

import sqlalchemy as sa

from intake.models import Case, Sample, Sex
from matching.frequencies import FrequencyTable
from matching.kinship import KinshipCase, kinship_lr
from matching.search import DEFAULT_MUTATION
from matching.service import Worker
from tests.matching_service.world import World


def test_a_stored_candidates_lr_is_kinship_lr_of_the_same_pair(world: World) -> None:
    _, _, mother, father = world.typed_trio()
    worker = Worker(world.factory)
    worker.start()
    worker.run_pending()
    [trio] = world.candidates()
    [child_id] = [trio.child_profile_id]
    child = worker.index.profile(child_id)
    case = KinshipCase("trio_couple", {"father": father, "mother": mother, "child": child}, DEFAULT_MUTATION)
    want = kinship_lr(case, FrequencyTable.default())
    assert trio.relationship == "trio_couple" and trio.log10_lr is not None
    assert math.isclose(trio.log10_lr, want.log10_lr, rel_tol=1e-9, abs_tol=1e-9)
    assert trio.shared_markers == len(want.per_marker)


def test_a_found_child_of_unknown_sample_sex_in_a_girls_case_typed_xy_is_flagged_and_not_indexed(
    world: World,
) -> None:
    codes = world.found_child()
    with world.factory() as session, session.begin():
        sample = session.scalars(sa.select(Sample).where(Sample.code == codes["child"])).one()
        sample.sex = Sex.UNKNOWN
        session.execute(sa.update(Case).where(Case.id == sample.case_id).values(child_sex=Sex.FEMALE))
    child_id = world.upload(codes["child"], world.person("male"), amelogenin=("X", "Y"))
    worker = Worker(world.factory)
    worker.start()
    worker.run_pending()
    [flag] = world.flags()
    assert flag.kind == "sex_mismatch" and flag.profile_ids == child_id
    assert flag.detail["recorded_sex"] == "female"
    assert child_id not in worker.index
    assert Worker(world.factory).start().held_out == 1  # a worker starting later holds her out too
