"""`store_results` (the re-match's batch and Dask shard store) stores exactly what `store_result` per search
stores, on a batch mixing children without candidates, candidates of every kind, identity flags, a withdrawn
case's profile (its candidates dropped) and officers to alert; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from intake.models import (
    AuditEvent,
    Candidate,
    Case,
    CaseStatus,
    JobState,
    LineageEvidence,
    MatchFlag,
    MatchJob,
    MatchSearch,
    Notification,
    OfficerRole,
    SampleLink,
)
from intake.models.officers import create_officer
from matching.search import SearchResult
from matching.service import Worker
from matching.service.store import _BatchCandidates, store_candidate, store_result, store_results
from tests.matching_service.test_rematch_all import SETTINGS, _populate, _stored
from tests.matching_service.world import World


def _rows(world: World, audited_after: int) -> tuple[Any, ...]:
    """What was stored, candidate ids named by their pair (the two passes' ids differ)."""
    candidates, flags = _stored(world)
    with world.factory() as session:
        pair = {
            c.id: (c.child_profile_id, c.family_profile_ids, c.relationship)
            for c in session.scalars(sa.select(Candidate))
        }

        def named(n: Notification) -> tuple[Any, ...]:
            _, candidate_id, rest = n.idempotency_key.split(":", 2)
            params = dict(n.params)
            assert params.pop("url").endswith(f"/console/candidates/{candidate_id}")
            return (pair[int(candidate_id)], rest, str(n.channel), n.address, n.template, n.case_id,
                    sorted(params.items()))  # fmt: skip

        searches = [
            (s.profile_id, s.job_id, s.compared, s.candidates, s.flags, s.duration_ms)
            for s in session.scalars(sa.select(MatchSearch).order_by(MatchSearch.id))
        ]
        alerts = sorted(
            named(n)
            for n in session.scalars(
                sa.select(Notification).where(Notification.template == "candidate.stored")
            )
        )
        links = sorted(
            (link.sample_id, link.same_as_sample_id, link.how)
            for link in session.scalars(sa.select(SampleLink))
        )
        audits = sorted(
            (a.actor, a.action, a.entity_type, a.entity_id)
            for a in session.scalars(sa.select(AuditEvent).where(AuditEvent.id > audited_after))
        )
        lineage = session.scalar(sa.select(sa.func.count()).select_from(LineageEvidence))
    return candidates, flags, searches, alerts, links, audits, lineage


def _last_audit(world: World) -> int:
    with world.factory() as session:
        return session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def _forget(world: World) -> None:
    with world.factory() as session, session.begin():
        session.execute(sa.delete(Notification).where(Notification.template == "candidate.stored"))
        for model in (LineageEvidence, SampleLink, Candidate, MatchFlag, MatchSearch):
            session.execute(sa.delete(model))


def test_the_batch_store_stores_what_storing_each_search_stores(world: World) -> None:
    _populate(world)
    with world.factory() as session, session.begin():
        session.execute(sa.update(MatchJob).values(state=JobState.DONE))
        create_officer(session, username="li.wei", display_name="li.wei", role=OfficerRole.OFFICER, province="北京市",
                       password="correct horse battery", actor="test", alert_channel="email",
                       alert_address="li.wei@police.example.cn")  # fmt: skip
    worker = Worker(world.factory, settings=SETTINGS)
    worker.start()
    index = worker.index
    pairs = index.identical_pairs()
    results: list[SearchResult] = [*index.rematch(index.child_slots(), pairs), *index.identity_results(pairs)]
    # A family case withdrawn after the search: its profiles' candidates are dropped by both paths.
    withdrawn = next(c for r in results for c in r.comparisons if c.relationship == "duo")
    with world.factory() as session, session.begin():
        session.execute(
            sa.update(Case).where(Case.id == withdrawn.family_case_id).values(status=CaseStatus.WITHDRAWN)
        )
    timed = [(r, float(i)) for i, r in enumerate(results)]
    assert any(not r.comparisons and not r.flags for r in results)  # the no-candidate children
    assert any(r.flags for r in results) and any(r.comparisons for r in results)

    audited = _last_audit(world)
    with world.factory() as session, session.begin():
        each = [store_result(session, r, worker.versions, job_id=None, duration_ms=d) for r, d in timed]
    one_by_one = _rows(world, audited)
    _forget(world)
    audited = _last_audit(world)
    with world.factory() as session, session.begin():
        batch = store_results(session, timed, worker.versions)
    assert _rows(world, audited) == one_by_one
    assert (batch.candidates, batch.flags, batch.superseded) == (
        sum(c.candidates for c in each), sum(c.flags for c in each), sum(c.superseded for c in each)
    )  # fmt: skip
    candidates, flags, searches, alerts, links, audits, _ = one_by_one
    assert candidates and flags and alerts and links and audits and len(searches) == len(results)
    assert not any(withdrawn.family_case_id in (c[3], c[4]) for c in candidates)


def _history(world: World) -> list[tuple[Any, ...]]:
    """Each candidate's pair, status and the pair of the candidate that superseded it; every case's status."""
    with world.factory() as session:
        candidates = list(session.scalars(sa.select(Candidate)))
        pair = {c.id: (c.child_profile_id, c.family_profile_ids, c.relationship) for c in candidates}
        rows = sorted((pair[c.id], str(c.status), pair.get(c.superseded_by_id or 0)) for c in candidates)
        cases = sorted((c.id, str(c.status)) for c in session.scalars(sa.select(Case)))
    return [*rows, *cases]


def _duos_only(result: SearchResult) -> SearchResult:
    """The search's trio as the couple's two duos (what an earlier search found with one parent typed)."""
    duos = [replace(c, relationship="duo", family_profile_ids=(p,))
            for c in result.comparisons if c.relationship == "trio_couple" for p in c.family_profile_ids]  # fmt: skip
    return replace(result, comparisons=tuple(duos), flags=())


def _searched(world: World) -> tuple[Worker, list[SearchResult]]:
    """The populated world's worker and its re-match's results with candidates (nothing stored)."""
    _populate(world)
    with world.factory() as session, session.begin():
        session.execute(sa.update(MatchJob).values(state=JobState.DONE))
    worker = Worker(world.factory, settings=SETTINGS)
    worker.start()
    index = worker.index
    return worker, [r for r in index.rematch(index.child_slots(), index.identical_pairs()) if r.comparisons]


def test_a_batch_over_earlier_candidates_stores_what_each_search_stores(world: World) -> None:
    """Candidates already stored (by an earlier batch), one of them reviewed meanwhile: a batch updates the open
    ones and keeps the other's values, and a couple's trio supersedes its duos stored by an earlier batch and by
    the same batch; the cases' statuses (derived together at commit) are those of storing each search."""
    worker, results = _searched(world)
    with_trio = [r for r in results if any(c.relationship == "trio_couple" for c in r.comparisons)]
    assert len(with_trio) >= 2
    # an earlier search of another child found its pairs with other values: open, they take the new ones
    other = next(r for r in results if r not in with_trio[:2])
    stale = replace(
        other, comparisons=tuple(replace(c, log10_lr=c.log10_lr - 1, evidence=()) for c in other.comparisons)
    )
    earlier = [(_duos_only(with_trio[0]), 1.0), (stale, 1.5)]
    # the same batch: a duo stored by one search, then its couple's trio by the next
    later = [(_duos_only(with_trio[1]), 2.0), *((r, 3.0) for r in results)]
    reviewed = next(c for r in results if r is not other and r not in with_trio[:2]
                    for c in r.comparisons if c.relationship != "trio_couple")  # fmt: skip

    def store(batched: bool) -> tuple[Any, ...]:
        audited = _last_audit(world)
        for batch in (earlier, later):
            with world.factory() as session, session.begin():
                if batched:
                    store_results(session, batch, worker.versions)
                else:
                    for r, d in batch:
                        store_result(session, r, worker.versions, job_id=None, duration_ms=d)
                if batch is earlier:  # a candidate the officers withdrew: stored once, then left alone
                    session.execute(
                        sa.insert(Candidate).values(
                            child_profile_id=reviewed.child_profile_id,
                            family_profile_ids=",".join(sorted(reviewed.family_profile_ids)),
                            relationship=reviewed.relationship, child_case_id=reviewed.child_case_id,
                            family_case_id=reviewed.family_case_id, log10_lr=-1.0, band="excluded",
                            inconsistent_markers=[], shared_markers=1, skipped_markers=[], evidence=[],
                            frequency_table="old", engine_version="old", compared=1, status="withdrawn",
                        )
                    )  # fmt: skip
        return _rows(world, audited), _history(world)

    one_by_one = store(batched=False)
    _forget(world)
    assert store(batched=True) == one_by_one
    history = one_by_one[1]
    superseders = {row[0][0] for row in history if len(row) == 3 and row[1] == "superseded" and row[2]}
    assert {with_trio[0].profile_id, with_trio[1].profile_id} <= superseders  # both ways of superseding
    stored_lrs = {c[:3]: c[5] for c in one_by_one[0][0]}
    keys = [
        (c.child_profile_id, ",".join(sorted(c.family_profile_ids)), c.relationship)
        for c in other.comparisons
    ]
    assert [stored_lrs[k] for k in keys] == [
        c.log10_lr for c in other.comparisons
    ]  # updated, not the stale ones
    assert any(
        row[1] == "withdrawn" and row[0][2] == reviewed.relationship for row in history if len(row) == 3
    )


def test_a_pair_a_worker_stored_meanwhile_is_stored_into_not_added(world: World) -> None:
    """The batch read its children's candidates, a worker then stored one of its new pairs: the batch's INSERT
    leaves the worker's row (the unique pair key) and stores into it, as `store_candidate` does."""
    worker, results = _searched(world)
    c = results[0].comparisons[0]
    with world.factory() as session, session.begin():
        batch = _BatchCandidates(session, {c.child_profile_id})
        row, inserted = batch.store(c, worker.versions)
        meanwhile, _ = store_candidate(session, c, worker.versions)
        batch.write(session, worker.versions)
        assert inserted and row.id == meanwhile
        assert session.scalar(sa.select(sa.func.count()).select_from(Candidate)) == 1
