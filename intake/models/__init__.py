"""The persistent model of reunite, one module per area; import from here."""

from intake.models._common import (
    CLOSED_STATUSES,
    FAMILY_ROLES,
    SIDED_ROLES,
    BookingStatus,
    CaseStatus,
    Channel,
    ConsentScope,
    Direction,
    MessageStatus,
    Role,
    SampleSource,
    SampleStatus,
    Sex,
    as_utc,
    personal,
    utcnow,
)
from intake.models.audit import AuditEvent, audit, contact_actor
from intake.models.cases import Case, Consent, Person, PersonContact, SampleLink, persons_of_contact
from intake.models.contacts import (
    MAX_ADDRESS_CHARS,
    MAX_PROVIDER_ID_CHARS,
    Contact,
    Conversation,
    Message,
    contact_for,
)
from intake.models.custody import CustodyEvent, CustodyEventType, CustodyState
from intake.models.found import CaseKind, FoundChild
from intake.models.labkeys import LabKey
from intake.models.labs import Booking, Lab, LabDay
from intake.models.linking import LinkAttempt, LinkCode
from intake.models.matches import (
    Candidate,
    CandidateStatus,
    JobKind,
    JobState,
    MatchFlag,
    MatchJob,
    MatchSearch,
)
from intake.models.media import MAX_CONTENT_TYPE_CHARS, Attachment, attach_to_case, attachments_of
from intake.models.officers import Officer, OfficerRole
from intake.models.outbox import Audience, Notification, NotificationChannel, NotificationStatus
from intake.models.power import CasePower
from intake.models.profiles import DnaProfile
from intake.models.reviews import CandidateDecision, CandidateReview, DecisionKind, ReviewState
from intake.models.samples import Sample
from intake.models.spool import Delivery
from intake.models.ystr import LineageEvidence, YHaplotype

__all__ = [
    "CLOSED_STATUSES",
    "FAMILY_ROLES",
    "SIDED_ROLES",
    "Candidate",
    "CasePower",
    "CandidateStatus",
    "JobKind",
    "JobState",
    "MatchFlag",
    "MatchJob",
    "MatchSearch",
    "MAX_ADDRESS_CHARS",
    "MAX_CONTENT_TYPE_CHARS",
    "MAX_PROVIDER_ID_CHARS",
    "Attachment",
    "LinkCode",
    "Officer",
    "CandidateDecision",
    "CandidateReview",
    "DecisionKind",
    "ReviewState",
    "OfficerRole",
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
    "MessageStatus",
    "Person",
    "PersonContact",
    "SampleLink",
    "persons_of_contact",
    "Role",
    "Sample",
    "SampleSource",
    "SampleStatus",
    "Sex",
    "attach_to_case",
    "attachments_of",
    "audit",
    "contact_actor",
    "contact_for",
    "personal",
    "as_utc",
    "utcnow",
    "Audience",
    "Delivery",
    "Notification",
    "NotificationChannel",
    "NotificationStatus",
    "LineageEvidence",
    "YHaplotype",
]

# A case's status follows the rows that cause it (session events): registered wherever the models are used.
import intake.cases.status  # noqa: E402, F401, I001
