"""The console with Flask's test client: logins, lockout, CSRF, sessions, provinces, roles, audit, registration."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import (
    AuditEvent,
    Case,
    FoundChild,
    Officer,
    OfficerRole,
    Person,
    Role,
    Sample,
    SampleSource,
)
from intake.models.officers import MAX_ADDRESS_FAILURES, MAX_FAILED_ATTEMPTS
from intake.web.console.app import SECRET_KEY_FILE
from tests.console.factories import PASSWORD, add_officer, case_with_profile, csrf_token, lab_in, log_in

T = TypeVar("T")


def _events(session: Session, action: str) -> list[tuple[str, str | None]]:
    """Return (actor, entity id) of the audit events of `action`, ending the read (SQLite locks while it is open)."""
    query = sa.select(AuditEvent.actor, AuditEvent.entity_id).where(AuditEvent.action == action)
    return _read(session, lambda: [tuple(row) for row in session.execute(query.order_by(AuditEvent.id))])


def _read(session: Session, fn: Callable[[], T]) -> T:
    session.expire_all()
    try:
        return fn()
    finally:
        session.rollback()


def test_pages_need_a_login(client: FlaskClient) -> None:
    for path in (
        "/console/",
        "/console/cases",
        "/console/audit",
        "/console/children/new",
        "/console/samples",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_login_logout_and_a_fresh_session(client: FlaskClient, session: Session) -> None:
    add_officer(session, "li.wei")
    csrf_token(client)  # the login page sets a pre-login session cookie (with its CSRF token)
    before = client.get_cookie("session")
    assert before is not None
    assert log_in(client, "li.wei") == 302
    after = client.get_cookie("session")
    assert after is not None and after.value != before.value
    page = client.get("/console/")
    assert page.status_code == 200 and "Li.Wei" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    token_query = sa.select(Officer.session_token).where(Officer.username == "li.wei")
    token = _read(session, lambda: session.scalar(token_query))
    # log out: the old cookie no longer logs anyone in, even when replayed
    logged_in_cookie = after.value
    response = client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    assert response.status_code == 302
    assert _read(session, lambda: session.scalar(token_query)) != token
    client.set_cookie("session", logged_in_cookie)
    assert client.get("/console/").status_code == 302
    assert len(_events(session, "officer.logout")) == 1


def _log_in_from(
    client: FlaskClient, address: str, username: str, password: str = PASSWORD
) -> tuple[int, str]:
    token = csrf_token(client)
    response = client.post("/console/login", data={"username": username, "password": password, "csrf_token": token},
                           environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": "en"})  # fmt: skip
    return response.status_code, response.get_data(as_text=True)


def test_wrong_password_and_lockout(client: FlaskClient, session: Session) -> None:
    add_officer(session, "li.wei")
    answers = [
        _log_in_from(client, "10.0.0.9", "li.wei", "wrong password!") for _ in range(MAX_FAILED_ATTEMPTS)
    ]
    assert all(status == 401 for status, _page in answers)
    assert (
        _log_in_from(client, "10.0.0.9", "li.wei")[0] == 401
    )  # even the right password, from there, for 15 min
    assert len(_events(session, "officer.locked")) == 1
    assert len(_events(session, "officer.login_locked")) == 1
    # The stranger locked only their own address: the owner logs in from theirs.
    assert _log_in_from(client, "10.0.0.1", "li.wei")[0] == 302


def test_unknown_and_locked_usernames_get_the_same_answer(client: FlaskClient, session: Session) -> None:
    add_officer(session, "li.wei")
    real = [
        _log_in_from(client, "10.0.0.9", "li.wei", "wrong password!") for _ in range(MAX_FAILED_ATTEMPTS + 2)
    ]
    fake = [
        _log_in_from(client, "10.0.0.8", "nobody", "wrong password!") for _ in range(MAX_FAILED_ATTEMPTS + 2)
    ]
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert [(st, strip.sub("", page)) for st, page in real] == [
        (st, strip.sub("", page)) for st, page in fake
    ]
    assert "Wrong username or password" in real[-1][1]


def test_failed_logins_are_audited_with_the_name_and_address(client: FlaskClient, session: Session) -> None:
    _log_in_from(client, "192.0.2.7", "nobody", "wrong password!")
    details = _read(session, lambda: list(session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "officer.login_failed"))))  # fmt: skip
    assert details == [{"username": "nobody", "address": "192.0.2.7"}]


def test_one_address_trying_many_usernames_is_stopped(client: FlaskClient, session: Session) -> None:
    add_officer(session, "li.wei")
    for i in range(MAX_ADDRESS_FAILURES):
        _log_in_from(client, "10.0.0.5", f"guess{i}", "wrong password!")
    assert _log_in_from(client, "10.0.0.5", "li.wei")[0] == 401
    assert _log_in_from(client, "10.0.0.6", "li.wei")[0] == 302


def test_unknown_user_is_refused_like_a_wrong_password(client: FlaskClient) -> None:
    assert log_in(client, "nobody") == 401


def test_a_post_without_csrf_token_is_refused(client: FlaskClient, session: Session) -> None:
    add_officer(session, "li.wei")
    response = client.post("/console/login", data={"username": "li.wei", "password": PASSWORD})
    assert response.status_code == 400
    assert "CSRF" not in response.get_data(as_text=True)  # no library reason: words an officer understands
    assert "the form had expired" in client.post(
        "/console/login", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert log_in(client, "li.wei") == 302
    assert client.post("/console/logout").status_code == 400  # logged in, still refused without the token
    assert client.get("/console/").status_code == 200


def test_login_rate_limit(app: Flask, client: FlaskClient, session: Session) -> None:
    app.config["CONSOLE_LOGIN_RATE_LIMIT"] = "3/minute"
    add_officer(session, "li.wei")
    statuses = [log_in(client, "nobody") for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_officers_see_only_their_province(client: FlaskClient, session: Session) -> None:
    beijing = lab_in(session, "北京市", "北京")
    shanghai = lab_in(session, "上海市", "上海")
    here = case_with_profile(session, beijing, "+8613800000001")
    there = case_with_profile(session, shanghai, "+8613800000002")
    add_officer(session, "bj", province="北京市")
    assert log_in(client, "bj") == 302
    listing = client.get("/console/cases").get_data(as_text=True)
    assert here.reference in listing and there.reference not in listing
    assert client.get(f"/console/cases/{here.reference}").status_code == 200
    assert client.get(f"/console/cases/{there.reference}").status_code == 403
    assert client.get(f"/console/profiles/{there.profile_id}").status_code == 403
    denied = _events(session, "case.view_denied")
    assert [entity for _actor, entity in denied] == [str(there.case_id)] * 2


def test_admins_see_every_province_and_filter(client: FlaskClient, session: Session) -> None:
    beijing = lab_in(session, "北京市", "北京")
    shanghai = lab_in(session, "上海市", "上海")
    here = case_with_profile(session, beijing, "+8613800000001")
    there = case_with_profile(session, shanghai, "+8613800000002")
    add_officer(session, "root", role=OfficerRole.ADMIN, province=None)
    assert log_in(client, "root") == 302
    everything = client.get("/console/cases").get_data(as_text=True)
    assert here.reference in everything and there.reference in everything
    only_shanghai = client.get("/console/cases?province=上海市").get_data(as_text=True)
    assert here.reference not in only_shanghai and there.reference in only_shanghai
    assert client.get("/console/cases?kind=found_child").get_data(as_text=True).count("CN-") == 0
    assert client.get("/console/cases?status=nonsense").status_code == 400


def test_case_page_shows_the_timeline_and_audits_the_view(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    ref = case_with_profile(session, lab)
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    page = client.get(f"/console/cases/{ref.reference}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    for text in ("Case opened", "Consent", "Appointment", "Sample", "15 markers", "王芳"):
        assert text in page, text
    assert "D8S1179" not in page  # genotypes only on the profile page, which is audited on its own
    views = _events(session, "case.view")
    officer_id = _read(session, lambda: session.scalar(sa.select(Officer.id).where(Officer.username == "bj")))
    assert views == [(f"officer:{officer_id}", str(ref.case_id))]
    profile = client.get(f"/console/profiles/{ref.profile_id}").get_data(as_text=True)
    assert "D8S1179" in profile
    assert [entity for _actor, entity in _events(session, "profile.view")] == [ref.profile_id]


def test_the_audit_log_is_for_supervisors(client: FlaskClient, session: Session) -> None:
    add_officer(session, "bj")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "bj") == 302
    assert client.get("/console/audit").status_code == 403
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    assert log_in(client, "boss") == 302
    page = client.get("/console/audit").get_data(as_text=True)
    assert "officer.login" in page and "officer.logout" in page
    assert len(_events(session, "audit.view")) == 1


def test_register_a_suspected_kidnapped_child_with_claimed_parents(
    client: FlaskClient, session: Session
) -> None:
    lab = lab_in(session, "北京市", "北京")
    other = lab_in(session, "上海市", "上海")
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    form = {"source": "suspected_kidnapped", "sex": "male", "age": "6", "found_place": "北京站",
            "found_date": "2026-11-20", "lab": str(lab.id), "claimed_father": "1", "claimed_mother": "1",
            "csrf_token": csrf_token(client, "/console/children/new")}  # fmt: skip
    # a lab of another province is refused: the case would leave the officer's province
    refused = client.post("/console/children/new", data={**form, "lab": str(other.id)})
    assert refused.status_code == 400
    response = client.post("/console/children/new", data=form)
    assert response.status_code == 302
    case = session.scalars(sa.select(Case)).one()
    assert response.headers["Location"].endswith(case.reference)
    found = session.get(FoundChild, case.id)
    assert found is not None and found.source is SampleSource.SUSPECTED_KIDNAPPED_CHILD
    roles = sorted(p.role.value for p in session.scalars(sa.select(Person).where(Person.case_id == case.id)))
    assert roles == sorted([Role.CHILD.value, Role.CLAIMED_MOTHER.value, Role.CLAIMED_FATHER.value])
    assert {s.lab_id for s in session.scalars(sa.select(Sample))} == {lab.id}
    session.rollback()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert case.reference in page and "北京站" in page


def test_register_refuses_bad_input_with_a_reason(client: FlaskClient, session: Session) -> None:
    lab = lab_in(session, "北京市", "北京")
    add_officer(session, "bj")
    assert log_in(client, "bj") == 302
    token = csrf_token(client, "/console/children/new")
    base = {"source": "rescued", "sex": "female", "age": "6", "found_place": "北京站", "found_date": "2026-11-20",
            "lab": str(lab.id), "csrf_token": token}  # fmt: skip
    cases = [
        ({"age": "six"}, "estimated age"),
        ({"found_date": "20/11/2026"}, "YYYY-MM-DD"),
        ({"found_date": "2099-01-01"}, "future"),
        ({"claimed_father": "1"}, "Claimed parents"),
        ({"source": "x"}, "rescued"),
    ]
    for change, reason in cases:
        response = client.post(
            "/console/children/new", data={**base, **change}, headers={"Accept-Language": "en"}
        )
        assert response.status_code == 400 and reason in response.get_data(as_text=True), change
    assert _read(session, lambda: session.scalar(sa.select(sa.func.count()).select_from(Case))) == 0


def test_language_switch(client: FlaskClient, session: Session) -> None:
    add_officer(session, "bj")
    assert "登录" in client.get("/console/login").get_data(as_text=True)
    client.post("/console/language", data={"lang": "en", "next": "/console/login",
                                           "csrf_token": csrf_token(client)})  # fmt: skip
    assert "Log in" in client.get("/console/login").get_data(as_text=True)


def test_secret_key_is_made_once_in_the_data_folder(app: Flask, tmp_path: Path) -> None:
    key_file = tmp_path / SECRET_KEY_FILE
    assert key_file.read_text().strip() == app.secret_key
    assert key_file.stat().st_mode & 0o077 == 0


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


def _volunteer_registration_with_photo(
    session: Session, data_dir: Path, lab_id: int | None = None
) -> tuple[str, int]:
    """A volunteer's registration (source 5) with one stored photo (committed): (reference, attachment id)."""
    from datetime import date

    from intake.cases.found_children import register_found_child
    from intake.models import Attachment, Channel, Direction, Message, Sex
    from intake.platform.photos import store_photo

    registered = register_found_child(session, source=SampleSource.UNKNOWN_IDENTITY_CHILD, sex=Sex.FEMALE,
                                      age_years=5, found_place="广州站", found_date=date(2026, 11, 2),
                                      actor="contact:1", lab_id=lab_id, today=date(2026, 11, 29))  # fmt: skip
    message = Message(channel=Channel.TELEGRAM, direction=Direction.INBOUND, provider_id="tg-1", body="")
    session.add(message)
    session.flush()
    stored = store_photo(data_dir, _png())
    attachment = Attachment(message_id=message.id, case_id=registered.case.id, position=0, content_type="image/jpeg",
                            photo_id=stored.id)  # fmt: skip
    session.add(attachment)
    session.commit()
    return registered.case.reference, attachment.id


def test_volunteers_registrations_show_their_photos_to_officers_only(
    app: Flask, client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    reference, attachment_id = _volunteer_registration_with_photo(session, tmp_path)
    assert client.get(f"/console/photos/{attachment_id}").status_code == 302  # not logged in: no photo
    add_officer(session, "gz", province="广东省")
    assert log_in(client, "gz") == 302
    page = client.get("/console/volunteers").get_data(as_text=True)
    assert (
        reference in page and f"/console/photos/{attachment_id}" in page
    )  # unassigned: every officer sees it
    photo = client.get(f"/console/photos/{attachment_id}")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data[:2] == b"\xff\xd8"
    assert photo.headers["Cache-Control"] == "no-store"
    assert [entity for _actor, entity in _events(session, "photo.view")] == [str(attachment_id)]
    assert client.get("/console/photos/999999").status_code == 404


def test_a_photo_of_another_provinces_case_is_refused(
    client: FlaskClient, session: Session, tmp_path: Path
) -> None:
    shanghai = lab_in(session, "上海市", "上海")
    _reference, attachment_id = _volunteer_registration_with_photo(session, tmp_path, lab_id=shanghai.id)
    add_officer(session, "bj", province="北京市")
    assert log_in(client, "bj") == 302
    assert client.get(f"/console/photos/{attachment_id}").status_code == 403
    assert _events(session, "photo.view") == []
