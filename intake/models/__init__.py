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
from intake.models.custody import CustodyEvent, CustodyEventType, CustodyState
from intake.models.found import CaseKind, FoundChild
from intake.models.labkeys import LabKey
from intake.models.labs import Booking, Lab, LabDay
from intake.models.linking import LinkAttempt, LinkCode
from intake.models.profiles import DnaProfile
from intake.models.samples import Sample

__all__ = [
    "LinkCode",
    "LinkAttempt",
    "LabKey",
    "FoundChild",
    "DnaProfile",
    "CustodyEventType",
    "CustodyState",
    "CustodyEvent",
    "CaseKind",
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
