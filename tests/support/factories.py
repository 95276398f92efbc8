"""The one set of test builders: labs (with API keys), cases with their consents, families who reported and
booked, their samples, and realistic STR profiles.

Every test package builds its world from these, so a change to what a lab, a case or a booked sample needs is made
once. Builders flush and leave the transaction to the test, except those that say they commit (the lab API and
the console read what they built through another session).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from intake.labs.appointments import book, sample_for
from intake.labs.keys import issue_key
from intake.models import (
    Case,
    Channel,
    Consent,
    ConsentScope,
    Contact,
    DnaProfile,
    Lab,
    Person,
    Role,
    Sample,
    SampleSource,
)
from intake.platform.codes import new_case_pin, new_case_reference

TODAY = date(2026, 11, 27)  # a Friday
MONDAY = date(2026, 11, 30)  # the first lab day after TODAY
# The autosomal STRs of two kits Chinese police labs use (see the kit tables in docs/labs-api.md).
IDENTIFILER = (
    "D8S1179", "D21S11", "D7S820", "CSF1PO", "D3S1358", "TH01", "D13S317", "D16S539", "D2S1338", "D19S433",
    "vWA", "TPOX", "D18S51", "D5S818", "FGA",
)  # fmt: skip
HUAXIA_PLATINUM = (
    "D18S51", "FGA", "D21S11", "D8S1179", "vWA", "D13S317", "D16S539", "D7S820", "TH01", "D3S1358", "D5S818",
    "CSF1PO", "D2S1338", "D19S433", "D1S1656", "D12S391", "D2S441", "D10S1248", "TPOX", "D22S1045", "D6S1043",
    "Penta E", "Penta D",
)  # fmt: skip
ALLELES = {"D21S11": ["28", "29", "30", "30.2", "31.2", "32.2"], "TH01": ["6", "7", "9", "9.3"],
           "D18S51": ["13", "14", "15", "16"], "FGA": ["21", "22", "23", "24", "22.2"]}  # fmt: skip


# -- labs ------------------------------------------------------------------------------------------------------
def make_lab(
    session: Session,
    *,
    capacity: int = 10,
    days: str = "1,2,3,4,5",
    city: str = "北京",
    province: str = "北京市",
    name: str | None = None,
) -> Lab:
    """Return a lab open on `days` (ISO weekdays) with `capacity` places a day (flushed)."""
    lab = Lab(
        name=name or f"测试实验室{city}", province=province, city=city, address="测试路1号", phone="010-0",
        opening_days=days, opening_hours="09:00-17:00", daily_capacity=capacity,
    )  # fmt: skip
    session.add(lab)
    session.flush()
    return lab


def lab_with_key(session: Session, city: str = "北京") -> tuple[Lab, str, int]:
    """Return a lab, the secret of a new key for it and the key's id (committed)."""
    lab = make_lab(session, city=city)
    key, secret = issue_key(session, lab.id, actor="test", name=f"{city} key")
    session.commit()
    return lab, secret, key.id


def bearer(secret: str) -> dict[str, str]:
    """Return the Authorization header of a lab key."""
    return {"Authorization": f"Bearer {secret}"}


# -- cases and families ----------------------------------------------------------------------------------------
def make_case(session: Session, *, consent: bool = True) -> Case:
    """Return a case of a missing child, with both consents a booking needs unless `consent` is False (flushed)."""
    case = Case(reference=new_case_reference(), pin=new_case_pin(), child_name="小明")
    session.add(case)
    session.flush()
    if consent:  # both consents a booking needs (intake.cases.consent)
        session.add_all(
            Consent(case_id=case.id, scope=scope, granted=True, channel=Channel.SMS, language="zh_CN",
                    text_version="2026-11")
            for scope in (ConsentScope.DNA_SAMPLING, ConsentScope.DATA_PROCESSING)
        )  # fmt: skip
    session.flush()
    return case


def sms_contact(session: Session, phone: str) -> Contact:
    """Return the SMS contact of `phone` (flushed)."""
    contact = Contact(channel=Channel.SMS, address=phone)
    session.add(contact)
    session.flush()
    return contact


def book_sample(
    session: Session,
    case: Case,
    lab_id: int,
    person: Person,
    contact: Contact,
    source: SampleSource = SampleSource.REPORTING_PARENT,
) -> Sample:
    """Book `person` at the lab on MONDAY as the dialogue does, and return the sample the booking made."""
    booking = book(session, case=case, lab_id=lab_id, day=MONDAY, today=TODAY, person=person, contact=contact,
                   source=source, actor="test")  # fmt: skip
    sample = sample_for(session, booking)
    assert sample is not None
    return sample


@dataclass(frozen=True)
class SampleRef:
    """A sample's ids as plain values, so a test can end its own transaction (SQLite locks while one is open)."""

    id: int
    code: str
    case_id: int
    person_id: int


def booked_sample(
    session: Session, lab: Lab, *, phone: str = "+8613800000001", consent: bool = True
) -> SampleRef:
    """Return the sample of a mother who reported by SMS and booked at `lab` (committed)."""
    contact = sms_contact(session, phone)
    case = make_case(session, consent=consent)
    case.reported_by_contact_id = contact.id
    mother = Person(case_id=case.id, role=Role.MOTHER, name="王芳", contact_id=contact.id)
    session.add(mother)
    session.flush()
    if consent:
        session.add(Consent(case_id=case.id, scope=ConsentScope.DATA_PROCESSING, granted=True, channel=Channel.SMS,
                            language="zh_CN", text_version="2026-11"))  # fmt: skip
    sample = book_sample(session, case, lab.id, mother, contact)
    assert sample.case_id is not None and sample.person_id is not None
    ref = SampleRef(sample.id, sample.code, sample.case_id, sample.person_id)
    session.commit()
    return ref


def collect(client: FlaskClient, secret: str, code: str) -> None:
    """Record through the lab API, with the key `secret`, that the sample `code` was collected."""
    answer = client.post(f"/api/v1/samples/{code}/events", json={"type": "collected"}, headers=bearer(secret))
    assert answer.status_code in (200, 201), answer.get_json()


def collected_sample(
    client: FlaskClient, session: Session, lab: tuple[Lab, str, int], phone: str = "+8613800000001"
) -> SampleRef:
    """Return a mother's booked sample (`booked_sample`) that `lab` (lab, secret, key id) collected: ready to type."""
    sample = booked_sample(session, lab[0], phone=phone)
    collect(client, lab[1], sample.code)
    return sample


# -- profiles --------------------------------------------------------------------------------------------------
def genotypes(kit: tuple[str, ...], seed: int, sex: str | None = None) -> dict[str, list[str]]:
    """Return a plausible profile on `kit` (some homozygous, some microvariants), the same for the same seed.

    Amelogenin shows `sex` ("female": X, "male": X,Y); without it, odd seeds are male and even ones female.
    """
    rng = random.Random(seed)
    profile = {}
    for marker in kit:
        choices = ALLELES.get(marker, [str(n) for n in range(9, 16)])
        profile[marker] = sorted({rng.choice(choices), rng.choice(choices)}, key=lambda a: float(a))
    male = sex == "male" if sex is not None else bool(seed % 2)
    profile["AMEL"] = ["X", "Y"] if male else ["X"]
    return profile


def typed_profile(
    session: Session, sample_id: int, lab_id: int, *, profile_id: str, seed: int, digest: str = "x" * 64
) -> DnaProfile:
    """Store an Identifiler profile (genotypes of `seed`) for the sample, as if its lab had uploaded it (flushed).

    Written directly, not through the lab API: for tests of what reads profiles (the console, the matcher's
    inputs), where the upload's checks and audit are beside the point.
    """
    profile = DnaProfile(id=profile_id, sample_id=sample_id, lab_id=lab_id, kit="Identifiler",
                         genotypes=genotypes(IDENTIFILER, seed), autosomal_markers=len(IDENTIFILER),
                         digest=digest, uploaded_by="test")  # fmt: skip
    session.add(profile)
    session.flush()
    return profile
