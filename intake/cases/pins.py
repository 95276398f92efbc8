"""Secrets people type (case PINs, link codes) and the limits on guessing them; a lost PIN sent again.

Every wrong try (a LINK code, a JOIN or DELETE PIN) is a row of `link_attempts`; the budgets below count them per
contact, per case and for everyone, and a lock says whose tries locked it and until when (docs/dialogue.md).

    pin_lock(session, contact, case_ids=()) -> Lock | None       guessing_lock(session, contact) -> Lock | None
    resend_case_pin(session, asker, case, *, why) -> Resend
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import Case, Contact, LinkAttempt, as_utc, audit, utcnow
from intake.outbox.queue import notify_family

# Guessing budgets. One contact: 5 wrong secrets an hour. One case: 10 wrong PINs a day, from any number of
# phones, so a case whose reference is known (a poster, a news story) cannot have its PIN (10^6) guessed by a
# crowd: a year of guessing finds it with odds under 1 in 250. Everyone together: 1,000 an hour, the backstop
# against guessing references and PINs at random (a reference has 32^5 values, so the odds stay negligible); it
# used to be 50, which let one guesser with a dozen numbers lock every honest JOIN, LINK and DELETE for an hour.
MAX_FAILURES_PER_CONTACT_HOUR = 5
MAX_WRONG_PINS_PER_CASE_DAY = 10
MAX_FAILURES_PER_HOUR = 1000

# Failed LINK attempts, and failed JOINs (`intake.cases.family`) and DELETE PINs (`intake.cases.erasure`), which share the budget.
FAILURES = ("wrong_code", "wrong_pin", "used", "join_wrong_pin", "join_unknown_case", "erase_wrong_pin")


def _failures_since(
    session: Session, since: object, contact: Contact | None = None, case_id: int | None = None
) -> int:
    query = sa.select(sa.func.count()).where(LinkAttempt.at >= since, LinkAttempt.outcome.in_(FAILURES))
    if contact is not None:
        query = query.where(LinkAttempt.contact_id == contact.id)
    if case_id is not None:
        query = query.where(LinkAttempt.case_id == case_id)
    return int(session.scalar(query) or 0)


class LockKind(enum.StrEnum):
    """Whose wrong tries locked a secret out: the words a person reads depend on it (docs/dialogue.md)."""

    CONTACT = "contact"  # this phone failed too often in the last hour
    CASE = (
        "case"  # the case's PIN was sent wrong too often in the last day, from any phones: maybe not this one
    )
    EVERYONE = "everyone"  # everyone together failed too often in the last hour


@dataclass(frozen=True)
class Lock:
    """A lockout, and when it ends: when the oldest failure that keeps the count at its limit leaves the window."""

    kind: LockKind
    until: datetime
    case_id: int | None = None  # the case whose PIN is locked (LockKind.CASE)


def _lock(session: Session, kind: LockKind, window: timedelta, limit: int, **where: Any) -> Lock | None:
    since = utcnow() - window
    if _failures_since(session, since, **where) < limit:
        return None
    query = sa.select(LinkAttempt.at).where(LinkAttempt.at >= since, LinkAttempt.outcome.in_(FAILURES))
    if (contact := where.get("contact")) is not None:
        query = query.where(LinkAttempt.contact_id == contact.id)
    if (case_id := where.get("case_id")) is not None:
        query = query.where(LinkAttempt.case_id == case_id)
    # The lock lifts when all but limit - 1 of the failures in the window have left it.
    times = list(session.scalars(query.order_by(LinkAttempt.at.desc()).limit(limit)))
    return Lock(kind, as_utc(times[-1]) + window, where.get("case_id"))


def guessing_lock(session: Session, contact: Contact) -> Lock | None:
    """Return the lock on this contact's tries (its own failures, or everyone's, in the last hour), or None."""
    hour = timedelta(hours=1)
    return _lock(session, LockKind.CONTACT, hour, MAX_FAILURES_PER_CONTACT_HOUR, contact=contact) or _lock(
        session, LockKind.EVERYONE, hour, MAX_FAILURES_PER_HOUR
    )


def case_pin_lock(session: Session, case_id: int) -> Lock | None:
    """Return the lock on the case's PIN (wrong too often in the last day, from any phones), or None."""
    return _lock(session, LockKind.CASE, timedelta(days=1), MAX_WRONG_PINS_PER_CASE_DAY, case_id=case_id)


def pin_lock(session: Session, contact: Contact, case_ids: Iterable[int] = ()) -> Lock | None:
    """Return what locks this contact out of trying a PIN of these cases now (its own budget first), or None."""
    return guessing_lock(session, contact) or next(
        (lock for case_id in case_ids if (lock := case_pin_lock(session, case_id)) is not None), None
    )


def guessing_locked(session: Session, contact: Contact) -> bool:
    """Tell whether this contact, or everyone together, failed too often in the last hour to try a secret again."""
    return guessing_lock(session, contact) is not None


def case_pin_locked(session: Session, case_id: int) -> bool:
    """Tell whether the case's PIN was tried wrong too often in the last day, from any phones, to try it again."""
    return case_pin_lock(session, case_id) is not None


# A lost PIN is sent again only to the phone that reported the case, a few times a day (so nobody can use the
# reporter's phone as a pager); every request is recorded in `link_attempts` (not a failure: no secret was tried)
# and audited.
MAX_PIN_RESENDS_PER_CASE_DAY = 3
MAX_PIN_RESENDS_PER_CONTACT_DAY = 3
PIN_RESEND = "pin_resend"


class ResendOutcome(enum.StrEnum):
    """What a lost-PIN request did."""

    SENT = "sent"  # queued to the case's reporting contact, on its own channel
    LIMITED = "limited"  # sent often enough today: nothing sent
    UNREACHABLE = "unreachable"  # the reporter has no channel we can send on (opted out, a terminal, none)


@dataclass(frozen=True)
class Resend:
    """The outcome of a lost-PIN request, and whether the asker is the reporting contact (the PIN came to them)."""

    outcome: ResendOutcome
    to_asker: bool = False


def _resends_since(session: Session, since: object, **where: object) -> int:
    query = sa.select(sa.func.count()).where(LinkAttempt.at >= since, LinkAttempt.outcome == PIN_RESEND)
    for column, value in where.items():
        query = query.where(getattr(LinkAttempt, column) == value)
    return int(session.scalar(query) or 0)


def resend_case_pin(session: Session, asker: Contact, case: Case | None, *, why: str) -> Resend:
    """Send the case's PIN again, only to the contact that reported the case, with the case reference; never to
    the asker unless the asker is that contact. `case` None (an unknown reference) sends nothing, but is counted
    and audited the same, so the asker cannot tell which references exist. `why`: join, link or delete."""
    day_ago = utcnow() - timedelta(days=1)
    limited = _resends_since(session, day_ago, contact_id=asker.id) >= MAX_PIN_RESENDS_PER_CONTACT_DAY or (
        case is not None and _resends_since(session, day_ago, case_id=case.id) >= MAX_PIN_RESENDS_PER_CASE_DAY
    )
    reporter = (
        session.get(Contact, case.reported_by_contact_id)
        if case is not None and case.reported_by_contact_id is not None
        else None
    )
    to_asker = reporter is not None and reporter.id == asker.id
    outcome = ResendOutcome.LIMITED if limited else ResendOutcome.UNREACHABLE
    attempt = None
    if not limited:
        attempt = LinkAttempt(contact_id=asker.id, outcome=PIN_RESEND, case_id=case.id if case else None)
        session.add(attempt)
        session.flush()
    if attempt is not None and case is not None and reporter is not None and not reporter.opted_out:
        sent = notify_family(
            session, contact=reporter, key=f"case:{case.id}:pin_resent:{attempt.id}", template="case.pin_resent",
            params={"reference": case.reference, "pin": case.pin}, case_id=case.id,
        )  # fmt: skip
        outcome = ResendOutcome.SENT if sent is not None else ResendOutcome.UNREACHABLE
    audit(
        session, f"contact:{asker.id}", "case.pin_resend", "case", case.id if case else None,
        outcome=outcome.value, why=why, to_reporter=reporter.id if reporter else None,
    )  # fmt: skip
    return Resend(outcome, to_asker and outcome is ResendOutcome.SENT)
