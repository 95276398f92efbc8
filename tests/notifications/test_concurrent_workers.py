"""Two workers at once on PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED) never send the same row."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from intake.models import Channel, Contact, NotificationStatus
from intake.outbox.queue import notify_family
from intake.platform import clock
from tests.notifications.conftest import T0
from tests.notifications.helpers import notifications

MESSAGES = 60


def test_two_workers_on_postgresql_never_send_the_same_row(engine, session, make_worker, fake_twilio):
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; on SQLite one worker runs")
    for i in range(MESSAGES):
        contact = Contact(channel=Channel.SMS, address=f"+86138{i:08d}")
        session.add(contact)
        session.flush()
        notify_family(session, contact=contact, key=f"load:{i}", template="sample.received",
                      params={"code": f"CODE-{i:04d}", "reference": "MC-2026-TEST01"})  # fmt: skip
    session.commit()
    workers = [make_worker(batch_size=5) for _ in range(2)]
    sent_by: list[Counter[int]] = [Counter(), Counter()]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        with clock.pinned(T0):  # the clock is global to the process: the same instant for both threads
            barrier.wait(timeout=30)
            while True:
                claimed = workers[index].claim()
                if not claimed:
                    return
                for nid in claimed:
                    sent_by[index][nid] += 1
                    workers[index].process(nid)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert fake_twilio.requests == MESSAGES  # not one request twice, even one Twilio would have deduplicated
    bodies = Counter(str(m["body"]) for m in fake_twilio.messages)
    assert len(bodies) == MESSAGES and set(bodies.values()) == {1}
    assert not set(sent_by[0]) & set(sent_by[1])
    assert sent_by[0] and sent_by[1]  # both worked
    assert {n.status for n in notifications(session)} == {NotificationStatus.SENT}
