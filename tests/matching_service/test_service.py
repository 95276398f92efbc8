"""The matching service end to end: families report and book, a street child is registered, the lab uploads the
profiles through its API, and the worker finds the family, once, with the right relationship and band."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from click.testing import CliRunner

from intake.cases.erasure import erase_contact
from intake.cli.match import make_match_commands
from intake.models import (
    AuditEvent,
    CandidateStatus,
    Contact,
    JobKind,
    MatchJob,
    MatchSearch,
    Role,
    SampleSource,
)
from matching.service import Worker


def _worker(world, **kwargs) -> Worker:
    worker = Worker(world.factory, **kwargs)
    worker.start()
    return worker


def _cli(world, *args: str):
    commands = {c.name: c for c in make_match_commands(lambda: world.factory)}
    result = CliRunner().invoke(commands[args[0]], list(args[1:]), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_true_family_is_one_trio_candidate_and_an_unrelated_family_none(world):
    parents = world.family(Role.MOTHER, Role.FATHER)
    others = world.family(Role.MOTHER, Role.FATHER)
    child = world.found_child()
    mother, father = world.person("female"), world.person("male")
    ids = {
        "mother": world.upload(parents.codes["mother"], mother),
        "father": world.upload(parents.codes["father"], father),
        "other_mother": world.upload(others.codes["mother"], world.person("female")),
        "other_father": world.upload(others.codes["father"], world.person("male")),
        "child": world.upload(child["child"], world.child(father, mother)),
    }
    summary = _worker(world).run_pending()
    assert summary.jobs["search"] == 5 and summary.jobs.get("failed", 0) == 0

    [candidate] = world.candidates()
    assert candidate.relationship == "trio_couple" and candidate.band == "candidate"
    assert candidate.status is CandidateStatus.NEW
    assert candidate.child_profile_id == ids["child"]
    assert candidate.family_profile_ids == ",".join(sorted([ids["mother"], ids["father"]]))
    assert candidate.family_case_id == parents.case_id and candidate.child_case_id == world.case_of(
        child["child"]
    )
    assert candidate.log10_lr is not None and candidate.log10_lr >= 4
    assert candidate.compared >= 2 and candidate.expected_unrelated <= candidate.compared * 10**-4
    assert len(candidate.evidence) == candidate.shared_markers >= 15
    assert candidate.frequency_table.startswith("Chinese") or "@" in candidate.frequency_table
    with world.factory() as session:  # every profile searched once, each search recorded
        assert session.scalar(sa.select(sa.func.count()).select_from(MatchSearch)) == 5
    assert world.flags() == []

    listing = _cli(world, "candidates")
    assert "trio_couple" in listing and "candidate" in listing and "D3S1358" not in listing
    detail = _cli(world, "candidates", "--json", "--status", "new")
    assert "D3S1358" in detail and ids["child"] in detail
    with world.factory() as session:  # the operator's read of genetic detail is audited
        assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.action == "candidates.read"))


def test_a_second_parent_typed_later_turns_the_duo_into_a_trio_that_supersedes_it(world):
    parents = world.family(Role.MOTHER, Role.FATHER)
    child = world.found_child()
    mother, father = world.person("female"), world.person("male")
    world.upload(parents.codes["mother"], mother)
    world.upload(child["child"], world.child(father, mother))
    worker = _worker(world)
    worker.run_pending()
    [duo] = world.candidates()
    assert duo.relationship == "duo" and duo.band == "candidate"

    world.upload(parents.codes["father"], father)
    worker.run_pending()
    duo_now, trio = world.candidates()
    assert duo_now.id == duo.id and duo_now.status is CandidateStatus.SUPERSEDED
    assert duo_now.superseded_by_id == trio.id
    assert trio.relationship == "trio_couple" and trio.status is CandidateStatus.NEW
    assert trio.log10_lr is not None and duo.log10_lr is not None and trio.log10_lr > duo.log10_lr


def test_a_mother_typed_male_is_flagged_and_held_out_until_the_flag_is_resolved(world):
    parents = world.family(Role.MOTHER)
    child = world.found_child()
    mother, father = world.person("female"), world.person("male")
    mother_id = world.upload(parents.codes["mother"], mother, amelogenin=("X", "Y"))
    world.upload(child["child"], world.child(father, mother))
    worker = _worker(world)
    worker.run_pending()
    [flag] = world.flags()
    assert (
        flag.kind == "sex_mismatch" and flag.profile_ids == mother_id and flag.case_ids == [parents.case_id]
    )
    assert world.candidates() == [] and mother_id not in worker.index
    summary = Worker(world.factory).start(progress=True)  # a worker starting now holds her out too
    assert summary.held_out == 1 and dict(summary.indexed) == {"child": 1} and summary.total == 1

    assert "sex_mismatch" in _cli(world, "flags")
    _cli(
        world, "flags", "resolve", str(flag.id), "--note", "lab re-checked: Amelogenin dropout, sample right"
    )
    worker.run_pending()
    [duo] = world.candidates()
    assert duo.relationship == "duo" and duo.family_profile_ids == mother_id
    assert "resolved by operator:cli" in _cli(world, "flags", "list")


def test_a_sex_mismatch_is_resolved_when_the_lab_replaces_the_profile(world):
    parents = world.family(Role.MOTHER)
    child = world.found_child()
    mother, father = world.person("female"), world.person("male")
    world.upload(parents.codes["mother"], mother, amelogenin=("X", "Y"))
    world.upload(child["child"], world.child(father, mother))
    worker = _worker(world)
    worker.run_pending()
    assert world.candidates() == [] and "open" in _cli(world, "flags", "list", "--open")
    world.upload(parents.codes["mother"], mother, replace=True, reason="retyped: the first run was a mix-up")
    worker.run_pending()
    [flag] = world.flags()
    assert flag.resolved_by == "system:matching" and "no flags" in _cli(world, "flags", "list", "--open")
    [duo] = world.candidates()
    assert duo.relationship == "duo"


def test_a_person_sampled_twice_is_flagged_never_a_candidate_of_themself(world):
    first, second = world.family(Role.MOTHER), world.family(Role.MOTHER)  # she reported twice
    mother = world.person("female")
    ids = sorted([world.upload(first.codes["mother"], mother), world.upload(second.codes["mother"], mother)])
    _worker(world).run_pending()
    [flag] = world.flags()
    assert flag.kind == "same_person" and flag.profile_ids == ",".join(ids)
    assert sorted(flag.case_ids) == sorted([first.case_id, second.case_id])
    assert world.candidates() == []


def test_claimed_parents_who_are_excluded_are_flagged_and_the_child_still_finds_its_family(world):
    parents = world.family(Role.MOTHER, Role.FATHER)
    child = world.found_child(
        SampleSource.SUSPECTED_KIDNAPPED_CHILD, (Role.CLAIMED_MOTHER, Role.CLAIMED_FATHER)
    )
    mother, father = world.person("female"), world.person("male")
    world.upload(child["claimed_mother"], world.person("female"))
    world.upload(child["claimed_father"], world.person("male"))
    world.upload(parents.codes["mother"], mother)
    world.upload(parents.codes["father"], father)
    world.upload(child["child"], world.child(father, mother))
    _worker(world).run_pending()
    assert [f.kind for f in world.flags()] == ["claimed_parents_excluded"]
    found = [c for c in world.candidates() if c.band == "candidate"]
    assert [(c.relationship, c.family_case_id) for c in found] == [("trio_couple", parents.case_id)]


def test_a_withdrawn_family_leaves_the_index_at_once_and_is_never_in_a_later_candidate(world):
    parents, others = world.family(Role.MOTHER, Role.FATHER), world.family(Role.MOTHER)
    child, other_child = world.found_child(), world.found_child()
    mother, father, other_mother = world.person("female"), world.person("male"), world.person("female")
    world.upload(parents.codes["mother"], mother)
    world.upload(parents.codes["father"], father)
    world.upload(child["child"], world.child(father, mother))
    world.upload(others.codes["mother"], other_mother)
    world.upload(other_child["child"], world.child(world.person("male"), other_mother))
    worker = _worker(world)
    worker.run_pending()
    candidate, kept = world.candidates()
    assert candidate.family_case_id == parents.case_id and kept.family_case_id == others.case_id

    with world.factory() as session:  # the mother texts DELETE
        contact = session.get_one(Contact, parents.contact_id)
        erase_contact(session, contact, actor=f"contact:{contact.id}", now=datetime.now(UTC))
        session.commit()
        assert session.scalar(sa.select(sa.func.count()).where(MatchJob.kind == JobKind.WITHDRAW)) >= 1
    withdrawn, other = world.candidates()
    assert withdrawn.evidence == [] and other.evidence  # erased in the erasure's own transaction, only theirs
    brother = world.found_child()
    world.upload(brother["child"], world.child(father, mother))
    worker.run_pending()
    assert [c.status for c in world.candidates()] == [CandidateStatus.WITHDRAWN, CandidateStatus.NEW]
    assert len(worker.index) == 4  # the three children and the other mother

    fresh = _worker(world)  # a worker started later never sees them either
    assert len(fresh.index) == 4


def test_match_pending_then_match_all_from_the_command_line_find_the_family_once(world):
    parents, child, mother, father = world.typed_trio()
    first = _cli(world, "match", "--pending", "--no-progress")
    assert "family profiles" in first and "new candidates" in first
    assert len(world.candidates()) == 1
    again = _cli(world, "match", "--all")  # with its progress bar
    assert "children searched" in again and "re-match" in again
    [candidate] = world.candidates()
    assert candidate.status is CandidateStatus.NEW
    with world.factory() as session:  # the three profiles' searches, then the child's in the re-match
        assert session.scalar(sa.select(sa.func.count()).select_from(MatchSearch)) == 4


def test_match_needs_pending_or_all(world):
    commands = {c.name: c for c in make_match_commands(lambda: world.factory)}
    result = CliRunner().invoke(commands["match"], [])
    assert result.exit_code == 2 and "--pending or --all" in result.output
    wrong = CliRunner().invoke(commands["match"], ["--pending", "--inconclusive-lr", "50000"])
    assert wrong.exit_code == 2 and "--inconclusive-lr" in wrong.output


def test_the_bands_are_settings_of_the_worker(world):
    parents, child, mother, father = world.typed_trio()
    _cli(world, "match", "--pending", "--no-progress", "--candidate-lr", "1e40", "--inconclusive-lr", "10")
    [candidate] = world.candidates()
    assert candidate.relationship == "trio_couple" and candidate.band == "inconclusive"
