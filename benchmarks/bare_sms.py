"""The floor for the SMS load run: a bare signed Twilio endpoint with none of reunite in it.

It does what any SMS webhook must do and nothing more: check X-Twilio-Signature with twilio's RequestValidator,
insert the message into its own table (one INSERT, a retried MessageSid changes nothing) and answer TwiML.
benchmarks/load_sms.py serves it with gunicorn (gthread, 2 workers) next to `reunite serve --workers 2`:

    BARE_DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 -k gthread --threads 8 benchmarks.bare_sms:app
"""

from __future__ import annotations

import os
import threading

import sqlalchemy as sa
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "bench-auth-token-not-a-secret")
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "https://reunite.example.org")
TABLE = "bare_inbound"
INSERT = sa.text(
    f"INSERT INTO {TABLE} (sid, sender, body) VALUES (:sid, :sender, :body) ON CONFLICT (sid) DO NOTHING"
)


def create_table(engine: sa.Engine) -> None:
    """Create the endpoint's one table (the load runner calls this once, before gunicorn forks)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (sid varchar(64) PRIMARY KEY, sender text, body text)"
            )
        )


app = Flask(__name__)
_validator = RequestValidator(AUTH_TOKEN)
_engine: sa.Engine | None = None  # opened lazily, in the worker, after gunicorn's fork
_engine_lock = threading.Lock()


@app.post("/sms/inbound")
def inbound() -> Response:
    global _engine
    if not _validator.validate(
        PUBLIC_BASE_URL + request.path, request.form, request.headers.get("X-Twilio-Signature", "")
    ):
        return Response("forbidden", status=403)
    with _engine_lock:
        if _engine is None:
            _engine = sa.create_engine(os.environ["BARE_DATABASE_URL"], pool_size=10, pool_pre_ping=True)
    form = request.form
    with _engine.begin() as conn:
        conn.execute(
            INSERT, {"sid": form["MessageSid"], "sender": form.get("From", ""), "body": form.get("Body", "")}
        )
    reply = MessagingResponse()
    reply.message("收到")
    return Response(str(reply), mimetype="application/xml")
