"""Column helpers and enumerations shared by the models."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Enum, ForeignKey, LargeBinary, TypeDecorator
from sqlalchemy.orm import MappedColumn, mapped_column

from intake.platform import clock, crypto


def utcnow() -> datetime:
    """Return the current time, timezone-aware, in UTC, from the service's one clock (tests may pin it)."""
    return clock.now()


def as_utc(value: datetime) -> datetime:
    """Return a stored time as an aware UTC datetime (SQLite gives back naive ones: they were stored in UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


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


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value stored encrypted (`intake.platform.crypto`): the database holds only the sealed bytes.

    `label` names the column and is bound into each value, so a value moved to another column does not open.
    A value written before encryption (plain JSON bytes, left by migration 0005_crypto) still reads until
    `reunite keys reencrypt` seals it.
    """

    impl = LargeBinary
    cache_ok = True

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        return crypto.current().encrypt(data, self.label)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        raw = value.encode() if isinstance(value, str) else bytes(value)
        if crypto.is_sealed(raw):
            raw = crypto.current().decrypt(raw, self.label)
        return json.loads(raw)


# Every column says whether it holds personal data (tests/test_personal_data.py walks them all), so a new
# column forces a decision. Erasure (intake/cases/erasure.py) writes each personal column's "erased" value; a personal
# column that erasure keeps on purpose says why in "kept".
NOT_PERSONAL: dict[str, Any] = {"personal": False}


def personal(erased: object = None, *, kept: str | None = None) -> dict[str, Any]:
    """Return the column info of personal data: what erasure writes into it, or why erasure keeps it."""
    if kept is not None:
        return {"personal": True, "kept": kept}
    return {"personal": True, "erased": erased}


def foreign_key(
    target: str,
    ondelete: str,
    *,
    index: bool | None = None,
    unique: bool | None = None,
    primary_key: bool = False,
) -> MappedColumn[Any]:
    """Return a column referring to a row of another table (`target`, "table.id"), which is no personal data."""
    return mapped_column(
        ForeignKey(target, ondelete=ondelete),
        index=index,
        unique=unique,
        primary_key=primary_key,
        info=NOT_PERSONAL,
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
    FAMILY_TOLD = (
        "family_told"  # two officers approved a candidate and the family was told (intake.cases.status)
    )
    REUNITED = "reunited"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


# A case that is over: nothing is booked, sampled or matched for it any more.
CLOSED_STATUSES = (CaseStatus.REUNITED, CaseStatus.CLOSED, CaseStatus.WITHDRAWN)


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
    # Relatives with their side of the family (the missing child's father's or mother's), so that the matcher can
    # place them in one pedigree with the missing child (docs/matching.md, "Joint pedigrees"). The unsided
    # `grandparent`, `half_sibling` and `aunt_uncle` above stay readable: the matcher scores them on their own.
    PATERNAL_GRANDFATHER = "paternal_grandfather"
    PATERNAL_GRANDMOTHER = "paternal_grandmother"
    MATERNAL_GRANDFATHER = "maternal_grandfather"
    MATERNAL_GRANDMOTHER = "maternal_grandmother"
    PATERNAL_AUNT_UNCLE = "paternal_aunt_uncle"
    MATERNAL_AUNT_UNCLE = "maternal_aunt_uncle"
    PATERNAL_HALF_SIBLING = "paternal_half_sibling"
    MATERNAL_HALF_SIBLING = "maternal_half_sibling"
    # Adults who came with a child suspected of being kidnapped and said they were the parents (source 4).
    CLAIMED_MOTHER = "claimed_mother"
    CLAIMED_FATHER = "claimed_father"


# The roles of a missing child's family (the evidence the matcher compares a found child with).
FAMILY_ROLES = frozenset(
    {Role.MOTHER, Role.FATHER, Role.FULL_SIBLING, Role.HALF_SIBLING, Role.GRANDPARENT, Role.AUNT_UNCLE,
     Role.OTHER_RELATIVE, Role.PATERNAL_GRANDFATHER, Role.PATERNAL_GRANDMOTHER, Role.MATERNAL_GRANDFATHER,
     Role.MATERNAL_GRANDMOTHER, Role.PATERNAL_AUNT_UNCLE, Role.MATERNAL_AUNT_UNCLE, Role.PATERNAL_HALF_SIBLING,
     Role.MATERNAL_HALF_SIBLING}
)  # fmt: skip
# An unsided role of older records (or of a lab that did not ask the side) and the sided roles it may stand for.
SIDED_ROLES = {
    Role.GRANDPARENT: frozenset({Role.PATERNAL_GRANDFATHER, Role.PATERNAL_GRANDMOTHER, Role.MATERNAL_GRANDFATHER,
                                 Role.MATERNAL_GRANDMOTHER}),
    Role.AUNT_UNCLE: frozenset({Role.PATERNAL_AUNT_UNCLE, Role.MATERNAL_AUNT_UNCLE}),
    Role.HALF_SIBLING: frozenset({Role.PATERNAL_HALF_SIBLING, Role.MATERNAL_HALF_SIBLING}),
}  # fmt: skip


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
    """Where a sample is, as the family hears it; kept derived from the custody events (`intake.samples.custody`)."""

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


class MessageStatus(enum.StrEnum):
    """Where a message is. Inbound: received, then processed or failed. Outbound: answered_inline when the
    reply went back in the provider's answer (TwiML, the terminal), so nothing may send it again (a Telegram reply:
    answered_inline until sendMessage took it, then sent); queued, sent, delivered, undelivered for messages a
    notification worker sends."""

    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"
    ANSWERED_INLINE = "answered_inline"
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
