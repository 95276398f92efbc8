"""Pages of a growing list: the rows of one page, the total, and links to the other pages keeping the filters.

    paginate(session, query, default_size=50) -> Paged   the page and size come from ?page= and ?size=

A page beyond the last shows the last; sizes are bounded (MAX_PAGE_SIZE), so no request reads a whole table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import abort, request, url_for
from sqlalchemy.orm import Session

from intake.platform.clock import CHINA

MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Paged:
    rows: list[Any]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first(self) -> int:
        """The 1-based position of the first row shown (0 when there is none)."""
        return (self.page - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.size + len(self.rows)

    def link(self, page: int) -> str:
        """The URL of another page of the same list, with the same filters and sort."""
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
        args.update(request.view_args or {})
        args["page"] = page
        return url_for(str(request.endpoint), **args)


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        abort(400, f"{name} must be a whole number")
    return max(low, min(high, int(raw)))


def paginate(session: Session, query: Any, default_size: int = 50, scalars: bool = True) -> Paged:
    """Run `query` for the page asked (?page=, ?size=) and count all its rows.

    `query` must have its ORDER BY (ending in a unique column, so that pages neither repeat nor skip a row).
    """
    size = _whole("size", default_size, 1, MAX_PAGE_SIZE)
    page = _whole("page", 1, 1, MAX_PAGE)
    total = int(session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0)
    page = min(page, max(1, -(-total // size)))
    limited = query.limit(size).offset((page - 1) * size)
    rows = list(session.scalars(limited)) if scalars else list(session.execute(limited).all())
    return Paged(rows, total, page, size)


def paginate_ids(session: Session, model: Any, ids: list[Any], default_size: int = 50) -> Paged:
    """Page through rows of `model` already chosen and ordered as `ids` (a filter SQL cannot say)."""
    size = _whole("size", default_size, 1, MAX_PAGE_SIZE)
    page = min(_whole("page", 1, 1, MAX_PAGE), max(1, -(-len(ids) // size)))
    wanted = ids[(page - 1) * size : page * size]
    by_id = {row.id: row for row in session.scalars(sa.select(model).where(model.id.in_(wanted)))}
    return Paged([by_id[i] for i in wanted if i in by_id], len(ids), page, size)


def page_list(items: list[Any], default_size: int = 50) -> Paged:
    """Page through a list built in memory (a case's timeline)."""
    size = _whole("size", default_size, 1, MAX_PAGE_SIZE)
    page = min(_whole("page", 1, 1, MAX_PAGE), max(1, -(-len(items) // size)))
    return Paged(items[(page - 1) * size : page * size], len(items), page, size)


def date_arg(name: str) -> date | None:
    """Read a date (YYYY-MM-DD) from the query string; a malformed one is a 400 with the reason."""
    raw = request.args.get(name, "").strip()[:10]
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, f"{name}: a date is written YYYY-MM-DD")


def day_start(day: date) -> datetime:
    """The first instant of `day` in China Standard Time."""
    return datetime.combine(day, time(0, 0), tzinfo=CHINA)


def day_end(day: date) -> datetime:
    """The first instant after `day` in China Standard Time."""
    return day_start(day + timedelta(days=1))
