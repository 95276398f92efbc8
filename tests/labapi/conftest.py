"""Fixtures for the lab API: the Flask app on the test database, a lab with its key, another lab with its own."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake.config import Settings
from intake.runtime import Runtime
from intake.web import create_app
from tests.labapi.factories import lab_with_key


@pytest.fixture
def app(tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    base = Settings.from_env({"REUNITE_DATA_DIR": str(tmp_path)}, load_dotenv_file=False)
    settings = dataclasses.replace(base, database_url=engine.url.render_as_string(hide_password=False))
    flask_app = create_app(rt=Runtime(settings, engine, session_factory))
    flask_app.testing = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def lab(session: Session):
    """A lab and its key: (lab, secret, key id)."""
    return lab_with_key(session, "北京")


@pytest.fixture
def other_lab(session: Session):
    """Another lab with its own key."""
    return lab_with_key(session, "上海")
