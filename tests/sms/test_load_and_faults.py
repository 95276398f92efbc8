"""The SMS webhook over real HTTP under the faults of issue 12, bounded (the long runs: benchmarks/load_sms.py).

50 identical deliveries at the same instant; the database unreachable for a moment (a TCP proxy in front of
PostgreSQL, cut and restored); a delivery that died after it was stored: nothing answered 200 is lost or left
unanswered, nothing happens twice.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from intake.dialogue.types import Incoming
from intake.inbound import inbox
from intake.models import Channel, Contact, Conversation, Direction, Message, MessageStatus, utcnow
from intake.platform.db import make_engine, make_session_factory
from tests.support.concurrency import run_together
from tests.support.databases import PostgresDatabase
from tests.support.tcp_proxy import tcp_proxy
from tests.support.twilio import PUBLIC_BASE_URL, new_sid, sign
from tests.support.webapp import served, web_app, web_settings

NUMBER = "+8613800138000"


def _params(body: str, sid: str | None = None) -> dict[str, str]:
    return {"MessageSid": sid or new_sid(), "AccountSid": "AC" + "0" * 32, "From": NUMBER,
            "To": "+8610690000000", "Body": body, "NumMedia": "0"}  # fmt: skip


def _post(base_url: str, params: dict[str, str]) -> tuple[int, list[str]]:
    """POST a signed delivery over HTTP, as Twilio does; return the status and the TwiML reply texts."""
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": sign(PUBLIC_BASE_URL + "/sms/inbound", params)}  # fmt: skip
    conn.request("POST", "/sms/inbound", urlencode(params), headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    if response.status != 200:
        return response.status, []
    return 200, [m.text or "" for m in ElementTree.fromstring(data).iter("Message")]


def _inbound(session_factory) -> list[Message]:
    with session_factory() as s:
        return list(
            s.scalars(sa.select(Message).where(Message.direction == Direction.INBOUND).order_by(Message.id))
        )


def _replies_to(session_factory, inbound_id: int) -> list[str]:
    with session_factory() as s:
        query = sa.select(Message.body).where(Message.in_reply_to_id == inbound_id).order_by(Message.id)
        return list(s.scalars(query))


def _step(session_factory) -> str | None:
    with session_factory() as s:
        return s.scalars(sa.select(Conversation.step).join(Contact).where(Contact.address == NUMBER)).one()


def test_fifty_identical_deliveries_at_once_one_row_one_effect_all_answered_200(app, session_factory):
    with served(app) as url:
        assert _post(url, _params("你好"))[0] == 200  # the menu
        step_before = _step(session_factory)
        params = _params("1")  # "report a missing child": moves the conversation one step, once
        outcomes = run_together(50, lambda _: _post(url, params), range(50))

    assert all(isinstance(outcome, tuple) for outcome in outcomes), outcomes  # no exception in any thread
    answers = [outcome for outcome in outcomes if isinstance(outcome, tuple)]
    assert [status for status, _ in answers] == [200] * 50
    first_replies = answers[0][1]
    assert first_replies and all(replies == first_replies for _, replies in answers)
    rows = [m for m in _inbound(session_factory) if m.provider_id == params["MessageSid"]]
    assert len(rows) == 1 and rows[0].status == MessageStatus.PROCESSED
    assert _replies_to(session_factory, rows[0].id) == first_replies  # one set of replies stored: one effect
    assert _step(session_factory) != step_before
    # One effect: the conversation moved one step, so the next answer is the one the next question expects.
    with served(app) as url:
        status, replies = _post(url, _params("同意"))
    assert status == 200 and replies != first_replies


def test_a_delivery_stored_but_never_processed_is_processed_by_its_retry(session_factory):
    # A delivery is one transaction now, but a release that committed the message before processing it, and died
    # in between, left it stored, RECEIVED, with no reply. Twilio's retry of it must get it processed and
    # answered, not an empty 200 for a message nobody will ever answer.
    incoming = Incoming(Channel.SMS, NUMBER, "你好", utcnow(), provider_id="SMdied0001")
    with session_factory() as session:
        inbox.store_inbound(session, incoming)
        session.commit()

    replies = inbox.process(session_factory, incoming)

    assert replies and "团圆" in replies[0].text
    (row,) = _inbound(session_factory)
    assert row.status == MessageStatus.PROCESSED
    assert _replies_to(session_factory, row.id) == [inbox.render_plain(r) for r in replies]
    assert [r.text for r in inbox.process(session_factory, incoming)] == _replies_to(session_factory, row.id)


@pytest.mark.postgres
def test_database_unreachable_gets_5xx_nothing_acknowledged_is_lost_and_it_recovers(
    tmp_path, _postgres: PostgresDatabase | None, monkeypatch
):
    if _postgres is None:
        pytest.skip("PostgreSQL unavailable")
    _postgres.truncate()
    target = make_url(_postgres.url)
    with tcp_proxy(target.host or "127.0.0.1", target.port or 5432) as proxy:
        engine = make_engine(target.set(port=proxy.port).render_as_string(hide_password=False))
        factory = make_session_factory(engine)
        from tests.support.twilio import AUTH_TOKEN

        settings = web_settings(
            tmp_path, engine, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL
        )
        app = web_app(settings, engine, factory, demo_labs=True)
        real_handler = inbox._default_handler
        cut_mid_dialogue = {"armed": False}

        def handler(session, incoming, now, **kwargs):
            if cut_mid_dialogue["armed"]:  # the database goes away after the message was stored
                cut_mid_dialogue["armed"] = False
                proxy.cut()
            return real_handler(session, incoming, now, **kwargs)

        monkeypatch.setattr(inbox, "_default_handler", handler)
        try:
            with served(app) as url:
                assert _post(url, _params("你好"))[0] == 200

                proxy.cut()  # down before the delivery: nothing can be stored, so it must not be acknowledged
                down = _params("1")
                assert 500 <= _post(url, down)[0] < 600
                proxy.restore()

                cut_mid_dialogue["armed"] = True  # down after the store, during the dialogue
                stored_not_answered = _params("同意")
                first_try = _post(url, _params("同意", stored_not_answered["MessageSid"]))
                proxy.restore()

                # Twilio retries each with the same MessageSid; the pool reconnects by itself.
                retried = _post(url, down)
                retried_again = _post(url, stored_not_answered)
        finally:
            engine.dispose()

    assert 500 <= first_try[0] < 600
    assert retried[0] == 200 and retried[1]
    assert retried_again[0] == 200 and retried_again[1]
    engine = _postgres.engine
    factory = make_session_factory(engine)
    rows = {r.provider_id: r for r in _inbound(factory)}
    assert len(rows) == len(_inbound(factory)) == 3  # each stored once ("1" only when it was retried)
    assert all(r.status == MessageStatus.PROCESSED for r in rows.values())
    assert _replies_to(factory, rows[down["MessageSid"]].id) == retried[1]
    assert _replies_to(factory, rows[stored_not_answered["MessageSid"]].id) == retried_again[1]
