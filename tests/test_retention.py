"""Retention: each REUNITE_RETAIN_* period erases or drops what is older, held cases stay, runs are audited."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from intake.cases.retention import _Schedule as Schedule
from intake.cases.retention import delete_files, run_retention, worker_task
from intake.dialogue.types import Incoming, Media
from intake.inbound.inbox import process
from intake.models import (
    Attachment,
    Audience,
    AuditEvent,
    Candidate,
    CandidateReview,
    Case,
    CaseStatus,
    Channel,
    Direction,
    DnaProfile,
    JobKind,
    JobState,
    Lab,
    MatchJob,
    Message,
    Notification,
    NotificationChannel,
    NotificationStatus,
    ReviewState,
    Sample,
    utcnow,
)
from intake.platform.settings import SettingError, Settings
from tests.dialogue import transcripts as t
from tests.dialogue.helpers import PHONE
from tests.test_cli import _reunite

PHOTO = "ab" * 16
GENOTYPES = {"D3S1358": ["15", "16"]}


def _settings(tmp_path: Path, **days: int) -> Settings:
    return dataclasses.replace(Settings.from_env({"REUNITE_DATA_DIR": str(tmp_path)}), **days)


@pytest.fixture
def reported(session_factory, tmp_path):
    """A case reported by SMS (messages stored), with a photo, a profile, a sent notification and match jobs."""
    from intake.labs.directory import load_demo_labs

    with session_factory() as s, s.begin():
        load_demo_labs(s)
    turns = [x for x, _ in t.REPORT_EN] + [x for x, _ in t.BOOK_AFTER_REPORT_EN[:5]]
    for number, text in enumerate(turns):
        media = (
            (Media("https://api.twilio.com/Media/ME1", "image/jpeg"),) if text == "skip" else ()
        )  # the description
        process(
            session_factory,
            Incoming(Channel.SMS, PHONE, text, utcnow(), provider_id=f"SM{number}", media=media),
        )
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / f"{PHOTO}.jpg").write_bytes(b"jpeg")
    with session_factory() as s, s.begin():
        case = s.scalars(sa.select(Case)).one()
        s.execute(sa.update(Attachment).values(photo_id=PHOTO, case_id=case.id))
        sample = s.scalars(sa.select(Sample)).one()
        s.add(DnaProfile(id="p" * 32, sample_id=sample.id, lab_id=s.scalars(sa.select(Lab.id)).first(),
                         kit="Identifiler", genotypes=GENOTYPES, autosomal_markers=1, digest="d" * 64,
                         uploaded_by="labkey:1"))  # fmt: skip
        s.add(Notification(idempotency_key="k1", audience=Audience.FAMILY, channel=NotificationChannel.SMS,
                           address=PHONE, case_id=case.id, template="sample.typed", params={"code": "X"},
                           language="en", status=NotificationStatus.DELIVERED))  # fmt: skip
        done = utcnow()
        s.add_all([MatchJob(kind=JobKind.SEARCH, profile_id="p" * 32, state=JobState.DONE, finished_at=done),
                   MatchJob(kind=JobKind.SEARCH, profile_id="q" * 32, state=JobState.PARKED, finished_at=done,
                            last_error="boom")])  # fmt: skip
        case.status = CaseStatus.CLOSED
        return case.id


LATER = timedelta(days=800)


def test_every_period_erases_what_is_older_and_the_run_is_audited_with_counts(
    session_factory, tmp_path, reported
):
    settings = _settings(tmp_path)
    with session_factory() as s, s.begin():
        report = run_retention(s, settings, now=utcnow() + LATER)
    assert delete_files(tmp_path, report) == 1 and not (tmp_path / "photos" / f"{PHOTO}.jpg").exists()
    counts = report.counts()
    assert counts["messages"] > 20 and counts["closed_cases"] == 1 and counts["case_photos"] == 1
    assert counts["notifications"] == 1 and counts["match_jobs"] == 1 and counts["parked_jobs"] == 1
    with session_factory() as s:
        assert set(s.scalars(sa.select(Message.body))) == {""}
        case = s.get_one(Case, reported)
        assert (case.child_name, case.description, case.last_seen_place) == (None, None, None)
        assert s.get_one(DnaProfile, "p" * 32).genotypes == {}
        assert s.scalars(sa.select(Attachment.photo_id)).all() == [None]
        notification = s.scalars(sa.select(Notification)).one()
        assert (notification.address, notification.params) == (None, {})
        jobs = s.execute(sa.select(MatchJob.kind, MatchJob.case_id, MatchJob.state)).all()
        assert (JobKind.WITHDRAW, reported, JobState.QUEUED) in jobs  # out of every matcher's index
        assert not any(state in (JobState.DONE, JobState.PARKED) for _k, _c, state in jobs)
        event = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.run")).one()
        assert event.detail == counts and event.actor == "system:retention"
    with session_factory() as s, s.begin():  # a second run finds nothing left
        again = run_retention(s, settings, now=utcnow() + LATER)
    assert sum(again.counts().values()) == 0


def test_nothing_younger_than_its_period_and_nothing_with_period_0_is_touched(
    session_factory, tmp_path, reported
):
    with session_factory() as s, s.begin():
        report = run_retention(s, _settings(tmp_path), now=utcnow() + timedelta(days=20))
    assert sum(report.counts().values()) == 0
    never = {f.name: 0 for f in dataclasses.fields(Settings) if f.name.startswith("retain_")}
    with session_factory() as s, s.begin():
        report = run_retention(s, _settings(tmp_path, **never), now=utcnow() + LATER)
    assert sum(report.counts().values()) == 0
    with session_factory() as s:
        assert s.get_one(Case, reported).child_name == "Li Ming"


def test_a_stored_photo_no_attachment_names_is_deleted_once_it_is_an_hour_old(session_factory, tmp_path):
    """E.g. a Telegram photo whose person asked for DELETE by SMS: erasure blanked the attachment, not the file."""
    photos = tmp_path / "photos"
    photos.mkdir()
    old, young, named = "0a" * 16, "0b" * 16, "0c" * 16
    for photo_id in (old, young, named):
        (photos / f"{photo_id}.enc").write_bytes(b"sealed")
    now = utcnow()
    hours_ago = (now - timedelta(hours=2)).timestamp()
    for photo_id in (old, named):
        os.utime(photos / f"{photo_id}.enc", (hours_ago, hours_ago))
    with session_factory() as s, s.begin():
        message = Message(channel=Channel.TELEGRAM, direction=Direction.INBOUND, body="")
        s.add(message)
        s.flush()
        s.add(Attachment(message_id=message.id, position=0, photo_id=named, content_type="image/jpeg"))
    with session_factory() as s, s.begin():
        report = run_retention(s, _settings(tmp_path), now=now)
    assert report.counts()["orphan_photos"] == 1 and report.photo_files == [old]
    assert delete_files(tmp_path, report) == 1
    assert sorted(p.stem for p in photos.iterdir()) == sorted([young, named])


def test_a_dry_run_counts_and_changes_nothing(session_factory, tmp_path, reported):
    with session_factory() as s, s.begin():
        report = run_retention(s, _settings(tmp_path), now=utcnow() + LATER, dry_run=True)
    assert report.counts()["closed_cases"] == 1 and report.photo_files == []
    with session_factory() as s:
        assert s.get_one(Case, reported).child_name == "Li Ming"
        assert s.get_one(DnaProfile, "p" * 32).genotypes == GENOTYPES
        assert not s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.run")).all()
    assert (tmp_path / "photos" / f"{PHOTO}.jpg").exists()


def test_a_closed_case_with_an_approved_match_is_held(session_factory, tmp_path, reported):
    with session_factory() as s, s.begin():
        s.add(Candidate(id=1, relationship="duo", child_profile_id="p" * 32, family_profile_ids="p" * 32,
                        child_case_id=reported, family_case_id=reported, band="candidate", evidence=[],
                        frequency_table="t", engine_version="e"))  # fmt: skip
        s.flush()
        s.add(CandidateReview(candidate_id=1, state=ReviewState.APPROVED))
    with session_factory() as s, s.begin():
        report = run_retention(s, _settings(tmp_path), now=utcnow() + LATER)
    assert report.counts()["closed_cases"] == 0
    with session_factory() as s:
        assert s.get_one(Case, reported).child_name == "Li Ming"
        assert s.get_one(DnaProfile, "p" * 32).genotypes == GENOTYPES


def test_the_worker_pass_runs_retention_once_a_day(session_factory, tmp_path):
    settings = Settings.default(tmp_path)
    Schedule.next_check = None
    worker_task(session_factory, settings)
    Schedule.next_check = None  # as if an hour passed: the audit log says it ran today
    worker_task(session_factory, settings)
    with session_factory() as s:
        runs = s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.run")).all()
        assert len(runs) == 1
        s.execute(sa.update(AuditEvent).values(at=datetime.now(UTC) - timedelta(days=2)))
        s.commit()
    Schedule.next_check = None
    worker_task(session_factory, settings)
    with session_factory() as s:
        assert len(s.scalars(sa.select(AuditEvent).where(AuditEvent.action == "retention.run")).all()) == 2


def test_the_worker_installs_retention_as_a_task():
    from notifications.worker import installed_tasks

    assert worker_task in installed_tasks()


def test_a_malformed_period_names_the_variable():
    with pytest.raises(SettingError, match="REUNITE_RETAIN_MESSAGES_DAYS"):
        Settings.from_env({"REUNITE_RETAIN_MESSAGES_DAYS": "a year"})


def test_the_retention_command_dry_run(tmp_path):
    assert _reunite(tmp_path, "db", "upgrade").returncode == 0
    result = _reunite(tmp_path, "retention", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "messages: 0 would change" in result.stdout
    result: subprocess.CompletedProcess[str] = _reunite(tmp_path, "retention")
    assert "closed_cases: 0 changed" in result.stdout and "photo files deleted: 0" in result.stdout


def test_closed_cases_are_erased_in_bounded_batches(session_factory, tmp_path, monkeypatch):
    from intake.cases import retention
    from tests.support.factories import make_case

    monkeypatch.setattr(retention, "BATCH", 2)
    with session_factory() as s, s.begin():
        for _ in range(5):
            make_case(s).status = CaseStatus.REUNITED
    with session_factory() as s, s.begin():
        report = run_retention(s, _settings(tmp_path), now=utcnow() + LATER)
    assert report.counts()["closed_cases"] == 5
    with session_factory() as s:
        assert set(s.scalars(sa.select(Case.child_name))) == {None}
        withdrawn = s.scalars(sa.select(MatchJob.case_id).where(MatchJob.kind == JobKind.WITHDRAW)).all()
        assert len(withdrawn) == 5
