"""A likely duplicate report (the same child reported from two phones) is a flag on the console's flags page, with
both case references, and is resolved like any flag."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.cases.duplicates import flag_likely_duplicates
from intake.matches.queue import resolve_flag
from intake.models import Case, Contact, MatchFlag, OfficerRole, Sex
from tests.console.factories import add_officer, log_in


def _report(session: Session, phone: str, name: str = "李小明") -> Case:
    contact = Contact(channel="sms", address=phone)
    session.add(contact)
    session.flush()
    case = Case(reference=f"MC-2026-{phone[-6:]}", pin="123456", child_name=name, child_sex=Sex.MALE,
                child_age_years=5, last_seen_place="广州火车站", reported_by_contact_id=contact.id)  # fmt: skip
    session.add(case)
    session.flush()
    return case


def test_a_likely_duplicate_report_is_a_flag_with_both_references(
    client: FlaskClient, session: Session
) -> None:
    first, second = _report(session, "+8613800000001"), _report(session, "+8613800000002")
    _report(session, "+8613800000003", name="王小红")  # another child: no flag
    flags = flag_likely_duplicates(session, second, actor="contact:2")
    assert [f.case_ids for f in flags] == [[first.id, second.id]]
    assert flag_likely_duplicates(session, first, actor="contact:1") == []  # the pair is flagged once
    session.commit()
    add_officer(session, "nat", role=OfficerRole.ADMIN, province=None)
    assert log_in(client, "nat") == 302
    page = client.get("/console/flags", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "疑似重复报案" in page and first.reference in page and second.reference in page
    flag = session.scalars(sa.select(MatchFlag)).one()
    resolve_flag(session, flag.id, actor="officer:1", note="the father joined the mother's case")
    session.commit()
    assert session.get_one(MatchFlag, flag.id).resolved_at is not None
