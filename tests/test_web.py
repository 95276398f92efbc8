"""The web layer's own pages: the front page a newcomer lands on, and the health check monitoring polls."""

from __future__ import annotations

from pathlib import Path

import pytest
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
    assert response.get_json() == {"status": "ok", "database": backend, "kinship_kernel": "numba"}


def test_healthz_says_when_kinship_runs_on_the_numpy_path(client, monkeypatch):
    from matching import fast

    monkeypatch.setattr(fast, "HAVE_NUMBA", False)
    runtime_module.kinship_kernel.cache_clear()
    try:
        assert client.get("/healthz").get_json()["kinship_kernel"] == "numpy"
    finally:
        runtime_module.kinship_kernel.cache_clear()
