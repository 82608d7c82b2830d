"""Paging for every list that can grow: one COUNT and one page of rows."""

import math
from dataclasses import dataclass
from collections.abc import Callable, Sequence

import sqlalchemy as sa
from flask import request

from app.extensions import db


class Paged:
    """What the ``pager`` macro reads: ``page`` and ``pages``."""

    page: int
    pages: int

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class Page(Paged):
    items: Sequence
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:  # type: ignore[override]  # Paged's readers only read it
        return max(1, math.ceil(self.total / self.per_page))


def page_number(name: str = "page") -> int:
    """The requested page; anything that is not a positive whole number is page 1."""
    value = request.args.get(name, "1")
    return int(value) if value.isdigit() and 0 < int(value) < 1_000_000 else 1


def paginate(
    query: sa.Select, per_page: int, page: int | None = None, *, total: int | None = None, rows: Callable | None = None
) -> Page:
    """``total``: the number of rows, when the caller has counted them already. ``rows``: the
    query selects columns, not a model, and each result row becomes ``rows(row)``."""
    if total is None:
        total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery())) or 0
    page = _within(page or page_number(), per_page, total)
    limited = query.limit(per_page).offset((page - 1) * per_page)
    if rows is not None:
        return Page([rows(row) for row in db.session.execute(limited)], page, per_page, total)
    return Page(db.session.scalars(limited).all(), page, per_page, total)


def paginate_bound(
    statement: sa.Select, values: dict, per_page: int, total: int, rows: Callable, page: int | None = None
) -> Page:
    """``paginate`` for a statement built once and run with ``values`` (and ``limit`` and
    ``offset``, which it binds as parameters), which the caller has counted."""
    page = _within(page or page_number(), per_page, total)
    result = db.session.execute(statement, {**values, "limit": per_page, "offset": (page - 1) * per_page})
    return Page([rows(row) for row in result], page, per_page, total)


def _within(page: int, per_page: int, total: int) -> int:
    """``page``, or the last page when it asks for more."""
    return min(page, max(1, math.ceil(total / per_page)))
