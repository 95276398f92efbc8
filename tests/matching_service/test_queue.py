"""The queue's crash cases: a job exists exactly when its profile committed, a dead worker's job is taken again,
two workers never take the same job, a failing job is parked without stalling the others, and a re-match of
everything while profiles arrive stores no candidate twice."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from intake.labs.profiles import store_profile
from intake.matches.queue import enqueue_search
from intake.models import JobKind, JobState, MatchJob, MatchSearch, Role, Sample
from matching.service import Worker, enqueue_all
from matching.service import worker as worker_module
from tests.matching_service.world import KIT


def _jobs(world) -> list[MatchJob]:
    with world.factory() as session:
        return list(session.scalars(sa.select(MatchJob).order_by(MatchJob.id)))


def test_a_stored_profile_queues_its_search_in_its_transaction_and_a_rolled_back_one_queues_nothing(world):
    family = world.family(Role.MOTHER)
    genotypes = {m: list(g) for m, g in world.person("female").genotypes.items()}
    with world.factory() as session:
        sample = session.scalars(sa.select(Sample).where(Sample.code == family.codes["mother"])).one()
        stored = store_profile(
            session, sample, lab_id=world.lab_id, actor="test", kit="k", genotypes=genotypes
        )
        assert [j.profile_id for j in session.scalars(sa.select(MatchJob))] == [stored.profile.id]
        session.rollback()  # e.g. the request failed after storing
    assert _jobs(world) == []
    profile_id = world.upload(family.codes["mother"], world.person("female"))
    [job] = _jobs(world)
    assert (job.kind, job.profile_id, job.state) == (JobKind.SEARCH, profile_id, JobState.QUEUED)
    world.upload(family.codes["mother"], world.person("female"), replace=True, reason="tubes swapped")
    assert [j.kind for j in _jobs(world)] == [JobKind.SEARCH, JobKind.SEARCH]


def test_asking_twice_for_a_search_queues_it_once(world):
    family = world.family(Role.MOTHER)
    profile_id = world.upload(family.codes["mother"], world.person("female"))
    with world.factory() as session:
        assert enqueue_search(session, profile_id) is None
        assert enqueue_search(session, profile_id, JobKind.REMATCH) is None
        session.commit()
    assert len(_jobs(world)) == 1


def test_a_job_whose_worker_died_is_taken_again_when_its_lease_ends(world):
    family = world.family(Role.MOTHER)
    world.upload(family.codes["mother"], world.person("female"))
    dead = Worker(world.factory, name="dead", lease=timedelta(seconds=-1))  # its lease is over at once
    assert dead.claim() is not None  # ... and it dies before running it
    alive = Worker(world.factory, name="alive")
    alive.start()
    assert alive.run_pending().jobs["search"] == 1
    [job] = _jobs(world)
    assert job.state is JobState.DONE and job.attempts == 2 and job.claimed_by == "alive"


def test_a_job_whose_workers_keep_dying_is_parked(world):
    family = world.family(Role.MOTHER)
    world.upload(family.codes["mother"], world.person("female"))
    for _ in range(2):
        assert Worker(world.factory, lease=timedelta(seconds=-1), max_attempts=2).claim() is not None
    assert Worker(world.factory, max_attempts=2).claim() is None
    [job] = _jobs(world)
    assert job.state is JobState.PARKED and "lease" in (job.last_error or "")


def test_two_workers_never_claim_the_same_job(world):
    family = world.family(Role.MOTHER)
    world.upload(family.codes["mother"], world.person("female"))
    with world.factory() as session:
        session.add_all(MatchJob(kind=JobKind.SEARCH, profile_id=f"p{i:031d}") for i in range(40))
        session.commit()
    claimed: dict[str, list[int]] = {"a": [], "b": []}

    def take(name: str) -> None:
        worker = Worker(world.factory, name=name)
        while (job := worker.claim()) is not None:
            claimed[name].append(job.id)

    threads = [threading.Thread(target=take, args=(name,)) for name in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not set(claimed["a"]) & set(claimed["b"])
    assert sorted(claimed["a"] + claimed["b"]) == [j.id for j in _jobs(world)]


def test_a_failing_job_is_retried_then_parked_with_its_error_and_the_next_job_runs(world, monkeypatch):
    monkeypatch.setattr(worker_module, "BACKOFF_SECONDS", 0.0)
    family = world.family(Role.MOTHER, Role.FATHER)
    bad = world.upload(family.codes["mother"], world.person("female"))
    good = world.upload(family.codes["father"], world.person("male"))
    worker = Worker(world.factory, max_attempts=3)
    worker.start()
    real = worker._do

    def broken(session, job):
        if job.profile_id == bad:
            raise RuntimeError("disk full")
        return real(session, job)

    monkeypatch.setattr(worker, "_do", broken)
    summary = worker.run_pending()
    assert summary.jobs["failed"] == 2 and summary.jobs["parked"] == 1 and summary.jobs["search"] == 1
    states = {j.profile_id: (j.state, j.attempts, j.last_error) for j in _jobs(world)}
    assert states[bad] == (JobState.PARKED, 3, "RuntimeError: disk full")
    assert states[good][0] is JobState.DONE


def test_a_failed_job_waits_for_its_backoff(world):
    family = world.family(Role.MOTHER)
    world.upload(family.codes["mother"], world.person("female"))
    worker = Worker(world.factory)
    worker.start()

    def broken(session, job):
        raise RuntimeError("database went away")

    worker._do = broken  # type: ignore[method-assign]
    assert worker.run_pending().jobs == {"failed": 1}  # not retried at once
    [job] = _jobs(world)
    assert job.state is JobState.QUEUED and job.not_before is not None and job.attempts == 1


def test_match_all_while_a_profile_arrives_searches_each_once_and_stores_no_candidate_twice(world):
    parents, child, mother, father = world.typed_trio()
    worker = Worker(world.factory)
    worker.start()
    worker.run_pending()
    [candidate] = world.candidates()

    late = world.found_child()  # typed while the re-match is being queued: its own search waits already
    late_id = world.upload(late["child"], world.child(father, mother))
    with world.factory() as session, session.begin():
        assert enqueue_all(session) == 3  # the three older profiles; the late one is not queued twice
    arriving = world.found_child()  # typed after: queued by its upload
    arriving_id = world.upload(arriving["child"], world.child(father, mother))
    summary = worker.run_pending()
    assert summary.jobs["rematch"] == 3 and summary.jobs["search"] == 2

    candidates = world.candidates()
    keys = [(c.child_profile_id, c.family_profile_ids, c.relationship) for c in candidates]
    assert len(keys) == len(set(keys)) == 3 and candidates[0].id == candidate.id
    with world.factory() as session:
        searched = list(session.scalars(sa.select(MatchSearch.profile_id)))
    assert searched.count(late_id) == 1 and searched.count(arriving_id) == 1


@pytest.mark.parametrize("kit_size", [12])
def test_a_profile_on_too_few_shared_markers_is_never_a_candidate(world, kit_size):
    parents = world.family(Role.MOTHER, Role.FATHER)
    child = world.found_child()
    mother, father = world.person("female"), world.person("male")
    world.upload(parents.codes["mother"], mother)
    world.upload(parents.codes["father"], father)
    small = {m: g for m, g in world.child(father, mother).genotypes.items() if m in KIT[:kit_size]}
    from matching.profiles import Profile

    world.upload(child["child"], Profile(small, {"Amelogenin": ("X", "Y")}))
    Worker(world.factory).run_pending()
    assert [c for c in world.candidates() if c.band == "candidate"] == []


def test_a_genemapper_import_queues_the_samples_it_stored_and_none_it_refused(world):
    from tests.labapi.genemapper_files import table
    from tests.support.factories import bearer

    family = world.family(Role.MOTHER, Role.FATHER)
    good = {m: list(g) for m, g in world.person("female").genotypes.items()}
    mixture = {m: list(g) for m, g in world.person("male").genotypes.items()} | {"FGA": ["21", "22", "24"]}
    text = table([(family.codes["mother"], good), (family.codes["father"], mixture)], alleles=3)
    answer = world.client.post("/api/v1/imports/genemapper", data=text.encode(), content_type="text/plain",
                               headers=bearer(world.secret))  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    statuses = sorted(s["status"] for s in answer.get_json()["samples"])
    assert statuses == ["refused", "stored"]
    stored = next(s["profile"] for s in answer.get_json()["samples"] if s["status"] == "stored")
    assert [j.profile_id for j in _jobs(world)] == [stored]


def test_every_workers_index_follows_what_the_others_did(world):
    first, second = Worker(world.factory, name="first"), Worker(world.factory, name="second")
    first.start()
    second.start()
    parents = world.family(Role.MOTHER, Role.FATHER)
    mother, father = world.person("female"), world.person("male")
    world.upload(parents.codes["mother"], mother)
    world.upload(parents.codes["father"], father)
    assert first.run_pending().jobs["search"] == 2  # the second worker has not seen these profiles
    child = world.found_child()
    world.upload(child["child"], world.child(father, mother))
    assert second.run_pending().jobs["search"] == 1
    [candidate] = world.candidates()
    assert candidate.relationship == "trio_couple" and len(second.index) == 3
