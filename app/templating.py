"""Everything templates call that is not in the context: filters and globals, registered in one place."""

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask

from app import versioning
from app.evidence import filetypes
from app.evidence import services as evidence
from app.evidence.models import EvidenceItem
from app.metrics.values import format_number, with_unit
from app.navigation import nav_items
from app.permissions import TEMPLATE_HELPERS
from app.recommendations.models import CONCURRENCE_LABELS, STATUS_LABELS
from app.reports.services import demo_loaded
from app.submissions.models import DECISION_LABELS, KIND_LABELS
from app.submissions.package import percent_complete

#: A stored machine value (status, concurrence, kind, decision) -> its words.
VALUE_LABELS: dict = {**STATUS_LABELS, **CONCURRENCE_LABELS, **KIND_LABELS, **DECISION_LABELS}


def format_date(value, fmt="%b %-d, %Y") -> str:
    return value.strftime(fmt) if value else "—"


def format_datetime(value) -> str:
    return value.strftime("%b %-d, %Y %H:%M UTC") if value else "—"


def isodate(value, fmt="%b %-d, %Y") -> str:
    """A date kept as ISO text in a snapshot, shown like every other date."""
    return date.fromisoformat(value).strftime(fmt) if value else "—"


def plural(count: int, one: str, many: str | None = None) -> str:
    """3 -> "3 reports", 1 -> "1 report": a count and its noun, in every page ("1 reports" was seen)."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def filesize(n: float | None) -> str:
    if n is None:
        return "—"
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}".replace(".0 ", " ")
        n /= 1024
    return f"{n} GB"


def history_value(value):
    """A stored machine value (status, concurrence, kind, decision) in words."""
    return VALUE_LABELS.get(value, value) if isinstance(value, str) else value


def file_kind(content_type: str) -> str:
    """What a reader calls the file ("PDF", "Word document"), not its media type."""
    return filetypes.ALLOWED.get(content_type, (content_type, ()))[0]


def evidence_summary(recommendation) -> dict[str, int]:
    """Counts for the recommendation page's evidence section (one query)."""
    return evidence.summary(recommendation.id)


def milestone_evidence_items(milestone) -> list[EvidenceItem]:
    """The milestone page's evidence section: its items with versions and reviews."""
    return evidence.items_for(milestone.line_of_effort.recommendation_id, milestone.id)


FILTERS: dict[str, Callable[..., Any]] = {
    "date": format_date,
    "datetime": format_datetime,
    "isodate": isodate,
    "num": format_number,
    # {{ value|num|unit(metric.unit) }}: "70%", "12,757 releases"
    "unit": with_unit,
    "filesize": filesize,
    "plural": plural,
    "history_value": history_value,
    "conflict_value": versioning.shown,
    "filekind": file_kind,
}

GLOBALS = {
    **TEMPLATE_HELPERS,
    "nav_items": nav_items,
    "demo_loaded": demo_loaded,
    "line_progress": percent_complete,
    "evidence_summary": evidence_summary,
    "milestone_evidence_items": milestone_evidence_items,
}


def register(app: Flask) -> None:
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(GLOBALS)
