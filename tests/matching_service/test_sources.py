"""Who the matcher sees, and as what: every sample source, the walk-in LINK, consent, replaced profiles, the
worker's loop."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from intake.labs.profiles import store_profile
from intake.labs.walkins import LinkOutcome, link_walk_in, register_walk_in
from intake.models import (
    CandidateStatus,
    Channel,
    Consent,
    ConsentScope,
    Contact,
    JobState,
    MatchJob,
    Role,
    SampleSource,
    Sex,
)
from matching.search import Side
from matching.service import Worker, entries, entry_for
from matching.service.entries import side_of


@pytest.mark.parametrize(
    ("family_source", "child_source"),
    [
        (SampleSource.CONFIRMED_MISSING_PARENT, SampleSource.RESCUED_CHILD),
        (SampleSource.REPORTING_PARENT, SampleSource.SUSPECTED_KIDNAPPED_CHILD),
        (SampleSource.CONFIRMED_MISSING_PARENT, SampleSource.UNKNOWN_IDENTITY_CHILD),
    ],
)
def test_every_sample_source_is_searched_on_its_side(world, family_source, child_source):
    parents = world.family(Role.FATHER, source=family_source)
    child = world.found_child(child_source)
    mother, father = world.person("female"), world.person("male")
    father_id = world.upload(parents.codes["father"], father)
    child_id = world.upload(child["child"], world.child(father, mother))
    Worker(world.factory).run_pending()
    [duo] = world.candidates()
    assert (duo.relationship, duo.child_profile_id, duo.family_profile_ids) == ("duo", child_id, father_id)
    with world.factory() as session:
        sides = {e.profile_id: e.side for e in entries(session)}
    assert sides == {father_id: Side.FAMILY, child_id: Side.CHILD}


def test_sides_follow_the_source_and_the_role():
    assert side_of(SampleSource.REPORTING_PARENT, Role.GRANDPARENT) == (Side.FAMILY, "grandparent")
    assert side_of(SampleSource.SUSPECTED_KIDNAPPED_CHILD, Role.CLAIMED_FATHER) == (Side.CLAIMED, "father")
    assert side_of(SampleSource.RESCUED_CHILD, Role.CLAIMED_FATHER) is None  # claimed adults come only with 4
    assert side_of(SampleSource.REPORTING_PARENT, Role.VOLUNTEER) is None
    assert side_of(SampleSource.REPORTING_PARENT, Role.CHILD) is None


def test_a_walk_in_is_searched_when_it_is_linked_not_before(world):
    family = world.family(Role.MOTHER)
    with world.factory() as session:
        sample, link_code = register_walk_in(session, lab_id=world.lab_id, actor="labkey:1", sex=Sex.MALE,
                                             source=SampleSource.REPORTING_PARENT, role=Role.FATHER)  # fmt: skip
        genotypes = {m: list(g) for m, g in world.person("male").genotypes.items()}
        stored = store_profile(
            session, sample, lab_id=world.lab_id, actor="labkey:1", kit="k", genotypes=genotypes
        )
        assert session.scalar(sa.select(sa.func.count()).select_from(MatchJob)) == 0  # nobody's yet
        contact = session.get_one(Contact, family.contact_id)
        assert link_walk_in(session, contact, link_code).outcome is LinkOutcome.LINKED
        session.commit()
    with world.factory() as session:
        assert list(session.scalars(sa.select(MatchJob.profile_id))) == [stored.profile.id]
        entry = entry_for(session, stored.profile.id)
    assert entry is not None and entry.side is Side.FAMILY and entry.role == "father" and entry.sex == "male"


def test_a_later_refusal_of_consent_keeps_the_profile_out_of_the_index(world):
    family = world.family(Role.MOTHER)
    profile_id = world.upload(family.codes["mother"], world.person("female"))
    with world.factory() as session:
        assert entry_for(session, profile_id) is not None
        session.add(Consent(case_id=family.case_id, scope=ConsentScope.DATA_PROCESSING, granted=False,
                            channel=Channel.SMS, language="zh_CN", text_version="2026-11"))  # fmt: skip
        session.commit()
        assert entry_for(session, profile_id) is None
    worker = Worker(world.factory)
    worker.start()
    assert profile_id not in worker.index


def test_a_replaced_profile_supersedes_its_candidates_which_stay_in_the_history(world):
    parents, child, mother, father = world.typed_trio()
    worker = Worker(world.factory)
    worker.start()
    worker.run_pending()
    [trio] = world.candidates()
    world.upload(child["child"], world.person("male"), replace=True, reason="wrong tube typed")
    worker.run_pending()
    [old] = world.candidates()
    assert old.id == trio.id and old.status is CandidateStatus.SUPERSEDED and old.evidence
    assert len(worker.index) == 3


def test_the_worker_loop_runs_jobs_as_they_come_and_stops_when_asked(world):
    family = world.family(Role.MOTHER, Role.FATHER)
    worker = Worker(world.factory)
    worker.start()
    stop = threading.Event()
    loop = threading.Thread(target=worker.run_forever, args=(stop, 0.05))
    loop.start()
    world.upload(family.codes["mother"], world.person("female"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with world.factory() as session:
            if session.scalar(sa.select(MatchJob.state)) is JobState.DONE:
                break
        time.sleep(0.05)
    stop.set()
    loop.join(10)
    assert not loop.is_alive()
    assert len(worker.index) == 1
    world.upload(family.codes["father"], world.person("male"))
    assert worker.run_pending(stop=stop).jobs == {}  # a stopped worker takes no further job


def test_a_stored_profile_is_read_as_the_parser_reads_it():
    import numpy as np

    from intake.labs.profiles import check_genotypes
    from matching.profiles import parse_profile
    from matching.service.entries import stored_profile
    from matching.simulate import random_profile
    from tests.matching_service.world import KIT, TABLE

    rng = np.random.default_rng(7)
    for sex in ["female", "male", None] * 30:
        profile = random_profile(TABLE, rng, KIT, sex=sex)
        raw = {m: list(g) for m, g in profile.genotypes.items()} | {
            m: list(v) for m, v in profile.other.items()
        }
        stored = check_genotypes(raw).genotypes  # as intake.labs.profiles stores it
        assert stored_profile(stored) == parse_profile(stored) == profile
    odd = {"VWA": "17,14", "AMEL": ["Y", "X"], "D3S1358": [15, "16"], "TH01": ["9.3", "10"]}
    assert stored_profile(odd) == parse_profile(odd)
    assert stored_profile({"D3S1358": ["15", "Q"]}) is None and stored_profile({"DYS391": ["10"]}) is None
