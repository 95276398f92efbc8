"""Whether a sample fits what is known of its person: the sex Amelogenin shows, the source, the role and the case.

A profile whose Amelogenin contradicts the sex on record (X,Y for a mother) is most often a swapped tube, but it
may be a true AMELY deletion (a man typed X only): it is stored, and the lab reads a `sex_mismatch` notice in the
answer at once; the matching service flags the profile and holds it out of every search until an officer
resolves the flag or the lab replaces the profile (docs/matching.md). The sex on record is the sample's own (walk-ins, found
children), else the one the person's role implies (a mother is female: parents booked by SMS), else, for the
child of a case, the child's sex. Sources 1 and 2 are the family side (parents and relatives of a missing child,
an MC- case); sources 3 to 5 are found children (an FC- case), with the adults who claimed to be the parents for
source 4.

    sex_of_role(role) -> Sex                           recorded_sex(session, sample) -> Sex
    amelogenin_notice(session, sample, genotypes) -> Notice | None
    check_walk_in(session, *, source, role, sex, case)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from intake.labs.errors import ProfileRejectedError
from intake.models import FAMILY_ROLES, Case, FoundChild, Person, Role, Sample, SampleSource, Sex
from intake.platform.i18n import N_, _

FEMALE_ROLES = {Role.MOTHER, Role.CLAIMED_MOTHER}
MALE_ROLES = {Role.FATHER, Role.CLAIMED_FATHER}
FAMILY_SOURCES = {SampleSource.CONFIRMED_MISSING_PARENT, SampleSource.REPORTING_PARENT}
CLAIMED_ROLES = {Role.CLAIMED_MOTHER, Role.CLAIMED_FATHER}
SEX_WORDS = {Sex.FEMALE: _("female"), Sex.MALE: _("male")}


def sex_of_role(role: Role | None) -> Sex:
    """Return the sex a role implies (a mother is female, a father male), else unknown."""
    if role in FEMALE_ROLES:
        return Sex.FEMALE
    if role in MALE_ROLES:
        return Sex.MALE
    return Sex.UNKNOWN


def recorded_sex(session: Session, sample: Sample) -> Sex:
    """Return the sex on record for the sample's person: the sample's, else its role's, else the child's."""
    if sample.sex is not Sex.UNKNOWN:
        return sample.sex
    person = session.get(Person, sample.person_id) if sample.person_id is not None else None
    if person is None:
        return Sex.UNKNOWN
    if person.role is Role.CHILD:
        case = session.get(Case, person.case_id)
        return case.child_sex if case is not None else Sex.UNKNOWN
    return sex_of_role(person.role)


def amelogenin_sex(genotypes: Mapping[str, Sequence[str]]) -> Sex:
    """Return the sex an Amelogenin call shows: X alone female, X and Y male; anything else (none, Y alone) unknown."""
    alleles = set(genotypes.get("Amelogenin", ()))
    if alleles == {"X"}:
        return Sex.FEMALE
    if alleles == {"X", "Y"}:
        return Sex.MALE
    return Sex.UNKNOWN


@dataclass(frozen=True)
class Notice:
    """Something the lab should check about a profile that was stored anyway: a code and a gettext message."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


def amelogenin_notice(
    session: Session, sample: Sample, genotypes: Mapping[str, Sequence[str]]
) -> Notice | None:
    """Return a `sex_mismatch` notice when the profile's Amelogenin shows the other sex than the one on record."""
    shown, recorded = amelogenin_sex(genotypes), recorded_sex(session, sample)
    if Sex.UNKNOWN in (shown, recorded) or shown is recorded:
        return None
    return Notice(
        "sex_mismatch", N_("Amelogenin %(amel)s shows the sex %(shown)s, but sample %(code)s is recorded as "
                           "%(recorded)s: check for a swapped tube. The profile is stored but held out of the "
                           "search until an officer resolves the flag, or you replace it."),
        {"amel": ",".join(genotypes.get("Amelogenin", ())), "shown": SEX_WORDS[shown],
         "recorded": SEX_WORDS[recorded], "code": sample.code},
    )  # fmt: skip


def check_walk_in(session: Session, *, source: SampleSource, role: Role, sex: Sex, case: Case | None) -> None:
    """Refuse a walk-in whose source, role, sex and case do not fit together, saying which and why."""
    found = session.get(FoundChild, case.id) if case is not None else None
    if source in FAMILY_SOURCES:
        fits, side = role in FAMILY_ROLES, _("a parent or relative of a missing child")
    elif source is SampleSource.SUSPECTED_KIDNAPPED_CHILD:
        fits, side = (
            role is Role.CHILD or role in CLAIMED_ROLES,
            _("a found child or an adult who claimed it"),
        )
    else:
        fits, side = role is Role.CHILD, _("a found child")
    if not fits:
        raise ProfileRejectedError(
            "source_role_mismatch", N_("Source %(source)s is %(side)s: role %(role)s does not fit it."),
            source=source.value, side=side, role=role.value,
        )  # fmt: skip
    if case is not None and (found is None) != (source in FAMILY_SOURCES):
        raise ProfileRejectedError(
            "case_mismatch", N_("Case %(case)s is a %(kind)s case: a sample of source %(source)s does not belong "
                                "to it."),
            case=case.reference, kind=_("found-child (FC-)") if found else _("missing-child (MC-)"),
            source=source.value,
        )  # fmt: skip
    if found is not None and source is not found.source:
        raise ProfileRejectedError(
            "case_mismatch", N_("Case %(case)s is a found child of source %(expected)s, not %(source)s."),
            case=case.reference if case else "", expected=found.source.value, source=source.value,
        )  # fmt: skip
    implied = sex_of_role(role)
    if Sex.UNKNOWN not in (implied, sex) and implied is not sex:
        raise ProfileRejectedError(
            "sex_mismatch", N_("Role %(role)s is %(implied)s, but the sex sent is %(sex)s."),
            role=role.value, implied=SEX_WORDS[implied], sex=SEX_WORDS[sex],
        )  # fmt: skip
