"""A small world for the matching service: families who reported and booked, found children registered by
officers, their profiles drawn from the shipped frequency table (`matching.simulate`) and uploaded as a lab does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from intake.cases.found_children import register_found_child
from intake.models import (
    Candidate,
    CandidateStatus,
    MatchFlag,
    Person,
    Role,
    Sample,
    SampleSource,
    Sex,
)
from matching.frequencies import FrequencyTable
from matching.profiles import Profile
from matching.simulate import child_of, random_profile
from tests.support.factories import (
    HUAXIA_PLATINUM,
    TODAY,
    bearer,
    book_sample,
    collect,
    make_case,
    sms_contact,
)

TABLE = FrequencyTable.default()
KIT = tuple(m for m in HUAXIA_PLATINUM if m in TABLE.loci)  # 23 STRs of a current Chinese kit


@dataclass
class Family:
    """A missing child's case: who reported it, and the sample code of each parent."""

    case_id: int
    contact_id: int
    codes: dict[str, str] = field(default_factory=dict)  # "mother", "father"
    profiles: dict[str, Profile] = field(default_factory=dict)


class World:
    def __init__(self, client: FlaskClient, factory: sessionmaker[Session], lab_id: int, secret: str) -> None:
        self.client, self.factory, self.lab_id, self.secret = client, factory, lab_id, secret
        self.rng = np.random.default_rng(20261129)
        self.phones = iter(range(13800000001, 13800009999))

    # -- people ----------------------------------------------------------------------------------------------
    def family(self, *roles: Role, source: SampleSource = SampleSource.REPORTING_PARENT) -> Family:
        """A case reported by SMS by the first role's person, with a booked sample for each role."""
        with self.factory() as session:
            contact = sms_contact(session, f"+86{next(self.phones)}")
            case = make_case(session)  # both consents recorded
            case.reported_by_contact_id = contact.id
            family = Family(case.id, contact.id)
            for role in roles:
                person = Person(case_id=case.id, role=role, contact_id=contact.id)
                session.add(person)
                session.flush()
                family.codes[role.value] = book_sample(
                    session, case, self.lab_id, person, contact, source
                ).code
            session.commit()
        for code in family.codes.values():
            self.collected(code)
        return family

    def found_child(
        self, source: SampleSource = SampleSource.RESCUED_CHILD, claimed: tuple[Role, ...] = ()
    ) -> dict[str, str]:
        """Register a found child (and claimed parents) as an officer does; return the sample codes by role."""
        sexes = {Role.CLAIMED_MOTHER: Sex.FEMALE, Role.CLAIMED_FATHER: Sex.MALE}
        with self.factory() as session:
            registered = register_found_child(
                session, source=source, sex=Sex.MALE, age_years=6, found_place="北京西站",
                found_date=date(2026, 11, 20), actor="officer:test", lab_id=self.lab_id,
                claimed_parents=[(role, sexes[role]) for role in claimed], today=TODAY,
            )  # fmt: skip
            session.commit()
        for code in registered.samples.values():
            self.collected(code)
        return registered.samples

    def typed_trio(self) -> tuple[Family, dict[str, str], Profile, Profile]:
        """A family whose mother and father are typed, and their found child, typed: (family, child's sample
        codes, mother, father). Nothing is searched yet."""
        family = self.family(Role.MOTHER, Role.FATHER)
        child = self.found_child()
        mother, father = self.person("female"), self.person("male")
        self.upload(family.codes["mother"], mother)
        self.upload(family.codes["father"], father)
        self.upload(child["child"], self.child(father, mother))
        return family, child, mother, father

    # -- genotypes -------------------------------------------------------------------------------------------
    def person(self, sex: str) -> Profile:
        return random_profile(TABLE, self.rng, KIT, sex=sex)

    def child(self, father: Profile, mother: Profile) -> Profile:
        return child_of(father, mother, self.rng, sex="male")

    # -- the lab ---------------------------------------------------------------------------------------------
    def collected(self, code: str) -> None:
        collect(self.client, self.secret, code)

    def upload(
        self, code: str, profile: Profile, *, amelogenin: tuple[str, ...] | None = None, **extra: object
    ) -> str:
        """PUT the profile of the sample as the lab's system does; return the stored profile id."""
        genotypes: dict[str, list[str]] = {m: list(g) for m, g in profile.genotypes.items()}
        amel = amelogenin if amelogenin is not None else profile.other.get("Amelogenin")
        if amel:
            genotypes["AMEL"] = list(amel)
        body = {"kit": "Huaxia Platinum", "genotypes": genotypes, **extra}
        answer = self.client.put(f"/api/v1/samples/{code}/profile", json=body, headers=bearer(self.secret))
        assert answer.status_code in (200, 201), answer.get_json()
        return str(answer.get_json()["profile"])

    # -- what the matcher stored -----------------------------------------------------------------------------
    def candidates(self, status: CandidateStatus | None = None) -> list[Candidate]:
        with self.factory() as session:
            query = sa.select(Candidate).order_by(Candidate.id)
            if status is not None:
                query = query.where(Candidate.status == status)
            return list(session.scalars(query))

    def flags(self) -> list[MatchFlag]:
        with self.factory() as session:
            return list(session.scalars(sa.select(MatchFlag).order_by(MatchFlag.id)))

    def case_of(self, code: str) -> int:
        with self.factory() as session:
            case_id = session.scalar(sa.select(Sample.case_id).where(Sample.code == code))
            assert case_id is not None
            return case_id
