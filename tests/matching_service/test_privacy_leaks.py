"""No names, phone numbers or alleles in the logs or the audit log, along a whole path: a report by SMS, a lab
upload of the profiles, matching, MYDATA and DELETE; and a withdrawn profile leaves the matcher's index at once."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

import sqlalchemy as sa

from intake.cases.erasure import erase_contact
from intake.dialogue.types import Incoming
from intake.inbound.inbox import process
from intake.labs.appointments import book, sample_for
from intake.models import AuditEvent, Case, Channel, Contact, Person, Role, SampleSource, utcnow
from matching.profiles import Profile
from matching.service import Worker
from tests.dialogue import transcripts as t
from tests.support.factories import MONDAY, TODAY

PHONE = "+8613800138000"
NAMES = ("Li Ming", "Wang Wei")  # the child and the reporting father in t.REPORT_EN
PLACE = "Shenzhen"


def _say(world, text: str, number: int) -> None:
    process(world.factory, Incoming(Channel.SMS, PHONE, text, utcnow(), provider_id=f"SM{number}"))


def _reported_by_sms(world) -> tuple[int, str]:
    """Report by SMS (the dialogue through the inbox), then book the father at the world's lab; return case, code."""
    for number, (text, _expected) in enumerate(t.REPORT_EN + [("2", ())]):
        _say(world, text, number)
    with world.factory() as session, session.begin():
        case = session.scalars(sa.select(Case)).one()
        father = session.scalars(
            sa.select(Person).where(Person.case_id == case.id, Person.role == Role.FATHER)
        ).one()
        contact = session.get_one(Contact, father.contact_id)
        booking = book(session, case=case, lab_id=world.lab_id, day=MONDAY, today=TODAY, person=father,
                       contact=contact, source=SampleSource.REPORTING_PARENT, actor="test")  # fmt: skip
        sample = sample_for(session, booking)
        assert sample is not None
        return case.id, sample.code


def _allele_strings(profiles: list[Profile]) -> set[str]:
    """Return the ways a genotype could be written in a log line: "15/16", "15,16", "['15', '16']"..."""
    forms = set()
    for profile in profiles:
        for marker, (a, b) in profile.genotypes.items():
            forms |= {f"{a}/{b}", f"{a},{b}", f"{a}, {b}", f"'{a}', '{b}'", f'"{a}", "{b}"', f"{marker}: {a}",
                      f"{marker}={a}", f'"{marker}": ["{a}"', f"'{marker}': ['{a}'"}  # fmt: skip
    return forms


def _leaks(text: str, profiles: list[Profile]) -> list[str]:
    bare = PHONE.lstrip("+")
    found = [x for x in (PHONE, bare, bare[2:], *NAMES, PLACE) if x in text]
    return found + [x for x in _allele_strings(profiles) if x in text]


def test_logs_and_audit_hold_no_name_phone_or_allele_along_a_whole_path(world, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, at its most talkative
    for name in ("sqlalchemy.engine", "sqlalchemy.pool", "werkzeug", "matching", "intake", "notifications"):
        caplog.set_level(logging.DEBUG, logger=name)
    case_id, code = _reported_by_sms(world)
    world.collected(code)
    mother, father = world.person("female"), world.person("male")
    world.upload(code, father)
    found = world.found_child()
    child = world.child(father, mother)
    world.upload(found["child"], child)
    worker = Worker(world.factory)
    worker.start()
    worker.run_pending()
    assert [c.family_case_id for c in world.candidates() if c.band == "candidate"] == [case_id]
    _say(world, "MYDATA", 200)
    with world.factory() as session:
        pin = session.get_one(Case, case_id).pin
    _say(world, f"DELETE {pin}", 201)
    worker.run_pending()

    profiles = [father, child]
    # This path runs in this thread; a thread another test left behind (a server, a bot) may log its own
    # test's phone numbers and names, which would be no leak of this path.
    records = [r for r in caplog.records if r.thread == threading.get_ident()]
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in records)
    assert len(records) > 50  # the path did log (the SQL among it)
    assert _leaks(logged, profiles) == []
    with world.factory() as session:
        audit = "\n".join(
            f"{e.actor} {e.action} {e.entity_id} {e.detail}" for e in session.scalars(sa.select(AuditEvent))
        )
        assert "contact.mydata" in audit and "contact.erase" in audit
    assert _leaks(audit, profiles) == []


def test_after_delete_the_profile_leaves_the_index_at_the_next_job_and_no_later_search_finds_it(world):
    family = world.family(Role.MOTHER)
    mother = world.person("female")
    profile_id = world.upload(family.codes["mother"], mother)
    worker = Worker(world.factory)
    worker.start()
    worker.run_pending()
    assert profile_id in worker.index
    with world.factory() as session:  # DELETE confirmed with the PIN: consents withdrawn, data erased
        contact = session.get_one(Contact, family.contact_id)
        erase_contact(session, contact, actor=f"contact:{contact.id}", now=datetime.now(UTC))
        session.commit()
    summary = worker.run_pending(limit=1)  # the withdrawal is claimed before any search
    assert sum(summary.jobs.values()) == 1 and profile_id not in worker.index
    child = world.found_child()
    world.upload(child["child"], world.child(world.person("male"), mother))
    worker.run_pending()
    assert world.candidates() == []
    fresh = Worker(world.factory)
    fresh.start()
    assert profile_id not in fresh.index
