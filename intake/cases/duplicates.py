"""Likely duplicate reports: the same missing child reported from two phones (the other parent, a grandparent).

A report is a likely duplicate of another open missing-child case, reported from another contact, when the child
has the same name (folded: spaces, case, Traditional and Simplified characters), the same sex, an age within a
year (each case's age when reported, from the age given or the date of birth) and the same place last seen (one
folded place contains the other: `广州` and `广州火车站`). Nothing is merged or dropped: the dialogue points the
second reporter to JOIN without showing anything of the other case, and officers see the pair as a flag of the
matching service's kind `likely_duplicate_report` (`match_flags`, with both case ids; on the console's flags page
with both references; resolved like any flag, `reunite flags resolve`).

A flag of this kind names no DNA profile: its key (the `profile_ids` column that makes a flag unique per kind) is
`cases:<lower id>,<higher id>`, so a pair is flagged once.

    likely_duplicates_of(session, *, name, sex, age_years, place, exclude_contact_id, exclude_case_id=None) -> [Case]
    likely_duplicates(session, case) -> [Case]
    flag_likely_duplicates(session, case, *, actor) -> [MatchFlag]    (the new flags)
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intake.models import (
    Case,
    CaseStatus,
    FoundChild,
    MatchFlag,
    Person,
    Sex,
    audit,
    persons_of_contact,
    utcnow,
)
from intake.platform.text import fold

LIKELY_DUPLICATE_REPORT = "likely_duplicate_report"
AGE_SLACK_YEARS = 1
MIN_PLACE_CHARS = 2  # a shorter folded place would be contained in too much
_GONE = (CaseStatus.WITHDRAWN, CaseStatus.CLOSED)


def _key(text: str | None) -> str:
    return "".join(fold(text or "").split())


def age_when_reported(case: Case) -> int | None:
    """Return the child's age in years when the case was reported: as given, or from the date of birth."""
    if case.child_age_years is not None:
        return case.child_age_years
    born = case.child_birth_date
    if born is None:
        return None
    reported = (case.created_at or utcnow()).date()
    return reported.year - born.year - ((reported.month, reported.day) < (born.month, born.day))


def same_place(one: str | None, other: str | None) -> bool:
    """Tell whether two places last seen name the same place: one folded place contains the other."""
    a, b = _key(one), _key(other)
    if len(a) < MIN_PLACE_CHARS or len(b) < MIN_PLACE_CHARS:
        return False
    return a in b or b in a


def likely_duplicates_of(
    session: Session,
    *,
    name: str,
    sex: Sex,
    age_years: int | None,
    place: str | None,
    exclude_contact_id: int | None,
    exclude_case_id: int | None = None,
) -> list[Case]:
    """Return the open missing-child cases of other contacts that likely report this child, oldest first."""
    wanted = _key(name)
    if not wanted:
        return []
    plain = sa.func.lower(sa.func.replace(Case.child_name, " ", ""))
    query = sa.select(Case).where(
        Case.child_sex == sex,
        Case.status.not_in(_GONE),
        Case.reported_by_contact_id.is_not(None),
        Case.id.not_in(sa.select(FoundChild.case_id)),
        # A prefilter the database can answer (the name as typed, lower case, without spaces); fold decides.
        plain.in_({"".join(name.lower().split()), wanted}),
    )
    if exclude_case_id is not None:
        query = query.where(Case.id != exclude_case_id)
    if exclude_contact_id is not None:
        own = sa.select(Person.case_id).where(persons_of_contact(exclude_contact_id))
        query = query.where(Case.reported_by_contact_id != exclude_contact_id, Case.id.not_in(own))
    found = []
    for case in session.scalars(query.order_by(Case.id)):
        other_age = age_when_reported(case)
        close_in_age = age_years is None or other_age is None or abs(other_age - age_years) <= AGE_SLACK_YEARS
        if _key(case.child_name) == wanted and close_in_age and same_place(case.last_seen_place, place):
            found.append(case)
    return found


def likely_duplicates(session: Session, case: Case) -> list[Case]:
    """Return the other open cases, reported from other contacts, that likely report the same child as `case`."""
    if case.reported_by_contact_id is None or not case.child_name:
        return []
    return likely_duplicates_of(
        session, name=case.child_name, sex=case.child_sex, age_years=age_when_reported(case),
        place=case.last_seen_place, exclude_contact_id=case.reported_by_contact_id, exclude_case_id=case.id,
    )  # fmt: skip


def pair_key(one: int, other: int) -> str:
    """Return the flag key of a pair of cases (the `profile_ids` column of its flag)."""
    low, high = sorted((one, other))
    return f"cases:{low},{high}"


def flag_likely_duplicates(session: Session, case: Case, *, actor: str) -> list[MatchFlag]:
    """Raise a `likely_duplicate_report` flag for each likely duplicate of `case` not flagged yet; return them."""
    flags = []
    for other in likely_duplicates(session, case):
        key = pair_key(case.id, other.id)
        exists = sa.select(MatchFlag.id).where(
            MatchFlag.kind == LIKELY_DUPLICATE_REPORT, MatchFlag.profile_ids == key
        )
        if session.scalars(exists).first() is not None:
            continue
        flag = MatchFlag(
            kind=LIKELY_DUPLICATE_REPORT, profile_ids=key, case_ids=sorted((case.id, other.id)),
            detail={"same": ["name", "sex", "age", "place"]},
        )  # fmt: skip
        try:
            with session.begin_nested():  # the unique (kind, key) has the last word when two reports race
                session.add(flag)
        except IntegrityError:
            continue
        audit(session, actor, "case.likely_duplicate", "match_flag", flag.id, cases=flag.case_ids)
        flags.append(flag)
    return flags
