"""Fixtures for the console: the Flask app on the test database with a fixed secret key."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.support.webapp import web_app, web_settings


@pytest.fixture
def app(tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    return web_app(web_settings(tmp_path, engine), engine, session_factory)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
