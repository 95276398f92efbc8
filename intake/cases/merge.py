"""Link a likely duplicate report (`intake.duplicates`) into the earlier case of the same child: one family, one
case number.

The later case's people (with their own consents: consent stays per person), contacts, appointments, samples
and their profiles, photos, notifications and candidates move to the earlier case; messages belong to contacts,
so the history follows the people. The later case is left as a closed shell that names the earlier one
(`Case.merged_into_id`): its reference and PIN keep working for its reporter (a JOIN with them joins the
earlier case, `followed`; their DELETE still takes their own PIN), and the console's reads follow the link.
Each reporter is told, on their own channel and in their own language, the case number both reports now share.
The matcher is asked to search every current profile of the family again, so it sees one family (a mother's
duo becomes a trio with the father's sample), and the flag that paired the reports is resolved.

Refused: a case already merged, closed or withdrawn, a found child's case (not a report), and a pair with a
candidate half-way through its two-person review (confirmed, or rejection proposed): the family under review
would change under the second person's decision. Erasure after a merge erases the leaving contact's own
person, consents, samples and messages in the earlier case, as for any case two family members follow.

    merge_cases(session, keep, other, *, actor, flag=None) -> MergeReport
    followed(session, case) -> Case     the case a merged report now lives in (the case itself otherwise)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from intake.cases.status import FINAL, touch
from intake.matches.queue import enqueue_search, resolve_flag
from intake.models import (
    Attachment,
    Booking,
    CandidateReview,
    Case,
    CaseStatus,
    Consent,
    DnaProfile,
    FoundChild,
    MatchFlag,
    Person,
    ReviewState,
    Sample,
    audit,
)
from intake.models.matches import Candidate
from intake.models.outbox import Notification
from intake.outbox.delivery import family_contacts
from intake.outbox.queue import notify_family
from intake.platform.errors import ConflictError
from intake.platform.i18n import N_

MID_REVIEW = (ReviewState.CONFIRMED, ReviewState.REJECTION_PROPOSED)
# Details of the child the earlier report may lack and the later one gave, by group (a date with its precision):
# filled in, never overwritten.
FILLED = (("child_birth_date", "child_birth_precision"), ("child_age_years", "child_age_max_years"),
          ("last_seen_date", "last_seen_precision"), ("description",))  # fmt: skip


@dataclass(frozen=True)
class MergeReport:
    """What a merge moved and queued."""

    kept: int
    merged: int
    persons: int
    samples: int
    searches: int
    told: int


def followed(session: Session, case: Case) -> Case:
    """Return the case a merged report now lives in (following a chain of merges), or the case itself."""
    seen = {case.id}
    while case.merged_into_id is not None and case.merged_into_id not in seen:
        seen.add(case.merged_into_id)
        case = session.get_one(Case, case.merged_into_id)
    return case


def _refuse_unless_mergeable(session: Session, keep: Case, other: Case) -> None:
    if keep.id == other.id:
        raise ConflictError(N_("A case cannot be linked with itself."))
    for case in (keep, other):
        if case.merged_into_id is not None:
            raise ConflictError(
                N_("Case %(reference)s is already linked into another case."), reference=case.reference
            )
        if case.status in FINAL:
            raise ConflictError(
                N_("Case %(reference)s is closed: it cannot be linked."), reference=case.reference
            )
        if session.get(FoundChild, case.id) is not None:
            raise ConflictError(
                N_("Case %(reference)s is a found child's, not a family's report: it cannot be linked."),
                reference=case.reference,
            )
    ids = (keep.id, other.id)
    mid_review = (
        sa.select(Candidate.id)
        .join(CandidateReview, CandidateReview.candidate_id == Candidate.id)
        .where(
            sa.or_(Candidate.child_case_id.in_(ids), Candidate.family_case_id.in_(ids)),
            CandidateReview.state.in_(MID_REVIEW),
        )
    )
    if session.scalar(mid_review.limit(1)) is not None:
        raise ConflictError(
            N_(
                "A candidate of these cases is half-way through its review: finish the review, then link the cases."
            )
        )


MOVED = {"synchronize_session": False}  # every object is expired after the moves


def _move(session: Session, column: Any, old: int, new: int) -> int:
    """Point the rows of `column` (a case id column) from case `old` to case `new`; return how many moved."""
    result = session.execute(
        sa.update(column.class_).where(column == old).values({column.key: new}), execution_options=MOVED
    )
    return int(cast(CursorResult[Any], result).rowcount)


def merge_cases(
    session: Session, keep: Case, other: Case, *, actor: str, flag: MatchFlag | None = None
) -> MergeReport:
    """Move `other`'s family into `keep` (see the module); audited, in the caller's transaction."""
    _refuse_unless_mergeable(session, keep, other)
    session.flush()
    told = {c.id: (c, other.reference) for c in family_contacts(session, other.id)}
    told.update({c.id: (c, keep.reference) for c in family_contacts(session, keep.id)})
    reporter = session.scalars(
        sa.select(Person.id).where(
            Person.case_id == other.id, Person.contact_id == other.reported_by_contact_id
        )
    ).first()
    if (
        reporter is not None
    ):  # a consent the report recorded for the case: its reporter's, not the whole family's
        session.execute(
            sa.update(Consent).where(Consent.case_id == other.id, Consent.person_id.is_(None))
            .values(person_id=reporter), execution_options=MOVED,
        )  # fmt: skip
    persons = _move(session, Person.case_id, other.id, keep.id)
    samples = _move(session, Sample.case_id, other.id, keep.id)
    for column in (Consent.case_id, Booking.case_id, Attachment.case_id, Notification.case_id,
                   Candidate.child_case_id, Candidate.family_case_id):  # fmt: skip
        _move(session, column, other.id, keep.id)
    session.expire_all()  # the rows moved under the session's objects
    for names in FILLED:
        if getattr(keep, names[0]) is None and getattr(other, names[0]) is not None:
            for name in names:
                setattr(keep, name, getattr(other, name))
    other.merged_into_id = keep.id
    other.status = CaseStatus.CLOSED
    session.flush()
    profiles = session.scalars(
        sa.select(DnaProfile.id)
        .join(Sample, Sample.id == DnaProfile.sample_id)
        .where(Sample.case_id == keep.id, DnaProfile.replaced_at.is_(None))
        .order_by(DnaProfile.id)
    ).all()
    for profile_id in profiles:
        enqueue_search(session, profile_id)
    touch(session, keep.id)
    for contact, old_reference in told.values():
        notify_family(
            session, contact=contact, key=f"case.merged:{other.id}:{contact.id}", template="case.merged",
            params={"reference": keep.reference, "old_reference": old_reference}, case_id=keep.id,
        )  # fmt: skip
    audit(session, actor, "case.merge", "case", keep.id, merged=other.id, persons=persons, samples=samples,
          searches=len(profiles), told=len(told))  # fmt: skip
    if flag is not None and flag.resolved_at is None:
        resolve_flag(session, flag.id, actor=actor, note=f"linked: {other.reference} into {keep.reference}")
    return MergeReport(keep.id, other.id, persons, samples, len(profiles), len(told))
