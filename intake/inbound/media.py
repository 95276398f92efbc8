"""Photos sent as a provider's link (MMS) are downloaded later by a retryable job, never inside the webhook.

    is_photo_type(content_type) -> bool           (JPEG, PNG, WebP: what intake.platform.photos keeps)
    fetch_pending(factory, channel, download, data_dir, *, now=None) -> int   (one pass; the number handled)

The inbox stores each media reference with its message and marks a provider URL as due (`fetch_after`). A pass
of `reunite worker` (the channel adapter's task in `reunite.worker_tasks`, e.g. `sms.media`) claims due rows in
a short transaction (their `fetch_after` moved a lease ahead, `SKIP LOCKED` on PostgreSQL, so workers running
at once never take the same row), downloads each with no transaction open, keeps it through
`intake.platform.photos.store_photo` (checked, re-encoded without metadata, encrypted) and records the photo id on the
row. The row keeps its case: a photo of a registration is then on the officers' console with its case.

A provider that is down, times out or answers 5xx (`MediaUnavailable`) leaves the row due again after a delay
that doubles from RETRY_BASE up to RETRY_MAX; after MAX_ATTEMPTS it is given up and its reason kept in
`fetch_error`, where an operator sees it. A file that is no photo or too large (`PhotoError`) or a link the
provider no longer has (`MediaGone`) is given up at once. An erased attachment (DELETE, retention) has no URL
any more and is never fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from intake.models import Attachment, Channel, Message
from intake.models.media import MAX_FETCH_ERROR_CHARS
from intake.platform import clock
from intake.platform.db import transaction
from intake.platform.photos import PhotoError, delete_photo, store_photo

log = logging.getLogger(__name__)

PHOTO_TYPES = frozenset({"image/jpeg", "image/jpg", "image/pjpeg", "image/png", "image/webp"})
LEASE = timedelta(minutes=10)  # a claimed row not finished by then (a worker killed) is due again
RETRY_BASE = timedelta(minutes=1)
RETRY_MAX = timedelta(hours=6)
MAX_ATTEMPTS = 12  # about two days of retries
BATCH = 10

Download = Callable[[str], bytes]


class MediaUnavailable(Exception):
    """The provider could not give the file now (down, a time-out, 5xx, 429): try again later."""


class MediaGone(Exception):
    """The provider will never give this file (404, a link outside its hosts): give up."""


def is_photo_type(content_type: str) -> bool:
    """Tell whether a content type names a photo reunite keeps (JPEG, PNG or WebP)."""
    return content_type.split(";", 1)[0].strip().lower() in PHOTO_TYPES


def is_fetched_later(url: str) -> bool:
    """Tell whether a media reference is a provider's link that the fetch job downloads (MMS)."""
    return url.startswith(("https://", "http://"))


def retry_delay(attempts: int) -> timedelta:
    """Return how long to wait after the `attempts`-th failed download."""
    return min(RETRY_MAX, RETRY_BASE * (1 << min(30, max(0, attempts - 1))))


def _claim(
    factory: sessionmaker[Session], channel: Channel, now: datetime, batch: int
) -> list[tuple[int, str]]:
    with transaction(factory) as session:
        rows = session.execute(
            sa.select(Attachment.id, Attachment.url)
            .join(Message, Message.id == Attachment.message_id)
            .where(
                Message.channel == channel,
                Attachment.fetch_after <= now,
                Attachment.url.is_not(None),
                Attachment.photo_id.is_(None),
            )
            .order_by(Attachment.fetch_after, Attachment.id)
            .limit(batch)
            .with_for_update(of=Attachment, skip_locked=True)
        ).all()
        if rows:
            session.execute(
                sa.update(Attachment)
                .where(Attachment.id.in_([r.id for r in rows]))
                .values(fetch_after=now + LEASE, fetch_attempts=Attachment.fetch_attempts + 1)
            )
        return [(r.id, str(r.url)) for r in rows]


def _record(
    factory: sessionmaker[Session], attachment_id: int, *, photo: tuple[str, str] | None, error: str | None,
    retry: bool, data_dir: Path,
) -> None:  # fmt: skip
    now = clock.now()
    with transaction(factory) as session:
        row = session.scalars(
            sa.select(Attachment).where(Attachment.id == attachment_id).with_for_update()
        ).first()
        if row is None or row.url is None:  # erased meanwhile: keep nothing of it
            if photo is not None:
                delete_photo(data_dir, photo[0])
            return
        if photo is not None:
            row.photo_id, row.content_type = photo
            row.fetch_after, row.fetch_error = None, None
            return
        row.fetch_error = (error or "unknown error")[:MAX_FETCH_ERROR_CHARS]
        if retry and row.fetch_attempts < MAX_ATTEMPTS:
            row.fetch_after = now + retry_delay(row.fetch_attempts)
        else:
            row.fetch_after = None  # given up; the reason stays in fetch_error
            log.warning("attachment %s: download given up: %s", attachment_id, row.fetch_error)


def fetch_pending(
    factory: sessionmaker[Session],
    channel: Channel,
    download: Download,
    data_dir: Path,
    *,
    now: datetime | None = None,
    batch: int = BATCH,
) -> int:
    """Download, check and keep the due media of `channel` (one batch); return how many rows were handled."""
    claimed = _claim(factory, channel, now or clock.now(), batch)
    for attachment_id, url in claimed:
        photo, error, retry = None, None, False
        try:
            stored = store_photo(data_dir, download(url))
            photo = (stored.id, stored.content_type)
        except MediaUnavailable as exc:
            error, retry = f"unavailable: {exc}", True
        except MediaGone as exc:
            error = f"gone: {exc}"
        except PhotoError as exc:
            error = f"not a photo we keep: {exc}"
        except Exception as exc:  # a bug or an odd answer must not stop the pass: retried, then given up
            log.exception("attachment %s: download failed", attachment_id)
            error, retry = f"error: {type(exc).__name__}", True
        _record(factory, attachment_id, photo=photo, error=error, retry=retry, data_dir=data_dir)
    return len(claimed)
