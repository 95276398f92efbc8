"""The Twilio webhook: signatures, idempotent deliveries, malformed requests, opt-out."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from intake.models import Contact, Direction, Message, MessageStatus
from tests.support.twilio import PUBLIC_BASE_URL, message_texts, new_sid, sign
from tests.support.webapp import replace_settings


def _count(session, direction=None):
    q = sa.select(sa.func.count()).select_from(Message)
    if direction is not None:
        q = q.where(Message.direction == direction)
    return session.scalar(q)


def test_forged_signature_is_refused_and_nothing_is_stored(phone, session):
    params = phone.params("HELP")
    response = phone.post(params, signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.get_json()["error"]["message"]
    assert _count(session) == 0


def test_signature_for_another_url_is_refused(phone):
    params = phone.params("HELP")
    response = phone.post(params, signature=sign("https://evil.example.com/sms/inbound", params))
    assert response.status_code == 403


def test_missing_signature_is_refused(client):
    response = client.post(
        "/sms/inbound", data={"MessageSid": new_sid(), "From": "+8613800138000", "Body": "hi"}
    )
    assert response.status_code == 403


def test_tampered_body_is_refused(phone):
    params = phone.params("HELP")
    signature = sign(PUBLIC_BASE_URL + "/sms/inbound", params)
    params["Body"] = "STOP"
    assert phone.post(params, signature=signature).status_code == 403


def test_a_signed_message_is_stored_and_answered(phone, session):
    replies = phone.text("HELP")
    assert replies and all(r.strip() for r in replies)
    inbound = session.scalars(sa.select(Message).where(Message.direction == Direction.INBOUND)).one()
    assert inbound.body == "HELP" and inbound.status is MessageStatus.PROCESSED
    assert inbound.provider_id == phone.sent[-1]["MessageSid"]
    contact = session.scalars(sa.select(Contact)).one()
    assert contact.address == "+8613800138000" and inbound.contact_id == contact.id
    outbound = session.scalars(sa.select(Message.status).where(Message.direction == Direction.OUTBOUND)).all()
    assert outbound == [MessageStatus.ANSWERED_INLINE] * len(
        replies
    )  # answered in TwiML: never to be sent again


def test_repeated_message_sid_gets_the_same_reply_and_no_second_effect(phone, session):
    params = phone.params("报失")
    first = phone.post(params)
    second = phone.post(params)
    assert first.status_code == second.status_code == 200
    assert message_texts(first) == message_texts(second)
    assert _count(session, Direction.INBOUND) == 1
    assert _count(session, Direction.OUTBOUND) == len(message_texts(first))


def test_simultaneous_retries_are_processed_once(phone, session, app):
    params = phone.params("HELP")
    results: list[list[str]] = []
    barrier = threading.Barrier(5)

    def deliver() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post(
            "/sms/inbound",
            data=params,
            headers={"X-Twilio-Signature": sign(PUBLIC_BASE_URL + "/sms/inbound", params)},
        )
        assert response.status_code == 200
        results.append(message_texts(response))

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 5
    assert all(r == results[0] for r in results)
    assert _count(session, Direction.INBOUND) == 1


def test_missing_fields_get_a_400_with_a_reason(phone):
    params = phone.params("hi")
    del params["MessageSid"]
    response = phone.post(params)
    assert response.status_code == 400 and "MessageSid" in response.get_json()["error"]["message"]
    params = phone.params("hi")
    del params["From"]
    response = phone.post(params)
    assert response.status_code == 400 and "From" in response.get_json()["error"]["message"]


def test_empty_body_gets_a_polite_reply(phone):
    replies = phone.text("")
    assert replies and replies[0].strip()


def test_huge_request_gets_413_with_a_reason(phone):
    response = phone.post(phone.params("x" * 200_000))
    assert response.status_code == 413
    assert response.get_json()["error"]["message"]


def test_a_long_body_is_stored_whole_and_answered(phone, session):
    body = "孩子" * 900
    replies = phone.text(body)
    assert replies
    inbound = session.scalars(sa.select(Message).where(Message.direction == Direction.INBOUND)).one()
    assert inbound.body == body


def test_bad_encoding_is_signed_answered_and_stored_as_decoded(phone, session):
    # Werkzeug 3.1 keeps a form value's undecodable escapes as they were sent; the signature covers the decoded
    # values, so the request must be signed over those to reach the handler at all (a 403 proves nothing).
    sid = "SM" + "1" * 32
    raw = f"MessageSid={sid}&From=%2B8613800138000&Body=%FF%FE%FA".encode()
    decoded = {"MessageSid": sid, "From": "+8613800138000", "Body": "%FF%FE%FA"}
    response = phone.client.post(
        "/sms/inbound",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sign(PUBLIC_BASE_URL + "/sms/inbound", decoded)},
    )
    assert response.status_code == 200 and message_texts(response)
    inbound = session.scalars(sa.select(Message).where(Message.direction == Direction.INBOUND)).one()
    assert inbound.body == "%FF%FE%FA" and inbound.status is MessageStatus.PROCESSED


def test_stop_silences_the_contact_until_start(phone, session):
    phone.text("HELP")
    # The opt-out is confirmed once, in the language it was written in (HELP was English).
    assert phone.text("STOP") == [
        "You will get no more messages from reunite. Send START to receive them again."
    ]
    assert phone.text("REPORT") == []
    assert phone.text("HELP") == []
    assert session.scalars(sa.select(Contact.opted_out)).one() is True
    # End the read: on SQLite every transaction holds the write lock (BEGIN IMMEDIATE).
    session.rollback()
    assert phone.text("START")
    assert session.scalars(sa.select(Contact.opted_out)).one() is False
    session.rollback()


def test_sms_channel_is_disabled_without_a_token(client, app):
    import dataclasses

    rt = app.extensions["reunite"]
    app.extensions["reunite"] = dataclasses.replace(
        rt, settings=replace_settings(rt.settings, twilio_auth_token=None)
    )
    response = client.post("/sms/inbound", data={"MessageSid": new_sid(), "From": "+1", "Body": "x"})
    assert response.status_code == 503


def test_healthz_reports_the_database(client, backend):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ok",
        "database": backend,
        "kinship_kernel": "numba",
        "spool": {
            "waiting": 0,
            "given_up": 0,
        },  # deliveries the dialogue workers have yet to take, or gave up
    }


def test_behind_a_proxy_the_forwarded_url_is_the_signed_one(settings, engine, session_factory):
    import dataclasses

    from intake.runtime import Runtime
    from intake.web import create_app

    proxied = dataclasses.replace(settings, public_base_url=None, trust_proxy_hops=1)
    client = create_app(rt=Runtime(proxied, engine, session_factory)).test_client()
    params = {"MessageSid": new_sid(), "From": "+8613800138000", "Body": "HELP"}
    public = "https://sms.example.net/sms/inbound"
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "sms.example.net"}
    ok = client.post(
        "/sms/inbound", data=params, headers={**headers, "X-Twilio-Signature": sign(public, params)}
    )
    assert ok.status_code == 200
    params["MessageSid"] = new_sid()
    forged = client.post(
        "/sms/inbound",
        data=params,
        headers={**headers, "X-Twilio-Signature": sign("http://localhost/sms/inbound", params)},
    )
    assert forged.status_code == 403
