"""The persistent model of reunite, one module per area; import from here."""

from intake.models._common import (
    BookingStatus,
    CaseStatus,
    Channel,
    ConsentScope,
    Direction,
    Role,
    SampleSource,
    SampleStatus,
    Sex,
    utcnow,
)
from intake.models.audit import AuditEvent, audit
from intake.models.cases import Case, Consent, Person
from intake.models.contacts import Contact, Conversation, Message
from intake.models.labs import Booking, Lab, LabDay
from intake.models.samples import Sample

__all__ = [
    "AuditEvent",
    "Booking",
    "BookingStatus",
    "Case",
    "CaseStatus",
    "Channel",
    "Consent",
    "ConsentScope",
    "Contact",
    "Conversation",
    "Direction",
    "Lab",
    "LabDay",
    "Message",
    "Person",
    "Role",
    "Sample",
    "SampleSource",
    "SampleStatus",
    "Sex",
    "audit",
    "utcnow",
]
