"""A person sampled twice (a mother who reported her child twice, in two cases): the service flags it, links the
two samples as one person's, never reports them as relatives of each other, and officers see the link."""

from __future__ import annotations

import sqlalchemy as sa

from intake.models import AuditEvent, Role, Sample, SampleLink
from matching.service import Worker
from matching.service.worker import enqueue_all


def _worker(world) -> Worker:
    worker = Worker(world.factory)
    worker.start()
    return worker


def _links(world) -> list[SampleLink]:
    with world.factory() as session:
        return list(session.scalars(sa.select(SampleLink).order_by(SampleLink.id)))


def _sample_ids(world, *codes: str) -> list[int]:
    with world.factory() as session:
        return sorted(session.scalars(sa.select(Sample.id).where(Sample.code.in_(codes))))


def test_a_mother_sampled_in_two_cases_is_linked_once_and_never_her_own_relative(world):
    first, second = world.family(Role.MOTHER), world.family(Role.MOTHER)
    mother, father = world.person("female"), world.person("male")
    hers = {world.upload(first.codes["mother"], mother), world.upload(second.codes["mother"], mother)}
    worker = _worker(world)
    worker.run_pending()
    [flag] = world.flags()
    [link] = _links(world)
    assert flag.kind == "same_person"
    assert [link.sample_id, link.same_as_sample_id] == _sample_ids(
        world, first.codes["mother"], second.codes["mother"]
    )
    assert (link.flag_id, link.how) == (flag.id, "same_person")
    assert world.candidates() == []  # never a candidate of herself
    with world.factory() as session:
        assert session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.action == "sample.same_person")
        ).all() == ["sample.same_person"]
    # her child found later: a duo candidate with each of her cases, none between her two samples
    child = world.found_child()
    world.upload(child["child"], world.child(father, mother))
    worker.run_pending()
    pairs = {(c.relationship, c.family_case_id) for c in world.candidates() if c.band == "candidate"}
    assert pairs == {("duo", first.case_id), ("duo", second.case_id)}
    assert not any(  # no candidate names both of her profiles
        {c.child_profile_id, *c.family_profile_ids.split(",")} >= hers for c in world.candidates()
    )
    # searched again (a re-match of everything): the link is not made twice
    with world.factory() as session:
        assert enqueue_all(session) > 0
        session.commit()
    worker.run_pending()
    assert len(_links(world)) == 1 and len(world.flags()) == 1


def test_different_persons_are_not_linked(world):
    first, second = world.family(Role.MOTHER), world.family(Role.MOTHER)
    world.upload(first.codes["mother"], world.person("female"))
    world.upload(second.codes["mother"], world.person("female"))
    _worker(world).run_pending()
    assert world.flags() == [] and _links(world) == []
