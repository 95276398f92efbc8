"""The accounts page (admins) and an officer's own password: each change audited."""

from __future__ import annotations

import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.models import AuditEvent, Officer, OfficerRole
from intake.models.officers import MAX_FAILED_ATTEMPTS
from tests.console.factories import PASSWORD, add_officer, csrf_token, log_in


def _post(client: FlaskClient, path: str, **form: str) -> str:
    token = csrf_token(client, "/console/")
    response = client.post(path, data={"csrf_token": token, **form}, headers={"Accept-Language": "en"},
                           follow_redirects=True)  # fmt: skip
    return response.get_data(as_text=True)


def _audited(session: Session, actor: str) -> list[str]:
    session.expire_all()
    try:
        query = sa.select(AuditEvent.action).where(
            AuditEvent.actor == actor, AuditEvent.action.like("officer.%")
        )
        return [
            a
            for a in session.scalars(query.order_by(AuditEvent.id))
            if a not in ("officer.login", "officer.list")
        ]
    finally:
        session.rollback()


def test_an_admin_disables_unlocks_resets_and_changes_a_role(client: FlaskClient, session: Session) -> None:
    admin = add_officer(session, "root", role=OfficerRole.ADMIN, province=None)
    li = add_officer(session, "li.wei")
    for _ in range(MAX_FAILED_ATTEMPTS):
        log_in(client, "li.wei", "wrong password!")
    assert log_in(client, "li.wei") == 401  # locked from this address
    assert log_in(client, "root") == 302
    page = client.get("/console/officers", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "logins locked from 1 addresses" in page
    assert "can log in again" in _post(client, f"/console/officers/{li}", action="unlock")
    assert "is disabled" in _post(client, f"/console/officers/{li}", action="disable")
    assert "differ" in _post(client, f"/console/officers/{li}", action="reset_password", password="a new secret 1",
                             password_again="a new secret 2")  # fmt: skip
    assert "has a new password" in _post(client, f"/console/officers/{li}", action="reset_password",
                                         password="a new secret 1", password_again="a new secret 1")  # fmt: skip
    assert "needs a province" in _post(client, f"/console/officers/{li}", action="set_role", role="officer",
                                       province="")  # fmt: skip
    assert "are changed" in _post(client, f"/console/officers/{li}", action="set_role", role="supervisor",
                                  province="上海市")  # fmt: skip
    assert "cannot disable your own" in _post(client, f"/console/officers/{admin}", action="disable")
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    assert log_in(client, "li.wei", "a new secret 1") == 401  # disabled
    assert log_in(client, "root") == 302
    assert "is enabled" in _post(client, f"/console/officers/{li}", action="enable")
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    assert log_in(client, "li.wei", "a new secret 1") == 302
    assert _audited(session, f"officer:{admin}") == [
        "officer.unlock", "officer.disable", "officer.reset_password", "officer.set_role", "officer.logout",
        "officer.enable", "officer.logout",
    ]  # fmt: skip
    me = session.get(Officer, li)
    assert me is not None and (me.role, me.province) == (OfficerRole.SUPERVISOR, "上海市")
    session.rollback()


def test_the_accounts_page_is_for_admins_only(client: FlaskClient, session: Session) -> None:
    boss = add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "boss") == 302
    assert client.get("/console/officers").status_code == 403
    token = csrf_token(client, "/console/")
    assert (
        client.post(f"/console/officers/{boss}", data={"csrf_token": token, "action": "unlock"}).status_code
        == 403
    )


def test_an_officer_changes_their_own_password(client: FlaskClient, session: Session) -> None:
    li = add_officer(session, "li.wei")
    assert log_in(client, "li.wei") == 302
    wrong = _post(
        client,
        "/console/password",
        current="not it at all",
        new="brand new secret",
        new_again="brand new secret",
    )
    assert "current password is wrong" in wrong
    short = _post(client, "/console/password", current=PASSWORD, new="short", new_again="short")
    assert "10 to 256 characters" in short
    done = _post(
        client, "/console/password", current=PASSWORD, new="brand new secret", new_again="brand new secret"
    )
    assert "Your password is changed" in done
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    assert log_in(client, "li.wei") == 401 and log_in(client, "li.wei", "brand new secret") == 302
    assert _audited(session, f"officer:{li}")[:2] == [
        "officer.password_change_refused",
        "officer.change_password",
    ]
