"""`reunite sms try`: a text signed as Twilio signs it reaches a running webhook, and its replies are printed."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask import Flask
from werkzeug.serving import make_server

from intake.cli import main
from intake.models import Contact, Direction, Message
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL

SENDER = "+8613900139000"


@pytest.fixture
def server_url(app: Flask) -> Iterator[str]:
    """Serve the app over real HTTP on a free loopback port, in a thread, for the length of a test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _try(monkeypatch, tmp_path, *args: str, token: str | None = AUTH_TOKEN):
    """Run `reunite sms try ARGS` as the server's operator would, with its TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL."""
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    for name in ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    env = {"PUBLIC_BASE_URL": PUBLIC_BASE_URL, "REUNITE_DATA_DIR": str(tmp_path / "data")}
    if token is not None:
        env["TWILIO_AUTH_TOKEN"] = token
    return CliRunner().invoke(main, ["sms", "try", *args], env=env)


def test_the_replies_of_the_service_are_printed_and_stored(monkeypatch, tmp_path, server_url, session):
    result = _try(monkeypatch, tmp_path, "报失", "--from", SENDER, "--url", server_url)
    assert result.exit_code == 0, result.output
    contact = session.scalars(sa.select(Contact).where(Contact.address == SENDER)).one()
    stored = session.scalars(
        sa.select(Message).where(Message.contact_id == contact.id).order_by(Message.id)
    ).all()
    assert [m.direction for m in stored][0] is Direction.INBOUND and stored[0].body == "报失"
    replies = [m.body for m in stored if m.direction is Direction.OUTBOUND]
    assert replies and result.output == "\n\n".join(replies) + "\n"


def test_a_token_the_server_does_not_share_gets_its_refusal_in_one_line(monkeypatch, tmp_path, server_url):
    result = _try(monkeypatch, tmp_path, "HELP", "--url", server_url, token="not-the-servers-token")
    assert result.exit_code == 1
    assert result.output == "Error: the server answered 403: Invalid X-Twilio-Signature for this URL.\n"


def test_no_token_says_what_to_set(monkeypatch, tmp_path):
    result = _try(monkeypatch, tmp_path, "HELP", token=None)
    assert result.exit_code == 1
    assert result.output.startswith("Error: set TWILIO_AUTH_TOKEN")


def test_no_server_says_so_in_one_line(monkeypatch, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _try(monkeypatch, tmp_path, "HELP", "--url", f"http://127.0.0.1:{port}")
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: cannot reach http://127.0.0.1:{port}/sms/inbound:")
    assert "is `reunite serve` running?" in result.output and result.output.count("\n") == 1
