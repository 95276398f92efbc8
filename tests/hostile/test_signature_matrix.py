"""Twilio's signature on `POST /sms/inbound` and `POST /sms/status`, and Telegram's webhook secret: a matrix.

Every request is signed with twilio's own RequestValidator, in the three ways the service can be deployed:
  direct   TLS ends at the service; it checks the URL it was called on (no PUBLIC_BASE_URL, no proxy trusted)
  base     PUBLIC_BASE_URL names the public URL; the service checks that whatever Host/X-Forwarded-* say
  proxy    behind one reverse proxy (REUNITE_TRUST_PROXY_HOPS=1, werkzeug's ProxyFix): the proxy appends its
           X-Forwarded-Proto/Host/For to what the client sent, and only the proxy's (rightmost) values count
The valid deliveries are answered 200 (a signature over the URL with the default port too, as Twilio may sign);
every bad one (tampered or extra parameter, http for https, another port or host, a client-spoofed
X-Forwarded-Proto or X-Forwarded-Host, no/empty/garbage header) gets 403 and writes no row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from bot.telegram.webhook import SECRET_HEADER
from intake.models import Contact, Message, Notification, NotificationStatus
from tests.notifications.helpers import queue_received
from tests.support.factories import booked_sample, make_lab
from tests.support.twilio import AUTH_TOKEN, new_sid, sign
from tests.support.webapp import web_app, web_settings

PUBLIC = "https://reunite.example.org"
INTERNAL = (
    "http://127.0.0.1:8000"  # where a reverse proxy (or a PUBLIC_BASE_URL deployment) reaches the service
)
DEPLOYMENTS = {
    "direct": ({"public_base_url": None, "trust_proxy_hops": 0}, PUBLIC),
    "base": ({"public_base_url": PUBLIC, "trust_proxy_hops": 0}, INTERNAL),
    "proxy": ({"public_base_url": None, "trust_proxy_hops": 1}, INTERNAL),
}


@dataclass
class Case:
    """How a delivery differs from the one Twilio sends: what was signed, what is sent, which headers."""

    expected: int
    signed_url: Callable[[str], str] = lambda url: url
    change: Callable[[dict[str, str]], dict[str, str]] = lambda params: params
    headers: dict[str, str] = field(default_factory=dict)  # as the client sends them
    signature: str | None = None  # None: computed; "" or other: sent as is; "-": no header


CASES = {
    "valid": Case(200),
    "valid_default_port": Case(200, signed_url=lambda u: u.replace(PUBLIC, PUBLIC + ":443")),
    "tampered_parameter": Case(403, change=lambda p: {**p, "MessageStatus" if "MessageStatus" in p else "Body": "x"}),
    "extra_parameter": Case(403, change=lambda p: {**p, "Extra": "1"}),
    "http_for_https": Case(403, signed_url=lambda u: u.replace("https://", "http://")),
    "other_port": Case(403, signed_url=lambda u: u.replace(PUBLIC, PUBLIC + ":8443")),
    "other_host": Case(403, signed_url=lambda u: u.replace(PUBLIC, "https://evil.example.com")),
    "spoofed_forwarded_proto": Case(
        403, signed_url=lambda u: u.replace("https://", "http://"), headers={"X-Forwarded-Proto": "http"}
    ),
    "spoofed_forwarded_host": Case(
        403,
        signed_url=lambda u: u.replace(PUBLIC, "https://evil.example.com"),
        headers={"X-Forwarded-Host": "evil.example.com"},
    ),
    "no_header": Case(403, signature="-"),
    "empty_header": Case(403, signature=""),
    "garbage_header": Case(403, signature="bm90IGEgc2lnbmF0dXJl"),
}  # fmt: skip


def _headers(deployment: str, case: Case, signature: str) -> dict[str, str]:
    headers = dict(case.headers)
    if deployment == "proxy":  # the proxy appends what it saw: a TLS connection for the public host
        for name, value in {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "reunite.example.org",
                            "X-Forwarded-For": "203.0.113.7"}.items():  # fmt: skip
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if case.signature != "-":
        headers["X-Twilio-Signature"] = signature
    return headers


def _deliver(client: FlaskClient, deployment: str, case: Case, path: str, params: dict[str, str]):
    signature = (
        case.signature if case.signature not in (None, "-") else sign(case.signed_url(PUBLIC + path), params)
    )
    base_url = DEPLOYMENTS[deployment][1]
    return client.post(
        path, base_url=base_url, data=case.change(params), headers=_headers(deployment, case, signature or "")
    )


@pytest.fixture(params=sorted(DEPLOYMENTS))
def deployment(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def client(deployment, tmp_path, engine, session_factory) -> FlaskClient:
    settings = web_settings(tmp_path, engine, twilio_auth_token=AUTH_TOKEN, **DEPLOYMENTS[deployment][0])
    return web_app(settings, engine, session_factory).test_client()


def _rows(session) -> tuple[int, int]:
    session.expire_all()
    counts = tuple(session.scalar(sa.select(sa.func.count()).select_from(t)) for t in (Message, Contact))
    session.commit()
    return counts  # type: ignore[return-value]


@pytest.mark.parametrize("name", sorted(CASES))
def test_inbound_sms_signature_matrix(name, deployment, client, session):
    case = CASES[name]
    params = {"MessageSid": new_sid(), "AccountSid": "AC" + "0" * 32, "From": "+8613800138000",
              "To": "+8610690000000", "Body": "HELP", "NumMedia": "0"}  # fmt: skip
    response = _deliver(client, deployment, case, "/sms/inbound", params)
    assert response.status_code == case.expected, response.get_data(as_text=True)
    messages, contacts = _rows(session)
    if case.expected == 403:
        assert (messages, contacts) == (0, 0)
    else:
        assert messages >= 2 and contacts == 1  # the message and its reply, from one contact


@pytest.mark.parametrize("name", sorted(CASES))
def test_status_callback_signature_matrix(name, deployment, client, session):
    case = CASES[name]
    family = booked_sample(session, make_lab(session))
    nid = queue_received(session, family)
    notification = session.get_one(Notification, nid)
    sid = new_sid()
    notification.status, notification.provider_id = NotificationStatus.SENT, sid
    session.commit()
    before = _rows(session)
    params = {
        "MessageSid": sid,
        "MessageStatus": "delivered",
        "AccountSid": "AC" + "0" * 32,
        "To": "+8613800000001",
    }
    response = _deliver(client, deployment, case, f"/sms/status?n={nid}", params)
    assert response.status_code == case.expected, response.get_data(as_text=True)
    session.expire_all()
    notification = session.get_one(Notification, nid)
    if case.expected == 403:
        assert notification.status is NotificationStatus.SENT and notification.provider_status is None
        assert _rows(session) == before
    else:
        assert notification.status is NotificationStatus.DELIVERED


TELEGRAM_SECRET = "hostile-webhook-secret-0123456789"
FORGED_SECRETS = {
    "missing": None,
    "empty": "",
    "same_length_wrong": "x" * len(TELEGRAM_SECRET),
    "one_character_short": TELEGRAM_SECRET[:-1],
    "one_character_long": TELEGRAM_SECRET + "9",
    "other_case": TELEGRAM_SECRET.upper(),
    "padded": f" {TELEGRAM_SECRET} ",
    "latin1": TELEGRAM_SECRET[:-1] + "é",
    "very_long": TELEGRAM_SECRET * 200,
}


@pytest.fixture
def telegram_client(tmp_path, engine, session_factory) -> FlaskClient:
    # Refused calls never reach the Bot API: a port nothing listens on would fail a test that did.
    settings = web_settings(
        tmp_path, engine, telegram_token="123:hostile-token-of-a-test-bot", telegram_base_url="http://127.0.0.1:9/bot",
        telegram_webhook_secret=TELEGRAM_SECRET,
    )  # fmt: skip
    app = web_app(settings, engine, session_factory)
    return app.test_client()


def _update(update_id: int) -> dict[str, object]:
    chat = {"id": 4242, "type": "private"}
    sender = {"id": 4242, "is_bot": False, "first_name": "x"}
    message = {"message_id": 1, "date": 1764000000, "chat": chat, "from": sender, "text": "报失"}
    return {"update_id": update_id, "message": message}


@pytest.mark.parametrize("name", sorted(FORGED_SECRETS))
def test_telegram_webhook_refuses_a_forged_secret_and_stores_nothing(name, telegram_client, session):
    secret = FORGED_SECRETS[name]
    headers = {} if secret is None else {SECRET_HEADER: secret}
    response = telegram_client.post("/telegram/webhook", json=_update(1), headers=headers)
    assert response.status_code == 403, response.get_data(as_text=True)
    assert _rows(session) == (0, 0)


def test_telegram_webhook_takes_the_right_secret(telegram_client, session):
    # The control of the matrix: the right secret passes the check (a body that is no update then gets 400).
    response = telegram_client.post(
        "/telegram/webhook", json={"update_id": "x"}, headers={SECRET_HEADER: TELEGRAM_SECRET}
    )
    assert response.status_code == 400
