"""The spool: webhooks store deliveries and answer at once; dialogue workers process them, each contact's in order.

RapidPro's split (courier writes the message and answers the provider, mailroom runs the flow): a webhook checks
the provider's signature, then `store` writes the delivery in ONE statement (`INSERT ... ON CONFLICT DO
NOTHING` on (channel, provider id), so a retry of a delivery still waiting is stored once) and the webhook
answers (empty TwiML, 200). A `DialogueWorker` takes the deliveries and hands each to its channel's processor,
which runs the one inbound path (`intake.inbound.inbox.process`: message stored once per provider id, dialogue,
replies) and queues the replies in the outbox (`intake.outbox`), which the notification worker sends.

Order and exclusivity. A worker takes the oldest delivery whose contact (channel, address) has no older delivery
waiting, with `FOR UPDATE SKIP LOCKED` on PostgreSQL, and holds that row lock while it processes it: another
worker skips the locked row and, since it is older, every later delivery of the same contact, so a contact's
messages are processed one at a time in the order they arrived, while the other contacts go to the other
workers. The row is deleted in the lock's transaction once its processing committed. A worker killed (or its
connection cut, a PostgreSQL restart) releases the lock with its connection: the delivery is taken by the next
worker, and processing it again is harmless, because the inbox recognises the provider id (its message and
replies are stored, the replies' notifications have keys of the message's id). SQLite has one writer: the
service runs one dialogue worker in its own process, and no separate worker may run there.

A delivery whose processor raises (the database unreachable, a bug in an adapter) stays in the spool and is
tried again after a pause (doubling up to a minute) by the worker, which goes on with the other contacts; the
dialogue's own failures never come here: the inbox stores the message as failed and queues its apology.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased, sessionmaker

from intake.dialogue.types import Incoming, Media
from intake.models import Channel, Delivery
from intake.platform import clock

log = logging.getLogger(__name__)

# Set when a delivery is stored, so dialogue workers in this process (the embedded service) start at once.
STORED = threading.Event()
MAX_PAUSE_S = 60.0


@dataclass(frozen=True)
class Spooled:
    """One delivery as a processor sees it."""

    id: int
    channel: Channel
    provider_id: str
    address: str
    payload: dict[str, Any]
    received_at: datetime


Processor = Callable[[Spooled], None]


def store(engine: Engine, channel: Channel, provider_id: str, address: str, payload: dict[str, Any]) -> bool:
    """Store one delivery in one statement; return False when it was stored already (a provider's retry)."""
    table = cast(sa.Table, Delivery.__table__)
    values = {"channel": channel, "provider_id": provider_id, "address": address, "payload": payload,
              "received_at": clock.now()}  # fmt: skip
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(values).on_conflict_do_nothing(index_elements=["channel", "provider_id"])
    with engine.begin() as conn:
        stored = conn.execute(statement).rowcount == 1
    STORED.set()
    return stored


def sms_payload(incoming: Incoming) -> dict[str, Any]:
    """Return what the spool keeps of an inbound text message (its text and media)."""
    # No phone types a NUL and PostgreSQL cannot store one (the inbox drops them too)
    text = incoming.text.replace("\x00", "")
    return {"text": text, "media": [[m.url, m.content_type] for m in incoming.media]}


def incoming_of(delivery: Spooled) -> Incoming:
    """Return the `Incoming` of a delivery stored with `sms_payload`."""
    media = tuple(Media(str(url), str(kind)) for url, kind in delivery.payload.get("media", []))
    return Incoming(
        channel=delivery.channel,
        address=delivery.address,
        text=str(delivery.payload.get("text", "")),
        received_at=delivery.received_at,
        provider_id=delivery.provider_id,
        media=media,
    )


def inbox_processor(factory: sessionmaker[Session]) -> Processor:
    """Return the processor of text deliveries (SMS): the inbox, with the replies queued in the outbox."""
    import intake.dialogue.engine  # noqa: F401 - imported now, not in the first delivery's answer time
    from intake.inbound.inbox import process

    def processor(delivery: Spooled) -> None:
        process(factory, incoming_of(delivery), queue_replies=True)

    return processor


class DialogueWorker:
    """Processes spooled deliveries, one at a time, each contact's in order; several may run on PostgreSQL."""

    def __init__(
        self, factory: sessionmaker[Session], processors: Mapping[Channel, Processor], *, wake: threading.Event
        | None = None,
    ) -> None:  # fmt: skip
        self.factory = factory
        self.processors = dict(processors)
        self.wake = wake
        self._paused: dict[int, tuple[float, float]] = {}  # delivery id -> (until, pause), after a failure

    def run(self, stop: threading.Event, interval: float = 0.1) -> None:
        """Process deliveries until `stop` is set, looking again every `interval` seconds when idle."""
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # the database unreachable: log, rest, try again
                log.exception("dialogue worker pass failed")
                busy = False
            if busy:
                continue
            if self.wake is not None:
                self.wake.wait(interval)
                self.wake.clear()
            else:
                stop.wait(interval)

    def run_once(self) -> bool:
        """Take and process one delivery; tell whether there was one."""
        with self.factory() as session:
            delivery = session.scalars(self._next(session)).first()
            if delivery is None:
                return False
            taken = Spooled(delivery.id, delivery.channel, delivery.provider_id, delivery.address,
                            dict(delivery.payload), delivery.received_at)  # fmt: skip
            holds_lock = session.get_bind().dialect.name == "postgresql"
            if not holds_lock:
                session.commit()  # SQLite: one worker; its write lock must not wait on the processing
            try:
                self.processors[taken.channel](taken)
            except Exception:
                session.rollback()
                self._pause(taken.id)
                log.exception("delivery %s (%s %s) not processed; tried again later", taken.id, taken.channel,
                              taken.provider_id)  # fmt: skip
                return True
            self._paused.pop(taken.id, None)
            session.execute(sa.delete(Delivery).where(Delivery.id == taken.id))
            session.commit()
        return True

    def _next(self, session: Session) -> sa.Select[Delivery]:
        older = aliased(Delivery)
        now = time.monotonic()
        paused = [i for i, (until, _) in self._paused.items() if until > now]
        query = (
            sa.select(Delivery)
            .where(
                Delivery.channel.in_(list(self.processors)),
                ~sa.exists().where(
                    older.channel == Delivery.channel,
                    older.address == Delivery.address,
                    older.id < Delivery.id,
                ),
            )
            .order_by(Delivery.id)
            .limit(1)
        )
        if paused:
            query = query.where(Delivery.id.not_in(paused))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Delivery)
        return query

    def _pause(self, delivery_id: int) -> None:
        _until, pause = self._paused.get(delivery_id, (0.0, 0.5))
        pause = min(pause * 2, MAX_PAUSE_S)
        self._paused[delivery_id] = (time.monotonic() + pause, pause)
