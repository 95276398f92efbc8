"""The spool (issue 22): webhooks store a delivery in one statement and answer at once; dialogue workers process
each contact's deliveries in order and queue the replies, which the notification worker sends, once, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.telegram.webhook import SECRET_HEADER, spool_processor
from intake.inbound import spool
from intake.inbound.inbox import process
from intake.models import (
    Channel,
    Contact,
    Delivery,
    Direction,
    Message,
    MessageStatus,
    Notification,
    NotificationChannel,
    NotificationStatus,
)
from intake.outbox.templates import REPLY_TEMPLATE
from intake.platform import clock
from intake.platform.settings import SettingError, Settings
from intake.runtime import Runtime
from notifications.providers import Accepted, Outcome, Outgoing, Retry
from notifications.worker import Worker
from tests.support.fake_telegram import FakeTelegram
from tests.support.fake_twilio import ACCOUNT_SID, FROM_NUMBER, FakeTwilio
from tests.support.twilio import AUTH_TOKEN, PUBLIC_BASE_URL, Phone, message_texts
from tests.support.webapp import replace_settings, web_app, web_settings

NUMBER = "+8613800138000"
SECRET = "test-webhook-secret-0123456789"


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    fake.server.start()
    yield fake
    fake.server.stop()


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    return web_settings(
        tmp_path, engine, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL, reply_mode="spool",
        twilio_account_sid=ACCOUNT_SID, twilio_from_number=FROM_NUMBER,
    )  # fmt: skip


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> Flask:
    return web_app(settings, engine, session_factory, demo_labs=True)


@pytest.fixture
def phone(app: Flask) -> Phone:
    return Phone(app.test_client(), number=NUMBER)


@pytest.fixture
def sender(settings: Settings, session_factory: sessionmaker[Session], fake_twilio: FakeTwilio) -> Worker:
    """The notification worker, sending SMS to the fake Twilio (any hour: family_hours is not asked of replies)."""
    settings = replace_settings(
        settings, twilio_auth_token=fake_twilio.auth_token, twilio_api_base_url=fake_twilio.base_url,
        notifications_timeout_seconds=5, notifications_family_hours=(8, 9),
    )  # fmt: skip
    return Worker(session_factory, settings)


def dialogue_worker(session_factory: sessionmaker[Session]) -> spool.DialogueWorker:
    return spool.DialogueWorker(session_factory, {Channel.SMS: spool.inbox_processor(session_factory)})


def drain(worker: spool.DialogueWorker) -> int:
    done = 0
    while worker.run_once():
        done += 1
    return done


def send_all(sender: Worker) -> int:
    done = 0
    while busy := sender.run_once():
        done += busy
    return done


def count(session_factory: sessionmaker[Session], query: Any) -> int:
    with session_factory() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)


def inbound(session_factory: sessionmaker[Session]) -> list[Message]:
    with session_factory() as s:
        query = sa.select(Message).where(Message.direction == Direction.INBOUND).order_by(Message.id)
        return list(s.scalars(query))


def test_the_reply_mode_is_a_setting_spool_by_default():
    assert Settings.from_env({}, load_dotenv_file=False).reply_mode == "spool"
    assert Settings.from_env({"REUNITE_REPLY_MODE": "Inline"}, load_dotenv_file=False).reply_mode == "inline"
    with pytest.raises(SettingError, match="REUNITE_REPLY_MODE"):
        Settings.from_env({"REUNITE_REPLY_MODE": "later"}, load_dotenv_file=False)


def test_a_delivery_is_stored_and_answered_without_running_the_dialogue(phone, session_factory):
    response = phone.post(phone.params("你好"))

    assert response.status_code == 200
    assert message_texts(response) == []  # an empty TwiML: the reply comes through the API
    assert count(session_factory, sa.select(Delivery)) == 1
    assert inbound(session_factory) == []  # the dialogue did not run
    assert count(session_factory, sa.select(Contact)) == 0


def test_the_webhook_sends_one_statement_and_no_transaction_of_its_own_on_postgresql(phone, engine, backend):
    sent: list[str] = []

    def on_statement(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(" ".join(statement.split()[:3]))

    def on_commit(_conn: object) -> None:
        sent.append("COMMIT")

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        assert phone.post(phone.params("你好")).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
    # PostgreSQL: the INSERT alone, in autocommit (no BEGIN, no COMMIT: one round trip); SQLite: its write lock
    expected = (
        ["INSERT INTO deliveries"]
        if backend == "postgresql"
        else ["BEGIN IMMEDIATE", "INSERT INTO deliveries", "COMMIT"]
    )
    assert sent == expected


def test_the_dialogue_worker_lowers_its_priority_so_the_webhooks_accept_first(monkeypatch):
    from click.testing import CliRunner

    from intake.cli import dialogue as command

    asked: list[int] = []
    monkeypatch.setattr(command.os, "nice", lambda n: asked.append(n) or n)
    monkeypatch.setattr(command, "runtime_from_env", lambda **_: (_ for _ in ()).throw(SystemExit(3)))
    assert CliRunner().invoke(command.dialogue_worker, []).exit_code == 3
    assert CliRunner().invoke(command.dialogue_worker, ["--nice", "0"]).exit_code == 3
    assert asked == [command.DEFAULT_NICE, 0] and command.DEFAULT_NICE > 0


def test_a_worker_processes_it_and_the_reply_reaches_twilio_once(phone, session_factory, sender, fake_twilio):
    assert phone.post(phone.params("你好")).status_code == 200
    assert fake_twilio.messages == []

    assert drain(dialogue_worker(session_factory)) == 1
    assert count(session_factory, sa.select(Delivery)) == 0
    [message] = inbound(session_factory)
    assert message.status is MessageStatus.PROCESSED
    night = datetime.now(UTC).replace(hour=19, minute=0) + timedelta(days=1)  # 3 a.m. in China
    with clock.pinned(night):  # a family is not woken at night, but the answer to their own message goes
        assert send_all(sender) >= 1
        assert send_all(sender) == 0
    assert len(fake_twilio.bodies_to(NUMBER)) == 1
    with session_factory() as s:
        replies = list(s.scalars(sa.select(Message).where(Message.in_reply_to_id == message.id)))
        notification = s.scalars(sa.select(Notification)).one()
    assert [r.status for r in replies] == [MessageStatus.QUEUED]
    assert fake_twilio.bodies_to(NUMBER) == [replies[0].body]  # whole, as the TwiML answer was
    assert notification.status is NotificationStatus.SENT
    assert notification.template == REPLY_TEMPLATE


def test_duplicates_are_stored_once_and_answered_once(phone, session_factory, sender, fake_twilio):
    params = phone.params("你好")
    assert [phone.post(params).status_code for _ in range(3)] == [200, 200, 200]
    assert count(session_factory, sa.select(Delivery)) == 1

    drain(dialogue_worker(session_factory))
    assert phone.post(params).status_code == 200  # a retry after it was processed: spooled again...
    drain(dialogue_worker(session_factory))  # ...and recognised by the inbox: no second message, no reply
    send_all(sender)

    assert len(inbound(session_factory)) == 1
    assert len(fake_twilio.bodies_to(NUMBER)) == 1
    assert count(session_factory, sa.select(Delivery)) == 0


def test_the_inline_mode_answers_in_the_twiml(tmp_path, engine, session_factory, settings):
    import dataclasses

    inline = web_app(
        dataclasses.replace(settings, reply_mode="inline"), engine, session_factory, demo_labs=True
    )
    texts = Phone(inline.test_client(), number=NUMBER).text("你好")

    assert texts  # the menu, in the response
    assert count(session_factory, sa.select(Delivery)) == 0
    assert count(session_factory, sa.select(Notification)) == 0


def test_a_conversation_continues_in_order_and_its_replies_go_out_in_order(
    phone, session_factory, sender, fake_twilio
):
    for body in ("你好", "1", "小明"):  # three messages before any is processed
        assert phone.post(phone.params(body)).status_code == 200

    drain(dialogue_worker(session_factory))
    send_all(sender)

    assert [m.body for m in inbound(session_factory)] == ["你好", "1", "小明"]
    with session_factory() as s:
        stored = list(
            s.scalars(
                sa.select(Message.body).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)
            )
        )
    assert fake_twilio.bodies_to(NUMBER) == stored
    assert len(stored) >= 3


class Flaky:
    """A provider that asks for a retry of its first send, and accepts the rest; records what it accepted."""

    deduplicates = True

    def __init__(self) -> None:
        self.accepted: list[str] = []
        self.calls = 0

    def send(self, outgoing: Outgoing) -> Outcome:
        self.calls += 1
        if self.calls == 1:
            return Retry("busy", retry_after=0.0)
        self.accepted.append(outgoing.text)
        return Accepted(f"SM{self.calls}")

    def lookup(self, outgoing: Outgoing, since: datetime) -> Accepted | None:
        return None


def test_a_reply_asked_to_wait_holds_back_the_later_replies_of_its_contact(settings, session_factory):
    from intake.dialogue.types import Incoming, Reply

    replies = [Reply("one"), Reply("two"), Reply("three")]
    incoming = Incoming(Channel.SMS, NUMBER, "hi", clock.now(), provider_id="SM1")
    process(session_factory, incoming, handler=lambda *_: replies, queue_replies=True)
    flaky = Flaky()
    worker = Worker(session_factory, settings, {NotificationChannel.SMS: flaky})

    worker.run_once()  # only the first is claimed; the provider asks to wait
    assert flaky.accepted == [] and flaky.calls == 1
    for _ in range(5):
        worker.run_once()

    assert flaky.accepted == ["one", "two", "three"]


def test_a_failed_dialogue_is_answered_with_the_apology_through_the_outbox(session_factory):
    from intake.dialogue.types import Incoming

    def broken(*_: Any) -> list[Any]:
        raise RuntimeError("bug")

    incoming = Incoming(Channel.SMS, NUMBER, "hi", clock.now(), provider_id="SM2")
    process(session_factory, incoming, handler=broken, queue_replies=True)

    [message] = inbound(session_factory)
    assert message.status is MessageStatus.FAILED
    with session_factory() as s:
        [notification] = s.scalars(sa.select(Notification))
    assert notification.template == REPLY_TEMPLATE
    assert "something went wrong" in notification.params["text"] or "出" in notification.params["text"]


def test_a_worker_that_dies_after_the_dialogue_committed_leaves_it_to_the_next_once(
    phone, session_factory, sender, fake_twilio
):
    assert phone.post(phone.params("你好")).status_code == 200
    real = spool.inbox_processor(session_factory)

    def dies_after(delivery: spool.Spooled) -> None:
        real(delivery)
        raise SystemExit  # the process ends between the dialogue's commit and the spool's

    with pytest.raises(SystemExit):
        spool.DialogueWorker(session_factory, {Channel.SMS: dies_after}).run_once()
    assert count(session_factory, sa.select(Delivery)) == 1

    assert drain(dialogue_worker(session_factory)) == 1
    send_all(sender)
    assert len(inbound(session_factory)) == 1
    assert len(fake_twilio.bodies_to(NUMBER)) == 1
    assert count(session_factory, sa.select(Delivery)) == 0


def test_a_failing_delivery_is_tried_again_later_and_the_others_go_on(session_factory):
    engine = session_factory.kw["bind"]
    spool.store(engine, Channel.SMS, "SMA", "+8613800000001", {"text": "a", "media": []})
    spool.store(engine, Channel.SMS, "SMB", "+8613800000002", {"text": "b", "media": []})
    seen: list[str] = []

    def processor(delivery: spool.Spooled) -> None:
        seen.append(delivery.provider_id)
        if delivery.provider_id == "SMA" and seen.count("SMA") == 1:
            raise ConnectionError("the provider hung up")

    worker = spool.DialogueWorker(session_factory, {Channel.SMS: processor})
    start = clock.now()
    with clock.pinned(start):
        worker.run_once()
        worker.run_once()
        assert not worker.run_once()  # SMA waits for its pause
    assert seen == ["SMA", "SMB"]
    assert count(session_factory, sa.select(Delivery)) == 1
    with clock.pinned(start + spool.retry_pause(1)):
        worker.run_once()
    assert seen == ["SMA", "SMB", "SMA"]
    assert count(session_factory, sa.select(Delivery)) == 0


def poison_run(session_factory: sessionmaker[Session]) -> tuple[list[str], spool.DialogueWorker]:
    """A contact's first message raises every time it is processed; their second is an ordinary one."""
    engine = session_factory.kw["bind"]
    spool.store(engine, Channel.SMS, "SMpoison", NUMBER, {"text": "你好", "media": []})
    spool.store(engine, Channel.SMS, "SMnext", NUMBER, {"text": "你好", "media": []})
    seen: list[str] = []
    real = spool.inbox_processor(session_factory)

    def processor(delivery: spool.Spooled) -> None:
        seen.append(delivery.provider_id)
        if delivery.provider_id == "SMpoison":
            raise RuntimeError("a bug that strikes every time")
        real(delivery)

    return seen, spool.DialogueWorker(session_factory, {Channel.SMS: processor})


def test_a_poison_delivery_is_given_up_after_its_attempts_apologised_for_once_and_frees_its_contact(
    session_factory, app
):
    seen, worker = poison_run(session_factory)
    at = clock.now()
    for attempt in range(1, spool.MAX_ATTEMPTS):
        with clock.pinned(at):
            assert worker.run_once()
            assert not worker.run_once()  # neither it (paused) nor the contact's next message (kept in order)
        at += spool.retry_pause(attempt)
    with clock.pinned(at):
        assert worker.run_once()  # the last attempt
    assert seen == ["SMpoison"] * spool.MAX_ATTEMPTS

    with session_factory() as s:
        [dead] = s.scalars(sa.select(Delivery).where(Delivery.provider_id == "SMpoison"))
        [message] = s.scalars(sa.select(Message).where(Message.provider_id == "SMpoison"))
        apologies = list(s.scalars(sa.select(Notification)))
    assert dead.attempts == spool.MAX_ATTEMPTS and dead.failed_at is not None
    assert "RuntimeError: a bug that strikes every time" in (dead.error or "")
    assert message.status is MessageStatus.FAILED and "given up after 5 attempts" in (message.error or "")
    assert [n.params["text"] for n in apologies] == [
        "抱歉，我们这边出了问题。您的短信已保存，我们会处理。请稍后再试。"
    ]
    assert app.test_client().get("/healthz").get_json()["spool"] == {"waiting": 1, "given_up": 1}

    with clock.pinned(at + timedelta(hours=1)):  # never tried again, and the contact's next message goes on
        assert worker.run_once()
        assert not worker.run_once()
    assert seen == ["SMpoison"] * spool.MAX_ATTEMPTS + ["SMnext"]
    with session_factory() as s:
        assert s.scalars(sa.select(Message.status).where(Message.provider_id == "SMnext")).one() is (
            MessageStatus.PROCESSED
        )
        assert s.scalar(sa.select(sa.func.count()).select_from(Notification)) == 2  # one apology, one answer
    assert app.test_client().get("/healthz").get_json()["spool"] == {"waiting": 0, "given_up": 1}


def test_attempts_are_counted_in_the_row_so_another_worker_carries_on_the_count(session_factory):
    seen, first = poison_run(session_factory)
    at = clock.now()
    with clock.pinned(at):
        first.run_once()
    second = spool.DialogueWorker(session_factory, first.processors)  # a restarted worker: nothing in memory
    for attempt in range(2, spool.MAX_ATTEMPTS + 1):
        at += spool.retry_pause(attempt - 1)
        with clock.pinned(at):
            second.run_once()
    with session_factory() as s:
        dead = s.scalars(sa.select(Delivery).where(Delivery.provider_id == "SMpoison")).one()
    assert seen == ["SMpoison"] * spool.MAX_ATTEMPTS and dead.failed_at is not None


def test_a_given_up_delivery_that_cannot_be_apologised_for_is_given_up_all_the_same(session_factory):
    seen, worker = poison_run(session_factory)

    def broken_apology(delivery: spool.Spooled, error: str) -> None:
        raise RuntimeError("the apology fails too")

    worker.give_up = broken_apology
    at = clock.now()
    for attempt in range(1, spool.MAX_ATTEMPTS + 1):
        with clock.pinned(at):
            worker.run_once()
        at += spool.retry_pause(attempt)
    with clock.pinned(at):
        worker.run_once()  # the next message
    assert seen == ["SMpoison"] * spool.MAX_ATTEMPTS + ["SMnext"]


def test_two_workers_racing_keep_each_contacts_order_and_process_each_delivery_once(backend, session_factory):
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; on SQLite the service runs one dialogue worker")
    engine = session_factory.kw["bind"]
    contacts = [f"+86138000000{i:02d}" for i in range(6)]
    for n in range(8):
        for c in contacts:
            spool.store(engine, Channel.SMS, f"SM{c[-2:]}x{n}", c, {"text": str(n), "media": []})
    lock = threading.Lock()
    busy: set[str] = set()
    order: dict[str, list[int]] = {c: [] for c in contacts}
    overlaps: list[str] = []

    def processor(delivery: spool.Spooled) -> None:
        with lock:
            if delivery.address in busy:
                overlaps.append(delivery.address)
            busy.add(delivery.address)
        time.sleep(0.005)
        with lock:
            busy.discard(delivery.address)
            order[delivery.address].append(int(delivery.payload["text"]))

    stop = threading.Event()
    workers = [spool.DialogueWorker(session_factory, {Channel.SMS: processor}) for _ in range(2)]
    threads = [threading.Thread(target=w.run, args=(stop, 0.01)) for w in workers]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while count(session_factory, sa.select(Delivery)) and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=10)

    assert overlaps == []
    assert order == {c: list(range(8)) for c in contacts}


def test_a_take_walks_the_spool_in_id_order_even_when_its_statistics_say_it_is_empty(
    backend, session_factory
):
    """A peak fills the spool faster than autovacuum analyses it. Planned on an empty table's statistics, the take
    scanned, tested and sorted every waiting row (O(n) a take, most of PostgreSQL's time in the load run); the
    worker's take now walks the primary key and stops at the first free head, whatever the statistics say."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's planner; SQLite has one worker and no row locks")
    engine = session_factory.kw["bind"]
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE deliveries"))  # empty: the statistics a burst starts from
        conn.execute(
            sa.text("ALTER TABLE deliveries SET (autovacuum_enabled = false)")
        )  # and keeps, in a burst
    try:
        _take_in_a_burst(engine, session_factory)
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("ALTER TABLE deliveries RESET (autovacuum_enabled)"))


def _take_in_a_burst(engine: Engine, session_factory: sessionmaker[Session]) -> None:
    for n in range(3000):
        address = f"+86138{n % 150:08d}"
        spool.store(engine, Channel.SMS, f"SM{n:032x}", address, {"text": str(n), "media": []})
    worker = spool.DialogueWorker(session_factory, {Channel.SMS: lambda delivery: None})
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert worker.run_once()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    take = next(i for i, sql in enumerate(statements) if "FOR UPDATE" in sql)
    assert "enable_sort" in statements[take - 1]  # the planner settings go first, in the take's transaction
    with session_factory() as session:
        plan_of_take = sa.text(
            "EXPLAIN " + str(worker._next(session).compile(engine, compile_kwargs={"literal_binds": True}))
        )
        unsteered = "\n".join(row[0] for row in session.execute(plan_of_take))
        session.rollback()
        session.execute(spool.WALK_IN_ID_ORDER)
        steered = "\n".join(row[0] for row in session.execute(plan_of_take))
    assert "Sort" in unsteered  # what the statistics of an empty spool give: every row sorted each take
    assert "Index Scan using pk_deliveries" in steered
    assert "Sort" not in steered and "Seq Scan" not in steered and "Bitmap" not in steered


def test_in_a_peak_the_dialogue_holds_back_while_the_spool_grows_then_drains_and_never_longer_than_its_limit(
    session_factory,
):
    """Acceptance first: while the spool grows faster than `above` deliveries a second the workers of a process
    hold back (the webhooks sharing their cores take the peak), for at most `max_hold_s`, then drain for as long;
    a rate the workers keep up with is no peak, and a peak ends when the arrivals fall to what they drain."""
    engine = session_factory.kw["bind"]
    now = [0.0]
    guard = spool.PeakGuard(
        session_factory, above=50.0, max_hold_s=10.0, every_s=0.5, monotonic=lambda: now[0]
    )
    sent = iter(range(100_000))

    def arrive(n: int) -> None:
        for _ in range(n):
            k = next(sent)
            spool.store(engine, Channel.SMS, f"SM{k:032x}", f"+86138{k % 40:08d}", {"text": "1", "media": []})

    def process(n: int) -> None:  # what the workers would do: the n oldest deliveries processed
        with session_factory() as session:
            oldest = sa.select(Delivery.id).order_by(Delivery.id).limit(n).scalar_subquery()
            session.execute(sa.delete(Delivery).where(Delivery.id.in_(oldest)))
            session.commit()

    def look(seconds: float = 0.5) -> bool:
        now[0] += seconds
        return guard.holding()

    arrive(3)
    assert not guard.holding()  # the first look only learns where the spool stands
    arrive(10)
    assert not look() and guard.rate == pytest.approx(20.0)  # 20 a second, kept: no peak
    for _ in range(4):  # 200 a second, but processed as fast: no peak either (an inflow threshold would hold)
        arrive(100)
        process(100)
        assert not look() and guard.rate == pytest.approx(200.0) and guard.growth == pytest.approx(0.0)
    assert guard.drain > 150.0
    arrive(100)  # 200 a second with the workers draining 40 a second (beside the webhooks): the spool grows
    process(20)
    assert look() and guard.growth == pytest.approx(160.0)  # a peak: hold back
    now[0] += 0.2
    assert guard.holding()  # between looks the answer stands
    arrive(100)
    assert look(0.3) and guard.rate == pytest.approx(200.0)  # still far above what the workers drained before
    arrive(30)  # the arrivals fall to 60 a second, which the workers drained: the peak has passed
    assert not look()
    process(240)
    for _ in range(4):  # calm, then a peak that never ends
        arrive(10)
        process(10)
        assert not look()
    for step in range(1, 60):
        arrive(200)
        holds = look()
        if step == 1:
            assert holds and guard.growth == pytest.approx(400.0)
        elif step <= 20:  # held 10 s at most ...
            assert holds
        elif step <= 40:  # ... then draining for as long, the spool still growing ...
            assert not holds
        elif step == 41:  # ... then held again
            assert holds
    with session_factory() as session:  # an emptied spool: the ids go on from where they were
        session.execute(sa.delete(Delivery))
        session.commit()
    now[0] += 30.0
    assert not guard.holding()
    arrive(5)
    assert not look()
    # PostgreSQL's ids go on (10 a second); SQLite gives an emptied table's ids again: that look counts none
    assert guard.rate == (pytest.approx(10.0) if engine.dialect.name == "postgresql" else 0.0)


def test_a_worker_holding_back_takes_nothing_until_the_peak_passes(session_factory):
    engine = session_factory.kw["bind"]
    spool.store(engine, Channel.SMS, "SM" + "7" * 32, "+8613800000077", {"text": "1", "media": []})
    taken: list[str] = []

    class Guard:
        every_s = 0.01
        hold = True

        def holding(self) -> bool:
            return self.hold

    guard = Guard()
    worker = spool.DialogueWorker(session_factory, {Channel.SMS: lambda d: taken.append(d.provider_id)},
                                  guard=guard)  # type: ignore[arg-type]  # fmt: skip
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop, 0.01))
    thread.start()
    try:
        time.sleep(0.3)
        assert taken == []  # held back: the delivery waits, stored
        guard.hold = False
        deadline = time.monotonic() + 10
        while not taken and time.monotonic() < deadline:
            time.sleep(0.02)
        assert taken == ["SM" + "7" * 32]
    finally:
        stop.set()
        thread.join(timeout=10)


def test_a_worker_killed_mid_delivery_leaves_it_to_another_processed_once(
    backend, phone, session_factory, sender, fake_twilio, engine
):
    if backend != "postgresql":
        pytest.skip("several dialogue workers need PostgreSQL (the SQLite case: the test before)")
    for body in ("你好", "1"):
        assert phone.post(phone.params(body)).status_code == 200
    url = engine.url.render_as_string(hide_password=False)
    script = textwrap.dedent(
        f"""
        import sys, time
        from intake.platform.db import make_engine, make_session_factory
        from intake.models import Channel
        from intake.inbound import spool
        factory = make_session_factory(make_engine({url!r}))
        real = spool.inbox_processor(factory)
        def hangs(delivery):
            real(delivery)  # the dialogue committed; the spool's row is still locked by this worker
            print("taken", flush=True)
            time.sleep(600)
        spool.DialogueWorker(factory, {{Channel.SMS: hangs}}).run_once()
        """
    )
    env = {**os.environ, "REUNITE_DATA_KEYS": os.environ.get("REUNITE_DATA_KEYS", "")}
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == b"taken"
        other = dialogue_worker(session_factory)
        assert other.run_once() is False  # the first is locked, and the second is the same contact's: skipped
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    deadline = time.monotonic() + 30
    while drain(other) < 2 and time.monotonic() < deadline:  # the lock ends with the dead worker's connection
        time.sleep(0.2)
    send_all(sender)

    assert [m.body for m in inbound(session_factory)] == ["你好", "1"]
    assert count(session_factory, sa.select(Delivery)) == 0
    with session_factory() as s:
        stored = list(
            s.scalars(
                sa.select(Message.body).where(Message.direction == Direction.OUTBOUND).order_by(Message.id)
            )
        )
    assert fake_twilio.bodies_to(NUMBER) == stored  # each reply once, in order


def test_telegram_updates_are_spooled_and_answered_by_the_worker_once(tmp_path, engine, session_factory):
    with FakeTelegram() as tg:
        settings = web_settings(
            tmp_path, engine, reply_mode="spool", telegram_token=tg.token, telegram_base_url=tg.base_url,
            telegram_webhook_secret=SECRET,
        )  # fmt: skip
        app = web_app(settings, engine, session_factory, demo_labs=True)
        client = app.test_client()
        update = tg.message_update(4242, "/start")
        for _ in range(2):  # Telegram's retry of the same update
            response = client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
            assert response.status_code == 200
        assert tg.sent_to(4242) == []
        assert count(session_factory, sa.select(Delivery)) == 1

        processor = spool_processor(Runtime(settings, engine, session_factory))
        assert processor is not None
        worker = spool.DialogueWorker(session_factory, {Channel.TELEGRAM: processor})
        assert drain(worker) == 1
        client.post("/telegram/webhook", json=update, headers={SECRET_HEADER: SECRET})
        drain(worker)

        assert len(tg.sent_to(4242)) == 1
        assert len(inbound(session_factory)) == 1
        assert count(session_factory, sa.select(Delivery)) == 0


def test_the_embedded_service_answers_with_no_other_process(tmp_path, engine, session_factory):
    """`reunite serve` on SQLite runs the dialogue worker and the sending of its replies in its own process."""
    from intake.cli.dialogue import start_embedded

    fake = FakeTwilio(auth_token=AUTH_TOKEN)
    fake.server.start()
    settings = web_settings(
        tmp_path, engine, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL, reply_mode="spool",
        twilio_account_sid=ACCOUNT_SID, twilio_from_number=FROM_NUMBER, twilio_api_base_url=fake.base_url,
        notifications_family_hours=(8, 9),  # replies go at any hour all the same
    )  # fmt: skip
    rt = Runtime(settings, engine, session_factory)
    app = web_app(settings, engine, session_factory, demo_labs=True)
    stop = threading.Event()
    threads = start_embedded(rt, stop)
    try:
        assert {t.name for t in threads} == {"dialogue-worker", "notification-worker"}
        texter = Phone(app.test_client(), number=NUMBER)
        assert message_texts(texter.post(texter.params("你好"))) == []
        deadline = time.monotonic() + 30
        while not fake.bodies_to(NUMBER) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(fake.bodies_to(NUMBER)) == 1
    finally:
        stop.set()
        spool.STORED.set()
        for t in threads:
            t.join(timeout=10)
        fake.server.stop()


def test_without_twilio_sending_settings_the_sms_webhook_answers_inline(tmp_path, engine, session_factory):
    """A spooled SMS reply could not be sent without TWILIO_ACCOUNT_SID and TWILIO_FROM_NUMBER: answered inline."""
    settings = web_settings(
        tmp_path, engine, twilio_auth_token=AUTH_TOKEN, public_base_url=PUBLIC_BASE_URL, reply_mode="spool"
    )
    app = web_app(settings, engine, session_factory, demo_labs=True)

    assert Phone(app.test_client(), number=NUMBER).text("你好")  # the menu, in the TwiML
    assert count(session_factory, sa.select(Delivery)) == 0


def test_a_telegram_update_the_intake_does_not_take_is_not_spooled(tmp_path, engine, session_factory):
    with FakeTelegram() as tg:
        settings = web_settings(
            tmp_path, engine, reply_mode="spool", telegram_token=tg.token, telegram_base_url=tg.base_url,
            telegram_webhook_secret=SECRET,
        )  # fmt: skip
        app = web_app(settings, engine, session_factory)
        update = tg.message_update(4242, "hi")
        edited = {"update_id": update["update_id"], "edited_message": update["message"]}
        response = app.test_client().post("/telegram/webhook", json=edited, headers={SECRET_HEADER: SECRET})

        assert response.status_code == 200
        assert count(session_factory, sa.select(Delivery)) == 0
