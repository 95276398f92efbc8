"""The notification worker: claim queued notifications, send them, record what the provider said.

A pass (`Worker.run_once`):

1. queues the reminders that are due (`intake.outbox.reminders.schedule_reminders`, idempotent);
2. claims up to `batch_size` due rows in one short transaction: `SELECT ... FOR UPDATE SKIP LOCKED` on
   PostgreSQL, so workers running at once never claim the same row (SQLite: one worker; its BEGIN IMMEDIATE
   serialises claims anyway). A claimed row is `sending` with a lease (`claimed_until`);
3. sends each claimed row with no transaction open, up to `REUNITE_NOTIFY_THREADS` at once (1 by default, 8 recommended on PostgreSQL; a pass
   claims at most one reply per contact, so a contact's replies keep their order), then records the outcome
   under a row lock: `sent` with the provider's id; a retry later (exponential backoff with full jitter, or the
   provider's Retry-After); or a permanent failure, shown to officers in the audit log, with the family's
   message queued on their other channel if they have one.

A worker killed between the provider's acceptance and its commit leaves the row `sending`; when the lease ends
another worker takes it over and sends again with the same idempotency key (Twilio: the I-Twilio-Idempotency-Token
header), so a provider that honours the key refuses a second copy. Telegram and SMTP have no such key. Every
takeover of a row whose send had begun (`send_started_at`, committed just before the provider is called) is
counted in `uncertain_attempts` and logged, so a possible second copy is seen; the rest of a dead worker's batch
was never sent and is taken over without counting. Before sending such a row again the worker asks the provider
whether it has the message already (`Provider.lookup`: Twilio's Messages list, by number and text); Telegram and
SMTP cannot tell, so there a second copy is possible.

Each worker spaces its sends on a channel to `<channel>_per_second` (REUNITE_SMS_PER_SECOND, ...): the limit is
per process, so N workers send up to N times it.

A claim is the worker's only while the row's `attempts` is still the number its claim set: a worker slower than
its lease (a provider that hangs) finds the row taken over, sends nothing, and does not overwrite the new
owner's outcome (an acceptance is still recorded: it only moves the row forward).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from importlib.metadata import entry_points

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, sessionmaker

from intake.models import Audience, Contact, Notification, NotificationChannel, NotificationStatus
from intake.models.outbox import MAX_NOTIFICATION_PROVIDER_ID_CHARS
from intake.outbox.delivery import opted_out, record_failure
from intake.outbox.queue import advance, case_reference
from intake.outbox.reminders import schedule_reminders
from intake.outbox.templates import REPLY_TEMPLATE, TEMPLATES, render, render_subject
from intake.platform import clock
from intake.platform.db import transaction
from intake.platform.settings import Settings
from notifications.providers import (
    Accepted,
    Outcome,
    Outgoing,
    Permanent,
    Provider,
    Retry,
    installed_providers,
)
from notifications.render import fit_sms

log = logging.getLogger(__name__)
St = NotificationStatus
TASK_GROUP = "reunite.worker_tasks"  # other queues (the matching service's jobs) plug in here
REMINDER_PASS_SECONDS = 60.0
# The other queues (retention, case power, photo fetches) are looked at once a second, and at every pass while
# they find work: a busy sender passes many times a second, and looking each time cost every queue's statements
# on each pass, beside the webhooks, for queues that wait seconds without harm.
TASK_PASS_SECONDS = 1.0
Task = Callable[[sessionmaker[Session], Settings], int]


def installed_tasks() -> list[Task]:
    """Return the extra queue passes that installed packages register in `reunite.worker_tasks`."""
    return [ep.load() for ep in sorted(entry_points(group=TASK_GROUP), key=lambda ep: ep.name)]


class RateLimit:
    """Space one channel's sends at least 1/rate seconds apart in this process (rate 0: no limit)."""

    def __init__(self, per_second: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.gap = 1.0 / per_second if per_second > 0 else 0.0
        self.monotonic = monotonic
        self.next_at = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Sleep until the next send is allowed, and book that slot (the worker's send threads share it)."""
        if not self.gap:
            return
        with self._lock:
            now = self.monotonic()
            start = max(now, self.next_at)
            self.next_at = start + self.gap
        if start > now:
            time.sleep(start - now)


class Worker:
    """One notification worker; several may run at once on PostgreSQL."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        settings: Settings,
        providers: Mapping[NotificationChannel, Provider] | None = None,
        *,
        tasks: list[Task] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.settings = settings
        self.policy = policy = settings.notifications
        self.providers = dict(installed_providers(settings) if providers is None else providers)
        self.tasks = tasks if tasks is not None else []
        self.rng = rng or random.Random()
        self._last_reminder_pass: float | None = None
        self._last_task_pass: float | None = None
        self._tasks_busy = False  # a task found work at the last look: look again at the next pass
        self._claims: dict[int, int] = {}  # notification id -> its `attempts` when this worker claimed it
        self._uncertain: dict[int, datetime] = {}  # taken over mid-send -> when the dead worker began sending
        self._lanes: dict[int, object] = {}  # claimed id -> whom it goes to (a contact, or an address)
        # The database gone in the middle of a send (a restart, a network cut): what the provider answered, kept to
        # be recorded at the next pass, and the claimed rows never prepared (so never sent), taken up again then.
        # Else each would wait for its lease to end (and its contact's later replies behind it, in order).
        self._unrecorded: dict[int, Outcome] = {}
        self._unprepared: set[int] = set()
        self._pool: ThreadPoolExecutor | None = None  # the send threads, started when a pass has two sends
        per_second = {
            NotificationChannel.SMS: policy.sms_per_second,
            NotificationChannel.TELEGRAM: policy.telegram_per_second,
            NotificationChannel.EMAIL: policy.email_per_second,
        }
        self.limits = {channel: RateLimit(rate) for channel, rate in per_second.items()}

    # -- the loop ---------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, interval: float = 2.0, wake: threading.Event | None = None) -> None:
        """Run passes until `stop` is set, resting `interval` seconds when a pass found nothing to do (or until
        `wake` is set: the embedded service wakes it when the dialogue queued replies)."""
        try:
            while not stop.is_set():
                try:
                    busy = self.run_once()
                except Exception:  # a database hiccup must not end the worker: log, rest, try again
                    log.exception("worker pass failed")
                    busy = 0
                if busy:
                    continue
                if wake is None:
                    stop.wait(interval)
                else:
                    wake.wait(interval)
                    wake.clear()
        finally:
            self.close()

    def run_once(self) -> int:
        """Run one pass: what the database could not take at the last pass, reminders, other queues, then one batch
        of notifications; return how much was done."""
        done = self.resume()
        done += self.queue_reminders() + self.run_tasks()
        claimed = self.claim()
        self.send_all(claimed)
        return done + len(claimed)

    def resume(self) -> int:
        """Record the outcomes the database could not take when the provider gave them, and send the claimed rows
        it could not prepare (nothing of them went out), once it answers again; return how many. While it is still
        down this raises, and the pass fails as any pass does then. The provider is never called again for an
        outcome already given, and a row another worker took over meanwhile is left to it (`_still_ours`)."""
        done = 0
        for nid, outcome in list(self._unrecorded.items()):
            self.record(nid, outcome)
            del self._unrecorded[nid]
            done += 1
        pending, self._unprepared = sorted(self._unprepared), set()
        # in order; what the database again could not take waits for the next pass
        self._process_lane(pending)
        return done + len(pending)

    def run_tasks(self, *, force: bool = False) -> int:
        """Run the other queues' passes (`tasks`), at most once every TASK_PASS_SECONDS unless one found work at
        the last look (or `force`); return how much they did."""
        now = time.monotonic()
        last = self._last_task_pass
        if not (force or self._tasks_busy or last is None or now - last >= TASK_PASS_SECONDS):
            return 0
        self._last_task_pass = now
        done = 0
        for task in self.tasks:
            try:
                done += task(self.session_factory, self.settings)
            except (
                Exception
            ):  # one queue's failure (a photo host down, a bad setting) must not stop the sends
                log.exception("worker task %s failed", getattr(task, "__name__", task))
        self._tasks_busy = done > 0
        return done

    def send_all(self, claimed: list[int]) -> None:
        """Send a pass's claimed notifications, up to `send_threads` at once: a provider answers in tens to
        hundreds of milliseconds, so one at a time would cap the worker at a few a second. The messages of one
        person (contact, or address) go one after the other in the order claimed, people at once; a pass claims
        at most one dialogue reply per contact, and replies wait for the earlier ones. Every send ends before this
        returns; the first that raised is raised again then (the others were sent and recorded)."""
        lanes: dict[object, list[int]] = {}
        for nid in claimed:  # a person's messages one after the other, in claim order; people at once
            lanes.setdefault(self._lanes.pop(nid, nid), []).append(nid)
        if len(lanes) <= 1 or self.policy.send_threads <= 1:
            self._process_lane(claimed)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.policy.send_threads, thread_name_prefix="send")
        futures = [self._pool.submit(self._process_lane, lane) for lane in lanes.values()]
        wait(futures)
        for future in futures:
            future.result()

    def _process_lane(self, nids: list[int]) -> None:
        for i, nid in enumerate(nids):
            try:
                self.process(nid)
            except sa.exc.OperationalError:
                self._unprepared.update(nids[i + 1 :])  # the database gone: the rest again at the next pass
                raise

    def close(self) -> None:
        """Let the send threads go (the worker can still run: they are started again when needed)."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def queue_reminders(self, *, force: bool = False) -> int:
        """Queue due reminders, at most once a minute (every call when `force`)."""
        now = clock.now().timestamp()
        last = self._last_reminder_pass
        if not force and last is not None and now - last < REMINDER_PASS_SECONDS:
            return 0
        self._last_reminder_pass = now
        with transaction(self.session_factory) as session:
            return schedule_reminders(session)

    # -- claim, send, record ----------------------------------------------------------------------------

    def claim(self) -> list[int]:
        """Claim due notifications of the channels this worker can send, for `lease_seconds` (families' only
        within `family_hours`, China time)."""
        if not self.providers:
            return []
        now = clock.now()
        start, end = self.policy.family_hours
        audiences = list(Audience) if start <= now.astimezone(clock.CHINA).hour < end else [Audience.OFFICER]
        earlier = aliased(Notification)
        with transaction(self.session_factory) as session:
            due = (
                sa.select(Notification)
                .where(
                    Notification.channel.in_(list(self.providers)),
                    sa.or_(  # no family is woken at night, but an answer to their own message goes at once
                        Notification.audience.in_(audiences), Notification.template == REPLY_TEMPLATE
                    ),
                    sa.or_(  # a contact's replies go one after the other, in the order they were queued
                        Notification.template != REPLY_TEMPLATE,
                        ~sa.exists().where(
                            earlier.contact_id == Notification.contact_id,
                            earlier.template == REPLY_TEMPLATE,
                            earlier.status.in_([St.PENDING, St.SENDING]),
                            earlier.id < Notification.id,
                        ),
                    ),
                    sa.or_(
                        sa.and_(Notification.status == St.PENDING, Notification.next_attempt_at <= now),
                        sa.and_(Notification.status == St.SENDING, Notification.claimed_until < now),
                    ),
                )
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(self.policy.batch_size)
            )
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            rows = list(session.scalars(due))
            for n in [n for n in rows if n.status == St.SENDING and n.attempts >= self.policy.max_attempts]:
                # Taken over as often as it may be tried: its workers keep dying in it (or cannot record its
                # outcome), so sending it again would repeat a message without end. Failed, and shown.
                log.warning(
                    "notification %s: given up after %s attempts that never finished", n.id, n.attempts
                )
                n.claimed_until, n.error_code = None, "gave_up_unfinished"
                n.last_error = (
                    "every attempt ended without an outcome (its worker died or could not record it)"
                )
                if advance(n, St.FAILED):
                    session.flush()
                    record_failure(session, n)
                rows.remove(n)
            for n in rows:
                if n.status == St.SENDING and n.send_started_at is not None:
                    # its worker died mid-send (not merely with the row in its batch): the provider may have it
                    dedup = self.providers[n.channel].deduplicates
                    log.warning("notification %s: taking over an attempt whose outcome is unknown (%s)", n.id,
                                "same idempotency key" if dedup else "a second copy is possible")  # fmt: skip
                    n.uncertain_attempts += 1  # counted on every channel, so a possible copy is seen
                    self._uncertain[n.id] = n.send_started_at
                n.status = St.SENDING  # send_started_at stays: the earliest send that may have gone out
                n.attempts += 1
                n.claimed_until = now + timedelta(seconds=self.policy.lease_seconds)
            self._claims.update((n.id, n.attempts) for n in rows)
            self._lanes.update((n.id, n.contact_id or (n.channel, n.address)) for n in rows)
            return [n.id for n in rows]

    def process(self, nid: int) -> None:
        """Send one claimed notification and record the outcome."""
        self._lanes.pop(nid, None)
        try:
            message = self.prepare(nid)
        except sa.exc.OperationalError:  # the database gone before anything was sent: again at the next pass
            self._unprepared.add(nid)
            raise
        if message is None:
            self._claims.pop(nid, None)
            self._uncertain.pop(nid, None)
            return
        channel, outgoing = message
        provider = self.providers[channel]
        since = self._uncertain.pop(nid, None)
        if since is not None and (found := provider.lookup(outgoing, since)) is not None:
            log.warning(
                "notification %s: the provider had it already (%s): not sent again", nid, found.provider_id
            )
            self.record(nid, found)
            return
        self.limits[channel].wait()
        outcome = provider.send(outgoing)
        try:
            self.record(nid, outcome)
        except sa.exc.OperationalError:
            self._unrecorded[nid] = outcome  # the provider answered, the database is gone: at the next pass
            raise

    def prepare(self, nid: int) -> tuple[NotificationChannel, Outgoing] | None:
        """Return what to send, or None when nothing must be sent (opted out since, or no address)."""
        with transaction(self.session_factory) as session:
            n = session.get_one(Notification, nid)
            if n.status != St.SENDING or not self._still_ours(n):
                return None
            contact = session.get(Contact, n.contact_id) if n.contact_id is not None else None
            address = contact.address if contact is not None else n.address
            template = TEMPLATES.get(n.template)
            stopped = opted_out(session, n) and not (template is not None and template.reply)
            reason = "opted_out" if stopped else None if address else "no_address"
            if (
                template is not None
                and n.params
                and n.case_id is not None
                and (template.params - set(n.params) == {"reference"})
            ):  # queued by a release whose family templates did not name the case yet
                n.params = {**n.params, "reference": case_reference(session, n.case_id)}
            if template is None:
                reason = "unknown_template"  # queued by a release that had it: never sent half-rendered
            elif set(n.params) != template.params:
                reason = "erased"  # the family deleted their data (DELETE) before it went out
            if reason is not None:
                n.error_code, n.claimed_until = reason, None
                advance(n, St.CANCELLED)
                return None
            assert address is not None
            language = contact.language if contact is not None else n.language
            if n.channel == NotificationChannel.SMS:
                text = fit_sms(n.template, language, n.params)
            else:
                text = render(n.template, language, n.params)
            n.send_started_at = n.send_started_at or clock.now()  # committed before the provider is called
            callback = None
            if n.channel == NotificationChannel.SMS and self.settings.public_base_url:
                callback = f"{self.settings.public_base_url.rstrip('/')}/sms/status?n={n.id}"
            return n.channel, Outgoing(
                address=address,
                text=text,
                idempotency_key=f"reunite-notification-{n.idempotency_key}",
                subject=render_subject(n.template, language, n.params),
                status_callback=callback,
            )

    def record(self, nid: int, outcome: Outcome) -> None:
        """Record a provider's answer about one notification, under a row lock."""
        with transaction(self.session_factory) as session:
            n = session.get_one(Notification, nid, with_for_update=True)
            now = clock.now()
            ours = self._still_ours(n)
            self._claims.pop(nid, None)
            if isinstance(outcome, Accepted):
                if ours:
                    n.claimed_until = n.send_started_at = None
                # cut to the column: a provider id too long must never make the outcome unrecordable
                provider_id = outcome.provider_id or n.provider_id or ""
                n.provider_id = provider_id[:MAX_NOTIFICATION_PROVIDER_ID_CHARS] or None
                n.sent_at = now
                if advance(n, St.SENT):  # unless a status callback told us more already
                    n.last_error = n.error_code = None
                return
            if not ours:  # taken over after our lease ended: the new owner records its own outcome
                log.warning("notification %s: lease ended before its outcome came (%s)", n.id, outcome.error)
                return
            n.claimed_until = n.send_started_at = None
            n.last_error = outcome.error[:2000]
            if isinstance(outcome, Retry) and n.attempts < self.policy.max_attempts:
                if n.status == St.SENDING:
                    n.status = St.PENDING
                    n.next_attempt_at = now + timedelta(seconds=self.delay(n.attempts, outcome.retry_after))
                log.info("notification %s: retry at %s (%s)", n.id, n.next_attempt_at, outcome.error)
                return
            n.error_code = outcome.code if isinstance(outcome, Permanent) else "gave_up"
            if advance(n, St.FAILED):
                log.warning("notification %s failed for good: %s", n.id, outcome.error)
                session.flush()
                record_failure(session, n)

    def _still_ours(self, n: Notification) -> bool:
        """Tell whether no other worker took the row over since this one claimed it (unclaimed: yes)."""
        claimed = self._claims.get(n.id)
        return claimed is None or claimed == n.attempts

    def delay(self, attempts: int, retry_after: float | None) -> float:
        """Seconds to wait before the next attempt: the provider's Retry-After when it gave one, else
        exponential backoff with full jitter (half to all of base * 2^(attempts-1), capped)."""
        if retry_after is not None:
            return retry_after
        ceiling = min(self.policy.max_delay_seconds, self.policy.base_delay_seconds * 2 ** (attempts - 1))
        return self.rng.uniform(ceiling / 2, ceiling)
