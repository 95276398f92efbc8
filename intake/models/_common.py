"""Column helpers and enumerations shared by the models."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def TZDateTime() -> DateTime:  # noqa: N802 - reads like a type in column definitions
    """Return a timezone-aware DateTime column type."""
    return DateTime(timezone=True)


def enum_column(enum_cls: type[enum.Enum]) -> Enum:
    """Store an enum by its value as a plain string (no native ENUM type, so migrations stay simple)."""
    return Enum(
        enum_cls,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Channel(enum.StrEnum):
    SMS = "sms"
    TELEGRAM = "telegram"
    TERMINAL = "terminal"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    SAMPLING_BOOKED = "sampling_booked"
    SAMPLED = "sampled"
    PROFILED = "profiled"
    CANDIDATE_MATCH = "candidate_match"
    REUNITED = "reunited"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Role(enum.StrEnum):
    """A person's role in a case; for relatives, their relationship to the missing (or found) child."""

    MOTHER = "mother"
    FATHER = "father"
    OTHER_RELATIVE = "other_relative"
    VOLUNTEER = "volunteer"
    OFFICER = "officer"
    CHILD = "child"
    FULL_SIBLING = "full_sibling"
    HALF_SIBLING = "half_sibling"
    GRANDPARENT = "grandparent"
    AUNT_UNCLE = "aunt_uncle"
    # Adults who came with a child suspected of being kidnapped and said they were the parents (source 4).
    CLAIMED_MOTHER = "claimed_mother"
    CLAIMED_FATHER = "claimed_father"


class Sex(enum.StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class SampleSource(enum.StrEnum):
    """The five sources of the national database."""

    CONFIRMED_MISSING_PARENT = "confirmed_missing_parent"
    REPORTING_PARENT = "reporting_parent"
    RESCUED_CHILD = "rescued_child"
    SUSPECTED_KIDNAPPED_CHILD = "suspected_kidnapped_child"
    UNKNOWN_IDENTITY_CHILD = "unknown_identity_child"


class SampleStatus(enum.StrEnum):
    """Where a sample is, as the family hears it; kept derived from the custody events (`intake.custody`)."""

    AWAITING_COLLECTION = "awaiting_collection"
    COLLECTED = "collected"
    PROFILED = "profiled"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class BookingStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class ConsentScope(enum.StrEnum):
    DNA_SAMPLING = "dna_sampling"
    DATA_PROCESSING = "data_processing"
