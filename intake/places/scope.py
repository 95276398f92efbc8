"""Province scope: which cases, candidates, flags and samples an officer may see. One rule, written once:

    An officer sees every case if national (an admin, or an account without a province: `Officer.national`);
    else the cases of their province (`intake.provinces`: the labs of its samples and appointments, or while
    it has none its place last seen), and the volunteers' registrations of children of unknown identity not
    yet at any lab (anyone may pick those up). A candidate or a flag is seen with any of its cases; a sample
    with its case, or, not yet linked to a case (a walk-in), with its lab.

The rule is SQL clauses, applied in the query before any LIMIT, so a page and its total count only what the
officer may see; the Python predicate `may_see` asks the database the same clause of one case, so the two
cannot disagree.

    cases_clause(officer, column=Case.id)   the cases (or a column of case ids) the officer sees
    in_province(province, column=Case.id)   a province asked for in a filter (the same province rule)
    candidates_clause(officer) / flags_clause(officer) / samples_clause(officer) / labs_clause(officer)
    may_see(session, officer, case) -> bool
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from intake.models import Candidate, Case, FoundChild, Lab, MatchFlag, Officer, Sample, SampleSource
from intake.places.provinces import cases_at_a_lab, province_pairs


def cases_of_province(province: str) -> sa.Select[Any]:
    """Select the ids of the cases of `province`."""
    return sa.select(province_pairs(province=province).subquery().c.case_id)


def open_to_all() -> sa.Select[Any]:
    """Select the volunteers' registrations (source 5) not yet at any lab: every officer may pick them up."""
    return sa.select(FoundChild.case_id).where(
        FoundChild.source == SampleSource.UNKNOWN_IDENTITY_CHILD, FoundChild.case_id.not_in(cases_at_a_lab())
    )


def in_province(province: str, column: Any = Case.id) -> sa.ColumnElement[bool]:
    """The cases (a column of case ids) of `province`: a province chosen in a filter."""
    return column.in_(cases_of_province(province))  # type: ignore[no-any-return]


def cases_clause(officer: Officer, column: Any = Case.id) -> sa.ColumnElement[bool]:
    """The cases (a column of case ids) the officer may see."""
    if officer.national:
        return sa.true()
    return sa.or_(column.in_(cases_of_province(str(officer.province))), column.in_(open_to_all()))


def candidates_clause(officer: Officer) -> sa.ColumnElement[bool]:
    """The candidates the officer may see: those with a case (either side) the officer may see."""
    return sa.or_(
        cases_clause(officer, Candidate.child_case_id), cases_clause(officer, Candidate.family_case_id)
    )


class _json_items(FunctionElement[Any]):
    """The items of a JSON array as a table with one column, `value` (SQLite's json_each)."""

    inherit_cache = True
    name = "json_each"


@compiles(_json_items, "postgresql")
def _json_items_postgresql(element: _json_items, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_array_elements_text({compiler.process(element.clauses, **kw)})"


@compiles(_json_items)
def _json_items_default(element: _json_items, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_each({compiler.process(element.clauses, **kw)})"


def flags_clause(officer: Officer) -> sa.ColumnElement[bool]:
    """The flags the officer may see: those with a case (`MatchFlag.case_ids`, a JSON list) the officer may see.
    A flag of no case (a lab's sample mix-up before linking) is seen by national officers only."""
    if officer.national:
        return sa.true()
    items = _json_items(MatchFlag.case_ids).table_valued("value")
    case_id = sa.cast(items.c.value, sa.Integer)
    return sa.exists(sa.select(1).select_from(items).where(cases_clause(officer, case_id)))


def labs_clause(officer: Officer) -> sa.ColumnElement[bool]:
    """The labs of the officer's province (all of them for a national officer)."""
    return sa.true() if officer.national else Lab.province == officer.province


def samples_clause(officer: Officer) -> sa.ColumnElement[bool]:
    """The samples the officer may see: those of a case the officer may see; a sample of no case yet (a walk-in
    not linked), by the province of its lab."""
    if officer.national:
        return sa.true()
    labs = sa.select(Lab.id).where(labs_clause(officer))
    return sa.or_(
        sa.and_(Sample.case_id.is_not(None), cases_clause(officer, Sample.case_id)),
        sa.and_(Sample.case_id.is_(None), Sample.lab_id.in_(labs)),
    )


def may_see(session: Session, officer: Officer, case: Case) -> bool:
    """Tell whether the officer may see the case: the database answers `cases_clause` for this one case."""
    if officer.national:
        return True
    query = sa.select(Case.id).where(Case.id == case.id, cases_clause(officer))
    return session.scalar(query) is not None
