"""`reunite match --all` is one direction now (every child against every family unit, identity once, children in
batches over forked processes): it stores the same candidates and flags as the old re-match, which queued a
search of every profile (both directions) and ran the queue. Compared on a population with planted relatives of
every kind, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa

from intake.models import (
    Candidate,
    JobState,
    Lab,
    MatchFlag,
    MatchJob,
    MatchSearch,
    Role,
    SampleLink,
    SampleSource,
)
from matching.search import SearchSettings
from matching.service import Worker, enqueue_all, rematch
from matching.service.rematch import rematch_all
from matching.simulate import child_of
from tests.matching_service.world import World

SETTINGS = SearchSettings(
    inconclusive_lr=2.0
)  # second-degree relatives report from LR 2 (and unrelated pairs too)


def _populate(world: World) -> None:
    rng = world.rng
    with world.factory() as session, session.begin():  # 18 family samples on one day
        session.execute(sa.update(Lab).where(Lab.id == world.lab_id).values(daily_capacity=100))
    # A trio and a second child of the couple; a mother alone and her child.
    family = world.family(Role.MOTHER, Role.FATHER)
    mother, father = world.person("female"), world.person("male")
    world.upload(family.codes["mother"], mother)
    world.upload(family.codes["father"], father)
    for _ in range(2):
        world.upload(world.found_child()["child"], world.child(father, mother))
    alone = world.family(Role.MOTHER)
    single = world.person("female")
    world.upload(alone.codes["mother"], single)
    world.upload(world.found_child()["child"], world.child(world.person("male"), single))
    # Relatives: a full sibling, a half sibling, two grandparents and an aunt of found children.
    for role in (Role.FULL_SIBLING, Role.HALF_SIBLING, Role.GRANDPARENT, Role.GRANDPARENT, Role.AUNT_UNCLE):
        a, b, x = world.person("male"), world.person("female"), world.person("male")
        kid = child_of(a, b, rng, sex="male")
        if role is Role.FULL_SIBLING:
            relative = child_of(a, b, rng, sex="male")
        elif role is Role.HALF_SIBLING:
            relative = child_of(x, b, rng, sex="male")
        elif role is Role.GRANDPARENT:
            relative = a
            kid = child_of(child_of(a, b, rng, sex="male"), x, rng, sex="male")
        else:
            relative = child_of(a, b, rng, sex="male")
            kid = child_of(child_of(a, b, rng, sex="male"), x, rng, sex="male")
        case = world.family(role)
        world.upload(case.codes[role.value], relative)
        world.upload(world.found_child()["child"], kid)
    # One mother sampled twice (two cases); a child whose "father" is the child himself (a mix-up).
    twice = world.person("female")
    for _ in range(2):
        case = world.family(Role.MOTHER)
        world.upload(case.codes["mother"], twice)
    mixed = world.person("male")
    case = world.family(Role.FATHER)
    world.upload(case.codes["father"], mixed)
    world.upload(world.found_child()["child"], mixed)
    # Claimed parents: true ones and a false one.
    cf, cm = world.person("male"), world.person("female")
    codes = world.found_child(
        SampleSource.SUSPECTED_KIDNAPPED_CHILD, (Role.CLAIMED_MOTHER, Role.CLAIMED_FATHER)
    )
    world.upload(codes["claimed_father"], cf)
    world.upload(codes["claimed_mother"], cm)
    world.upload(codes["child"], world.child(cf, cm))
    codes = world.found_child(SampleSource.SUSPECTED_KIDNAPPED_CHILD, (Role.CLAIMED_MOTHER,))
    world.upload(codes["claimed_mother"], world.person("female"))
    world.upload(codes["child"], world.person("male"))
    # Unrelated families and children.
    for _ in range(4):
        case = world.family(Role.MOTHER, Role.FATHER)
        world.upload(case.codes["mother"], world.person("female"))
        world.upload(case.codes["father"], world.person("male"))
        world.upload(world.found_child()["child"], world.person("male"))


def _stored(world: World) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with world.factory() as session:
        candidates = sorted(
            (
                c.child_profile_id,
                c.family_profile_ids,
                c.relationship,
                c.child_case_id,
                c.family_case_id,
                c.log10_lr,
                c.band,
                c.inconsistent_markers,
                c.shared_markers,
                c.skipped_markers,
                c.ask_for,
                c.evidence,
                c.frequency_table,
                c.engine_version,
                str(c.status),
                c.superseded_by_id is not None,
            )  # fmt: skip
            for c in session.scalars(sa.select(Candidate))
        )
        flags = []
        for f in session.scalars(sa.select(MatchFlag)):
            detail = dict(f.detail)
            for key in ("sides", "roles", "case_ids"):  # an identity flag may name its pair in either order
                if key in detail and f.kind in ("same_person", "sample_mixup"):
                    detail[key] = sorted(map(str, detail[key]))
            flags.append((f.kind, f.profile_ids, sorted(f.case_ids), sorted(detail.items())))
        return candidates, sorted(flags)


def _forget(world: World) -> None:
    """Delete what a re-match stores, so that the other way of doing it starts from the same database."""
    with world.factory() as session, session.begin():
        for model in (SampleLink, Candidate, MatchFlag, MatchSearch):
            session.execute(sa.delete(model))


def test_match_all_in_one_direction_stores_what_searching_every_profile_stored(world: World) -> None:
    _populate(world)
    with world.factory() as session, session.begin():  # the uploads' own searches: taken as done long ago
        session.execute(sa.update(MatchJob).values(state=JobState.DONE))

    old = Worker(world.factory, settings=SETTINGS)
    old.start()
    with world.factory() as session, session.begin():
        assert enqueue_all(session) == 37
    old.run_pending()
    before = _stored(world)
    _forget(world)

    new = Worker(world.factory, settings=SETTINGS)
    new.start()
    done = rematch_all(new, workers=2)
    after = _stored(world)
    assert done.children == 15 and done.workers == 2 and not done.pending.jobs
    assert after == before
    assert (done.candidates, done.flags) == (len(after[0]), len(after[1]))  # every row new: each counted once
    relationships = {c[2] for c in after[0]}
    assert relationships >= {
        "trio_couple",
        "duo",
        "full_siblings",
        "half_siblings",
        "grandparent",
        "avuncular",
    }
    assert {f[0] for f in after[1]} >= {"same_person", "sample_mixup", "claimed_parents_excluded"}
    with world.factory() as session:  # one search row per child, none per family profile
        searches = session.scalars(sa.select(MatchSearch)).all()
        assert len([s for s in searches if s.compared]) == 15
        family_trio = sa.select(Candidate).where(  # not the claimed parents' trio, of the child's own case
            Candidate.relationship == "trio_couple", Candidate.child_case_id != Candidate.family_case_id
        )
        trio = session.scalars(family_trio).first()
        assert trio is not None and trio.compared == 14  # every family unit, not one side's count


def test_one_process_stores_the_same_as_several(world: World) -> None:
    _populate(world)
    with world.factory() as session, session.begin():
        session.execute(sa.update(MatchJob).values(state=JobState.DONE))
    worker = Worker(world.factory, settings=SETTINGS)
    worker.start()
    rematch_all(worker, workers=1)
    one = _stored(world)
    _forget(world)
    rematch_all(worker, workers=3)
    assert _stored(world) == one and one[0]


def test_match_all_searches_on_every_core_this_process_may_use(world: World, monkeypatch: Any) -> None:
    _populate(world)
    with world.factory() as session, session.begin():
        session.execute(sa.update(MatchJob).values(state=JobState.DONE))
    worker = Worker(world.factory, settings=SETTINGS)
    worker.start()
    pools: list[int] = []
    real = rematch.ProcessPoolExecutor

    def executor(workers: int, **kwargs: Any) -> Any:
        pools.append(workers)
        return real(workers, **kwargs)

    monkeypatch.setattr(rematch, "ProcessPoolExecutor", executor)
    monkeypatch.setattr(rematch, "BATCH", 1)  # 15 batches: the pool is used even for this small population
    done = rematch_all(worker)  # no --workers: every core
    cores = len(os.sched_getaffinity(0))
    assert done.workers == cores == rematch.local_cores() and done.children == 15
    assert pools == ([cores] if cores > 1 else [])
