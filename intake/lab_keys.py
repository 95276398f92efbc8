"""API keys of labs: issue one (shown once, kept only as a SHA-256 hash), revoke it, and find the key of a request.

A key is 256 random bits, so a plain SHA-256 is enough to make the stored hash useless to a reader of the
database (no slow hash is needed against guessing, unlike a password). A key acts for its own lab only.

    issue_key(session, lab_id, *, name=None, actor) -> (LabKey, secret)
    revoke_key(session, key_id, *, actor) -> LabKey
    authenticate(session, secret) -> LabKey
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.errors import NotFoundError
from intake.i18n import N_
from intake.lab_errors import ForbiddenError
from intake.models import Lab, LabKey, audit, utcnow

PREFIX = "rlk_"  # so a leaked key is recognisable in logs and by secret scanners


def key_hash(secret: str) -> str:
    """Return the stored form of a key."""
    return hashlib.sha256(secret.strip().encode("utf-8", "surrogatepass")).hexdigest()


def issue_key(session: Session, lab_id: int, *, actor: str, name: str | None = None) -> tuple[LabKey, str]:
    """Create a key for the lab and return it with its secret, which is not stored and cannot be shown again."""
    lab = session.get(Lab, lab_id)
    if lab is None:
        raise NotFoundError(N_("There is no lab %(lab)s."), lab=lab_id)
    secret = PREFIX + secrets.token_urlsafe(32)
    key = LabKey(lab_id=lab.id, name=(name or f"key for {lab.name}")[:120], key_hash=key_hash(secret))
    session.add(key)
    session.flush()
    audit(session, actor, "labkey.issue", "lab_key", key.id, lab=lab.id, name=key.name)
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
    """Return the live key whose secret this is, or raise ForbiddenError (unknown, revoked, or lab inactive)."""
    key = session.scalars(sa.select(LabKey).where(LabKey.key_hash == key_hash(secret))).first()
    if key is None:
        raise ForbiddenError("unknown_key", N_("This API key is not known."))
    if key.revoked_at is not None:
        raise ForbiddenError("revoked_key", N_("This API key was revoked."))
    lab = session.get_one(Lab, key.lab_id)
    if not lab.active:
        raise ForbiddenError("inactive_lab", N_("The lab of this API key is not active."))
    return key
