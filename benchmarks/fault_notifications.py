"""The notification worker under faults: real `reunite worker` processes, SIGKILLed and restarted, against fake
Twilio and Telegram servers that fail in phases (500, then 429 with Retry-After, then 403/21610 for some
recipients), while notifications are queued through intake.outbox in transactions of which some roll back.

    .venv/bin/python -m benchmarks.fault_notifications --notifications 2000 --workers 3

It creates a PostgreSQL database on --database-url's server (default: the local one) and drops it afterwards,
runs the same workload without faults first (the baseline), then with faults, prints the figures, the checks and
the command, and exits 1 when a guarantee fails. tests/notifications/test_fault_run.py runs a bounded version.
See docs/reliability.md, "Notifications under faults".
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.fault_providers import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    BOT_TOKEN,
    FROM_NUMBER,
    FaultClock,
    FaultTelegram,
    FaultTwilio,
    Lookup,
    Request,
)
from intake.models import (  # noqa: E402
    AuditEvent,
    Case,
    Channel,
    Contact,
    Notification,
    NotificationChannel,
    Person,
    Role,
)
from intake.outbox.queue import FAMILY_CHANNELS, OfficerAddress, notify_family, notify_officers  # noqa: E402
from intake.platform import schema  # noqa: E402
from intake.platform.db import make_engine, make_session_factory  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REUNITE = [sys.executable, "-c", "from intake.cli import main; main()"]
CODE = re.compile(r"FR\d{6}")
UNRESOLVED = ("pending", "sending")


@dataclass(frozen=True)
class Config:
    notifications: int = 2000  # events queued (each is one notification; failures add fallbacks)
    workers: int = 3
    database_url: str = DEFAULT_SERVER  # a PostgreSQL server: the run creates its own database there
    faults: bool = True
    error_seconds: float = 6.0  # every send answered 500 this long ...
    throttle_seconds: float = 6.0  # ... then 429 with Retry-After this long ...
    retry_after: int = 1
    blocked_share: float = 0.05  # ... then these recipients get 403 / 21610 for good
    rollback_share: float = 0.10  # transactions rolled back after their enqueue
    produce_seconds: float = 20.0  # the events are queued over this long, while the workers run
    window_kills: int = 6  # SIGKILLs the fake sends right after accepting a message
    random_kills: int = 6  # SIGKILLs at random moments
    per_second: float = 10.0  # REUNITE_SMS_PER_SECOND and REUNITE_TELEGRAM_PER_SECOND of each worker
    lease_seconds: float = 10.0
    twilio_deduplicates: bool = False  # the fake honours I-Twilio-Idempotency-Token
    seed: int = 12
    deadline_seconds: float = 600.0

    def command(self) -> str:
        """Return the command line that reproduces this run."""
        args = ["--notifications", str(self.notifications), "--workers", str(self.workers)]
        default = Config()
        for name in ("error_seconds", "throttle_seconds", "produce_seconds", "window_kills", "random_kills",
                     "per_second", "lease_seconds", "seed"):  # fmt: skip
            if getattr(self, name) != getattr(default, name):
                args += [f"--{name.replace('_', '-')}", str(getattr(self, name))]
        if self.database_url != DEFAULT_SERVER:
            args += ["--database-url", make_url(self.database_url).render_as_string()]
        if self.twilio_deduplicates:
            args.append("--twilio-deduplicates")
        return ".venv/bin/python -m benchmarks.fault_notifications " + shlex.join(args)


@dataclass
class Kill:
    at: float
    tag: str
    deliberate: bool  # sent by the fake right after it accepted a message
    in_window: bool = False  # an accepted send of the worker's was not committed yet
    channel: str | None = None
    # the channel of each accepted send it had not recorded (a worker has up to REUNITE_NOTIFY_THREADS in flight)
    window: list[str] = field(default_factory=list)


@dataclass
class Result:
    config: Config
    seconds: float = 0.0
    events_committed: int = 0
    events_rolled_back: int = 0
    rows: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)  # per channel
    accepted: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    rolled_back_sends: int = 0
    missing_rows: int = 0  # committed events without their notification
    unresolved: int = 0
    phantom_sent: int = 0  # "sent" with no send the provider accepted
    unknown_sends: int = 0
    kills: list[Kill] = field(default_factory=list)
    restarts: int = 0
    uncertain_attempts: int = 0
    lookups: int = 0  # a worker asked Twilio before sending a message again
    lookups_found: int = 0
    failed: Counter[str] = field(default_factory=Counter)  # per error code
    failed_by_audience: Counter[str] = field(default_factory=Counter)
    failed_with_fallback: int = 0
    failed_audited_only: int = 0  # officers' alerts, and families with no other channel
    failed_unreported: int = 0
    gave_up: int = 0
    retry_after_min_gap: float | None = None
    peak_per_worker: dict[str, int] = field(default_factory=dict)  # per channel, any 1 s window, one process
    peak_total: dict[str, int] = field(default_factory=dict)
    mean_rate: dict[str, float] = field(default_factory=dict)
    log_dir: str = ""

    @property
    def window_hits(self) -> Counter[str]:
        return Counter(channel for k in self.kills for channel in k.window)

    def checks(self) -> list[tuple[str, bool]]:
        """Return each guarantee and whether it held."""
        rate_ok = all(
            self.peak_per_worker.get(c, 0) <= self.config.per_second + 1 for c in ("sms", "telegram")
        )
        dup_ok = all(self.duplicates[c] <= self.window_hits[c] for c in ("sms", "telegram"))
        return [
            ("no send for a rolled-back event", self.rolled_back_sends == 0 and self.unknown_sends == 0),
            ("every committed event has its notification", self.missing_rows == 0),
            ("every notification resolved (none pending or sending)", self.unresolved == 0),
            ("no notification marked sent that the provider did not accept", self.phantom_sent == 0),
            ("duplicates at most the kills between acceptance and commit, per channel", dup_ok),
            ("every terminal failure shown to officers, families' fallen back where they can be", self.failed_unreported == 0),
            ("Retry-After honoured", self.retry_after_min_gap is None or self.retry_after_min_gap >= 0.9 * self.config.retry_after),
            ("each worker within its per-channel rate (+1 for the window's edge)", rate_ok),
        ]  # fmt: skip


# -- the database -------------------------------------------------------------------------------------------


@contextmanager
def scratch_database(server_url: str, folder: Path) -> Iterator[str]:
    """Create a throw-away database, migrated: on the PostgreSQL server (dropped afterwards), or for a
    sqlite URL a file in `folder` (one worker only: SQLite has no SKIP LOCKED)."""
    if make_url(server_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{folder / 'fault.sqlite3'}"
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        yield url
        return
    name = f"reunite_fault_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        schema.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class World:
    families: list[tuple[int, list[tuple[int, Channel, str]]]]  # case id, [(contact id, channel, address)]
    officers: list[OfficerAddress]
    blocked: set[str]


def seed_world(engine: sa.Engine, cfg: Config, rng: random.Random) -> World:
    """Create families (an SMS reporter, half of them a father on Telegram too) and officers."""
    factory = make_session_factory(engine)
    families = []
    count = max(10, cfg.notifications // 5)
    with factory() as session:
        for i in range(count):
            mother = Contact(channel=Channel.SMS, address=f"+86138{i:08d}", language="zh_CN")
            session.add(mother)
            session.flush()
            case = Case(reference=f"FAULT-{i:06d}", pin="00000000", reported_by_contact_id=mother.id)
            session.add(case)
            session.flush()
            session.add(Person(case_id=case.id, role=Role.MOTHER, contact_id=mother.id))
            contacts = [(mother.id, Channel.SMS, mother.address)]
            if i % 2 == 0:
                father = Contact(channel=Channel.TELEGRAM, address=str(5_000_000 + i), language="en")
                session.add(father)
                session.flush()
                session.add(Person(case_id=case.id, role=Role.FATHER, contact_id=father.id))
                contacts.append((father.id, Channel.TELEGRAM, father.address))
            families.append((case.id, contacts))
        session.commit()
    officers = [
        OfficerAddress(k, NotificationChannel.TELEGRAM, str(9_000_000 + k), "zh_CN")
        if k % 2
        else OfficerAddress(k, NotificationChannel.SMS, f"+86159{k:08d}", "zh_CN")
        for k in range(10)
    ]
    blocked: set[str] = set()
    if (
        cfg.faults
    ):  # some mothers (SMS), fathers (Telegram) and officers of each channel, at least one of each
        groups = [[a for _, contacts in families for _, ch, a in contacts if ch == channel]
                  for channel in (Channel.SMS, Channel.TELEGRAM)]  # fmt: skip
        groups += [
            [o.address for o in officers if o.channel == channel] for channel in FAMILY_CHANNELS.values()
        ]
        for group in groups:
            blocked.update(rng.sample(group, max(1, round(len(group) * cfg.blocked_share))))
    return World(families, officers, blocked)


@dataclass
class Produced:
    committed: set[str] = field(default_factory=set)  # event codes
    rolled_back: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)  # notification keys of committed events
    done: threading.Event = field(default_factory=threading.Event)


def produce(engine: sa.Engine, cfg: Config, world: World, rng: random.Random, out: Produced) -> None:
    """Queue the events through intake.outbox, 1-5 per transaction, rolling back `rollback_share` of them."""
    factory = make_session_factory(engine)
    i = 0
    start = time.monotonic()
    try:
        while i < cfg.notifications:
            batch = min(rng.randint(1, 5), cfg.notifications - i)
            codes, keys = [], []
            with factory() as session:
                for _ in range(batch):
                    code = f"FR{i:06d}"
                    if rng.random() < 0.85:
                        case_id, contacts = rng.choice(world.families)
                        contact_id, _, _ = rng.choice(contacts)
                        contact = session.get_one(Contact, contact_id)
                        key = f"ev:{i}"
                        notify_family(session, contact=contact, key=key, template="sample.received",
                                      params={"code": code, "reference": session.get_one(Case, case_id).reference},
                                      case_id=case_id)  # fmt: skip
                        keys.append(key)
                    else:
                        officer = rng.choice(world.officers)
                        notify_officers(session, recipients=[officer], key=f"cand:{i}", template="candidate.stored",
                                        params={"reference": code, "band": "candidate", "province": "Yunnan",
                                                "url": "https://reunite.example.org/console"})  # fmt: skip
                        keys.append(f"cand:{i}:officer:{officer.officer_id}")
                    codes.append(code)
                    i += 1
                if rng.random() < cfg.rollback_share:
                    session.rollback()
                    out.rolled_back.update(codes)
                else:
                    session.commit()
                    out.committed.update(codes)
                    out.keys.update(keys)
            # spread the events over produce_seconds, so they meet every phase and kill
            ahead = start + cfg.produce_seconds * i / cfg.notifications - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    finally:
        out.done.set()


# -- the workers ------------------------------------------------------------------------------------------


class Workers:
    """`reunite worker` processes in slots; a dead one is restarted with a new tag (its base URLs' marker)."""

    def __init__(
        self, cfg: Config, db_url: str, twilio: FaultTwilio, telegram: FaultTelegram, logs: Path
    ) -> None:
        self.cfg, self.db_url, self.twilio, self.telegram, self.logs = cfg, db_url, twilio, telegram, logs
        self.lock = threading.Lock()
        self.procs: dict[int, tuple[str, subprocess.Popen[bytes]]] = {}
        self.generation: Counter[int] = Counter()
        self.restarts = 0
        self.stopping = False

    def env(self, tag: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TWILIO_", "TELEGRAM_", "SMTP_", "DATABASE_"))
        }
        env.update(
            DATABASE_URL=self.db_url, REUNITE_DATA_DIR=str(self.logs / "data"),
            TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER=FROM_NUMBER,
            TWILIO_API_BASE_URL=self.twilio.url_for(tag), TELEGRAM_BOT_TOKEN=BOT_TOKEN,
            TELEGRAM_API_BASE_URL=self.telegram.url_for(tag), REUNITE_FAMILY_HOURS="0-24",
            REUNITE_RETRY_BASE_SECONDS="0.2", REUNITE_RETRY_MAX_SECONDS="2", REUNITE_NOTIFY_MAX_ATTEMPTS="40",
            REUNITE_NOTIFY_LEASE_SECONDS=str(self.cfg.lease_seconds),
            REUNITE_SMS_PER_SECOND=str(self.cfg.per_second), REUNITE_TELEGRAM_PER_SECOND=str(self.cfg.per_second),
        )  # fmt: skip
        return env

    def start(self, slot: int) -> None:
        self.generation[slot] += 1
        tag = f"s{slot}g{self.generation[slot]}"
        log = open(self.logs / f"worker-{tag}.log", "wb")  # noqa: SIM115 - the process owns it
        proc = subprocess.Popen([*REUNITE, "worker", "--interval", "0.2"], stdout=log, stderr=subprocess.STDOUT,
                                env=self.env(tag), cwd=self.logs)  # fmt: skip
        log.close()
        self.procs[slot] = (tag, proc)

    def start_all(self) -> None:
        with self.lock:
            for slot in range(self.cfg.workers):
                self.start(slot)

    def kill(self, tag: str | None = None, rng: random.Random | None = None) -> str | None:
        """SIGKILL the worker with this tag (or a random live one); return its tag, None if none was alive."""
        with self.lock:
            alive = [(t, p) for t, p in self.procs.values() if p.poll() is None]
            if tag is not None:
                alive = [(t, p) for t, p in alive if t == tag]
            if not alive:
                return None
            victim, proc = rng.choice(alive) if rng is not None else alive[0]
            proc.send_signal(signal.SIGKILL)
            return victim

    def restart_dead(self) -> None:
        with self.lock:
            if self.stopping:
                return
            for slot, (_, proc) in list(self.procs.items()):
                if proc.poll() is not None:
                    self.restarts += 1
                    self.start(slot)

    def stop(self) -> None:
        with self.lock:
            self.stopping = True
            procs = [p for _, p in self.procs.values()]
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# -- one run ----------------------------------------------------------------------------------------------


def _code(text: str) -> str | None:
    found = CODE.search(text)
    return found.group(0) if found else None


def run(cfg: Config, *, echo: bool = True) -> Result:
    """Run the workload once (with or without faults) on a database of its own; return the figures."""
    rng = random.Random(cfg.seed)
    result = Result(cfg)
    clock = FaultClock(
        cfg.error_seconds if cfg.faults else 0, cfg.throttle_seconds if cfg.faults else 0, cfg.retry_after
    )
    twilio = FaultTwilio(clock, deduplicate=cfg.twilio_deduplicates)
    telegram = FaultTelegram(clock)
    logs = Path(tempfile.mkdtemp(prefix="reunite-fault-"))
    result.log_dir = str(logs)
    with scratch_database(cfg.database_url, logs) as db_url:
        engine = make_engine(db_url, pool_size=4)
        world = seed_world(engine, cfg, rng)
        twilio.blocked = telegram.blocked = world.blocked
        workers = Workers(cfg, db_url, twilio, telegram, logs)
        window_budget = [cfg.window_kills if cfg.faults else 0]
        kill_lock = threading.Lock()
        accepted_seen = [0]
        every = max(3, cfg.notifications // (cfg.window_kills + 2)) if cfg.window_kills else 0  # all land

        def on_accept(tag: str, request: Request) -> None:
            with kill_lock:
                accepted_seen[0] += 1
                if not window_budget[0] or accepted_seen[0] % every:
                    return
                if workers.kill(tag) is None:
                    return
                window_budget[0] -= 1
                result.kills.append(Kill(time.monotonic(), tag, True, channel=request.channel))

        twilio.on_accept = telegram.on_accept = on_accept
        twilio.server.start()
        telegram.server.start()
        produced = Produced()
        producer = threading.Thread(
            target=produce, args=(engine, cfg, world, random.Random(cfg.seed + 1), produced)
        )
        started = time.monotonic()
        try:
            workers.start_all()
            clock.start()
            producer.start()
            horizon = cfg.produce_seconds + clock.error_seconds + clock.throttle_seconds
            random_at = sorted(
                rng.uniform(1.0, horizon) for _ in range(cfg.random_kills if cfg.faults else 0)
            )
            while True:
                now = time.monotonic() - started
                while random_at and random_at[0] <= now:
                    random_at.pop(0)
                    victim = workers.kill(rng=rng)
                    if victim is not None:
                        result.kills.append(Kill(time.monotonic(), victim, False))
                time.sleep(0.1)
                workers.restart_dead()
                if produced.done.is_set() and not random_at and now > horizon:
                    with engine.connect() as conn:
                        left = conn.scalar(sa.select(sa.func.count()).select_from(Notification)
                                           .where(Notification.status.in_(UNRESOLVED)))  # fmt: skip
                    if not left:
                        break
                if now > cfg.deadline_seconds:
                    if echo:
                        print(f"deadline of {cfg.deadline_seconds:.0f} s reached; stopping", file=sys.stderr)
                    break
                time.sleep(0.2)
        finally:
            workers.stop()
            producer.join(timeout=60)
            twilio.server.stop()
            telegram.server.stop()
        result.seconds = time.monotonic() - started
        result.restarts = workers.restarts
        analyse(result, engine, produced, world, twilio.requests + telegram.requests, twilio.lookups)
        engine.dispose()
    return result


def analyse(
    result: Result,
    engine: sa.Engine,
    produced: Produced,
    world: World,
    requests: list[Request],
    lookups: list[Lookup],
) -> None:
    """Compare what the fakes received with what the database says."""
    result.events_committed, result.events_rolled_back = len(produced.committed), len(produced.rolled_back)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(Notification)).mappings().all()
        audited = set(
            conn.scalars(sa.select(AuditEvent.entity_id).where(AuditEvent.action == "notification.failed"))
        )
        contacts = {
            c.id: c
            for c in conn.execute(sa.select(Contact.id, Contact.channel, Contact.address, Contact.opted_out))
        }
    result.rows = len(rows)
    result.lookups, result.lookups_found = len(lookups), sum(1 for k in lookups if k.found)
    by_code: dict[tuple[str, str], dict[str, object]] = {}
    for row in rows:
        params = row["params"]
        code = str(params.get("code") or params.get("reference"))
        by_code[(str(row["channel"].value), code)] = dict(row)
        result.by_status[row["status"].value] += 1
        result.uncertain_attempts += row["uncertain_attempts"]
    keys = {str(r["idempotency_key"]) for r in rows}
    result.missing_rows = len(produced.keys - keys)
    result.unresolved = sum(result.by_status[s] for s in UNRESOLVED)

    # What the providers accepted: sends of rolled-back events, duplicates, rows marked sent without a send.
    accepted_by: dict[tuple[str, str], list[Request]] = defaultdict(list)
    for r in requests:
        result.requests[r.channel] += 1
        code = _code(r.text)
        if r.message_id is None or code is None:
            continue
        result.accepted[r.channel] += 1
        if code in produced.rolled_back:
            result.rolled_back_sends += 1
        elif (r.channel, code) not in by_code:
            result.unknown_sends += 1
        accepted_by[(r.channel, code)].append(r)
    for sends in accepted_by.values():
        result.duplicates[sends[0].channel] += len(sends) - 1
    for row in rows:
        channel = row["channel"].value
        params = row["params"]
        code = str(params.get("code") or params.get("reference"))
        if row["status"].value in ("sent", "delivered") and not accepted_by.get((channel, code)):
            result.phantom_sent += 1
    for kill in result.kills:
        # In the window: an accepted send of the killed process was requested (or looked up at Twilio) again
        # later. Had the process recorded it, the row would be `sent` and never claimed again; it was left
        # `sending`, and a takeover came after the lease (a fake that deduplicates logs that request too). A
        # worker has several sends in flight (its send threads), so one kill may leave several in the window.
        mine = [r for r in requests if r.tag == kill.tag and r.message_id is not None and r.at <= kill.at]
        for sent in sorted(mine, key=lambda r: r.at):
            code = _code(sent.text)
            again = any(
                r.channel == sent.channel and _code(r.text) == code and r.at > sent.at for r in requests
            )
            asked = sent.channel == "sms" and any(
                k.address == sent.address and k.at > sent.at for k in lookups
            )
            if again or asked:
                kill.in_window, kill.channel = True, sent.channel
                kill.window.append(sent.channel)

    # Retry-After: the next request for a message answered 429 comes no sooner than the header said.
    by_message: dict[tuple[str, str], list[Request]] = defaultdict(list)
    for r in sorted(requests, key=lambda r: r.at):
        code = _code(r.text)
        if code:
            by_message[(r.channel, code)].append(r)
    gaps = [
        b.at - a.at
        for seq in by_message.values()
        for a, b in zip(seq, seq[1:], strict=False)
        if a.status == 429
    ]
    result.retry_after_min_gap = min(gaps) if gaps else None

    # Terminal failures: audited for officers; a family's message queued on their other channel when they have one.
    family_channels: dict[int, set[NotificationChannel]] = {}
    for case_id, members in world.families:
        family_channels[case_id] = {
            FAMILY_CHANNELS[ch] for cid, ch, _ in members if not contacts[cid].opted_out
        }
    fallbacks = {r["fallback_of_id"] for r in rows if r["fallback_of_id"] is not None}
    for row in rows:
        if row["status"].value != "failed":
            continue
        result.failed[str(row["error_code"])] += 1
        result.failed_by_audience[row["audience"].value] += 1
        if row["error_code"] == "gave_up":
            result.gave_up += 1
        seen = str(row["id"]) in audited
        other = family_channels.get(row["case_id"] or -1, set()) - {row["channel"]}
        can_fall_back = row["audience"].value == "family" and row["fallback_of_id"] is None and other
        if not seen or (can_fall_back and row["id"] not in fallbacks):
            result.failed_unreported += 1
        elif can_fall_back:
            result.failed_with_fallback += 1
        else:
            result.failed_audited_only += 1

    # Rates: every request the fakes got (the limit spaces requests, whatever their answer).
    for channel in ("sms", "telegram"):
        times = sorted(r.at for r in requests if r.channel == channel)
        result.peak_total[channel] = _peak(times)
        per_slot: dict[str, list[float]] = defaultdict(list)
        for r in requests:
            if r.channel == channel:
                per_slot[r.tag.partition("g")[0]].append(r.at)
        result.peak_per_worker[channel] = max((_peak(sorted(t)) for t in per_slot.values()), default=0)
        span = (times[-1] - times[0]) if len(times) > 1 else 0.0
        result.mean_rate[channel] = len(times) / span if span else 0.0


def _peak(times: list[float], window: float = 1.0) -> int:
    """Return the most requests within any `window` seconds."""
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


# -- the report -------------------------------------------------------------------------------------------


def report(faulty: Result, baseline: Result | None) -> str:
    cfg = faulty.config
    runs = [("baseline (no faults)", baseline), ("faults", faulty)] if baseline else [("faults", faulty)]
    lines = [f"reunite notification fault run, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores",
             f"reproduce: {cfg.command()}", ""]  # fmt: skip
    for name, r in runs:
        assert r is not None
        hits = r.window_hits
        lines += [
            f"== {name}: {r.config.notifications} events, {r.config.workers} workers, {r.seconds:.1f} s",
            f"  events committed {r.events_committed}, rolled back {r.events_rolled_back}; notification rows {r.rows}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(r.by_status.items())),
            f"  requests sms {r.requests['sms']}, telegram {r.requests['telegram']}; accepted sms {r.accepted['sms']},"
            f" telegram {r.accepted['telegram']}",
            f"  kills {len(r.kills)} ({sum(k.deliberate for k in r.kills)} by the fake right after acceptance,"
            f" {sum(not k.deliberate for k in r.kills)} at random), restarts {r.restarts};"
            f" kills between acceptance and commit: sms {hits['sms']}, telegram {hits['telegram']}",
            f"  duplicates: sms {r.duplicates['sms']}, telegram {r.duplicates['telegram']}"
            f" (uncertain_attempts recorded: {r.uncertain_attempts}; Twilio asked before sending again"
            f" {r.lookups} times, had it {r.lookups_found})",
            f"  sends for rolled-back events {r.rolled_back_sends}; committed events without a row {r.missing_rows};"
            f" unresolved {r.unresolved}; sent without acceptance {r.phantom_sent}",
            f"  terminal failures {sum(r.failed.values())} ({', '.join(f'{k} {v}' for k, v in sorted(r.failed.items())) or '-'}):"
            f" (family {r.failed_by_audience['family']}, officer {r.failed_by_audience['officer']}):"
            f" fell back {r.failed_with_fallback}, audited for officers only {r.failed_audited_only},"
            f" unreported {r.failed_unreported}",
            "  Retry-After: shortest wait after a 429 "
            + (f"{r.retry_after_min_gap:.2f} s (asked {r.config.retry_after} s)" if r.retry_after_min_gap is not None else "-"),
            f"  rate per channel (limit {r.config.per_second:g}/s per worker, {r.config.per_second * r.config.workers:g}/s"
            f" for {r.config.workers}): peak in 1 s, one worker: sms {r.peak_per_worker.get('sms')},"
            f" telegram {r.peak_per_worker.get('telegram')}; all workers: sms {r.peak_total.get('sms')},"
            f" telegram {r.peak_total.get('telegram')}; mean sms {r.mean_rate.get('sms', 0):.1f}/s,"
            f" telegram {r.mean_rate.get('telegram', 0):.1f}/s",
            "",
        ]  # fmt: skip
    for name, r in runs:
        assert r is not None
        for check, ok in r.checks():
            lines.append(f"  [{'ok' if ok else 'FAILED'}] {name}: {check}")
    lines.append(f"worker logs (kept if a check failed): {faulty.log_dir}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    d = Config()
    parser.add_argument("--notifications", type=int, default=d.notifications)
    parser.add_argument("--workers", type=int, default=d.workers)
    parser.add_argument(
        "--database-url",
        default=d.database_url,
        help="a PostgreSQL server (the run creates and drops its own database there), or sqlite:// (a temporary file; with --workers 1)",
    )
    parser.add_argument("--error-seconds", type=float, default=d.error_seconds)
    parser.add_argument("--throttle-seconds", type=float, default=d.throttle_seconds)
    parser.add_argument("--produce-seconds", type=float, default=d.produce_seconds)
    parser.add_argument("--window-kills", type=int, default=d.window_kills)
    parser.add_argument("--random-kills", type=int, default=d.random_kills)
    parser.add_argument("--per-second", type=float, default=d.per_second)
    parser.add_argument("--lease-seconds", type=float, default=d.lease_seconds)
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument(
        "--twilio-deduplicates", action="store_true", help="the fake Twilio honours the idempotency token"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the run without faults")
    args = parser.parse_args(argv)
    cfg = Config(
        notifications=args.notifications, workers=args.workers, database_url=args.database_url,
        error_seconds=args.error_seconds, throttle_seconds=args.throttle_seconds, produce_seconds=args.produce_seconds,
        window_kills=args.window_kills, random_kills=args.random_kills, per_second=args.per_second,
        lease_seconds=args.lease_seconds, seed=args.seed, twilio_deduplicates=args.twilio_deduplicates,
    )  # fmt: skip
    baseline = None if args.no_baseline else run(dataclasses.replace(cfg, faults=False))
    faulty = run(cfg)
    print(report(faulty, baseline))
    ok = all(ok for _, ok in faulty.checks()) and (baseline is None or all(ok for _, ok in baseline.checks()))
    for r in (baseline, faulty):
        if r is not None and (ok or r is baseline):
            shutil.rmtree(r.log_dir, ignore_errors=True)  # kept only when a guarantee failed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
