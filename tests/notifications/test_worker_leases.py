"""A worker slower than its lease, the per-channel send rate, and the settings the fault run needs."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from intake.outbox.queue import notify_family
from intake.platform.settings import NotificationSettings, SettingError, Settings
from notifications.providers import Retry
from notifications.worker import RateLimit
from tests.notifications.conftest import at
from tests.notifications.helpers import contact_of, notifications, queue_received


def test_a_worker_whose_lease_ended_sends_nothing_once_another_took_over(
    session, family, make_worker, fake_twilio
):
    nid = queue_received(session, family)
    slow, other = make_worker(), make_worker()
    assert slow.claim() == [nid]  # ... and then it hangs (a provider that does not answer) past its lease
    with at(301):
        assert other.claim() == [nid]  # the takeover
        slow.process(nid)  # the slow one wakes up: the row is no longer its own
        assert fake_twilio.requests == 0
        other.process(nid)
    assert len(fake_twilio.messages) == 1
    (n,) = notifications(session)
    assert (n.status, n.attempts, n.uncertain_attempts) == ("sent", 2, 0)  # the slow one never called Twilio


def test_a_notification_whose_attempts_never_finish_is_given_up_not_sent_for_ever(
    session, family, make_worker, fake_twilio
):
    nid = queue_received(session, family)
    worker = make_worker(max_attempts=3)
    for n in range(3):  # each time its worker dies after claiming and preparing it (before any outcome)
        with at(301 * n):
            assert worker.claim() == [nid]
            assert worker.prepare(nid) is not None
    with at(301 * 3):
        assert worker.claim() == []  # the fourth takeover gives up instead of sending it again
    (n,) = notifications(session)
    assert (n.status, n.error_code, n.attempts) == ("failed", "gave_up_unfinished", 3)
    assert fake_twilio.requests == 0


def test_a_late_outcome_does_not_overwrite_the_new_owners(session, family, make_worker, fake_twilio):
    nid = queue_received(session, family)
    slow, other = make_worker(), make_worker()
    assert slow.claim() == [nid]
    with at(301):
        assert other.claim() == [nid]
        slow.record(nid, Retry("Twilio 503"))  # the slow worker's answer comes in while the other one sends
        (n,) = notifications(session)
        assert n.status == "sending" and n.last_error is None  # still the other worker's
        other.process(nid)
    (n,) = notifications(session)
    assert n.status == "sent" and len(fake_twilio.messages) == 1


def test_a_late_acceptance_is_still_recorded(session, family, make_worker, fake_twilio):
    nid = queue_received(session, family)
    slow, other = make_worker(), make_worker()
    assert slow.claim() == [nid]
    message = slow.prepare(nid)
    assert message is not None
    with at(301):
        assert other.claim() == [nid]
        channel, outgoing = message
        slow.record(nid, slow.providers[channel].send(outgoing))  # sent before the takeover, recorded after
        other.process(nid)  # the row is `sent` now: the new owner sends no second copy
    (n,) = notifications(session)
    assert n.status == "sent" and fake_twilio.requests == 1
    assert n.uncertain_attempts == 1  # the slow one had called Twilio when the row was taken over


def test_the_rest_of_a_dead_workers_batch_is_taken_over_without_counting(
    session, family, make_worker, fake_twilio
):
    from intake.models import Channel, Contact
    from intake.outbox.queue import notify_family

    for i in range(3):
        contact = Contact(channel=Channel.SMS, address=f"+86137000{i:05d}")
        session.add(contact)
        session.flush()
        notify_family(session, contact=contact, key=f"batch:{i}", template="sample.received",
                      params={"code": f"BATCH-{i:04d}", "reference": "MC-2026-TEST01"})  # fmt: skip
    session.commit()
    dead = make_worker()
    first, *rest = dead.claim()
    assert len(rest) == 2
    dead.prepare(first)  # it calls the provider for the first row, and dies before recording the outcome
    with at(301):
        assert sorted(make_worker().claim()) == sorted([first, *rest])
    counted = {n.id: n.uncertain_attempts for n in notifications(session)}
    assert counted == {first: 1, rest[0]: 0, rest[1]: 0}


def test_rate_limit_spaces_sends(monkeypatch):
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(time, "sleep", sleep)
    limit = RateLimit(4, monotonic=lambda: now[0])
    starts = []
    for _ in range(5):
        limit.wait()
        starts.append(now[0])
    assert starts == [100.0, 100.25, 100.5, 100.75, 101.0]
    now[0] += 10  # idle for a while: no burst is saved up beyond the next slot
    limit.wait()
    limit.wait()
    assert slept[-1] == pytest.approx(0.25)
    assert RateLimit(0).gap == 0  # no limit


def test_the_worker_keeps_to_its_sms_rate(session, family, make_worker, fake_twilio):
    from intake.models import Channel, Contact
    from intake.outbox.queue import notify_family

    for i in range(6):
        contact = Contact(channel=Channel.SMS, address=f"+861390000{i:04d}")
        session.add(contact)
        session.flush()
        notify_family(session, contact=contact, key=f"rate:{i}", template="sample.received",
                      params={"code": f"RATE-{i:04d}", "reference": "MC-2026-TEST01"})  # fmt: skip
    session.commit()
    worker = make_worker(sms_per_second=10)
    started = time.monotonic()
    assert worker.run_once() == 6
    assert time.monotonic() - started >= 0.5  # six sends at 10 a second: five gaps of 0.1 s
    assert len(fake_twilio.messages) == 6


def _settings(env: dict[str, str]) -> NotificationSettings:
    return Settings.from_env(env, load_dotenv_file=False).notifications


def test_lease_and_rates_come_from_the_environment():
    s = _settings({"REUNITE_NOTIFY_LEASE_SECONDS": "20", "REUNITE_SMS_PER_SECOND": "1",
                   "REUNITE_TELEGRAM_PER_SECOND": "30", "REUNITE_EMAIL_PER_SECOND": "0.5"})  # fmt: skip
    assert (s.lease_seconds, s.sms_per_second, s.telegram_per_second, s.email_per_second) == (20, 1, 30, 0.5)
    default = _settings({})
    assert (default.lease_seconds, default.sms_per_second, default.telegram_per_second) == (300, 0, 0)
    with pytest.raises(SettingError, match="REUNITE_SMS_PER_SECOND"):
        _settings({"REUNITE_SMS_PER_SECOND": "fast"})
    with pytest.raises(SettingError, match="REUNITE_NOTIFY_LEASE_SECONDS"):
        _settings({"REUNITE_NOTIFY_LEASE_SECONDS": "0"})


def test_a_row_killed_twice_mid_send_is_looked_up_since_the_first_send(
    session, family, make_worker, fake_twilio
):
    nid = queue_received(session, family)
    first = make_worker()
    assert first.claim() == [nid]
    message = first.prepare(nid)
    assert message is not None
    first.providers[message[0]].send(message[1])  # Twilio accepts, and the worker dies before recording it
    with at(301):
        second = make_worker()
        assert second.claim() == [nid]
        second.prepare(nid)  # the next owner dies too, before it asked Twilio
    with at(602):  # 10 minutes after the first send: still found, as the lookup starts from the first one
        make_worker().run_once()
    (n,) = notifications(session)
    assert (n.status, n.uncertain_attempts, n.send_started_at) == ("sent", 2, None)
    posts = [h for h in fake_twilio.headers_seen if "I-Twilio-Idempotency-Token" in h]
    assert len(posts) == 1 and fake_twilio.lookups == 1  # found, so not sent again (not even deduplicated)


def _database_gone(*_args: object, **_kwargs: object) -> None:
    raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


def test_an_outcome_the_database_could_not_take_is_recorded_at_the_next_pass_not_after_the_lease(
    session, family, make_worker, fake_twilio, monkeypatch
):
    """The database gone between the provider's answer and its record (a restart): the worker keeps the answer
    and records it at its next pass once the database is back, without sending again; the row and its contact's
    later replies do not wait for the 300 s lease."""
    first = queue_received(session, family)
    worker = make_worker()
    record = worker.record
    monkeypatch.setattr(worker, "record", _database_gone)
    with pytest.raises(sa.exc.OperationalError):
        worker.run_once()
    assert len(fake_twilio.messages) == 1  # sent: Twilio has it
    (n,) = notifications(session)
    assert n.status == "sending"  # not recorded
    monkeypatch.setattr(worker, "record", record)  # the database is back, 2 s later: far from the lease's end
    with at(2):
        worker.run_once()
    (n,) = notifications(session)
    assert (n.id, n.status, n.attempts) == (first, "sent", 1) and n.provider_id
    assert len(fake_twilio.messages) == 1  # not sent twice


def test_claimed_rows_the_database_could_not_prepare_are_sent_at_the_next_pass_in_order(
    session, family, make_worker, fake_twilio, monkeypatch
):
    """The database gone after the claim and before a row was prepared: nothing of it went out, and the worker
    sends it, and the rest of its batch, at its next pass once the database is back (not after the lease)."""
    first = queue_received(session, family)
    later = notify_family(
        session, contact=contact_of(session, "+8613800000001"), key=f"sample:{family.id}:typed",
        template="sample.typed", params={"code": family.code, "reference": "MC-2026-TEST01"}, case_id=family.case_id,
    )  # fmt: skip
    assert later is not None
    session.commit()
    second = later.id
    worker = make_worker()
    prepare = worker.prepare
    monkeypatch.setattr(worker, "prepare", _database_gone)
    with pytest.raises(sa.exc.OperationalError):
        worker.run_once()
    assert fake_twilio.requests == 0
    assert {n.status for n in notifications(session)} == {"sending"}  # claimed, not sent
    monkeypatch.setattr(worker, "prepare", prepare)
    with at(2):
        worker.run_once()
    sent = {n.id: n.status for n in notifications(session)}
    assert sent == {first: "sent", second: "sent"}
    assert len(fake_twilio.messages) == 2  # each once
