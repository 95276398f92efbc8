"""Twilio's status callbacks, POST /sms/status: signed, and a state never moves backwards whatever the order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.models import Notification, NotificationStatus
from intake.outbox.delivery import PROVIDER_STATES
from intake.outbox.queue import rank
from intake.platform.settings import Settings
from notifications.providers import Accepted
from tests.notifications.helpers import notifications, queue_received
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL, sign
from tests.support.webapp import web_app, web_settings

St = NotificationStatus
_sids = itertools.count(1)


@pytest.fixture
def client(tmp_path, engine, session_factory):
    settings: Settings = web_settings(
        tmp_path, engine, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL
    )
    return web_app(settings, engine, session_factory).test_client()


def _sent(session, family, key: str | None = None) -> tuple[int, str]:
    """Queue a message and mark it accepted by Twilio, as the worker does; return its id and MessageSid."""
    nid = queue_received(session, family)
    n = session.get_one(Notification, nid)
    if key:
        n.idempotency_key = key
    sid = f"SM{next(_sids):032x}"
    n.status, n.provider_id = St.SENT, sid
    session.commit()
    return nid, sid


def post(client, nid, sid, state, *, signature=None, error_code=None, query=True):
    path = f"/sms/status?n={nid}" if query else "/sms/status"
    form = {"MessageSid": sid, "MessageStatus": state, "AccountSid": "AC" + "0" * 32, "To": "+8613800000001"}
    if error_code:
        form["ErrorCode"] = error_code
    sig = signature if signature is not None else sign(PUBLIC_BASE_URL + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def test_a_delivery_report_is_recorded(client, session, family):
    nid, sid = _sent(session, family)
    response = post(client, nid, sid, "delivered")
    assert response.status_code == 200 and response.get_json()["status"] == "delivered"
    (n,) = notifications(session)
    assert (n.status, n.provider_status) == (St.DELIVERED, "delivered") and n.finished_at is not None


def test_a_report_without_the_notification_id_is_found_by_its_sid(client, session, family):
    nid, sid = _sent(session, family)
    assert post(client, nid, sid, "undelivered", error_code="30003", query=False).status_code == 200
    (n,) = notifications(session)
    assert (n.status, n.error_code) == (St.UNDELIVERED, "twilio_30003")


def test_forged_and_missigned_callbacks_are_refused(client, session, family):
    nid, sid = _sent(session, family)
    assert post(client, nid, sid, "delivered", signature="Zm9yZ2Vk").status_code == 403
    good = sign(PUBLIC_BASE_URL + f"/sms/status?n={nid}", {"MessageSid": sid, "MessageStatus": "delivered"})
    assert post(client, nid, sid, "failed", signature=good).status_code == 403  # signed for another body
    other = sign(PUBLIC_BASE_URL + f"/sms/status?n={nid + 1}", {"MessageSid": sid, "MessageStatus": "failed"})
    assert post(client, nid, sid, "failed", signature=other).status_code == 403  # for another notification
    assert notifications(session)[0].status == St.SENT


@pytest.mark.parametrize(
    ("sid", "state", "error_code", "reason"),
    [("bad sid!", "delivered", None, "MessageSid"), ("SM1", "exploded", None, "MessageStatus"),
     ("SM1", "failed", "x1", "ErrorCode")],
)  # fmt: skip
def test_malformed_callbacks_get_400_with_the_reason(client, session, family, sid, state, error_code, reason):
    nid, _sid = _sent(session, family)
    response = post(client, nid, sid, state, error_code=error_code)
    assert response.status_code == 400 and reason in response.get_json()["error"]["message"]


def test_a_report_for_another_message_is_404(client, session, family):
    nid, _sid = _sent(session, family)
    assert post(client, nid, "SM" + "f" * 32, "delivered").status_code == 404
    assert post(client, 999999, "SM" + "f" * 32, "delivered").status_code == 404


def test_a_report_that_overtakes_the_workers_commit_is_kept(client, session, family, make_worker):
    nid = queue_received(session, family)
    worker = make_worker()
    assert worker.claim() == [nid]  # sending: Twilio accepted, the worker has not recorded it yet
    assert post(client, nid, "SM" + "a" * 32, "delivered").status_code == 200
    worker.record(nid, Accepted("SM" + "a" * 32))
    (n,) = notifications(session)
    assert (n.status, n.provider_id) == (St.DELIVERED, "SM" + "a" * 32) and n.sent_at is not None


STATES = sorted(PROVIDER_STATES)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.lists(st.sampled_from(STATES), min_size=1, max_size=6))
def test_callbacks_in_any_order_never_move_a_state_backwards(client, session, family, order):
    nid, sid = _sent(session, family, key=f"hypothesis:{next(_sids)}")
    seen = [St.SENT]
    for state in order:
        assert post(client, nid, sid, state).status_code == 200
        session.expire_all()
        seen.append(session.get_one(Notification, nid).status)
        session.commit()
    assert [rank(s) for s in seen] == sorted(rank(s) for s in seen)
    final = [PROVIDER_STATES[s] for s in order if rank(PROVIDER_STATES[s]) == 3]
    assert seen[-1] == (final[0] if final else St.SENT)  # the first final report wins, for good


def test_an_undelivered_sms_falls_back_to_the_familys_telegram(
    client, session, family, make_worker, fake_telegram
):
    from tests.notifications.conftest import CHAT, add_telegram_contact

    add_telegram_contact(session, family.case_id, language="en")
    nid, sid = _sent(session, family)
    assert post(client, nid, sid, "undelivered", error_code="30005").status_code == 200
    make_worker().run_once()
    first, second = notifications(session)
    assert (first.status, first.error_code) == (St.UNDELIVERED, "twilio_30005")
    assert (second.fallback_of_id, second.status) == (first.id, St.SENT)
    (text,) = fake_telegram.texts_to(CHAT)
    assert text.startswith("reunite, case MC-2026-TEST01: the lab has received your DNA sample")
