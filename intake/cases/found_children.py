"""Found children: officers register rescued children (source 3) and children suspected of being kidnapped
(source 4), with the adults who claimed to be their parents; volunteers' registrations (source 5) use the same.

A found-child case has a reference of its own kind ("FC-2026-4F7K2Q", with the check character of case
references) and a `FoundChild` row; the child and each claimed parent get a person and a sample code to take to
the lab.

    register_found_child(session, *, source, sex, age_years, found_place, found_date, actor, ...) -> Registered
    find_case(session, reference) -> Case                    case_kind(session, case) -> CaseKind
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.slots import china_today
from intake.models import Case, CaseKind, FoundChild, Lab, Person, Role, Sample, SampleSource, Sex, audit
from intake.platform.codes import (
    insert_with_unique_code,
    new_case_pin,
    new_case_reference,
    new_sample_code,
    normalise_case_reference,
)
from intake.platform.errors import InputError, NotFoundError
from intake.platform.i18n import N_

FOUND_SOURCES = (
    SampleSource.RESCUED_CHILD, SampleSource.SUSPECTED_KIDNAPPED_CHILD, SampleSource.UNKNOWN_IDENTITY_CHILD,
)  # fmt: skip
CLAIMED_ROLES = {"mother": Role.CLAIMED_MOTHER, "father": Role.CLAIMED_FATHER}
MAX_CHILD_AGE = 25  # children missing for decades are found as young adults (rescued, sources 3 and 4)
# A child is a person under 18 (Law on the Protection of Minors). A volunteer's registration (source 5) has the
# child sampled on the police's order, without consent, which is meant for children only: an adult found decides
# for themselves. One limit for every path that registers a source 5 child.
ADULT_AGE = 18


@dataclass(frozen=True)
class Registered:
    """A registered found child: the case and the sample code of each person, keyed "child", "claimed_mother"..."""

    case: Case
    samples: dict[str, str]


def find_case(session: Session, reference: str) -> Case:
    """Return the case with this reference of either kind (any case, width, spaces or dashes), or NotFoundError."""
    wanted = normalise_case_reference(reference) or unicodedata.normalize("NFKC", reference).strip().upper()
    case = session.scalars(sa.select(Case).where(Case.reference == wanted)).first()
    if case is None:
        raise NotFoundError(N_("There is no case %(reference)s."), reference=wanted[:24])
    return case


def case_kind(session: Session, case: Case) -> CaseKind:
    """Return whether the case is a missing child's (a family looking) or a found child's."""
    found = session.get(FoundChild, case.id)
    return CaseKind.FOUND_CHILD if found is not None else CaseKind.MISSING_CHILD


def _check(
    source: SampleSource, age_years: int, found_place: str, found_date: date, today: date, claimed: int
) -> None:
    if source not in FOUND_SOURCES:
        raise InputError(
            N_("A found child comes from source 3, 4 or 5, not %(source)s."), source=source.value
        )
    if not 0 <= age_years <= MAX_CHILD_AGE:
        raise InputError(N_("Give an estimated age from 0 to %(max)s years."), max=MAX_CHILD_AGE)
    if source is SampleSource.UNKNOWN_IDENTITY_CHILD and age_years >= ADULT_AGE:
        raise InputError(N_("A person of unknown identity aged %(adult)s or more is an adult: not registered as a "
                            "child."), adult=ADULT_AGE)  # fmt: skip
    if not found_place.strip():
        raise InputError(N_("Give the place where the child was found."))
    if found_date > today:
        raise InputError(N_("The date the child was found is in the future."))
    if claimed and source is not SampleSource.SUSPECTED_KIDNAPPED_CHILD:
        raise InputError(N_("Claimed parents come only with a child suspected of being kidnapped."))


def _new_sample(
    session: Session, source: SampleSource, case: Case, person: Person, lab_id: int | None, sex: Sex
) -> Sample:
    return insert_with_unique_code(
        session,
        lambda: Sample(
            code=new_sample_code(),
            source=source,
            case_id=case.id,
            person_id=person.id,
            lab_id=lab_id,
            sex=sex,
        ),
    )


def register_found_child(
    session: Session,
    *,
    source: SampleSource,
    sex: Sex,
    age_years: int,
    found_place: str,
    found_date: date,
    actor: str,
    description: str | None = None,
    claimed_parents: Sequence[tuple[Role, Sex]] = (),
    lab_id: int | None = None,
    today: date | None = None,
    age_max_years: int | None = None,
    found_date_precision: str | None = None,
) -> Registered:
    """Create the found-child case, its child and claimed parents, and a sample code for each of them."""
    today = today or china_today()
    _check(source, age_years, found_place, found_date, today, len(claimed_parents))
    if lab_id is not None and session.get(Lab, lab_id) is None:
        raise NotFoundError(N_("There is no lab %(lab)s."), lab=lab_id)
    case = insert_with_unique_code(
        session,
        lambda: Case(
            reference=new_case_reference(today, kind="FC"), pin=new_case_pin(), child_sex=sex,
            child_age_years=age_years, child_age_max_years=age_max_years,
            description=(description or "").strip() or None,
        ),
    )  # fmt: skip
    session.add(
        FoundChild(
            case_id=case.id,
            source=source,
            found_place=found_place.strip()[:200],
            found_date=found_date,
            estimated_age_years=age_years,
            estimated_age_max_years=age_max_years,
            found_date_precision=found_date_precision,
            registered_by=actor,
        )  # fmt: skip
    )
    samples: dict[str, str] = {}
    for role, person_sex in [(Role.CHILD, sex), *claimed_parents]:
        person = Person(case_id=case.id, role=role)
        session.add(person)
        session.flush()
        sample = _new_sample(session, source, case, person, lab_id, person_sex)
        key = role.value if role.value not in samples else f"{role.value}_{person.id}"
        samples[key] = sample.code
    audit(session, actor, "found_child.register", "case", case.id, source=source.value, samples=len(samples))
    return Registered(case, samples)
