"""The custody of samples: an append-only list of events from which a sample's state is derived."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, TZDateTime, enum_column, foreign_key, personal, utcnow
from intake.platform.db import Base


class CustodyEventType(enum.StrEnum):
    """What happened to a sample."""

    BOOKED = "booked"
    COLLECTED = "collected"
    RECEIVED = "received"
    TYPED = "typed"  # a profile was stored
    REPLACED = "replaced"  # the profile was replaced by another, with a reason
    DESTROYED = "destroyed"
    TRANSFERRED = "transferred"  # custody passed to another lab


class CustodyState(enum.StrEnum):
    """Where a sample is in the lab, derived from its custody events (finer than `SampleStatus`)."""

    AWAITING_COLLECTION = "awaiting_collection"
    COLLECTED = "collected"
    RECEIVED = "received"
    TYPED = "typed"
    DESTROYED = "destroyed"
    CANCELLED = "cancelled"  # the booking was cancelled before collection


class CustodyEvent(Base):
    """One event in a sample's custody: what, when, by whom (a lab key, an officer, the system), at which lab.

    Rows are never changed or deleted by the application (see the guards below); a correction is a new event.
    """

    __tablename__ = "custody_events"

    id: Mapped[int] = mapped_column(primary_key=True, info=NOT_PERSONAL)
    sample_id: Mapped[int] = foreign_key("samples.id", "CASCADE", index=True)
    type: Mapped[CustodyEventType] = mapped_column(enum_column(CustodyEventType), info=NOT_PERSONAL)
    at: Mapped[datetime] = mapped_column(TZDateTime(), info=NOT_PERSONAL)
    recorded_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    lab_id: Mapped[int | None] = foreign_key("labs.id", "RESTRICT")
    to_lab_id: Mapped[int | None] = foreign_key("labs.id", "RESTRICT")
    actor: Mapped[str] = mapped_column(String(120), info=NOT_PERSONAL)  # "labkey:7", "officer:cli", "system"
    # the lab's own name for who did it (a staff id)
    by: Mapped[str | None] = mapped_column(
        String(120), info=personal(kept="the chain of custody must name who handled a sample")
    )
    profile_id: Mapped[str | None] = foreign_key("profiles.id", "SET NULL")
    reason: Mapped[str | None] = mapped_column(Text, info=NOT_PERSONAL)


def _refuse_change(_mapper: Any, _connection: Any, target: CustodyEvent) -> None:
    raise RuntimeError(f"custody event {target.id} is append-only: add a new event instead")


event.listen(CustodyEvent, "before_update", _refuse_change)
event.listen(CustodyEvent, "before_delete", _refuse_change)
