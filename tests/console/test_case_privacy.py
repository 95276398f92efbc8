"""A case's timeline shows only what belongs to the case, never a PIN; found children name their registrant."""

from __future__ import annotations

from datetime import date

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.cases.found_children import register_found_child
from intake.models import Channel, Contact, Direction, Message, Person, Role, SampleSource, Sex
from tests.console.factories import add_officer, case_with_profile, lab_in, log_in

PHONE = "+8613912345678"


def _volunteer_who_also_reports_a_child(session: Session) -> tuple[str, str, str]:
    """A phone registers a found child in Guangzhou and reports its own child, booked in Henan (committed).

    Returns (found child's reference, Henan case's reference, Henan case's PIN).
    """
    henan_lab = lab_in(session, "河南省", "郑州")
    henan = case_with_profile(session, henan_lab, phone=PHONE)
    from intake.models import Case

    henan_case = session.get(Case, henan.case_id)
    assert henan_case is not None and henan_case.reported_by_contact_id is not None
    contact = session.get(Contact, henan_case.reported_by_contact_id)
    assert contact is not None
    henan_case.child_name = "赵小河"
    registered = register_found_child(session, source=SampleSource.UNKNOWN_IDENTITY_CHILD, sex=Sex.FEMALE,
                                      age_years=5, found_place="广州火车站", found_date=date(2026, 11, 2),
                                      actor=f"contact:{contact.id}", today=date(2026, 11, 29))  # fmt: skip
    session.add(Person(case_id=registered.case.id, role=Role.VOLUNTEER, name="陈志愿", relation_note="13912345678",
                       contact_id=contact.id))  # fmt: skip
    registered.case.reported_by_contact_id = contact.id
    for direction, body in [
        (Direction.INBOUND, "我的孩子叫赵小河"),
        (Direction.OUTBOUND, f"已立案 {henan_case.reference}，核对码 {henan_case.pin}"),
        (Direction.INBOUND, "找到一个孩子"),
    ]:
        session.add(Message(channel=Channel.SMS, direction=direction, contact_id=contact.id, body=body))
    session.commit()
    return registered.case.reference, henan_case.reference, henan_case.pin


def test_a_found_childs_timeline_shows_nothing_of_the_volunteers_other_case(
    client: FlaskClient, session: Session
) -> None:
    found_ref, henan_ref, henan_pin = _volunteer_who_also_reports_a_child(session)
    lab_in(session, "广东省", "广州")
    add_officer(session, "gd", province="广东省")
    assert log_in(client, "gd") == 302
    assert client.get(f"/console/cases/{henan_ref}").status_code == 403
    response = client.get(f"/console/cases/{found_ref}", headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for secret in ("赵小河", henan_ref, henan_pin, "找到一个孩子"):
        assert secret not in page, secret
    assert "also writes about another case" in page


def test_a_timeline_shows_its_own_messages_without_the_pin(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    ref = case_with_profile(session, lab)
    from intake.models import Case

    case = session.get(Case, ref.case_id)
    assert case is not None
    session.add(Message(channel=Channel.SMS, direction=Direction.OUTBOUND, contact_id=case.reported_by_contact_id,
                        body=f"案件 {case.reference} 核对码 {case.pin}"))  # fmt: skip
    session.add(Message(channel=Channel.SMS, direction=Direction.INBOUND, contact_id=case.reported_by_contact_id,
                        body="删除 654321"))  # fmt: skip
    pin = case.pin
    session.commit()
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get(f"/console/cases/{ref.reference}").get_data(as_text=True)
    assert "核对码" in page and "删除" in page  # the case's own messages are there
    assert pin not in page and "654321" not in page


def test_the_volunteer_who_registered_is_named_with_how_to_reach_them(
    client: FlaskClient, session: Session
) -> None:
    found_ref, _henan_ref, _pin = _volunteer_who_also_reports_a_child(session)
    add_officer(session, "gd", province="广东省")
    assert log_in(client, "gd") == 302
    for path in ("/console/volunteers", f"/console/cases/{found_ref}"):
        page = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "陈志愿" in page and "13912345678" in page and PHONE in page, path
        assert "contact:" not in page, path
