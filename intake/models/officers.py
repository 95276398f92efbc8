"""Officer accounts of the console: who may read cases and decide on matches, with a role and a province.

Passwords are kept only as argon2 hashes (argon2-cffi). Repeated wrong passwords lock an account for a while
(`MAX_FAILED_ATTEMPTS`, `LOCKOUT`). `session_token` is the account's current login session: a new random value
at every login and logout, so a session cookie from before a login (fixation) or after a logout is worthless.

    create_officer(session, username=..., display_name=..., role=..., province=..., password=...) -> Officer
    check_login(session, username, password) -> LoginResult
"""

from __future__ import annotations

import enum
import functools
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import String
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Session, mapped_column

from intake.models._common import NOT_PERSONAL, TZDateTime, enum_column, personal, utcnow
from intake.models.audit import audit
from intake.platform.db import Base
from intake.platform.errors import ConflictError, InputError
from intake.platform.i18n import N_

MAX_FAILED_ATTEMPTS = 5  # wrong passwords for one account from one address, within LOCKOUT
MAX_ADDRESS_FAILURES = 20  # failed logins from one address, whatever the usernames, within LOCKOUT
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256  # argon2 hashes anything, but a megabyte "password" is an attack, not a password

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no account, so that the answer takes as long as any other. Made at
    the first login, not at import: hashing costs about 0.3 s, which every process importing the models paid."""
    return _hasher.hash(secrets.token_hex(16))


def prepare_logins() -> None:
    """Make the hash an unknown username is verified against now (the console does when it is set up), so that
    not even the first such login is told apart by its time."""
    _dummy_hash()


class OfficerRole(enum.StrEnum):
    """What an officer may do: officers review and confirm, supervisors also approve, admins see every province."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class Officer(Base):
    """One console account."""

    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    username: Mapped[str] = mapped_column(
        String(64), unique=True, info=personal(kept="staff accounts are kept for accountability")
    )
    display_name: Mapped[str] = mapped_column(
        String(120), info=personal(kept="staff accounts are kept for accountability")
    )
    role: Mapped[OfficerRole] = mapped_column(enum_column(OfficerRole), info=NOT_PERSONAL)
    province: Mapped[str | None] = mapped_column(String(64), index=True, info=NOT_PERSONAL)  # None: national
    password_hash: Mapped[str] = mapped_column(String(200), info=NOT_PERSONAL)
    failed_attempts: Mapped[int] = mapped_column(default=0, info=NOT_PERSONAL)
    locked_until: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    session_token: Mapped[str | None] = mapped_column(String(64), unique=True, info=NOT_PERSONAL)
    alert_channel: Mapped[str | None] = mapped_column(
        String(16), info=NOT_PERSONAL
    )  # "email", "sms", "telegram"
    alert_address: Mapped[str | None] = mapped_column(
        String(200), info=personal(kept="staff accounts are kept for accountability")
    )
    active: Mapped[bool] = mapped_column(default=True, info=NOT_PERSONAL)
    created_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    last_login_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)

    @property
    def actor(self) -> str:
        """Name this officer in the audit log."""
        return f"officer:{self.id}"

    @hybrid_property
    def national(self) -> bool:
        """Tell whether this officer sees every province: an account without a province. An admin of a province
        administers accounts but sees that province's cases only, like its officers (intake.scope). The same
        rule in SQL (`Officer.national` in a query) below."""
        return not self.province

    @national.inplace.expression
    @classmethod
    def _national_expression(cls) -> sa.ColumnElement[bool]:
        return sa.or_(cls.province.is_(None), cls.province == "")

    def may_supervise(self) -> bool:
        return self.role in (OfficerRole.SUPERVISOR, OfficerRole.ADMIN)


def check_password_rules(password: str) -> None:
    """Refuse a password too short or too long to be one."""
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InputError(
            N_("A password has %(low)s to %(high)s characters."),
            low=MIN_PASSWORD_CHARS,
            high=MAX_PASSWORD_CHARS,
        )


def create_officer(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: OfficerRole,
    province: str | None,
    password: str,
    actor: str,
    alert_channel: str | None = None,
    alert_address: str | None = None,
) -> Officer:
    """Add an officer account (the password is hashed with argon2); refuse a taken username."""
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace(".", "").replace("_", "").isalnum():
        raise InputError(N_("A username has up to 64 letters, digits, dots or underscores."))
    check_password_rules(password)
    if role is not OfficerRole.ADMIN and not (province or "").strip():
        raise InputError(N_("An officer or supervisor needs a province."))
    if session.scalar(sa.select(Officer.id).where(Officer.username == username)) is not None:
        raise ConflictError(N_("The username %(username)s is taken."), username=username)
    officer = Officer(
        username=username,
        display_name=(display_name or username).strip()[:120],
        role=role,
        province=(province or "").strip() or None,
        password_hash=_hasher.hash(password),
        alert_channel=alert_channel,
        alert_address=alert_address,
    )
    session.add(officer)
    session.flush()
    audit(session, actor, "officer.create", "officer", officer.id, role=role.value)
    return officer


class LoginFailure(Base):
    """One failed login: the username tried (known or not) and the address it came from.

    Lockout counts these per (username, address) and per address, never per account alone: a stranger who
    guesses from their own address locks only themself, and the owner still logs in from theirs.
    """

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_username_address_at", "username", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    username: Mapped[str] = mapped_column(String(64), info=personal(kept="kept 15 minutes, for the lockout"))
    address: Mapped[str] = mapped_column(
        String(64), index=True, info=personal(kept="kept 15 minutes, for the lockout")
    )
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, index=True, info=NOT_PERSONAL)


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown user, inactive account or wrong password: the page says the same for all
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    officer: Officer | None = None
    locked_until: datetime | None = None


def check_login(session: Session, username: str, password: str, address: str = "") -> LoginResult:
    """Check a login; throttle failures by (username, address) and by address; rotate the session token.

    A username that does not exist is counted and locked the same as one that does, so the answers tell no one
    which usernames are real. The caller commits: the failures and the audit events are written whatever the
    outcome. Failed and refused logins are audited with the attempted username and the address.
    """
    now = utcnow()
    name = username.strip().lower()[:64]
    address = (address or "unknown")[:64]
    since = now - LOCKOUT
    session.execute(sa.delete(LoginFailure).where(LoginFailure.at < since))  # nothing older is needed
    officer = session.scalars(sa.select(Officer).where(Officer.username == name).with_for_update()).first()
    tries = session.scalar(
        sa.select(sa.func.count()).where(
            LoginFailure.username == name, LoginFailure.address == address, LoginFailure.at >= since
        )
    )
    from_address = session.scalar(
        sa.select(sa.func.count()).where(LoginFailure.address == address, LoginFailure.at >= since)
    )
    entity = officer.id if officer is not None else None
    if (tries or 0) >= MAX_FAILED_ATTEMPTS or (from_address or 0) >= MAX_ADDRESS_FAILURES:
        _verify(_dummy_hash(), password)  # the same time as any other answer
        audit(session, "anonymous", "officer.login_locked", "officer", entity, username=name, address=address)
        return LoginResult(LoginOutcome.LOCKED, officer=None, locked_until=None)
    if officer is None or not officer.active or not _verify(officer.password_hash, password):
        if officer is None or not officer.active:
            _verify(_dummy_hash(), password)
        session.add(LoginFailure(username=name, address=address, at=now))
        audit(session, "anonymous", "officer.login_failed", "officer", entity, username=name, address=address)
        if (tries or 0) + 1 >= MAX_FAILED_ATTEMPTS:
            audit(session, "anonymous", "officer.locked", "officer", entity, username=name, address=address)
            return LoginResult(LoginOutcome.LOCKED, locked_until=now + LOCKOUT)
        return LoginResult(LoginOutcome.WRONG)
    session.execute(
        sa.delete(LoginFailure).where(LoginFailure.username == name, LoginFailure.address == address)
    )
    officer.failed_attempts = 0
    officer.locked_until = None
    officer.last_login_at = now
    officer.session_token = secrets.token_urlsafe(32)
    if _hasher.check_needs_rehash(officer.password_hash):
        officer.password_hash = _hasher.hash(password)
    audit(session, officer.actor, "officer.login", "officer", officer.id, address=address)
    return LoginResult(LoginOutcome.OK, officer)


def locked_addresses(session: Session, username: str) -> int:
    """Return from how many addresses logins to `username` are locked now."""
    since = utcnow() - LOCKOUT
    counts = session.execute(
        sa.select(LoginFailure.address, sa.func.count())
        .where(LoginFailure.username == username, LoginFailure.at >= since)
        .group_by(LoginFailure.address)
    ).all()
    return sum(1 for _address, n in counts if n >= MAX_FAILED_ATTEMPTS)


def unlock(session: Session, officer: Officer, actor: str) -> int:
    """Forget the failed logins of an account (every address): it can log in again at once. Audited."""
    cleared = session.execute(sa.delete(LoginFailure).where(LoginFailure.username == officer.username))
    officer.failed_attempts = 0
    officer.locked_until = None
    n = int(getattr(cleared, "rowcount", 0) or 0)
    audit(session, actor, "officer.unlock", "officer", officer.id, failures=n)
    return n


def set_active(session: Session, officer: Officer, active: bool, actor: str) -> None:
    """Disable (a departed officer) or enable an account; disabling ends its session at once. Audited."""
    officer.active = active
    officer.session_token = secrets.token_urlsafe(32)
    audit(session, actor, "officer.enable" if active else "officer.disable", "officer", officer.id)


def reset_password(session: Session, officer: Officer, password: str, actor: str) -> None:
    """Give an account a new password (an administrator's reset); its session ends and its lockouts go. Audited."""
    check_password_rules(password)
    officer.password_hash = _hasher.hash(password)
    officer.session_token = secrets.token_urlsafe(32)
    session.execute(sa.delete(LoginFailure).where(LoginFailure.username == officer.username))
    audit(session, actor, "officer.reset_password", "officer", officer.id)


def change_own_password(session: Session, officer: Officer, old: str, new: str) -> None:
    """An officer changes their own password: the old one first; the new one follows the rules. Audited."""
    if not _verify(officer.password_hash, old):
        audit(session, officer.actor, "officer.password_change_refused", "officer", officer.id)
        raise InputError(N_("The current password is wrong."))
    check_password_rules(new)
    if new == old:
        raise InputError(N_("The new password is the same as the current one."))
    officer.password_hash = _hasher.hash(new)
    audit(session, officer.actor, "officer.change_password", "officer", officer.id)


def set_role(session: Session, officer: Officer, role: OfficerRole, province: str | None, actor: str) -> None:
    """Change an account's role and province (an officer or supervisor needs one). Audited, old and new."""
    province = (province or "").strip()[:64] or None
    if role is not OfficerRole.ADMIN and not province:
        raise InputError(N_("An officer or supervisor needs a province."))
    before = {"role": officer.role.value, "province": officer.province}
    officer.role, officer.province = role, province
    audit(session, actor, "officer.set_role", "officer", officer.id, before=before,
          after={"role": role.value, "province": province})  # fmt: skip


def end_session(session: Session, officer: Officer) -> None:
    """Log an officer out: the session token is replaced, so the old cookie no longer logs anyone in."""
    officer.session_token = secrets.token_urlsafe(32)
    audit(session, officer.actor, "officer.logout", "officer", officer.id)


def officer_by_session_token(session: Session, token: str) -> Officer | None:
    """Return the active officer whose current login session is `token`."""
    if not token:
        return None
    return session.scalars(
        sa.select(Officer).where(Officer.session_token == token, Officer.active.is_(True))
    ).first()


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password[:MAX_PASSWORD_CHARS])
    except (VerificationError, InvalidHashError):
        return False
