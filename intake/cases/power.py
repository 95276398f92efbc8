"""Which relative next: a family case's search power, today and with each untyped relative, cached per case.

`matching.power.search_power` simulates it (seconds to a minute); this module feeds it the case's typed members,
as the matcher sees them (current profiles of family-side samples whose person gave both consents), and keeps
the result in `CasePower` under a fingerprint of what it was computed from. So a page view reads the cache, and a
member's profile arriving (or being replaced or erased) changes the fingerprint: the next read computes again.

The expected number of unrelated candidates is the per-comparison rate times the number of children the family
is compared with today (`children_searched`), so it follows the database's size without a new simulation.

    case_power(session, case, *, compute=True) -> SearchPower | None
    family_members(session, case) -> dict[Member, Profile]
    worker_task(session_factory) -> int      `reunite worker` computes a stale case's figures, one per pass

So the figures are computed in the background when a member's profile arrives (the notification worker's task
`case_power` in `reunite.worker_tasks`), and a page view or an SMS reply only reads them (`compute=False`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, sessionmaker

from intake.cases.consent import ConsentBook
from intake.cases.found_children import case_kind
from intake.models import (
    FAMILY_ROLES,
    Case,
    CaseKind,
    CasePower,
    CaseStatus,
    DnaProfile,
    Person,
    Role,
    Sample,
    SampleSource,
    utcnow,
)
from intake.platform.settings import Settings
from intake.samples.fit import FAMILY_SOURCES
from matching.errors import KinshipError
from matching.family_pedigree import Member
from matching.frequencies import FrequencyTable
from matching.power import DEFAULT_SEED, DEFAULT_SIMULATIONS, PowerReport, search_power
from matching.profiles import Profile, parse_profile
from matching.search import SearchSettings

CHILD_SOURCES = (
    set(SampleSource) - FAMILY_SOURCES
)  # sources 3, 4 and 5: the children a family is compared with
log = logging.getLogger(__name__)
SETTINGS = SearchSettings()  # the search's own defaults: the standard's bands, the default mutation model
VERSION = 1  # bump when the computation changes, so every cached figure is computed again


@dataclass(frozen=True)
class Figure:
    """One scenario's figures: P(the true child reaches the candidate band) and the expected unrelated ones."""

    role: str | None  # the relative added (None: as typed today)
    true_rate: float
    false_rate: float
    expected_unrelated: float


@dataclass(frozen=True)
class SearchPower:
    """A case's power, read from the cache: today, the additions best first, and the database size used."""

    typed: tuple[str, ...]
    markers: int
    simulations: int
    children: int
    today: Figure
    additions: tuple[Figure, ...]

    @property
    def best(self) -> Figure | None:
        """Return the relative who would raise the true child's chance most, if any would (ties: fewer unrelated)."""
        if not self.additions:
            return None
        top = self.additions[0]
        better = (
            top.true_rate > self.today.true_rate or top.expected_unrelated < self.today.expected_unrelated
        )
        return top if better else None


def family_members(session: Session, case: Case) -> dict[Member, Profile]:
    """Return the case's typed family members the matcher may use: name = profile id, role, profile."""
    rows = session.execute(
        sa.select(DnaProfile.id, DnaProfile.genotypes, Person.id, Person.role)
        .join(Sample, Sample.id == DnaProfile.sample_id)
        .join(Person, Person.id == Sample.person_id)
        .where(Sample.case_id == case.id, DnaProfile.replaced_at.is_(None), Sample.source.in_(FAMILY_SOURCES))
        .order_by(DnaProfile.id)
    ).all()
    consents = ConsentBook.load(session, [case.id], reported_only=True)
    members: dict[Member, Profile] = {}
    for pid, genotypes, person_id, role in rows:
        if role not in FAMILY_ROLES or not genotypes:
            continue
        if case.reported_by_contact_id is not None and not consents.recorded(case.id, person_id):
            continue
        try:
            profile = parse_profile(genotypes)
        except KinshipError:
            continue
        if profile.genotypes:
            members[Member(pid, Role(role).value)] = profile
    return members


def is_family(session: Session, case: Case) -> bool:
    """Tell whether the case is a missing child's, searched with its family's profiles."""
    return case_kind(session, case) is CaseKind.MISSING_CHILD


def children_searched(session: Session) -> int:
    """Return how many children's current profiles a family is compared with today."""
    query = (
        sa.select(sa.func.count(DnaProfile.id))
        .join(Sample, Sample.id == DnaProfile.sample_id)
        .join(Case, Case.id == Sample.case_id)
        .where(DnaProfile.replaced_at.is_(None), Sample.source.in_(CHILD_SOURCES))
        .where(Case.status != CaseStatus.WITHDRAWN)
    )
    return int(session.scalar(query) or 0)


def _fingerprint(
    members: dict[Member, Profile], table: FrequencyTable, settings: SearchSettings, simulations: int
) -> str:
    what = {
        "version": VERSION, "members": sorted((m.name, m.role) for m in members), "table": table.source,
        "settings": repr((settings.mutation, settings.theta, settings.candidate_lr, settings.exclude_inconsistent,
                          settings.min_shared_markers)),
        "simulations": simulations, "seed": DEFAULT_SEED,
    }  # fmt: skip
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def _figures(report: PowerReport) -> dict[str, Any]:
    return {
        "typed": list(report.typed), "markers": len(report.markers), "simulations": report.today.simulations,
        "today": {"true": report.today.true_rate, "false": report.today.false_rate},
        "additions": [{"role": s.added, "true": s.true_rate, "false": s.false_rate} for s in report.additions],
    }  # fmt: skip


def _read(figures: dict[str, Any], children: int) -> SearchPower:
    def figure(role: str | None, entry: dict[str, float]) -> Figure:
        return Figure(role, entry["true"], entry["false"], entry["false"] * children)

    return SearchPower(
        typed=tuple(figures["typed"]), markers=int(figures["markers"]), simulations=int(figures["simulations"]),
        children=children, today=figure(None, figures["today"]),
        additions=tuple(figure(a["role"], a) for a in figures["additions"]),
    )  # fmt: skip


def case_power(
    session: Session,
    case: Case,
    *,
    compute: bool = True,
    table: FrequencyTable | None = None,
    settings: SearchSettings | None = None,
    simulations: int = DEFAULT_SIMULATIONS,
) -> SearchPower | None:
    """Return the case's search power: cached if its typed members are unchanged, else computed and cached
    (`compute=False`: None instead of computing, for a page view or an SMS reply). A found child's case and a
    case with no member typed yet have none. The caller commits."""
    if not is_family(session, case):
        return None
    settings = settings or SETTINGS
    table = table or _default_table()
    members = family_members(session, case)
    if not members:
        return None  # nobody typed yet: nothing to weigh (every relative is asked to give a sample anyway)
    fingerprint = _fingerprint(members, table, settings, simulations)
    cached = session.get(CasePower, case.id)
    if cached is None or cached.fingerprint != fingerprint:
        if not compute:
            return None
        report = search_power(
            members, table=table, mutation=settings.mutation, theta=settings.theta, simulations=simulations,
            candidate_lr=settings.candidate_lr, exclude_inconsistent=settings.exclude_inconsistent,
            min_shared_markers=settings.min_shared_markers,
        )  # fmt: skip
        if cached is None:
            cached = CasePower(case_id=case.id, fingerprint=fingerprint, figures=_figures(report))
            session.add(cached)
        else:
            cached.fingerprint, cached.figures, cached.computed_at = fingerprint, _figures(report), utcnow()
        session.flush()
    return _read(cached.figures, children_searched(session))


_TABLE: list[FrequencyTable] = []


def _default_table() -> FrequencyTable:
    if not _TABLE:
        _TABLE.append(FrequencyTable.default())
    return _TABLE[0]


def stale_cases(session: Session, limit: int = 1) -> list[int]:
    """Return ids of cases with a family member's profile newer than their figures (or none computed yet)."""
    cached = aliased(CasePower)
    newer = sa.or_(
        cached.case_id.is_(None),
        DnaProfile.created_at > cached.computed_at,
        DnaProfile.replaced_at > cached.computed_at,
    )
    query = (
        sa.select(Sample.case_id)
        .join(DnaProfile, DnaProfile.sample_id == Sample.id)
        .join(Case, Case.id == Sample.case_id)
        .outerjoin(cached, cached.case_id == Sample.case_id)
        .where(Sample.source.in_(FAMILY_SOURCES), Case.status != CaseStatus.WITHDRAWN, newer)
        .group_by(Sample.case_id)
        .order_by(Sample.case_id)
        .limit(limit)
    )
    return [int(c) for c in session.scalars(query) if c is not None]


def worker_task(session_factory: sessionmaker[Session], _settings: Settings | None = None) -> int:
    """Compute the figures of one case whose member's profile arrived since (registered in
    `reunite.worker_tasks`, so `reunite worker` runs it each pass, with the service's settings, which the search's
    own defaults do not need); return 1 if it computed, else 0."""
    with session_factory() as session:
        for case_id in stale_cases(session):
            case = session.get_one(Case, case_id)
            try:
                result = case_power(session, case)
            except KinshipError:
                log.exception("case %s: its search power cannot be computed", case_id)
                result = None
            if result is None:  # nothing to weigh: mark it computed, so it is not looked at every pass
                session.merge(CasePower(case_id=case_id, fingerprint="", computed_at=utcnow(), figures={}))
            session.commit()
            return 1
    return 0
