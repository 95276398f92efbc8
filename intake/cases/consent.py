"""The one consent guard every use of a person's sample goes through: book, reschedule, and later the lab and
matching paths.

The README promises that consent to DNA sampling and consent to processing personal data are both asked,
recorded and required before any sample is booked or used, and that a withdrawal stops every use.

**Consent belongs to the person giving the sample.** For a person of a case, each scope's answer is the latest
one recorded for that person, or for the case as a whole (a row without a person: older data, tests); another
family member's answer is not theirs: a sister who refuses does not stop the mother, nor does the mother's yes
cover the father. The latest answer counts (a later refusal overrides an earlier yes), and it must be granted
and not withdrawn; a withdrawn case has no valid consent at all. Without a person (a sample not tied to anyone
yet, such as a walk-in not linked), the case's latest answer of anyone counts, as the lab paths always did.
`consent_status` is the one definition; `ConsentBook` answers the same question for many cases at once (the
matcher), from the same rule (`_decide`).

    consent_status(session, case, person) -> ConsentStatus     (.ok, .missing, .of[scope])
    ConsentBook.load(session, case_ids=None, reported_only=False).status(case_id, person_id) -> ConsentStatus
    book.recorded_many(case_ids, person_ids) -> list[bool]        `recorded` of many (case, person) at once
    missing_scopes(session, case, person=None) -> list[ConsentScope]
    has_sample_consent(session, case, person=None) -> bool
    require_sample_consent(session, case, person=None) -> None, or raises ConsentRequiredError
    record_police_order(session, case, *, person_id, channel, language, at) -> list[Consent]

A child of unknown identity found begging or alone (sample source 5) cannot consent and has no known guardian.
The lawful basis for sampling such a child is not consent but the police: under the national anti-trafficking
DNA programme the public security organs sample children of unknown identity. That basis is recorded explicitly,
as the case's answer to each scope with the text version `POLICE_ORDER`, and the guard accepts such a record only
for a found child of source 5: the same row on any other case counts as no answer at all.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.models import (
    Case,
    CaseStatus,
    Channel,
    Consent,
    ConsentScope,
    FoundChild,
    Person,
    Sample,
    SampleSource,
)
from intake.platform.errors import ConsentRequiredError

# Every scope a sample's use depends on, in the order the report flow asks them.
SAMPLE_USE_SCOPES = (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING)
# The recorded basis of sampling a child of unknown identity: the police's order under the national programme.
POLICE_ORDER = "basis-police-order-source5"


def police_order_applies(session: Session, case: Case) -> bool:
    """Tell whether the case is a found child of unknown identity (source 5), sampled on the police's order."""
    found = session.get(FoundChild, case.id)
    return found is not None and found.source == SampleSource.UNKNOWN_IDENTITY_CHILD


def record_police_order(
    session: Session, case: Case, *, person_id: int, channel: Channel, language: str, at: datetime
) -> list[Consent]:
    """Record the police's order as the basis of sampling the child of a source-5 case (each scope)."""
    if not police_order_applies(session, case):
        raise ValueError(
            "the police-order basis applies only to a found child of unknown identity (source 5)"
        )
    rows = [
        Consent(
            case_id=case.id,
            person_id=person_id,
            scope=scope,
            granted=True,
            channel=channel,
            language=language,
            text_version=POLICE_ORDER,
            recorded_at=at,
        )  # fmt: skip
        for scope in SAMPLE_USE_SCOPES
    ]
    session.add_all(rows)
    session.flush()
    return rows


class Answer(enum.StrEnum):
    """Where one scope stands for a person."""

    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    NONE = "none"  # never answered (or only on a basis that does not apply to the case)


@dataclass(frozen=True)
class ConsentStatus:
    """Each sample-use scope's standing for one person of one case."""

    of: Mapping[ConsentScope, Answer]

    @property
    def missing(self) -> list[ConsentScope]:
        """Return the scopes not given, in the order the report asks them."""
        return [scope for scope in SAMPLE_USE_SCOPES if self.of.get(scope) is not Answer.GIVEN]

    @property
    def ok(self) -> bool:
        """Tell whether every scope a sample's use needs is given and stands."""
        return not self.missing


@dataclass(frozen=True)
class _Row:
    person_id: int | None
    scope: ConsentScope
    granted: bool
    withdrawn: bool
    police_order: bool


def _decide(
    rows: Iterable[_Row], person_id: int | None, *, withdrawn_case: bool, police_order_applies: bool
) -> ConsentStatus:
    """The rule, once: `rows` of one case, oldest first; the latest that counts for the person decides a scope."""
    if withdrawn_case:
        return ConsentStatus(dict.fromkeys(SAMPLE_USE_SCOPES, Answer.WITHDRAWN))
    latest: dict[ConsentScope, _Row] = {}
    for row in rows:
        if person_id is None or row.person_id is None or row.person_id == person_id:
            latest[row.scope] = row
    answers = {}
    for scope in SAMPLE_USE_SCOPES:
        last = latest.get(scope)
        if last is None or (last.police_order and not police_order_applies):
            answers[scope] = Answer.NONE  # the police-order basis counts for a found child of source 5 only
        elif not last.granted:
            answers[scope] = Answer.REFUSED
        else:
            answers[scope] = Answer.WITHDRAWN if last.withdrawn else Answer.GIVEN
    return ConsentStatus(answers)


_OWN, _OTHER = 1, 2  # a row's person, as `recorded_many` marks it: the person asked about, or someone else


def _whose(row_person: int | None, person_id: int | None) -> int | None:
    if row_person is None:
        return None
    return _OWN if row_person == person_id else _OTHER


_COLUMNS = (Consent.case_id, Consent.person_id, Consent.scope, Consent.granted, Consent.withdrawn_at,
            Consent.text_version)  # fmt: skip
_ORDER = (Consent.recorded_at, Consent.id)


def _row(
    person_id: int | None, scope: ConsentScope, granted: bool, withdrawn_at: object, version: str
) -> _Row:
    return _Row(person_id, scope, bool(granted), withdrawn_at is not None, version == POLICE_ORDER)


def consent_status(session: Session, case: Case, person: Person | int | None) -> ConsentStatus:
    """Return where each sample-use scope stands for `person` (a Person, its id, or None: nobody yet) in `case`."""
    person_id = person.id if isinstance(person, Person) else person
    withdrawn = case.status == CaseStatus.WITHDRAWN
    rows = [] if withdrawn else [
        _row(*r[1:]) for r in session.execute(
            sa.select(*_COLUMNS).where(Consent.case_id == case.id, Consent.scope.in_(SAMPLE_USE_SCOPES))
            .order_by(*_ORDER)
        )
    ]  # fmt: skip
    ordered = any(r.police_order for r in rows) and police_order_applies(session, case)
    return _decide(rows, person_id, withdrawn_case=withdrawn, police_order_applies=ordered)


@dataclass
class ConsentBook:
    """The consents of many cases read in one query, answering `consent_status` for each (case, person)."""

    rows: dict[int, list[_Row]] = field(default_factory=dict)
    withdrawn: set[int] = field(default_factory=set)
    police_ordered: set[int] = field(default_factory=set)  # found children of source 5

    @classmethod
    def load(
        cls, session: Session, case_ids: Collection[int] | None = None, *, reported_only: bool = False
    ) -> ConsentBook:
        """Read the consents of `case_ids` (all cases: None); `reported_only`: of cases a contact reported."""
        query = sa.select(*_COLUMNS).join(Case, Case.id == Consent.case_id).order_by(*_ORDER)
        found = sa.select(FoundChild.case_id).where(FoundChild.source == SampleSource.UNKNOWN_IDENTITY_CHILD)
        if reported_only:
            query = query.where(Case.reported_by_contact_id.is_not(None))
        if case_ids is not None:
            query = query.where(Consent.case_id.in_(case_ids))
            found = found.where(FoundChild.case_id.in_(case_ids))
        book = cls()
        rows: dict[int, list[_Row]] = defaultdict(list)
        for case_id, person_id, scope, granted, withdrawn_at, version in session.execute(query):
            assert case_id is not None  # joined to its case
            rows[case_id].append(_row(person_id, scope, granted, withdrawn_at, version))
        book.rows = rows
        withdrawn = sa.select(Case.id).where(Case.status == CaseStatus.WITHDRAWN)
        if case_ids is not None:
            withdrawn = withdrawn.where(Case.id.in_(case_ids))
        book.withdrawn = set(session.scalars(withdrawn))
        if any(r.police_order for case_rows in rows.values() for r in case_rows):
            book.police_ordered = set(session.scalars(found))
        return book

    def status(self, case_id: int, person_id: int | None) -> ConsentStatus:
        """Return what `consent_status` returns for the person of the case."""
        return _decide(self.rows.get(case_id, ()), person_id, withdrawn_case=case_id in self.withdrawn,
                       police_order_applies=case_id in self.police_ordered)  # fmt: skip

    def recorded(self, case_id: int, person_id: int | None) -> bool:
        """Tell whether every scope a sample's use needs stands for the person of the case."""
        return self.status(case_id, person_id).ok

    def recorded_many(self, case_ids: Iterable[int], person_ids: Iterable[int | None]) -> list[bool]:
        """Tell `recorded` of each (case, person), deciding by `_decide` once per distinct situation.

        A situation is what the rule reads: the case's rows in order, each marked as the person's own, another
        person's or the whole case's (person ids themselves play no part), and whether the case is withdrawn or
        under the police-order basis. A million families then take a few distinct decisions, not a million.
        """
        decided: dict[tuple[object, ...], bool] = {}
        answers = []
        for case_id, person_id in zip(case_ids, person_ids, strict=True):
            rows = tuple(
                (_whose(r.person_id, person_id), r.scope, r.granted, r.withdrawn, r.police_order)
                for r in self.rows.get(case_id, ())
            )
            situation = (case_id in self.withdrawn, case_id in self.police_ordered, person_id is None, rows)
            answer = decided.get(situation)
            if answer is None:
                answer = decided[situation] = _decide(
                    [_Row(*r) for r in rows],
                    None if person_id is None else _OWN,
                    withdrawn_case=case_id in self.withdrawn,
                    police_order_applies=case_id in self.police_ordered,
                ).ok
            answers.append(answer)
        return answers


def missing_scopes(session: Session, case: Case, person: Person | int | None = None) -> list[ConsentScope]:
    """Return the scopes without a granted, unwithdrawn latest answer for the person (`consent_status`)."""
    return consent_status(session, case, person).missing


def has_sample_consent(session: Session, case: Case, person: Person | int | None = None) -> bool:
    """Tell whether every consent a sample's use needs is on record for the person of the case."""
    return consent_status(session, case, person).ok


def require_sample_consent(session: Session, case: Case, person: Person | int | None = None) -> None:
    """Raise ConsentRequiredError unless every consent a sample's use needs stands for the person of the case."""
    if not consent_status(session, case, person).ok:
        raise ConsentRequiredError(
            "Consent to DNA sampling and to keeping your details is needed before a sample can be booked or used."
        )


# Every lab path (upload, GeneMapper import, walk-in link) asks this one question of a sample's profile.
def profile_consents_recorded(session: Session, sample: Sample, person_id: int | None = None) -> bool:
    """Tell whether a profile of `sample` may be stored or linked to `person_id` (default: the sample's person).

    Cases reported through the intake need, for each scope, a latest answer that is a granted, unwithdrawn
    consent of that person or of the case as a whole. Found children (registered by officers) and walk-ins not
    yet linked to a case were consented at the lab or fall under the officers' legal basis.
    """
    case = session.get(Case, sample.case_id) if sample.case_id is not None else None
    if case is None:
        return True
    return case_consents_recorded(session, case, person_id if person_id is not None else sample.person_id)


def case_consents_recorded(session: Session, case: Case, person_id: int | None) -> bool:
    """Tell whether the person (or, without one, the case) has every consent a profile needs, if reported."""
    if case.reported_by_contact_id is None:
        return True
    return consent_status(session, case, person_id).ok
