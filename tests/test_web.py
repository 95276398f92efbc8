"""The web layer's own pages: the front page a newcomer lands on, and the health check monitoring polls."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask, request, request_started
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake import runtime as runtime_module
from tests.support.webapp import web_app, web_settings


@pytest.fixture
def client(tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]) -> FlaskClient:
    return web_app(web_settings(tmp_path, engine), engine, session_factory).test_client()


def test_the_front_page_says_what_the_service_is_and_links_to_the_health_check(client):
    response = client.get("/", headers={"Accept": "text/html", "Accept-Language": "en-GB,en;q=0.9"})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "find missing and trafficked children with DNA" in page
    assert '<a href="/healthz">Health check</a>' in page
    assert '<html lang="en">' in page


def test_the_front_page_is_in_chinese_for_a_chinese_browser_and_by_default(client):
    for headers in ({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, {}):
        page = client.get("/", headers=headers).get_data(as_text=True)
        assert "用DNA帮助寻找失踪和被拐儿童" in page
        assert '<a href="/healthz">健康检查</a>' in page


def test_the_front_page_answers_json_to_a_client_that_asks_for_it(client):
    response = client.get("/", headers={"Accept": "application/json", "Accept-Language": "en"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["service"] == "reunite"
    assert body["links"] == {"health": "/healthz"}
    assert body["about"].startswith("This service helps find missing")


def test_healthz_reports_the_database_and_the_kinship_kernel(client, backend):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": backend, "kinship_kernel": "numba",
                                   "spool": {"waiting": 0, "given_up": 0}}  # fmt: skip


def test_healthz_says_when_kinship_runs_on_the_numpy_path(client, monkeypatch):
    from matching import fast

    monkeypatch.setattr(fast, "HAVE_NUMBA", False)
    runtime_module.kinship_kernel.cache_clear()
    try:
        assert client.get("/healthz").get_json()["kinship_kernel"] == "numpy"
    finally:
        runtime_module.kinship_kernel.cache_clear()


def test_a_providers_webhook_is_served_apart_from_the_consoles_request_machinery(
    tmp_path, engine, session_factory
):
    """Twilio's and Telegram's webhooks go to a lean app of their own: the same runtime, configuration and error
    answers, none of the console's session, CSRF, login or rate-limiter hooks (a campaign's peak is taken by the
    webhook, at the speed of a bare endpoint: docs/reliability.md)."""
    app = web_app(web_settings(tmp_path, engine), engine, session_factory)
    client = app.test_client()
    served_by: dict[str, Flask] = {}

    def started(sender: Flask, **_extra: object) -> None:
        served_by[request.path] = sender

    request_started.connect(started)
    try:
        webhook = client.get("/sms/inbound")  # the route is POST only: answered by the webhooks' app
        telegram = client.get("/telegram/webhook")
        status = client.get("/sms/status")
        console = client.get("/console/login")
        health = client.get("/healthz")
    finally:
        request_started.disconnect(started)

    lean = served_by["/sms/inbound"]
    assert lean is not app
    assert served_by["/telegram/webhook"] is lean and served_by["/sms/status"] is lean
    assert served_by["/console/login"] is app and served_by["/healthz"] is app
    for answer in (webhook, telegram, status):  # the same JSON error as the full app gives
        assert answer.status_code == 405
        assert answer.get_json()["error"]["code"] == "method_not_allowed"
        assert "Set-Cookie" not in answer.headers and not any(
            name.startswith("X-RateLimit") for name, _value in answer.headers
        )
    assert console.status_code == 200 and health.status_code == 200
    # the full app carries the console's and the lab API's hooks; the webhooks' app none of them
    assert any(app.before_request_funcs.values()) and app.after_request_funcs
    assert not any(lean.before_request_funcs.values()) and not any(lean.after_request_funcs.values())
    assert lean.extensions is app.extensions and lean.config is app.config
