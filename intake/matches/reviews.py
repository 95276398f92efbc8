"""Officers' decisions on candidate matches, and the two-person rule before any family is told.

    decide(session, candidate, officer, kind, reason=None, ask_for=None, wish=None) -> CandidateReview

* confirm: an officer says the candidate is the family (from awaiting review or after more evidence came);
* reject (a reason is required): tells no one; a strong candidate (band `candidate`) needs two people, like a
  confirmation: the first rejection proposes it (`rejection_proposed`), a different supervisor agrees (or
  someone confirms the candidate instead);
* reopen: a supervisor sends a rejected candidate back to review;
* more evidence (which relative or which markers): back to the lab and the family's officer;
* wish: the found person's own answer, when they are 16 or older, recorded before anyone is told;
* approve: a supervisor or admin who is NOT the officer who confirmed; a found person of 16 or older must have
  said yes. Only then is the candidate `approved`, and in the same transaction the family is told, once
  (`tell_family`: template "match.approved" on the channel and in the language of the case's reporter).

Every decision is a `CandidateDecision` row and an audit event, in the caller's transaction (the caller commits).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.slots import china_today
from intake.models import (
    Booking,
    CandidateDecision,
    CandidateReview,
    Case,
    Contact,
    DecisionKind,
    FoundChild,
    Lab,
    LabDay,
    Notification,
    Officer,
    ReviewState,
    Sample,
    audit,
    utcnow,
)
from intake.models.matches import Candidate, CandidateStatus
from intake.outbox.delivery import family_contacts
from intake.outbox.queue import FAMILY_CHANNELS, notify_family
from intake.platform.dates import years_between
from intake.platform.errors import ConflictError, InputError
from intake.platform.i18n import N_, _

STRONG_BAND = "candidate"  # the band whose rejection needs a second person
ADULT_AGE = 16  # from this age the found person decides themselves whether to be put in touch
MAX_TEXT = 2000


def review_of(session: Session, candidate: Candidate) -> CandidateReview:
    """Return the review of a candidate, starting one (awaiting review) the first time."""
    review = session.get(CandidateReview, candidate.id)
    if review is None:
        review = CandidateReview(candidate_id=candidate.id, state=ReviewState.AWAITING_REVIEW)
        session.add(review)
        session.flush()
    return review


def found_person_age(session: Session, candidate: Candidate, today: date | None = None) -> int | None:
    """Return the found person's age today (estimated when found, plus the years since), or None if unknown."""
    today = today or china_today()
    case = session.get(Case, candidate.child_case_id)
    if case is None:
        return None
    found = session.get(FoundChild, case.id)
    if case.child_birth_date is not None:
        return years_between(case.child_birth_date, today)
    if found is not None and found.estimated_age_years is not None:
        return found.estimated_age_years + max(years_between(found.found_date, today), 0)
    return case.child_age_years


def needs_own_wish(session: Session, candidate: Candidate, today: date | None = None) -> bool:
    """Tell whether the found person must say themselves that they wish contact (16 or older, or age unknown)."""
    age = found_person_age(session, candidate, today)
    return age is None or age >= ADULT_AGE


def decide(
    session: Session,
    candidate: Candidate,
    officer: Officer,
    kind: DecisionKind,
    *,
    reason: str | None = None,
    ask_for: str | None = None,
    wish: bool | None = None,
    today: date | None = None,
) -> CandidateReview:
    """Record one officer's decision on a candidate, or refuse it (InputError, ConflictError) with the reason."""
    if candidate.status is not CandidateStatus.NEW:
        raise ConflictError(
            N_("This candidate is %(status)s: it can no longer be decided on."),
            status=_(candidate.status.value),
        )
    review = review_of(session, candidate)
    state = review.state
    now = utcnow()
    reason = (reason or "").strip()[:MAX_TEXT] or None
    ask_for = (ask_for or "").strip()[:200] or None
    if kind is DecisionKind.REOPEN:
        if not officer.may_supervise():
            raise ConflictError(N_("Only a supervisor can reopen a rejected candidate."))
        if state is not ReviewState.REJECTED:
            raise ConflictError(N_("Only a rejected candidate can be reopened."))
        review.state, review.confirmed_by_id, review.confirmed_at = ReviewState.AWAITING_REVIEW, None, None
    elif state in (ReviewState.APPROVED, ReviewState.REJECTED):
        raise ConflictError(N_("This candidate is already %(state)s."), state=_(state.value))
    elif kind is DecisionKind.CONFIRM:
        if state not in (
            ReviewState.AWAITING_REVIEW,
            ReviewState.MORE_EVIDENCE,
            ReviewState.REJECTION_PROPOSED,
        ):
            raise ConflictError(N_("This candidate is already %(state)s."), state=_(state.value))
        review.state, review.confirmed_by_id, review.confirmed_at = ReviewState.CONFIRMED, officer.id, now
    elif kind is DecisionKind.REJECT:
        if reason is None:
            raise InputError(N_("Say why the candidate is rejected."))
        review.state = _rejection(session, candidate, review, officer)
    elif kind is DecisionKind.MORE_EVIDENCE:
        if ask_for is None:
            raise InputError(N_("Say which relative or which markers are needed."))
        review.state, review.confirmed_by_id, review.confirmed_at = ReviewState.MORE_EVIDENCE, None, None
    elif kind is DecisionKind.WISH:
        if wish is None:
            raise InputError(N_("Say whether the found person wishes to be put in touch."))
        review.contact_wish = wish
    elif kind is DecisionKind.APPROVE:
        _check_approval(session, candidate, review, officer, today)
        review.state, review.approved_by_id, review.approved_at = ReviewState.APPROVED, officer.id, now
        tell_family(session, candidate, review)
    session.add(
        CandidateDecision(
            candidate_id=candidate.id, kind=kind, officer_id=officer.id, reason=reason, ask_for=ask_for
        )
    )
    detail: dict[str, object] = {"state": review.state.value}
    if wish is not None and kind is DecisionKind.WISH:
        detail["wish"] = wish
    audit(session, officer.actor, f"candidate.{kind.value}", "candidate", candidate.id, **detail)
    session.flush()
    return review


def _rejection(
    session: Session, candidate: Candidate, review: CandidateReview, officer: Officer
) -> ReviewState:
    """A strong candidate (band `candidate`) is rejected by two people, like a confirmation: the first proposes,
    a different supervisor agrees. A weaker one is rejected by one person."""
    if candidate.band != STRONG_BAND:
        return ReviewState.REJECTED
    if review.state is not ReviewState.REJECTION_PROPOSED:
        return ReviewState.REJECTION_PROPOSED
    if rejection_proposer(session, candidate) == officer.id:
        raise ConflictError(N_("A different person must agree to the rejection: you proposed it yourself."))
    if not officer.may_supervise():
        raise ConflictError(N_("Only a supervisor can agree to rejecting a strong candidate."))
    return ReviewState.REJECTED


def rejection_proposer(session: Session, candidate: Candidate) -> int | None:
    """Return the officer who last proposed rejecting the candidate."""
    return session.scalar(
        sa.select(CandidateDecision.officer_id)
        .where(CandidateDecision.candidate_id == candidate.id, CandidateDecision.kind == DecisionKind.REJECT)
        .order_by(CandidateDecision.id.desc())
        .limit(1)
    )


def _check_approval(
    session: Session, candidate: Candidate, review: CandidateReview, officer: Officer, today: date | None
) -> None:
    if not officer.may_supervise():
        raise ConflictError(N_("Only a supervisor can approve a confirmed candidate."))
    if review.state is not ReviewState.CONFIRMED:
        raise ConflictError(N_("An officer must confirm the candidate before a supervisor approves it."))
    if review.confirmed_by_id == officer.id:
        raise ConflictError(N_("A different person must approve: you confirmed this candidate yourself."))
    if needs_own_wish(session, candidate, today) and review.contact_wish is not True:
        if review.contact_wish is False:
            raise ConflictError(N_("The found person does not wish to be put in touch: no one is told."))
        raise ConflictError(
            N_("The found person is 16 or older: record their own wish to be put in touch before approving.")
        )


def _case_lab(session: Session, case_id: int) -> Lab | None:
    """Return the lab of the case's first sample, else of its first appointment."""
    by_sample = sa.select(Lab).join(Sample, Sample.lab_id == Lab.id).where(Sample.case_id == case_id)
    by_booking = (
        sa.select(Lab)
        .join(LabDay, LabDay.lab_id == Lab.id)
        .join(Booking, Booking.lab_day_id == LabDay.id)
        .where(Booking.case_id == case_id)
    )
    return (
        session.scalars(by_sample.order_by(Sample.id)).first()
        or session.scalars(by_booking.order_by(Booking.id)).first()
    )


def whom_to_call(session: Session, review: CandidateReview, case_id: int, language: str) -> tuple[str, str]:
    """Return the name and phone the family is asked to call: the confirming officer's, when their account has
    a phone (alerts by SMS), else the lab that sampled the family (its English name for an English message)."""
    officer = session.get(Officer, review.confirmed_by_id) if review.confirmed_by_id is not None else None
    if officer is not None and officer.alert_channel == "sms" and officer.alert_address:
        return officer.display_name, officer.alert_address
    lab = _case_lab(session, case_id)
    if lab is None:
        return "-", "-"
    return lab.name_in(language), lab.phone or "-"


def _family_contact(session: Session, case: Case) -> Contact | None:
    """Return the contact who reported the case if it can be reached later, else the family's first that can."""
    reporter = session.get(Contact, case.reported_by_contact_id) if case.reported_by_contact_id else None
    reachable = [c for c in [reporter, *family_contacts(session, case.id)] if c is not None]
    return next((c for c in reachable if c.channel in FAMILY_CHANNELS), None)


def tell_family(session: Session, candidate: Candidate, review: CandidateReview) -> Notification | None:
    """Queue the family's "match approved" message, once per candidate, in the approval's transaction: whom to
    call and the case PIN (so they can tell a genuine call from a scam), never genetic detail."""
    case = session.get(Case, candidate.family_case_id)
    contact = _family_contact(session, case) if case is not None else None
    if case is None or contact is None:
        return None  # no channel to reach the family: the officer calls them (the case page has the contacts)
    name, phone = whom_to_call(session, review, case.id, contact.language)
    params = {"reference": case.reference, "name": name, "phone": phone, "pin": case.pin}
    return notify_family(
        session, contact=contact, key=f"candidate:{candidate.id}:approved", template="match.approved",
        params=params, case_id=case.id,
    )  # fmt: skip
