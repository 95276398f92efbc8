"""A family of three phones and a lab acting on one case, through the inbox, for the cross-role walks and the
property test: the mother reports, the father and a sister join or link, the lab types a sample.

Each `Family` has its own phones (a counter), so examples of a property test share one database without meeting.
With a session factory, every message goes through the inbox (`intake.inbound.inbox.process`, its own transaction) and
must not get the inbox's apology; with one session (fast, for the property test), every message goes to the
engine (`intake.dialogue.engine.handle`) in that session and must not raise: a raise is what the inbox turns into
the apology.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from intake.dialogue.engine import handle
from intake.dialogue.types import Incoming
from intake.inbound.inbox import process, render_plain
from intake.labs.profiles import store_profile
from intake.labs.walkins import register_walk_in
from intake.models import (
    Booking,
    BookingStatus,
    Case,
    Channel,
    Contact,
    CustodyEventType,
    Lab,
    LabDay,
    Message,
    MessageStatus,
    Person,
    Role,
    Sample,
    SampleSource,
    Sex,
)
from intake.samples.custody import append_event
from tests.dialogue.helpers import NOW
from tests.dialogue.transcripts import REPORT_ZH
from tests.support.factories import IDENTIFILER, genotypes

APOLOGIES = ("出了问题", "something went wrong")
_numbers = itertools.count(1)
_sids = itertools.count(1)


@dataclass
class Family:
    """A mother, a father and a sister, each on their own phone, and the case the mother reports."""

    factory: sessionmaker[Session] | None = None
    session: Session | None = None  # one session for everything, instead of a transaction per message
    mother: str = ""
    father: str = ""
    sister: str = ""
    reference: str = ""
    pin: str = ""
    link_code: str = ""
    log: list[tuple[str, str, str]] = field(default_factory=list)  # (who, sent, answered)
    ticks: Iterator[int] = field(default_factory=lambda: itertools.count(1))  # a second between two messages

    def __post_init__(self) -> None:
        n = next(_numbers)
        self.mother, self.father, self.sister = (f"+86137{n:06d}{i}0"[:14] for i in range(1, 4))

    @contextmanager
    def db(self) -> Iterator[Session]:
        """Yield the family's session, or a new one of the factory (the caller commits)."""
        if self.session is not None:
            yield self.session
            self.session.flush()
            return
        assert self.factory is not None
        with self.factory() as session:
            yield session

    def send(self, who: str, text: str) -> str:
        """Send `text` from `who`; return the replies as plain text; never an apology (see the module docstring)."""
        address = getattr(self, who)
        at: datetime = NOW + timedelta(seconds=next(self.ticks))
        incoming = Incoming(Channel.SMS, address, text, at, provider_id=f"SMCROSS{next(_sids):08d}")
        if self.session is not None:
            try:
                replies = handle(self.session, incoming, at)
                self.session.flush()
            except Exception as exc:  # the inbox would answer this with its apology
                raise AssertionError(f"{who} {text!r} raised {exc!r}\n{self.story()}") from exc
        else:
            assert self.factory is not None
            replies = process(self.factory, incoming, now=at)
        answered = "\n".join(render_plain(r) for r in replies)
        self.log.append((who, text, answered))
        if self.session is None:
            with self.db() as session:
                status = session.scalar(
                    sa.select(Message.status).where(Message.provider_id == incoming.provider_id)
                )
            assert status is MessageStatus.PROCESSED, self.story()
        assert answered.strip(), f"no answer to {who} {text!r}\n{self.story()}"
        assert not any(a in answered for a in APOLOGIES), self.story()
        return answered

    def story(self) -> str:
        """Return the conversation so far, for an assertion message."""
        return "\n".join(f"[{who}] > {text}\n{answered}" for who, text, answered in self.log)

    def report(self) -> None:
        """The mother reports her son by SMS and stops at "book now?"."""
        for text, _expected in REPORT_ZH:
            self.send("mother", text)
        with self.db() as session:
            contact = session.scalars(sa.select(Contact).where(Contact.address == self.mother)).one()
            case = session.scalars(sa.select(Case).where(Case.reported_by_contact_id == contact.id)).one()
            self.reference, self.pin = case.reference, case.pin

    def book(self, who: str, *, start: str = "预约") -> str:
        """Book the first free day in Guangzhou; return the last answer (the confirmation)."""
        for text in (start, "广州", "1", "1"):
            self.send(who, text)
        return self.send(who, "1")

    def join(self, who: str, role: str, *, consent: bool = True) -> None:
        """Join the case from `who`'s phone in `role`, answering both consents (or refusing DNA sampling)."""
        self.send(who, f"加入 {self.reference} {self.pin}")
        self.send(who, role)
        if not consent:
            self.send(who, "不同意")
            return
        self.send(who, "同意")
        self.send(who, "同意")

    def walk_in(self, role: Role = Role.FATHER) -> str:
        """A lab takes a walk-in sample for the case and hands over its link code."""
        with self.db() as session:
            case = session.scalars(sa.select(Case).where(Case.reference == self.reference)).one()
            lab_id = session.scalars(sa.select(Lab.id).order_by(Lab.id)).first()
            assert lab_id is not None, "load the demo labs first"
            sex = Sex.MALE if role is Role.FATHER else Sex.FEMALE
            _sample, self.link_code = register_walk_in(
                session, lab_id=lab_id, actor="labkey:1", source=SampleSource.REPORTING_PARENT, role=role,
                sex=sex, case=case,
            )  # fmt: skip
            if self.session is None:
                session.commit()
        return self.link_code

    def link(self, who: str) -> None:
        """`who` links the walk-in sample: consents (a case they have not joined), then the case PIN."""
        self.send(who, f"LINK {self.link_code}")
        for text in ("同意", "同意", self.pin):
            self.send(who, text)

    def type_samples(self) -> int:
        """The lab collects and types every booked sample of the case; return how many."""
        typed = 0
        with self.db() as session:
            case = session.scalars(sa.select(Case).where(Case.reference == self.reference)).one()
            rows = session.execute(
                sa.select(Sample, LabDay.lab_id, Person.role)
                .join(Booking, Booking.id == Sample.booking_id)
                .join(LabDay, LabDay.id == Booking.lab_day_id)
                .join(Person, Person.id == Sample.person_id)
                .where(Sample.case_id == case.id, Booking.status == BookingStatus.BOOKED)
            ).all()
            for sample, lab_id, role in rows:
                append_event(session, sample, CustodyEventType.COLLECTED, actor="labkey:1", lab_id=lab_id)
                seed = 2 if role is Role.MOTHER else 1  # even seeds are AMEL X: a woman's profile
                store_profile(session, sample, lab_id=lab_id, actor="labkey:1", kit="Identifiler",
                              genotypes=genotypes(IDENTIFILER, seed))  # fmt: skip
                typed += 1
            if self.session is None:
                session.commit()
        return typed
