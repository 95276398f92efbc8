"""Which columns hold personal data is declared once, on every column, and erasure follows that declaration:
a new column forces a decision, and DELETE leaves no declared personal detail behind."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from intake.cases.erasure import erased_values, owned_rows
from intake.dialogue.types import Incoming, Media
from intake.inbound.inbox import process
from intake.labs.directory import load_demo_labs
from intake.models import (
    AuditEvent,
    Candidate,
    Case,
    Channel,
    Contact,
    DnaProfile,
    Lab,
    LineageEvidence,
    MatchFlag,
    Message,
    Sample,
    YHaplotype,
    utcnow,
)
from intake.platform.db import Base
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import PHONE

COLUMNS = [(table.name, column) for table in Base.metadata.sorted_tables for column in table.columns]
MODELS = {mapper.class_ for mapper in Base.registry.mappers}


@pytest.mark.parametrize(("table", "column"), COLUMNS, ids=[f"{t}.{c.key}" for t, c in COLUMNS])
def test_every_column_says_whether_it_is_personal_data(table, column):
    assert isinstance(column.info.get("personal"), bool), (
        f"{table}.{column.key}: declare info=personal(...) or info=NOT_PERSONAL (intake/models/_common.py)"
    )
    if column.info["personal"]:
        erased, kept = "erased" in column.info, "kept" in column.info
        assert erased != kept, f"{table}.{column.key}: say what erasure writes, or why it keeps the value"
        if kept:
            assert len(column.info["kept"]) > 20, "say why in words"
        elif not column.nullable:
            assert column.info["erased"] is not None, (
                f"{table}.{column.key} cannot be NULL: give an erased value"
            )


def test_erasure_knows_the_rows_of_every_model_with_personal_data():
    with_personal_data = {model for model in MODELS if erased_values(model)}
    assert with_personal_data == set(owned_rows(0, []))


def test_the_declaration_names_the_details_a_report_gives():
    assert set(erased_values(Case)) == {
        "child_name", "child_sex", "child_birth_date", "child_age_years", "child_age_max_years", "last_seen_date",
        "last_seen_place", "place_province", "description",  # the province of the place goes with the place
    }  # fmt: skip


def _say(session_factory, text, number, media=()):
    incoming = Incoming(Channel.SMS, PHONE, text, utcnow(), provider_id=f"SM{number}", media=media)
    return process(session_factory, incoming)


def test_delete_erases_every_declared_personal_column_and_the_audit_log_never_names_the_phone(
    session_factory,
):
    with session_factory() as session, session.begin():
        load_demo_labs(session)
    photo = (Media("https://api.twilio.com/Media/ME1", "image/jpeg"),)
    turns = [text for text, _ in t.REPORT_EN[:9]] + ["red coat"] + [text for text, _ in t.REPORT_EN[10:]]
    for number, text in enumerate(turns + [x for x, _ in t.BOOK_AFTER_REPORT_EN[:5]]):
        _say(session_factory, text, number, photo if text == "red coat" else ())
    with session_factory() as session:
        case = session.scalars(sa.select(Case)).one()
        assert case.child_birth_date is not None and case.last_seen_date is not None and case.description
    with session_factory() as session, session.begin():  # the lab typed the booked sample
        sample = session.scalars(sa.select(Sample)).one()
        from intake.models.custody import CustodyEventType
        from intake.outbox.reminders import notify_sample_event

        assert notify_sample_event(session, sample, CustodyEventType.TYPED) is not None  # the family is told
        session.add(DnaProfile(id="p" * 32, sample_id=sample.id, lab_id=session.scalars(sa.select(Lab.id)).first(),
                               kit="Identifiler", genotypes={"D3S1358": ["15", "16"]}, autosomal_markers=1,
                               digest="d" * 64, uploaded_by="labkey:1"))  # fmt: skip
        session.flush()  # the matcher found it in a candidate and a flag, with its genotypes as evidence
        session.add(Candidate(relationship="duo", child_profile_id="p" * 32, family_profile_ids="p" * 32,
                              child_case_id=sample.case_id, family_case_id=sample.case_id, band="candidate",
                              evidence=[{"marker": "D3S1358", "genotypes": {"mother": ["15", "16"]}}],
                              frequency_table="t", engine_version="e"))  # fmt: skip
        session.add(MatchFlag(kind="same_person", profile_ids="p" * 32, detail={"genotypes": ["15", "16"]}))
        session.add(YHaplotype(id="y" * 32, sample_id=sample.id, lab_id=session.scalars(sa.select(Lab.id)).first(),
                               kit="Yfiler Plus", haplotype={"DYS19": ["14"]}, loci=1, digest="e" * 64,
                               uploaded_by="labkey:1"))  # fmt: skip
        session.flush()  # and the Y haplotype's lineage evidence on that candidate
        candidate_id = session.scalars(sa.select(Candidate.id)).one()
        session.add(LineageEvidence(candidate_id=candidate_id, child_haplotype_id="y" * 32,
                                    relative_haplotype_id="y" * 32, relative_role="father", meioses=1,
                                    loci_compared=1, matches=0, database=0, frequency=1.0, rates="YHRD",
                                    evidence=[{"locus": "DYS19", "child": ["14"], "relative": ["14"]}]))  # fmt: skip
    _say(session_factory, "DELETE", 100)
    with session_factory() as session:
        pin = session.scalars(sa.select(Case.pin)).one()
    _say(session_factory, pin, 101)

    with session_factory() as session:
        contact = session.scalars(sa.select(Contact)).one()
        last_in = session.scalar(sa.select(Message.id).where(Message.provider_id == "SM101"))
        rows = owned_rows(contact.id, list(session.scalars(sa.select(Case.id))))
        seen = set()
        for model, where in rows.items():
            erased = erased_values(model)
            query = sa.select(model).where(where)
            if model is Message:  # the reply that says "Deleted" is written after the erasure
                query = query.where(
                    sa.or_(Message.in_reply_to_id.is_(None), Message.in_reply_to_id != last_in)
                )
            for row in session.scalars(query):
                for key, value in erased.items():
                    assert getattr(row, key) == value, f"{model.__name__}.{key} survived erasure"
                seen.add(model)
        assert seen == set(rows)  # every model with personal data had rows to erase
        actors = set(session.scalars(sa.select(AuditEvent.actor)))
        assert actors == {f"contact:{contact.id}", "system"}  # "system" loaded the demo labs
        details = " ".join(str(d) for d in session.scalars(sa.select(AuditEvent.detail)))
        assert PHONE not in details and PHONE[3:] not in details and "Li Ming" not in details
