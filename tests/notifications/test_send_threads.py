"""A worker has several sends in flight at once (issue 22: a provider answers in tens to hundreds of milliseconds,
and one send at a time capped a worker at a few replies a second), while each contact's replies still go one after
the other, in order."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import datetime

import pytest

from intake.models import Channel, Contact, Direction, Message, NotificationChannel, NotificationStatus
from intake.outbox.queue import queue_replies
from notifications.providers import Accepted, Outcome, Outgoing
from tests.notifications.helpers import notifications


class SlowProvider:
    """Answers after `delay` seconds; records how many sends were in flight at once, overall and per number."""

    deduplicates = True

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight: dict[str, int] = defaultdict(int)
        self.most_at_once = 0
        self.most_for_one_number = 0
        self.sent: list[tuple[str, str]] = []

    def send(self, message: Outgoing) -> Outcome:
        with self.lock:
            self.in_flight[message.address] += 1
            self.most_at_once = max(self.most_at_once, sum(self.in_flight.values()))
            self.most_for_one_number = max(self.most_for_one_number, self.in_flight[message.address])
        time.sleep(self.delay)
        with self.lock:
            self.in_flight[message.address] -= 1
            self.sent.append((message.address, message.text))
        return Accepted(f"SM{len(self.sent):032x}")

    def lookup(self, message: Outgoing, since: datetime) -> Accepted | None:
        return None


def _queue(session, contacts: int, replies_each: int) -> list[Contact]:
    people = []
    for i in range(contacts):
        contact = Contact(channel=Channel.SMS, address=f"+86139{i:08d}")
        session.add(contact)
        session.flush()
        people.append(contact)
        for m in range(replies_each):  # each inbound message answered by two replies, as the dialogue does
            inbound = Message(channel=Channel.SMS, direction=Direction.INBOUND, contact_id=contact.id,
                              provider_id=f"SM{i:016x}{m:016x}", body=f"message {m}")  # fmt: skip
            session.add(inbound)
            session.flush()
            queue_replies(session, inbound, [f"{i}:{m}:a", f"{i}:{m}:b"])
    session.commit()
    return people


def _drain(worker) -> None:
    while worker.run_once():
        pass


def test_a_pass_sends_its_claimed_replies_at_once_and_each_number_one_at_a_time(session, make_worker):
    _queue(session, contacts=8, replies_each=3)
    worker = make_worker(send_threads=8)
    provider = SlowProvider(delay=0.05)
    worker.providers = {NotificationChannel.SMS: provider}
    began = time.monotonic()
    _drain(worker)
    took = time.monotonic() - began
    worker.close()
    assert len(provider.sent) == 8 * 3 * 2
    assert all(n.status == NotificationStatus.SENT for n in notifications(session))
    # 8 contacts at once, never two of one number: 6 rounds of 50 ms, not 48 sends one after the other
    assert provider.most_at_once == 8
    assert provider.most_for_one_number == 1
    assert took < 48 * 0.05
    for i in range(8):  # each number got its replies in the order they were queued
        texts = [text for address, text in provider.sent if address == f"+86139{i:08d}"]
        assert texts == [f"{i}:{m}:{part}" for m in range(3) for part in "ab"]


def test_one_send_thread_sends_one_at_a_time(session, make_worker):
    _queue(session, contacts=4, replies_each=1)
    worker = make_worker(send_threads=1)
    provider = SlowProvider(delay=0.01)
    worker.providers = {NotificationChannel.SMS: provider}
    _drain(worker)
    assert len(provider.sent) == 8
    assert provider.most_at_once == 1


def test_a_send_that_raises_leaves_the_pass_s_other_sends_done_and_is_raised(session, make_worker):
    _queue(session, contacts=4, replies_each=1)
    worker = make_worker(send_threads=4)
    provider = SlowProvider(delay=0.01)

    def send(message: Outgoing) -> Outcome:
        if message.address.endswith("02"):
            raise RuntimeError("adapter bug")
        return SlowProvider.send(provider, message)

    provider.send = send  # type: ignore[method-assign]
    worker.providers = {NotificationChannel.SMS: provider}
    with pytest.raises(RuntimeError, match="adapter bug"):
        worker.run_once()
    worker.close()
    assert sorted(address for address, _ in provider.sent) == [f"+86139{i:08d}" for i in (0, 1, 3)]
