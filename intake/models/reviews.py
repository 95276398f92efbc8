"""Officers' decisions on candidate matches: the review state of each candidate and the log of every decision.

A family is told only after two people agree: an officer confirms, a different supervisor approves
(`intake.matches.reviews` enforces it). A found person of 16 or older says themselves whether they wish to be put in
touch, and that wish is recorded before anyone is told.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, TZDateTime, enum_column, foreign_key, personal, utcnow
from intake.platform.db import Base

DECISIONS_KEPT = "officers' decisions on a match and their reasons stay on record for accountability"


class ReviewState(enum.StrEnum):
    AWAITING_REVIEW = "awaiting_review"
    CONFIRMED = "confirmed"  # an officer confirmed: waits for a different supervisor's approval
    APPROVED = "approved"  # two people agreed: the family may be told
    REJECTED = "rejected"  # tells no one
    MORE_EVIDENCE = "more_evidence"  # a relative or more markers asked for
    # A strong candidate one person rejected: a different supervisor agrees (rejected) or someone confirms it.
    REJECTION_PROPOSED = "rejection_proposed"


class DecisionKind(enum.StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    MORE_EVIDENCE = "more_evidence"
    APPROVE = "approve"
    WISH = "wish"  # the found person's own wish to be put in touch, or not
    REOPEN = "reopen"  # a supervisor sends a rejected candidate back to review


class CandidateReview(Base):
    """Where the officers' review of one candidate stands."""

    __tablename__ = "candidate_reviews"

    candidate_id: Mapped[int] = foreign_key("match_candidates.id", "CASCADE", primary_key=True)
    state: Mapped[ReviewState] = mapped_column(
        enum_column(ReviewState), default=ReviewState.AWAITING_REVIEW, index=True, info=NOT_PERSONAL
    )
    confirmed_by_id: Mapped[int | None] = foreign_key("officers.id", "RESTRICT")
    confirmed_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    approved_by_id: Mapped[int | None] = foreign_key("officers.id", "RESTRICT")
    approved_at: Mapped[datetime | None] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    # The found person's own answer (16 or older): True wishes contact, False does not, None not asked yet.
    contact_wish: Mapped[bool | None] = mapped_column(
        info=personal(kept="the found person's own decision must stay on record")
    )
    updated_at: Mapped[datetime] = mapped_column(
        TZDateTime(), default=utcnow, onupdate=utcnow, info=NOT_PERSONAL
    )


class CandidateDecision(Base):
    """One decision of one officer on one candidate (append-only, with the audit event of the same transaction)."""

    __tablename__ = "candidate_decisions"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    candidate_id: Mapped[int] = foreign_key("match_candidates.id", "CASCADE", index=True)
    kind: Mapped[DecisionKind] = mapped_column(enum_column(DecisionKind), info=NOT_PERSONAL)
    officer_id: Mapped[int] = foreign_key("officers.id", "RESTRICT")
    reason: Mapped[str | None] = mapped_column(Text, info=personal(kept=DECISIONS_KEPT))  # may name people
    ask_for: Mapped[str | None] = mapped_column(String(200), info=personal(kept=DECISIONS_KEPT))
    at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
