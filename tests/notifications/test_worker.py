"""The worker against fake providers: outages, rate limits, crashes mid-send, permanent failures, fallback."""

from __future__ import annotations

import contextlib
import logging

import pytest
import sqlalchemy as sa

import notifications.worker as worker_module
from intake.models import AuditEvent, Case, NotificationStatus, OfficerRole
from intake.models.officers import create_officer
from intake.platform.settings import Settings
from notifications.providers import Accepted, Outcome
from notifications.worker import Worker, installed_tasks
from tests.notifications.conftest import CHAT, PHONE, add_telegram_contact, at
from tests.notifications.helpers import notifications, queue_on_telegram, queue_received
from tests.support.fake_telegram_send import BOT_TOKEN
from tests.support.webapp import replace_settings

St = NotificationStatus


def test_a_queued_message_is_sent_once_with_its_idempotency_key(session, family, make_worker, fake_twilio):
    nid = queue_received(session, family)
    worker = make_worker()
    assert worker.run_once() >= 1
    assert worker.run_once() == 0
    assert len(fake_twilio.messages) == 1
    assert (
        family.code in fake_twilio.bodies_to(PHONE)[0] and "实验室已收到" in fake_twilio.bodies_to(PHONE)[0]
    )
    (n,) = notifications(session)
    assert (n.id, n.status, n.attempts) == (nid, St.SENT, 1)
    assert n.provider_id == fake_twilio.messages[0]["sid"]
    assert fake_twilio.headers_seen[0]["I-Twilio-Idempotency-Token"].endswith(f"sample:{family.id}:received")
    assert fake_twilio.status_callbacks[0] == f"https://reunite.example.org/sms/status?n={nid}"


def test_provider_down_then_back_delivers_each_message_once(session, family, lab, make_worker, fake_twilio):
    from tests.support.factories import booked_sample

    other = booked_sample(session, lab, phone="+8613800000002")
    queue_received(session, family)
    queue_received(session, other, "+8613800000002")
    worker = make_worker()
    fake_twilio.down = True
    worker.run_once()
    assert fake_twilio.messages == [] and fake_twilio.requests == 2
    assert {n.status for n in notifications(session)} == {St.PENDING}
    fake_twilio.server.stop()  # now it does not even answer
    with at(3600):
        worker.run_once()
    assert {n.attempts for n in notifications(session)} == {2}
    fake_twilio.down = False
    fake_twilio.server.start()
    with at(2 * 3600):
        worker.run_once()
    with at(3 * 3600):
        assert worker.run_once() == 0
    assert sorted(m["to"] for m in fake_twilio.messages) == ["+8613800000001", "+8613800000002"]
    assert {n.status for n in notifications(session)} == {St.SENT}


def test_retries_back_off_exponentially_with_jitter(session, family, make_worker, fake_twilio):
    queue_received(session, family)
    worker = make_worker(base_delay_seconds=30, max_attempts=10)
    fake_twilio.down = True
    waits, now = [], 0.0
    for _ in range(5):
        with at(now):
            worker.run_once()
        (n,) = notifications(session)
        wait = (n.next_attempt_at.replace(tzinfo=None) - at_naive(now)).total_seconds()
        waits.append(wait)
        now += wait + 1
    for attempt, wait in enumerate(waits, start=1):
        ceiling = 30 * 2 ** (attempt - 1)
        assert ceiling / 2 <= wait <= ceiling, (attempt, waits)
    assert fake_twilio.messages == []


def at_naive(seconds: float):
    with at(seconds) as now:
        return now.replace(tzinfo=None)


def test_429_with_retry_after_is_honoured(session, family, make_worker, fake_twilio):
    queue_received(session, family)
    fake_twilio.answers.append((429, 20429, {"Retry-After": "120"}))
    worker = make_worker()
    worker.run_once()
    (n,) = notifications(session)
    assert n.status == St.PENDING and "429" in (n.last_error or "")
    assert (n.next_attempt_at.replace(tzinfo=None) - at_naive(0)).total_seconds() == 120
    with at(119):
        assert worker.run_once() == 0
    assert fake_twilio.requests == 1
    with at(121):
        worker.run_once()
    assert len(fake_twilio.messages) == 1 and notifications(session)[0].status == St.SENT


class Killed(BaseException):
    """The worker process dies (SIGKILL, power cut) after the provider accepted, before our commit."""


class DiesAfterSending(Worker):
    def record(self, nid: int, outcome: Outcome) -> None:
        assert isinstance(outcome, Accepted)
        raise Killed


def test_a_worker_killed_after_twilio_accepted_sends_no_second_copy(
    session, session_factory, family, make_worker, fake_twilio
):
    nid = queue_received(session, family)
    dying = DiesAfterSending(session_factory, make_worker().settings)
    with contextlib.suppress(Killed):
        dying.run_once()
    assert len(fake_twilio.messages) == 1
    (n,) = notifications(session)
    assert n.status == St.SENDING and n.provider_id is None
    with at(100):  # the lease still runs: no one takes it over yet
        assert make_worker().run_once() == 0
    with at(301):
        make_worker().run_once()
    assert fake_twilio.lookups == 1  # the new owner asks Twilio first: it has the message ...
    assert fake_twilio.requests == 2  # ... so the new owner sends nothing (one POST, one GET)
    assert len(fake_twilio.messages) == 1
    (n,) = notifications(session)
    assert (n.id, n.status, n.attempts, n.uncertain_attempts) == (
        nid,
        St.SENT,
        2,
        1,
    )  # the takeover is counted
    assert n.provider_id == fake_twilio.messages[0]["sid"]


def test_a_worker_killed_before_twilio_had_it_is_sent_again_with_the_same_token(
    session, session_factory, family, make_worker, fake_twilio
):
    nid = queue_received(session, family)
    dying = make_worker()
    assert dying.claim() == [nid]
    assert dying.prepare(nid) is not None  # it began sending, and died before its request reached Twilio
    with at(301):
        make_worker().run_once()
    assert fake_twilio.lookups == 1 and len(fake_twilio.messages) == 1  # not found, so sent
    token = fake_twilio.headers_seen[-1]["I-Twilio-Idempotency-Token"]
    assert token == f"reunite-notification-sample:{family.id}:received"
    (n,) = notifications(session)
    assert (n.status, n.uncertain_attempts) == (St.SENT, 1)


def test_a_worker_killed_mid_send_on_telegram_is_counted(
    session, session_factory, family, make_worker, fake_twilio, fake_telegram
):
    contact = add_telegram_contact(session, family.case_id)
    queue_on_telegram(session, family, contact, "t:1", "sample.received")
    with contextlib.suppress(Killed):
        DiesAfterSending(session_factory, make_worker().settings).run_once()
    with at(301):
        make_worker().run_once()
    assert len(fake_telegram.texts_to(CHAT)) == 2  # the Bot API cannot refuse a copy ...
    (n,) = notifications(session)
    assert n.status == St.SENT and n.uncertain_attempts == 1  # ... so it is counted


def test_opted_out_number_at_twilio_stops_and_falls_back_to_telegram(
    session, family, make_worker, fake_twilio, fake_telegram
):
    add_telegram_contact(session, family.case_id, language="en")
    queue_received(session, family)
    fake_twilio.opted_out.add(PHONE)
    worker = make_worker()
    worker.run_once()
    worker.run_once()
    first, second = notifications(session)
    assert (first.status, first.error_code) == (St.FAILED, "twilio_21610")
    assert second.fallback_of_id == first.id and second.status == St.SENT
    assert fake_twilio.messages == []
    (text,) = fake_telegram.texts_to(CHAT)
    assert text.startswith(
        "reunite, case MC-2026-TEST01: the lab has received your DNA sample " + family.code
    )
    failed = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "notification.failed")).one()
    assert failed.entity_id == str(first.id) and failed.detail["code"] == "twilio_21610"
    session.commit()
    with at(3600):
        assert worker.run_once() == 0  # stopped for good: never retried


def test_a_family_with_no_other_channel_is_reported_to_the_officers_as_unreachable(
    session, family, make_worker, fake_twilio, mailbox
):
    box, _port = mailbox
    create_officer(session, username="admin", display_name="Admin", role=OfficerRole.ADMIN, province=None,
                   password="correct horse battery", actor="test", alert_channel="email",
                   alert_address="duty@police.example.cn")  # fmt: skip
    queue_received(session, family)
    fake_twilio.opted_out.add(PHONE)
    worker = make_worker()
    worker.run_once()  # the SMS fails for good; the family has no Telegram: the alert is queued
    worker.run_once()
    failed, alert = notifications(session)
    assert (failed.status, failed.error_code) == (St.FAILED, "twilio_21610")
    assert (
        alert.audience.value == "officer"
        and alert.template == "family.unreachable"
        and alert.status == St.SENT
    )
    (mail,) = box.messages
    reference = session.scalar(sa.select(Case.reference).where(Case.id == family.case_id))
    assert reference in mail["Subject"] and "twilio_21610" in mail.get_content()
    assert fake_twilio.messages == []


def test_blocked_bot_falls_back_to_sms(session, family, make_worker, fake_twilio, fake_telegram):
    contact = add_telegram_contact(session, family.case_id)
    queue_on_telegram(session, family, contact, "t:2", "sample.typed")
    fake_telegram.blocked.add(CHAT)
    worker = make_worker()
    worker.run_once()
    worker.run_once()
    first, second = notifications(session)
    assert (first.status, first.error_code) == (St.FAILED, "telegram_blocked")
    assert second.status == St.SENT and second.channel.value == "sms"
    assert fake_telegram.messages == [] and len(fake_twilio.bodies_to(PHONE)) == 1
    assert "您的DNA样本" in fake_twilio.bodies_to(PHONE)[0]  # in the SMS contact's language


def test_invalid_number_without_another_channel_fails_and_stops(session, family, make_worker, fake_twilio):
    queue_received(session, family)
    fake_twilio.invalid.add(PHONE)
    worker = make_worker()
    worker.run_once()
    with at(3600):
        worker.run_once()
    (n,) = notifications(session)
    assert (n.status, n.error_code, n.attempts) == (St.FAILED, "twilio_21211", 1)
    assert fake_twilio.requests == 1


def test_a_provider_down_for_good_is_given_up_after_max_attempts(session, family, make_worker, fake_twilio):
    queue_received(session, family)
    fake_twilio.down = True
    worker = make_worker(max_attempts=3)
    for hour in range(6):
        with at(hour * 3600):
            worker.run_once()
    (n,) = notifications(session)
    assert (n.status, n.error_code, n.attempts) == (St.FAILED, "gave_up", 3)


def test_telegram_429_waits_the_retry_after_it_gives(session, family, make_worker, fake_telegram):
    contact = add_telegram_contact(session, family.case_id)
    queue_on_telegram(session, family, contact, "t:3", "sample.typed")
    fake_telegram.answers.append((429, "Too Many Requests: retry after 7", 7))
    worker = make_worker()
    worker.run_once()
    with at(6):
        assert worker.run_once() == 0
    with at(8):
        worker.run_once()
    assert len(fake_telegram.texts_to(CHAT)) == 1


def test_families_are_not_messaged_at_night_but_officers_are(
    session, family, make_worker, fake_twilio, mailbox
):
    from intake.models import NotificationChannel
    from intake.outbox.queue import OfficerAddress, notify_officers

    box, _port = mailbox
    queue_received(session, family)
    notify_officers(session, recipients=[OfficerAddress(1, NotificationChannel.EMAIL, "duty@police.example.cn")],
                    key="candidate:1", template="candidate.stored", case_id=family.case_id,
                    params={"reference": "C-1", "band": "strong", "province": "北京市", "url": "https://x/1"})  # fmt: skip
    session.commit()
    worker = make_worker()
    with at(13 * 3600):  # 23:00 in China
        worker.run_once()
    assert len(box.messages) == 1 and fake_twilio.requests == 0
    with at(21 * 3600 + 60):  # 07:01: the day-before reminder is queued, not sent
        worker.run_once()
    assert fake_twilio.requests == 0
    with at(22 * 3600 + 60):  # 08:01
        worker.run_once()
    assert len(fake_twilio.messages) == 2  # the sample received overnight, and the reminder


def test_other_queues_registered_by_entry_point_run_in_each_pass(session_factory, make_worker, monkeypatch):
    import notifications.worker as worker_module

    calls: list[object] = []

    class EntryPoint:
        name = "match_jobs"

        def load(self):
            return lambda factory, settings: calls.append((factory, settings)) or 3

    monkeypatch.setattr(
        worker_module, "entry_points", lambda group: [EntryPoint()] if group == "reunite.worker_tasks" else []
    )
    tasks = worker_module.installed_tasks()
    worker = Worker(session_factory, make_worker().settings, tasks=tasks)
    assert worker.run_once() == 3 and calls == [(session_factory, worker.settings)]


def test_every_installed_queue_task_runs_in_a_worker_pass(session_factory, make_worker, caplog):
    """The tasks installed packages register are called as `reunite worker` calls them (factory, settings): one
    whose signature differs fails every pass, logged and skipped, its queue never run (the case power's did)."""
    tasks = installed_tasks()
    names = {getattr(t, "__module__", "") for t in tasks}
    assert {"intake.cases.retention", "intake.cases.power", "sms.media", "bot.telegram.media"} <= names
    worker = Worker(session_factory, make_worker().settings, tasks=tasks)
    with caplog.at_level(logging.ERROR, logger="notifications.worker"):
        worker.run_once()
    assert not [r for r in caplog.records if "worker task" in r.getMessage()]
    for task in tasks:
        assert isinstance(task(session_factory, worker.settings), int)


def test_the_other_queues_are_looked_at_once_a_second_and_at_every_pass_while_they_have_work(
    session_factory, make_worker, monkeypatch
):
    """A busy sender passes many times a second; the other queues cost statements at every look."""
    now = [1000.0]
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: now[0])
    work = [0]
    calls: list[float] = []

    def task(_factory, _settings):
        calls.append(now[0])
        if work[0]:
            work[0] -= 1
            return 1
        return 0

    worker = Worker(session_factory, make_worker().settings, tasks=[task])
    worker.run_once()
    now[0] += 0.1
    worker.run_once()
    assert calls == [1000.0]  # nothing to do at the first look: not again within the second
    now[0] += 0.9
    work[0] = 2
    for _ in range(4):  # a second later it finds work: looked at every pass until it has none
        worker.run_once()
        now[0] += 0.01
    assert len(calls) == 4 and work[0] == 0
    worker.run_once()
    assert len(calls) == 4
    assert worker.run_tasks(force=True) == 0 and len(calls) == 5


@pytest.mark.parametrize("suffix", ["", "/", "/bot", "/bot/"])
def test_a_telegram_base_url_with_or_without_bot_works_as_reunite_bot_reads_it(
    session, session_factory, family, worker_settings, fake_telegram, suffix
):
    contact = add_telegram_contact(session, family.case_id)
    queue_on_telegram(session, family, contact, "t:4", "sample.typed")
    env = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_API_BASE_URL": fake_telegram.base_url + suffix}
    telegram = Settings.from_env(env, load_dotenv_file=False).telegram
    assert (
        telegram.base_url == fake_telegram.base_url + "/bot"
    )  # python-telegram-bot's meaning, as `reunite bot`'s
    Worker(session_factory, replace_settings(worker_settings, telegram=telegram)).run_once()
    assert len(fake_telegram.texts_to(CHAT)) == 1


def test_a_failing_queue_task_does_not_stop_the_families_messages(
    session, family, make_worker, fake_twilio, caplog
):
    def broken(_factory, _settings):  # a photo fetch whose settings are wrong, or whose host is down
        raise RuntimeError("photo host down")

    queue_received(session, family)
    worker = make_worker()
    worker.tasks = [broken]
    assert worker.run_once() >= 1
    assert len(fake_twilio.messages) == 1
    assert "worker task broken failed" in caplog.text
