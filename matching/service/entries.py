"""Which stored profiles the matcher sees, and as what: intake rows turned into `matching.search.Entry`.

A profile enters the index when it is its sample's current profile, the sample is linked to a person of a case
that is not withdrawn, the intake's consents of that person are on record (`intake.cases.consent`), and its
source and role put it on a side: a found child (sources 3-5, role child) is a CHILD, the adults who came with a
suspected-kidnapped child are CLAIMED, the parents and relatives of a missing child (sources 1-2) are FAMILY.

    entries(session, profile_ids=None) -> Iterator[Entry]      entry_for(session, profile_id) -> Entry | None
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.cases.consent import ConsentBook
from intake.models import (
    FAMILY_ROLES,
    Case,
    CaseStatus,
    DnaProfile,
    MatchFlag,
    Person,
    Role,
    Sample,
    SampleSource,
    Sex,
)
from matching.alleles import allele_sort_key, canonical_allele
from matching.errors import ProfileError
from matching.markers import MarkerKind, normalise_marker
from matching.profiles import Profile, parse_profile
from matching.search import Entry, FlagKind, Side

CHILD_SOURCES = frozenset(
    {SampleSource.RESCUED_CHILD, SampleSource.SUSPECTED_KIDNAPPED_CHILD, SampleSource.UNKNOWN_IDENTITY_CHILD}
)
FAMILY_SOURCES = frozenset({SampleSource.CONFIRMED_MISSING_PARENT, SampleSource.REPORTING_PARENT})
CLAIMED = {Role.CLAIMED_MOTHER: "mother", Role.CLAIMED_FATHER: "father"}
ROLE_SEX = {
    Role.MOTHER: Sex.FEMALE, Role.CLAIMED_MOTHER: Sex.FEMALE, Role.FATHER: Sex.MALE, Role.CLAIMED_FATHER: Sex.MALE,
    Role.PATERNAL_GRANDFATHER: Sex.MALE, Role.MATERNAL_GRANDFATHER: Sex.MALE, Role.PATERNAL_GRANDMOTHER: Sex.FEMALE,
    Role.MATERNAL_GRANDMOTHER: Sex.FEMALE,
}  # fmt: skip
BATCH = 5_000


def side_of(source: SampleSource, role: Role) -> tuple[Side, str] | None:
    """Return the side and the engine's role name of a sample of `source` given by a person in `role`, or None."""
    if source in CHILD_SOURCES:
        if role is Role.CHILD:
            return Side.CHILD, Role.CHILD.value
        if role in CLAIMED and source is SampleSource.SUSPECTED_KIDNAPPED_CHILD:
            return Side.CLAIMED, CLAIMED[role]
        return None
    if source in FAMILY_SOURCES and role in FAMILY_ROLES:
        return Side.FAMILY, role.value
    return None


def recorded_sex(sample_sex: Sex, role: Role, child_sex: Sex) -> Sex:
    """Return the sex recorded for the person: the sample's, else what the role says (a mother), else the case's."""
    if sample_sex is not Sex.UNKNOWN:
        return sample_sex
    if role is Role.CHILD:
        return child_sex
    return ROLE_SEX.get(role, Sex.UNKNOWN)


def _rows(
    session: Session, profile_ids: Collection[str] | None, *, sealed: bool = False
) -> sa.Select[*tuple[Any, ...]]:
    """The rows the matcher may use, a case's members together; `sealed`: the genotypes as stored (bytes)."""
    genotypes = sa.type_coerce(DnaProfile.genotypes, sa.LargeBinary) if sealed else DnaProfile.genotypes
    query: sa.Select[*tuple[Any, ...]] = (
        sa.select(
            DnaProfile.id,
            genotypes,
            Sample.source,
            Sample.sex,
            Person.id,
            Person.role,
            Case.id,
            Case.child_sex,
            Case.reported_by_contact_id,
        )  # fmt: skip
        .join(Sample, Sample.id == DnaProfile.sample_id)
        .join(Person, Person.id == Sample.person_id)
        .join(Case, Case.id == Sample.case_id)
        .where(DnaProfile.replaced_at.is_(None), Case.status != CaseStatus.WITHDRAWN)
        # A case's members together: the index adds whole cases in blocks (a split case goes one by one).
        .order_by(Case.id, DnaProfile.created_at, DnaProfile.id)
    )
    if profile_ids is not None:
        query = query.where(DnaProfile.id.in_(profile_ids))
    return query


@lru_cache(maxsize=4096)
def _kind(name: str) -> MarkerKind | None:
    """Return the kind of a marker stored under its canonical name, or None if the name is not canonical."""
    try:
        marker = normalise_marker(name)
    except ProfileError:
        return None
    return marker.kind if marker.name == name else None


@lru_cache(maxsize=65_536)
def _pair(first: str, second: str) -> tuple[str, str] | None:
    """Return two canonical alleles in allele order, or None if either is not in canonical form."""
    try:
        if canonical_allele(first) != first or canonical_allele(second) != second:
            return None
    except ValueError:
        return None
    low, high = sorted((first, second), key=allele_sort_key)
    return (low, high)


def stored_profile(genotypes: Mapping[str, Sequence[str]]) -> Profile | None:
    """Return the Profile of genotypes as `intake.labs.profiles` stores them, or None if they cannot be used.

    Stored profiles were checked and canonicalised on upload (names, alleles, two per STR), so they are read
    through small caches (about 20 times faster than parsing); anything else is parsed in full.
    """
    typed: dict[str, tuple[str, str]] = {}
    other: dict[str, tuple[str, ...]] = {}
    for name, alleles in genotypes.items():
        kind = _kind(name)
        usable = kind is MarkerKind.AUTOSOMAL and isinstance(alleles, list) and len(alleles) == 2
        pair = _pair(alleles[0], alleles[1]) if usable and all(isinstance(a, str) for a in alleles) else None
        if pair is not None:
            typed[name] = pair
        elif kind is MarkerKind.SEX and isinstance(alleles, list) and set(alleles) <= {"X", "Y"}:
            other[name] = tuple(sorted(alleles))
        elif kind is MarkerKind.Y and isinstance(alleles, list):
            other[name] = tuple(alleles)
        else:
            try:
                return parse_profile(genotypes)
            except ProfileError:
                return None
    return Profile(typed, other) if typed else None


def sex_accepted(session: Session, profile_ids: Collection[str] | None = None) -> set[str]:
    """Return the profiles whose sex-mismatch flag an officer or lab resolved: they enter with sex unknown."""
    query = sa.select(MatchFlag.profile_ids).where(
        MatchFlag.kind == FlagKind.SEX_MISMATCH.value, MatchFlag.resolved_at.is_not(None)
    )
    if profile_ids is not None:
        query = query.where(MatchFlag.profile_ids.in_(profile_ids))
    return set(session.scalars(query))


def entries(session: Session, profile_ids: Collection[str] | None = None) -> Iterator[Entry]:
    """Yield the Entry of every profile the matcher may use (of `profile_ids` only, if given), case by case."""
    accepted = sex_accepted(session, profile_ids)
    case_ids = None
    if profile_ids is not None:
        case_ids = set(session.scalars(_rows(session, profile_ids).with_only_columns(Case.id)))
    consents = ConsentBook.load(session, case_ids, reported_only=True)
    if profile_ids is None and session.get_bind().dialect.name == "postgresql":
        # Plan the streamed read for all its rows, not a fast start: a cursor's default plan (nested loops)
        # took 50 times longer on tables not yet analysed, as right after a bulk load (measured, 20,000 rows).
        session.execute(sa.text("SET LOCAL cursor_tuple_fraction = 1.0"))
    result = session.execute(_rows(session, profile_ids).execution_options(yield_per=BATCH))
    for pid, genotypes, source, sample_sex, person_id, role, case_id, child_sex, reported in result:
        placed = side_of(source, role)
        if placed is None or not genotypes:  # an erased profile has no genotypes
            continue
        if reported is not None and not consents.recorded(case_id, person_id):
            continue
        profile = stored_profile(genotypes)
        if profile is None:
            continue
        sex = Sex.UNKNOWN if pid in accepted else recorded_sex(sample_sex, role, child_sex)
        yield Entry(
            profile_id=pid, person_id=person_id, case_id=case_id, side=placed[0], role=placed[1],
            sex=sex.value, profile=profile,
        )  # fmt: skip


def entry_for(session: Session, profile_id: str) -> Entry | None:
    """Return the Entry of one profile, or None if the matcher must not use it (now)."""
    return next(entries(session, [profile_id]), None)
