"""API keys of labs: issue one (shown once, kept only as a SHA-256 hash), revoke it, and find the key of a request.

A key is 256 random bits, so a plain SHA-256 is enough to make the stored hash useless to a reader of the
database (no slow hash is needed against guessing, unlike a password). A key acts for its own lab only, and
until it expires (a year by default: a lab rotates by asking for a new key and revoking the old one).

    issue_key(session, lab_id, *, name=None, actor, valid_days=365) -> (LabKey, secret)
    revoke_key(session, key_id, *, actor) -> LabKey
    authenticate(session, secret) -> LabKey
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.errors import ForbiddenError
from intake.models import Lab, LabKey, as_utc, audit, utcnow
from intake.platform.errors import NotFoundError
from intake.platform.i18n import N_
from intake.platform.secret_compare import same_secret

PREFIX = "rlk_"  # so a leaked key is recognisable in logs and by secret scanners
VALID_DAYS = 365  # how long a new key works unless told otherwise


def key_hash(secret: str) -> str:
    """Return the stored form of a key."""
    return hashlib.sha256(secret.strip().encode("utf-8", "surrogatepass")).hexdigest()


def issue_key(
    session: Session, lab_id: int, *, actor: str, name: str | None = None, valid_days: int = VALID_DAYS
) -> tuple[LabKey, str]:
    """Create a key for the lab and return it with its secret, which is not stored and cannot be shown again.

    The key works for `valid_days` days from now.
    """
    if valid_days < 1:
        raise ValueError("a key must be valid for at least one day")
    lab = session.get(Lab, lab_id)
    if lab is None:
        raise NotFoundError(N_("There is no lab %(lab)s."), lab=lab_id)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    key = LabKey(
        lab_id=lab.id, name=(name or f"key for {lab.name}")[:120], key_hash=key_hash(secret), created_at=now,
        expires_at=now + timedelta(days=valid_days),
    )  # fmt: skip
    session.add(key)
    session.flush()
    audit(
        session, actor, "labkey.issue", "lab_key", key.id, lab=lab.id, name=key.name,
        expires=key.expires_at.isoformat(timespec="minutes") if key.expires_at else None,
    )  # fmt: skip
    return key, secret


def revoke_key(session: Session, key_id: int, *, actor: str) -> LabKey:
    """Revoke a key from now on (revoking twice keeps the first time)."""
    key = session.get(LabKey, key_id)
    if key is None:
        raise NotFoundError(N_("There is no API key %(key)s."), key=key_id)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        audit(session, actor, "labkey.revoke", "lab_key", key.id, lab=key.lab_id)
    return key


def authenticate(session: Session, secret: str) -> LabKey:
    """Return the live key whose secret this is, or raise ForbiddenError (unknown, revoked, expired, lab inactive)."""
    given = key_hash(secret)
    key = session.scalars(sa.select(LabKey).where(LabKey.key_hash == given)).first()
    # The database found the key by its hash; compared again here in constant time, as every secret is.
    if key is None or not same_secret(given, key.key_hash):
        raise ForbiddenError("unknown_key", N_("This API key is not known."))
    if key.revoked_at is not None:
        raise ForbiddenError("revoked_key", N_("This API key was revoked."))
    if key.expires_at is not None and as_utc(key.expires_at) <= utcnow():
        raise ForbiddenError(
            "expired_key", N_("This API key expired on %(day)s: ask for a new one."),
            day=f"{key.expires_at:%Y-%m-%d}",
        )  # fmt: skip
    lab = session.get_one(Lab, key.lab_id)
    if not lab.active:
        raise ForbiddenError("inactive_lab", N_("The lab of this API key is not active."))
    return key
