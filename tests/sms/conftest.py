"""Fixtures for the SMS channel: the Flask app on the test database, and a signed phone."""

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
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL, Phone


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    base = Settings.from_env({"REUNITE_DATA_DIR": str(tmp_path)}, load_dotenv_file=False)
    return dataclasses.replace(
        base,
        database_url=engine.url.render_as_string(hide_password=False),
        twilio_auth_token=AUTH_TOKEN,
        public_base_url=PUBLIC_BASE_URL,
    )


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    rt = Runtime(settings, engine, session_factory)
    rt.load_demo_labs_if_empty()
    flask_app = create_app(rt=rt)
    flask_app.testing = True
    return flask_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def phone(client: FlaskClient) -> Phone:
    return Phone(client)
