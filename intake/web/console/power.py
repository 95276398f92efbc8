"""The case page's search power: how likely the true child is to be found with the members typed, and which
relative would help most ("with the father of the child's father typed, 97% instead of 64%").

Read from the case's cache (`intake.cases.power`), which `reunite worker` fills when a member's profile arrives;
until it has, the page says the figures are being computed.
Figures about a family's profiles are a read of them: each view is audited (`case.power_view`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from intake.cases.family import RELATIVE_PHRASES
from intake.cases.power import Figure, SearchPower, case_power, family_members, is_family
from intake.models import Case, Role, audit
from intake.platform.i18n import N_
from intake.web.console.app import t


def percent(rate: float) -> str:
    """Write a chance as a percentage; near 100% with one decimal, never rounded up to a certainty."""
    if rate >= 1.0:
        return "100%"
    if rate >= 0.99:
        return f"{math.floor(rate * 1000) / 10:.1f}%"
    return f"{math.floor(rate * 100):.0f}%"


def expected(count: float) -> str:
    """Write an expected number of unrelated candidates (two significant digits, 0 as 0)."""
    return "0" if count == 0 else f"{count:.2g}"


def relative(role: str | None) -> str:
    """Return the reader's words for the relative added in a scenario."""
    return t(RELATIVE_PHRASES[Role(role)]) if role is not None else ""


@dataclass(frozen=True)
class PowerView:
    """What the case page shows: the figures, and the headline for the best relative."""

    power: SearchPower | None  # None: being computed
    rows: list[tuple[str, Figure]]
    headline: str | None


def power_view(session: Session, case: Case, actor: str) -> PowerView | None:
    """Return the case's power for its page (None: a found child's case or nobody typed), auditing the read."""
    power = case_power(session, case, compute=False)
    if power is None:
        return (
            PowerView(None, [], None) if family_members(session, case) and is_family(session, case) else None
        )
    audit(session, actor, "case.power_view", "case", case.id, typed=list(power.typed))
    best = power.best
    headline = None
    if best is not None:
        headline = t(N_("With %(relative)s typed too, the true child would reach the candidate band in %(better)s "
                        "of simulations instead of %(today)s."), relative=relative(best.role),
                     better=percent(best.true_rate), today=percent(power.today.true_rate))  # fmt: skip
    return PowerView(power, [(relative(f.role), f) for f in power.additions], headline)
