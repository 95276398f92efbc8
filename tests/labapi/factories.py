"""Builders for lab API tests: labs with keys, samples booked through the intake, and realistic STR profiles."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from intake.labs.appointments import book, sample_for
from intake.labs.keys import issue_key
from intake.models import Channel, Consent, ConsentScope, Contact, Lab, Person, Role, SampleSource
from tests.labs.factories import TODAY, make_case, make_lab

MONDAY = date(2026, 11, 30)
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


def lab_with_key(session: Session, city: str = "北京") -> tuple[Lab, str, int]:
    """Return a lab, the secret of a new key for it and the key's id (committed)."""
    lab = make_lab(session, city=city)
    key, secret = issue_key(session, lab.id, actor="test", name=f"{city} key")
    session.commit()
    return lab, secret, key.id


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
    contact = Contact(channel=Channel.SMS, address=phone)
    session.add(contact)
    session.flush()
    case = make_case(session, consent=consent)
    case.reported_by_contact_id = contact.id
    mother = Person(case_id=case.id, role=Role.MOTHER, name="王芳", contact_id=contact.id)
    session.add(mother)
    session.flush()
    if consent:
        session.add(Consent(case_id=case.id, scope=ConsentScope.DATA_PROCESSING, granted=True, channel=Channel.SMS,
                            language="zh_CN", text_version="2026-11"))  # fmt: skip
    booking = book(session, case=case, lab_id=lab.id, day=MONDAY, today=TODAY, person=mother, contact=contact,
                   source=SampleSource.REPORTING_PARENT, actor="test")  # fmt: skip
    sample = sample_for(session, booking)
    assert sample is not None and sample.case_id is not None and sample.person_id is not None
    ref = SampleRef(sample.id, sample.code, sample.case_id, sample.person_id)
    session.commit()
    return ref


def bearer(secret: str) -> dict[str, str]:
    """Return the Authorization header of a key."""
    return {"Authorization": f"Bearer {secret}"}
