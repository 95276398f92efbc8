"""Fixtures for the SMS channel: the Flask app on the test database, and a signed phone."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from intake.platform.settings import Settings
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL, Phone
from tests.support.webapp import web_app, web_settings


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    return web_settings(tmp_path, engine, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL)


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    return web_app(settings, engine, session_factory, demo_labs=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def phone(client: FlaskClient) -> Phone:
    return Phone(client)
