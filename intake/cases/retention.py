"""Retention: erase or drop what is older than the configured periods (`REUNITE_RETAIN_*`, intake/platform/settings).

    run_retention(session, settings, now=None, dry_run=False) -> RetentionReport
    worker_task(session_factory, settings) -> int          (the `reunite worker` pass, at most once a day)

Each period is in days, 0 keeps for ever; docs/reliability.md ("Privacy") says what each one covers and why its
default. Personal columns are blanked with the value erasure writes (`intake.cases.erasure.erased_values`), so the
rows' ids, states and dates stay for the statistics and the audit trail. A case under a legal hold
(`intake.cases.erasure.legal_holds`) is never touched. A run is audited with its counts, in its own transaction.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from intake.cases.erasure import erased_values, legal_holds, owned_rows
from intake.matches.queue import enqueue_withdraw
from intake.models import (
    CLOSED_STATUSES,
    Attachment,
    AuditEvent,
    Case,
    Conversation,
    Delivery,
    DnaProfile,
    JobState,
    MatchJob,
    Message,
    Notification,
    NotificationStatus,
    Sample,
    audit,
)
from intake.platform import clock
from intake.platform.db import transaction
from intake.platform.photos import delete_photo, stored_photo_ids
from intake.platform.settings import Settings

log = logging.getLogger(__name__)

ACTOR = "system:retention"
ACTION = "retention.run"
BATCH = 500  # closed cases erased per statement
INTERVAL = timedelta(days=1)  # how often the worker runs it
CHECK_EVERY = timedelta(hours=1)  # how often a worker process looks whether a day has passed
# A photo is stored before the transaction naming it commits: a file younger than this may still be claimed.
ORPHAN_GRACE = timedelta(hours=1)
FINISHED_NOTIFICATIONS = (
    NotificationStatus.SENT, NotificationStatus.DELIVERED, NotificationStatus.FAILED,
    NotificationStatus.UNDELIVERED, NotificationStatus.CANCELLED,
)  # fmt: skip


@dataclass
class RetentionReport:
    """How many rows each rule changed (or would change, in a dry run)."""

    messages: int = 0
    conversations: int = 0
    notifications: int = 0
    closed_cases: int = 0
    case_photos: int = 0
    failed_messages: int = 0
    given_up_deliveries: int = 0
    parked_jobs: int = 0
    match_jobs: int = 0
    orphan_photos: int = 0
    photo_files: list[str] = field(default_factory=list)  # stored photos to delete once the run commits

    def counts(self) -> dict[str, int]:
        """Return the counts alone (what the audit log and the command show)."""
        return {k: v for k, v in asdict(self).items() if isinstance(v, int)}


def _cutoff(now: datetime, days: int) -> datetime | None:
    return now - timedelta(days=days) if days > 0 else None


def _blank_attachments(session: Session, report: RetentionReport, rows: sa.ColumnElement[bool]) -> int:
    """Blank the photos `rows` selects (reference and stored file); return how many."""
    rows = sa.and_(rows, sa.or_(Attachment.url.is_not(None), Attachment.photo_id.is_not(None)))
    report.photo_files += [str(p) for p in session.scalars(sa.select(Attachment.photo_id).where(rows)) if p]
    result = session.execute(sa.update(Attachment).where(rows).values(erased_values(Attachment)))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _messages(session: Session, report: RetentionReport, before: datetime) -> None:
    # Photos sent with those messages that no case keeps, then the texts themselves (by condition, not by a list
    # of ids: a first run may cover a year of messages).
    old = sa.select(Message.id).where(Message.created_at < before)
    report.case_photos += _blank_attachments(
        session, report, sa.and_(Attachment.message_id.in_(old), Attachment.case_id.is_(None))
    )
    report.messages = session.execute(
        sa.update(Message)
        .where(Message.created_at < before, sa.or_(Message.body != "", Message.error.is_not(None)))
        .values(erased_values(Message))
    ).rowcount  # type: ignore[attr-defined]
    # A dialogue left half-way that long ago: its unconfirmed answers go.
    report.conversations = session.execute(
        sa.update(Conversation)
        .where(Conversation.updated_at < before, Conversation.flow.is_not(None))
        .values(flow=None, step=None, **erased_values(Conversation))
    ).rowcount  # type: ignore[attr-defined]


def _notifications(session: Session, report: RetentionReport, before: datetime) -> None:
    kept = sa.or_(
        Notification.address.is_not(None),
        Notification.last_error.is_not(None),
        sa.cast(Notification.params, sa.Text) != "{}",
    )
    report.notifications = session.execute(
        sa.update(Notification)
        .where(Notification.status.in_(FINISHED_NOTIFICATIONS), Notification.created_at < before, kept)
        .values(erased_values(Notification))
    ).rowcount  # type: ignore[attr-defined]


def _closed_cases(session: Session, before: datetime) -> list[int]:
    """Return the closed cases last changed before `before` that still hold personal details, but held ones."""
    personal = sa.or_(
        Case.child_name.is_not(None), Case.description.is_not(None), Case.last_seen_place.is_not(None),
        Case.child_birth_date.is_not(None),
    )  # fmt: skip
    ids = list(
        session.scalars(
            sa.select(Case.id).where(Case.status.in_(CLOSED_STATUSES), Case.updated_at < before, personal)
        )
    )
    held = legal_holds(session, ids)
    return [i for i in ids if i not in held]


def _erase_cases(session: Session, report: RetentionReport, all_ids: list[int]) -> None:
    for start in range(
        0, len(all_ids), BATCH
    ):  # bounded IN lists (PostgreSQL takes at most 65,535 parameters)
        _erase_batch(session, report, all_ids[start : start + BATCH])
    report.closed_cases = len(all_ids)


def _erase_batch(session: Session, report: RetentionReport, case_ids: list[int]) -> None:
    profiles = sa.select(DnaProfile.id).where(
        DnaProfile.sample_id.in_(sa.select(Sample.id).where(Sample.case_id.in_(case_ids)))
    )
    enqueue_withdraw(session, profile_ids=session.scalars(profiles), case_ids=case_ids)
    report.case_photos += _blank_attachments(session, report, Attachment.case_id.in_(case_ids))
    for model, rows in owned_rows(-1, case_ids).items():  # no contact -1: the cases' rows alone
        if model not in (Message, Conversation, Attachment):
            session.execute(sa.update(model).where(rows).values(erased_values(model)))


def _case_photos(session: Session, report: RetentionReport, before: datetime) -> None:
    closed = sa.select(Case.id).where(Case.status.in_(CLOSED_STATUSES), Case.updated_at < before)
    report.case_photos += _blank_attachments(session, report, Attachment.case_id.in_(closed))


def _failed(session: Session, report: RetentionReport, before: datetime) -> None:
    report.failed_messages = session.execute(
        sa.update(Message).where(Message.created_at < before, Message.error.is_not(None)).values(error=None)
    ).rowcount  # type: ignore[attr-defined]
    report.given_up_deliveries = session.execute(
        sa.delete(Delivery).where(Delivery.failed_at < before)
    ).rowcount  # type: ignore[attr-defined]
    report.parked_jobs = session.execute(
        sa.delete(MatchJob).where(MatchJob.state == JobState.PARKED, MatchJob.finished_at < before)
    ).rowcount  # type: ignore[attr-defined]


def _match_jobs(session: Session, report: RetentionReport, before: datetime) -> None:
    report.match_jobs = session.execute(
        sa.delete(MatchJob).where(MatchJob.state == JobState.DONE, MatchJob.finished_at < before)
    ).rowcount  # type: ignore[attr-defined]


def _orphan_photos(session: Session, report: RetentionReport, data_dir: Path, now: datetime) -> None:
    """Add the stored photos no attachment names any more: erased where the file could not be deleted at once
    (DELETE through another channel than the one the photo came by), or stored by a transaction that rolled back."""
    on_disk = sorted(stored_photo_ids(data_dir, written_before=(now - ORPHAN_GRACE).timestamp()))
    claimed: set[str] = set()
    for start in range(0, len(on_disk), BATCH):
        chunk = on_disk[start : start + BATCH]
        claimed.update(session.scalars(sa.select(Attachment.photo_id).where(Attachment.photo_id.in_(chunk))))
    already = set(report.photo_files)  # blanked by a rule of this run
    orphans = [photo_id for photo_id in on_disk if photo_id not in claimed and photo_id not in already]
    report.orphan_photos += len(orphans)
    report.photo_files += orphans


def run_retention(
    session: Session, settings: Settings, *, now: datetime | None = None, dry_run: bool = False
) -> RetentionReport:
    """Apply every retention period in `session` and audit the counts (a dry run changes and audits nothing:
    it rolls the session back). The caller commits, then deletes `report.photo_files` (`delete_files`)."""
    now = now or clock.now()
    report = RetentionReport()
    rules = (
        (settings.retain_failed_days, _failed),
        (settings.retain_messages_days, _messages),
        (settings.retain_notifications_days, _notifications),
        (settings.retain_case_photos_days, _case_photos),
        (settings.retain_match_jobs_days, _match_jobs),
    )
    for days, rule in rules:
        before = _cutoff(now, days)
        if before is not None:
            rule(session, report, before)
    before = _cutoff(now, settings.retain_closed_cases_days)
    if before is not None:
        _erase_cases(session, report, _closed_cases(session, before))
    _orphan_photos(session, report, settings.data_dir, now)
    if dry_run:
        session.rollback()
        report.photo_files = []
        return report
    audit(session, ACTOR, ACTION, None, None, **report.counts())
    return report


def delete_files(data_dir: Path, report: RetentionReport) -> int:
    """Delete the stored photos a committed run blanked; return how many files there were."""
    return sum(delete_photo(data_dir, photo_id) for photo_id in report.photo_files)


def last_run(session: Session) -> datetime | None:
    """Return when retention last ran (from the audit log)."""
    return session.scalar(sa.select(sa.func.max(AuditEvent.at)).where(AuditEvent.action == ACTION))


class _Schedule:
    next_check: datetime | None = None


def worker_task(session_factory: sessionmaker[Session], settings: Settings) -> int:
    """Run retention from `reunite worker` once a day (looked up at most hourly); return the rows changed.

    Registered in the `reunite.worker_tasks` entry-point group, so the notification worker runs it with no
    change of its own. The last run is read from the audit log, so several workers or a restart do not run it
    more often.
    """
    now = clock.now()
    if _Schedule.next_check is not None and now < _Schedule.next_check:
        return 0
    _Schedule.next_check = now + CHECK_EVERY
    with transaction(session_factory) as session:
        last = last_run(session)
        if last is not None and (last if last.tzinfo else last.replace(tzinfo=UTC)) > now - INTERVAL:
            return 0
        report = run_retention(session, settings, now=now)
    delete_files(settings.data_dir, report)
    log.info("retention: %s", report.counts())
    return sum(report.counts().values())
