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

A delivery whose processor raises (a bug in an adapter, a statement that fails every time) stays in the spool and
is tried again after a pause (2 s, doubling), by any worker, which goes on with the other contacts meanwhile; its
contact's later deliveries wait behind it, to keep their order. The count of attempts is in the row, so it
holds across workers and restarts. After MAX_ATTEMPTS it is given up: the person is sent the translated apology
once (through the inbox's failure path: the message stored as failed, with the error, for an operator), the
row is kept, marked failed, and counted on /healthz (`spool.given_up`), and it no longer holds back the
contact's later deliveries. The database unreachable is never counted: the worker cannot record the attempt
either, and the delivery is simply taken again. The dialogue's own failures never come here: the inbox stores
the message as failed and queues its apology at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased, sessionmaker

from intake.dialogue.types import Incoming, Media, Reply
from intake.models import Channel, Delivery
from intake.platform import clock

log = logging.getLogger(__name__)

# Set when a delivery is stored, so dialogue workers in this process (the embedded service) start at once.
STORED = threading.Event()
# A delivery whose processing raises is tried this many times in all, pausing FIRST_PAUSE_S, then twice as long
# each time (2, 4, 8, 16 s: its contact's later messages wait about half a minute at most), then given up.
MAX_ATTEMPTS = 5
FIRST_PAUSE_S = 2.0
MAX_PAUSE_S = 60.0
MAX_ERROR_CHARS = 500


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
GiveUp = Callable[[Spooled, str], None]  # answers a delivery given up (the apology), given the error


@cache
def _insert(dialect: str) -> sa.Insert:
    """The webhook's one statement, built once per dialect (a webhook builds no SQL per request)."""
    table = cast(sa.Table, Delivery.__table__)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["channel", "provider_id"])


def store(engine: Engine, channel: Channel, provider_id: str, address: str, payload: dict[str, Any]) -> bool:
    """Store one delivery in one statement; return False when it was stored already (a provider's retry).

    On PostgreSQL the INSERT runs in autocommit: one round trip (it is its own transaction; a BEGIN and a COMMIT
    would be two more per webhook). SQLite keeps the engine's BEGIN IMMEDIATE (one writer at a time).
    """
    values = {"channel": channel, "provider_id": provider_id, "address": address, "payload": payload,
              "received_at": clock.now()}  # fmt: skip
    statement = _insert(engine.dialect.name)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            stored = conn.execute(statement, values).rowcount == 1
    else:
        with engine.begin() as conn:
            stored = conn.execute(statement, values).rowcount == 1
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


def apologise(factory: sessionmaker[Session]) -> GiveUp:
    """Return what answers a given-up delivery: the inbox's failure path (intake.inbound.inbox.process), which stores
    the message as FAILED with the error, queues the translated apology in the outbox and takes the person out
    of the step that failed. Once: the message is keyed by its provider id, so a second call changes nothing."""
    from intake.inbound.inbox import process

    def give_up(delivery: Spooled, error: str) -> None:
        incoming = Incoming(
            channel=delivery.channel,
            address=delivery.address,
            text=str(
                delivery.payload.get("text", "")
            ),  # an SMS's text; another channel's update keeps its own
            received_at=delivery.received_at,
            provider_id=delivery.provider_id,
        )

        def failed(*_args: object) -> list[Reply]:
            raise GivenUpError(error)

        process(factory, incoming, handler=failed, queue_replies=True)

    return give_up


class GivenUpError(RuntimeError):
    """The error a given-up delivery's message is stored with (intake.inbound.inbox keeps its repr)."""


# A spool's statistics lag behind a peak: autovacuum analyses a table at most once a minute, and a burst takes the
# spool from empty to 10,000 rows in half a minute. Planned on those statistics, the take (oldest free head,
# LIMIT 1) scanned the whole spool, tested every row for an older one of its contact and sorted them: 11 ms a take at
# 3,000 rows, 24 ms at 10,000, most of PostgreSQL's time in the load run while the webhooks stored (57 ms a take on
# average). Local to the take's transaction, these leave the planner the one plan that suits a queue whatever the
# statistics: walk the primary key in id order and stop at the first free head (0.07 ms at 10,000 rows).
WALK_IN_ID_ORDER = sa.text(
    "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true),"
    " set_config('enable_seqscan', 'off', true)"
)


def retry_pause(attempts: int) -> timedelta:
    """Return how long a delivery that failed `attempts` times waits before its next try (doubling, capped)."""
    return timedelta(seconds=min(FIRST_PAUSE_S * 2 ** (attempts - 1), MAX_PAUSE_S))


class PeakGuard:
    """Acceptance first in a peak: tells the dialogue workers of a process to hold back while the spool grows
    faster than `above` deliveries a second, for at most `max_hold_s` at a time. A webhook that shares its cores
    with the workers then takes what the bare machine takes, and the spool is drained when the peak passes; nice(1)
    could not do it, because the workers' statements run in PostgreSQL's processes at the web's priority.
    Shared by a process's threads.

    Every `every_s` one statement reads the newest delivery's id (ids only grow: the arrivals) and how many wait
    (not given up). Not holding, the spool's growth is arrivals less what the workers processed: a peak the
    workers keep up with is no peak, whatever its rate, and one they cannot keep up with is seen at once, even
    when the workers, draining beside the webhooks, slow the arrivals themselves (an inflow threshold never
    engages then). Holding, nothing is processed, so the hold goes on while the arrivals exceed what the workers
    were processing before it (`drain`, smoothed over the looks without a hold) by more than `above`: the spool
    would still grow that fast if they were let go. A hold that reaches `max_hold_s` ends, and no new one begins
    for as long again: under a peak that never ends the workers drain at least half the time."""

    def __init__(
        self, factory: sessionmaker[Session], above: float, max_hold_s: float = 60.0, every_s: float = 0.25,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.factory, self.above, self.max_hold_s, self.every_s = factory, above, max_hold_s, every_s
        self.monotonic = monotonic
        self._lock = threading.Lock()
        self._newest: int | None = None
        self._waiting = 0
        self._checked_at = 0.0
        self._held_since: float | None = None
        self._rest_until = 0.0
        self.rate = 0.0  # deliveries arriving a second at the last look
        self.growth = 0.0  # how fast the spool grew at the last look (deliveries a second; negative: drained)
        self.drain = 0.0  # deliveries processed a second by the workers when not held (smoothed)

    def holding(self) -> bool:
        """Tell whether to hold back now (looking at the spool at most every `every_s`)."""
        with self._lock:
            now = self.monotonic()
            if self._newest is None or now - self._checked_at >= self.every_s:
                self._look(now)
            return self._held_since is not None

    def _look(self, now: float) -> None:
        with self.factory() as session:
            newest, waiting = session.execute(
                sa.select(sa.func.max(Delivery.id), sa.func.count().filter(Delivery.failed_at.is_(None)))
            ).one()
        first = self._newest is None
        dt = max(now - self._checked_at, 1e-6)
        if newest is not None:  # an empty spool keeps the last id seen: new ones are larger
            # never below 0: SQLite gives an emptied table's ids again
            arrived = 0 if self._newest is None else max(0, newest - self._newest)
            self._newest = newest
        else:
            arrived = 0
        self.rate = arrived / dt
        self.growth = (waiting - self._waiting) / dt
        self._waiting, self._checked_at = waiting, now
        if first:
            return  # the first look only learns where the spool stands
        if self._held_since is None:
            self.drain = 0.5 * self.drain + 0.5 * max(0.0, self.rate - self.growth)
            if self.growth > self.above and now >= self._rest_until:
                self._held_since = now
                log.warning("peak: the spool grows by %.0f deliveries/s (%.0f arriving): the dialogue holds back",
                         self.growth, self.rate)  # fmt: skip
        elif self.rate - self.drain <= self.above:
            log.info("peak passed (%.0f deliveries/s arriving): the dialogue drains the spool", self.rate)
            self._held_since = None
        elif now - self._held_since >= self.max_hold_s:
            log.warning("held back %.0f s: the dialogue drains the spool for as long", now - self._held_since)
            self._held_since, self._rest_until = None, now + self.max_hold_s


class DialogueWorker:
    """Processes spooled deliveries, one at a time, each contact's in order; several may run on PostgreSQL."""

    def __init__(
        self, factory: sessionmaker[Session], processors: Mapping[Channel, Processor], *, wake: threading.Event
        | None = None, give_up: GiveUp | None = None, guard: PeakGuard | None = None,
    ) -> None:  # fmt: skip
        self.factory = factory
        self.processors = dict(processors)
        self.wake = wake
        self.give_up = give_up or apologise(factory)
        self.guard = guard

    def run(self, stop: threading.Event, interval: float = 0.1) -> None:
        """Process deliveries until `stop` is set, looking again every `interval` seconds when idle."""
        while not stop.is_set():
            try:
                if self.guard is not None and self.guard.holding():
                    stop.wait(self.guard.every_s)
                    continue
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
            if session.get_bind().dialect.name == "postgresql":
                session.execute(WALK_IN_ID_ORDER)
            delivery = session.scalars(self._next(session)).first()
            if delivery is None:
                return False
            taken = Spooled(delivery.id, delivery.channel, delivery.provider_id, delivery.address,
                            dict(delivery.payload), delivery.received_at)  # fmt: skip
            attempts = delivery.attempts
            holds_lock = session.get_bind().dialect.name == "postgresql"
            if not holds_lock:
                session.commit()  # SQLite: one worker; its write lock must not wait on the processing
            try:
                self.processors[taken.channel](taken)
            except Exception as exc:
                # Counted in the row, under its lock (PostgreSQL): every worker and a restarted one see the count.
                # The database unreachable fails this UPDATE too, so an outage is never counted as an attempt.
                self._failed(session, taken, attempts + 1, exc)
                session.commit()
                return True
            session.execute(sa.delete(Delivery).where(Delivery.id == taken.id))
            session.commit()
        return True

    def _failed(self, session: Session, taken: Spooled, attempts: int, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        values: dict[str, Any] = {"attempts": attempts, "error": error}
        if attempts < MAX_ATTEMPTS:
            pause = retry_pause(attempts)
            values["next_attempt_at"] = clock.now() + pause
            log.warning("delivery %s (%s %s) failed (attempt %s of %s), tried again in %s s: %s", taken.id,
                        taken.channel, taken.provider_id, attempts, MAX_ATTEMPTS, pause.total_seconds(),
                        type(exc).__name__, exc_info=exc)  # fmt: skip
        else:
            # Given up: the person is told once; the row stays for an operator and holds nobody back
            values["failed_at"] = clock.now()
            log.error("delivery %s (%s %s) given up after %s attempts", taken.id, taken.channel,
                      taken.provider_id, attempts, exc_info=exc)  # fmt: skip
            try:
                self.give_up(taken, f"given up after {attempts} attempts: {error}")
            except (
                Exception
            ):  # given up all the same: a delivery that cannot even be apologised for is no reason
                log.exception("delivery %s given up: the apology could not be stored", taken.id)
        session.execute(sa.update(Delivery).where(Delivery.id == taken.id).values(values))

    def _next(self, session: Session) -> sa.Select[Delivery]:
        older = aliased(Delivery)
        now = clock.now()
        query = (
            sa.select(Delivery)
            .where(
                Delivery.channel.in_(list(self.processors)),
                Delivery.failed_at.is_(None),
                sa.or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
                # a contact's older delivery still to be processed (waiting for its retry too) goes first
                ~sa.exists().where(
                    older.channel == Delivery.channel,
                    older.address == Delivery.address,
                    older.id < Delivery.id,
                    older.failed_at.is_(None),
                ),
            )
            .order_by(Delivery.id)
            .limit(1)
        )
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=Delivery)
        return query


def counts(session: Session) -> dict[str, int]:
    """Return how many deliveries wait in the spool and how many were given up (for /healthz)."""
    waiting, failed = session.execute(
        sa.select(
            sa.func.count().filter(Delivery.failed_at.is_(None)),
            sa.func.count().filter(Delivery.failed_at.is_not(None)),
        )
    ).one()
    return {"waiting": int(waiting), "given_up": int(failed)}
