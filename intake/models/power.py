"""The cached power of a family case's search (`intake.cases.power`): computed once per set of typed members.

A simulation takes seconds to a minute, so its figures are kept per case with the fingerprint of what they were
computed from (the typed members' profile ids and roles, the frequency table, the model, the simulation count and
seed). A member's new or replaced profile changes the fingerprint and the figures are computed again when next
asked for; a page view of unchanged members reads them. The figures are statistics of the family's search, no
genotype: the per-comparison rates and the roles typed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from intake.models._common import NOT_PERSONAL, TZDateTime, foreign_key, utcnow
from intake.platform.db import Base


class CasePower(Base):
    """One family case's power figures: today and with each addable relative (`matching.power.PowerReport`)."""

    __tablename__ = "case_power"

    case_id: Mapped[int] = foreign_key("cases.id", "CASCADE", primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), info=NOT_PERSONAL)
    computed_at: Mapped[datetime] = mapped_column(TZDateTime(), default=utcnow, info=NOT_PERSONAL)
    # {"typed": [roles], "markers": n, "simulations": n, "today": {"true": x, "false": y},
    #  "additions": [{"role": r, "true": x, "false": y}, ...] best first}
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, info=NOT_PERSONAL)
