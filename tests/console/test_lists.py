"""Growing lists: pages with a total, search (reference, sample code, phone, child's or reporter's name), filters,
order; on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import Case, CaseStatus, Channel, Contact, OfficerRole, Person, Role, Sample
from intake.platform.codes import check_character
from tests.console.factories import add_officer, case_with_profile, lab_in, log_in, make_candidate

CASES = re.compile(r'href="/console/cases/([A-Z]{2}-[0-9A-Z-]+)"')
START = datetime(2026, 1, 1, 4, 0, tzinfo=UTC)  # 12:00 in China


def _many_cases(session: Session, n: int) -> list[str]:
    """`n` missing-child cases, one a day from START, each reported by 家长<i> from +86139000<i:05>."""
    refs = []
    for i in range(n):
        contact = Contact(channel=Channel.SMS, address=f"+86139000{i:05d}")
        session.add(contact)
        session.flush()
        case = Case(reference=f"MC-2026-T{i:05d}", pin="000000", child_name=f"孩子{i}",
                    created_at=START + timedelta(days=i), reported_by_contact_id=contact.id,
                    status=CaseStatus.SAMPLING_BOOKED if i % 2 else CaseStatus.OPEN)  # fmt: skip
        session.add(case)
        session.flush()
        session.add(Person(case_id=case.id, role=Role.MOTHER, name=f"家长{i}", contact_id=contact.id))
        refs.append(case.reference)
    session.commit()
    return refs


def _refs(client: FlaskClient, path: str) -> list[str]:
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 200, path
    return CASES.findall(response.get_data(as_text=True))


def test_cases_come_in_pages_with_a_total(client: FlaskClient, session: Session) -> None:
    refs = _many_cases(session, 120)
    add_officer(session, "admin", role=OfficerRole.ADMIN, province=None)
    assert log_in(client, "admin") == 302
    page = client.get("/console/cases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "1–50 of 120" in page and "Page 1 of 3" in page
    first, second, third = (_refs(client, f"/console/cases?page={n}") for n in (1, 2, 3))
    assert first == list(reversed(refs))[:50] and second == list(reversed(refs))[50:100]
    assert set(first + second + third) == set(refs) and len(first + second + third) == 120
    assert _refs(client, "/console/cases?page=99") == third  # beyond the last: the last
    assert _refs(client, "/console/cases?sort=oldest&size=10") == refs[:10]
    assert "101–120 of 120" in client.get(
        "/console/cases?page=3", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert 'href="/console/cases?status=open&amp;page=2"' in client.get(
        "/console/cases?status=open"
    ).get_data(as_text=True)  # the pager keeps the filters
    assert client.get("/console/cases?page=two").status_code == 400
    assert client.get("/console/cases?sort=nonsense").status_code == 400


def test_search_finds_a_case_by_reference_name_phone_and_sample_code(
    client: FlaskClient, session: Session
) -> None:
    refs = _many_cases(session, 30)
    lab = lab_in(session, "北京市", "北京")
    typed = case_with_profile(session, lab, phone="+8613700000077")

    code = session.query(Sample.code).filter(Sample.case_id == typed.case_id).scalar()
    add_officer(session, "admin", role=OfficerRole.ADMIN, province=None)
    assert log_in(client, "admin") == 302
    assert _refs(client, "/console/cases?q=家长17") == [refs[17]]  # the reporter's name
    assert _refs(client, "/console/cases?q=孩子23") == [refs[23]]  # the child's name
    assert _refs(client, f"/console/cases?q={refs[4].lower()}") == [refs[4]]  # the reference, any case
    assert _refs(client, "/console/cases?q=139 0000 0009") == [refs[9]]  # a phone, as people write it
    assert _refs(client, "/console/cases?q=+8613900000011") == [refs[11]]
    assert _refs(client, f"/console/cases?q={code}") == [typed.reference]  # a sample code
    assert _refs(client, f"/console/cases?q={code.replace('-', '').lower()}") == [typed.reference]  # as typed
    letters = "KQXMPDA" + check_character("KQXMPDA")  # one code in eleven has no digit: found all the same
    session.query(Sample).filter(Sample.code == code).update({"code": f"{letters[:4]}-{letters[4:]}"})
    session.commit()
    assert _refs(client, f"/console/cases?q={letters}") == [typed.reference]
    assert _refs(client, "/console/cases?q=王芳") == [typed.reference]
    assert _refs(client, "/console/cases?q=%25") == []  # a LIKE wildcard is a character, not "everything"


def test_filters_by_status_and_dates_in_china_time(client: FlaskClient, session: Session) -> None:
    refs = _many_cases(session, 10)
    add_officer(session, "admin", role=OfficerRole.ADMIN, province=None)
    assert log_in(client, "admin") == 302
    assert set(_refs(client, "/console/cases?status=open")) == set(refs[0::2])
    assert _refs(client, "/console/cases?from=2026-01-03&to=2026-01-04&sort=oldest") == refs[2:4]
    assert client.get("/console/cases?from=2026-13-01").status_code == 400
    page = client.get("/console/cases", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "2026-01-10 12:00 CST" in page  # 04:00 UTC, shown in China Standard Time with the zone named
    zh = client.get("/console/cases", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "2026-01-10 12:00 北京时间" in zh


def test_the_dashboard_searches(client: FlaskClient, session: Session) -> None:
    refs = _many_cases(session, 3)
    add_officer(session, "admin", role=OfficerRole.ADMIN, province=None)
    assert log_in(client, "admin") == 302
    page = client.get("/console/").get_data(as_text=True)
    assert 'action="/console/cases"' in page and 'name="q"' in page
    assert _refs(client, "/console/cases?q=家长1") == [refs[1]]


def test_candidates_and_audit_come_in_pages(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    ids = [make_candidate(session, lab, phone=f"+861380000000{i}", log10_lr=7.0 + i) for i in range(3)]
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "boss") == 302
    shown = []
    for n in (1, 2, 3):
        page = client.get(f"/console/candidates?size=1&page={n}", headers={"Accept-Language": "en"}).get_data(
            as_text=True
        )
        assert f"{n}–{n} of 3" in page
        shown += re.findall(r'href="/console/candidates/(\d+)"', page)
    assert shown == [str(i) for i in reversed(ids)]  # strongest first, each once
    for _ in range(5):
        client.get("/console/")
    audit = client.get("/console/audit?size=2&action=console.dashboard", headers={"Accept-Language": "en"})
    assert "1–2 of 5" in audit.get_data(as_text=True)
    second = client.get(
        "/console/audit?size=2&page=2&action=console.dashboard", headers={"Accept-Language": "en"}
    )
    assert "3–4 of 5" in second.get_data(as_text=True)


def test_the_samples_page_shows_booked_family_samples(client: FlaskClient, session: Session) -> None:

    from tests.support.factories import booked_sample

    beijing, shanghai = lab_in(session, "北京市", "北京"), lab_in(session, "上海市", "上海")
    here = booked_sample(session, beijing, phone="+8613800000031")
    there = booked_sample(session, shanghai, phone="+8613800000032")
    assert session.get(Sample, here.id).lab_id is None  # booked, not yet taken: no lab of its own
    session.rollback()
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get("/console/samples", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert here.code in page and there.code not in page and "北京实验室 (booked)" in page
    assert here.code in client.get(f"/console/samples?q={here.code[:4]}").get_data(as_text=True)


def test_the_case_page_starts_with_a_summary_and_pages_its_timeline(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    cid = make_candidate(session, lab, phone="+8613800000055")
    from intake.models import Candidate, Sample

    family = session.scalar(sa.select(Candidate.family_case_id).where(Candidate.id == cid))
    reference = session.scalar(sa.select(Case.reference).where(Case.id == family))
    code = session.scalar(sa.select(Sample.code).where(Sample.case_id == family))
    session.rollback()
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get(f"/console/cases/{reference}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    summary, timeline = page.split("<h2>Timeline</h2>")
    assert "mother: 王芳" in summary and code in summary and "SMS: +8613800000055" in summary
    assert f'href="/console/candidates/{cid}"' in summary and "candidate under review" in summary
    small = client.get(f"/console/cases/{reference}?size=2", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert re.search(r"1–2 of \d+", small) and 'rel="next"' in small


def test_filters_offer_all_then_each_choice_the_chosen_one_selected_and_provinces_to_national_officers_only(
    app: Flask, client: FlaskClient, session: Session
) -> None:
    """The filters' one macro (console/_filters.html) writes each <select>; the province filter is an admin's."""
    _many_cases(session, 2)
    lab_in(session, "北京市", "北京")
    add_officer(session, "admin", role=OfficerRole.ADMIN, province=None)
    add_officer(session, "officer", role=OfficerRole.OFFICER, province="北京市")
    assert log_in(client, "admin") == 302
    page = client.get("/console/cases?status=open", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<select id="status" name="status"><option value="">all</option>' in page
    assert re.search(r'<option value="open" selected>[^<]+</option>', page)
    assert re.search(r'<option value="closed" >[^<]+</option>', page)
    assert (
        '<select id="province" name="province">' in page and '<option value="北京市" >北京市</option>' in page
    )
    assert '<select id="province"' in client.get("/console/candidates").get_data(as_text=True)
    provincial = app.test_client()
    assert log_in(provincial, "officer") == 302
    for path in ("/console/cases", "/console/candidates"):
        page = provincial.get(path).get_data(as_text=True)
        assert '<select id="province"' not in page and '<select id="status" name="status">' in page
