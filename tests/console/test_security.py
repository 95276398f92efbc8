"""Issue 19's security items: the cookie's attributes, the CSP, sessions that end (idle, elsewhere), the login's
`next=`, refused decisions audited, and the operator's `candidates --json` audited before its output."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake.models import AuditEvent, OfficerRole
from tests.console.factories import PASSWORD, add_officer, csrf_token, lab_in, log_in, make_candidate
from tests.support.webapp import web_app, web_settings


def _actions(session: Session, action: str) -> list[dict[str, object]]:
    session.expire_all()
    try:
        query = sa.select(AuditEvent.detail).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list(session.scalars(query))
    finally:
        session.rollback()


def _cookie_header(client: FlaskClient, session: Session) -> str:
    add_officer(session, "li.wei")
    token = csrf_token(client)
    response = client.post(
        "/console/login", data={"username": "li.wei", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))


def test_the_session_cookie_is_lax_and_http_only(client: FlaskClient, session: Session) -> None:
    cookie = _cookie_header(client, session)
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and "Secure" not in cookie  # http: not Secure


def test_an_https_base_url_makes_the_cookie_secure(
    tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session], session: Session
) -> None:
    settings = dataclasses.replace(
        web_settings(tmp_path, engine), public_base_url="https://reunite.example.cn"
    )
    app = web_app(settings, engine, session_factory)
    cookie = _cookie_header(app.test_client(), session)
    assert "Secure" in cookie and "SameSite=Lax" in cookie


def test_every_page_has_a_content_security_policy(client: FlaskClient) -> None:
    for path in ("/console/login", "/console/"):
        policy = client.get(path).headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert "script-src" not in policy and "unsafe-inline" not in policy  # no script at all


def test_an_idle_session_ends_with_a_message(app: Flask, client: FlaskClient, session: Session) -> None:
    add_officer(session, "li.wei")
    assert log_in(client, "li.wei") == 302
    assert client.get("/console/").status_code == 200
    with client.session_transaction() as cookie:
        cookie["seen"] = int(cookie["seen"]) - 31 * 60
    response = client.get("/console/cases", headers={"Accept-Language": "en"})
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
    page = client.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "30 minutes without activity" in page
    assert client.get("/console/").status_code == 302  # the session is gone, not only hidden
    assert len(_actions(session, "officer.session_idle")) == 1


def test_a_second_login_ends_the_first_session_with_a_message(app: Flask, session: Session) -> None:
    add_officer(session, "li.wei")
    first, second = app.test_client(), app.test_client()
    assert log_in(first, "li.wei") == 302 and log_in(second, "li.wei") == 302
    response = first.get("/console/", headers={"Accept-Language": "en"})
    assert response.status_code == 302
    page = first.get(response.headers["Location"], headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "logged in elsewhere" in page
    assert second.get("/console/").status_code == 200


def test_login_lands_on_next_and_only_on_a_console_page(client: FlaskClient, session: Session) -> None:
    add_officer(session, "li.wei")
    response = client.get("/console/cases?status=open")
    assert response.status_code == 302
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/console/cases?status=open"' in login_page
    token = csrf_token(client)
    form = {
        "username": "li.wei",
        "password": PASSWORD,
        "csrf_token": token,
        "next": "/console/cases?status=open",
    }
    assert client.post("/console/login", data=form).headers["Location"] == "/console/cases?status=open"
    client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})
    for target in ("https://evil.example/console/", "//evil.example/console/", "/console/\\\\evil", "/other"):
        form = {"username": "li.wei", "password": PASSWORD, "csrf_token": csrf_token(client), "next": target}
        assert client.post("/console/login", data=form).headers["Location"] == "/console/", target
        client.post("/console/logout", data={"csrf_token": csrf_token(client, "/console/")})


def test_refused_decisions_are_audited(client: FlaskClient, session: Session) -> None:
    beijing, shanghai = lab_in(session, "北京市", "北京"), lab_in(session, "上海市", "上海")
    mine = make_candidate(session, beijing)
    theirs = make_candidate(session, shanghai, phone="+8613800000002")
    add_officer(session, "boss", role=OfficerRole.SUPERVISOR)
    assert log_in(client, "boss") == 302
    token = csrf_token(client, f"/console/candidates/{mine}")
    for decision in ("confirm", "approve"):  # the confirmer's own approval is refused
        client.post(f"/console/candidates/{mine}/decide", data={"decision": decision, "csrf_token": token})
    assert client.post(f"/console/candidates/{theirs}/decide",
                       data={"decision": "approve", "csrf_token": token}).status_code == 403  # fmt: skip
    refused = _actions(session, "candidate.decide_refused")
    assert len(refused) == 1 and refused[0]["decision"] == "approve"
    assert _actions(session, "candidate.decide_denied") == [{"decision": "approve"}]


def test_candidates_json_is_audited_before_a_line_is_written(
    session: Session, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    from intake.cli.match import make_match_commands

    make_candidate(session, lab_in(session, "北京市", "北京"))

    def closed_pipe(*_args: object, **_kwargs: object) -> None:  # `| head` that has read enough
        raise BrokenPipeError

    monkeypatch.setattr(click, "echo", closed_pipe)
    command = {c.name: c for c in make_match_commands(lambda: session_factory)}["candidates"]
    result = CliRunner().invoke(command, ["--json"])
    assert isinstance(result.exception, BrokenPipeError)
    assert _actions(session, "candidates.read") == [{"count": 1, "status": None}]
