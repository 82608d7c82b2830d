from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.dbtypes import UTCDateTime, partial_index
from app.extensions import db
from app.timeutil import utcnow


class Report(db.Model):
    """An audit, inspection or evaluation report issued by an Inspector General (or GAO)."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(60), unique=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    #: The day the clocks count from: the issue date, or the replayed one for a demo case.
    issued_on: Mapped[date]
    #: The issue date printed on the report when ``issued_on`` is replayed (the OIG-15-85 demo
    #: replays its clocks relative to today); set only by ``seed-demo``.
    printed_issued_on: Mapped[date | None]
    #: The issuing Inspector General's office, e.g. "DHS Office of Inspector General".
    oig_office: Mapped[str] = mapped_column(sa.String(200))
    #: The audited agency or component as the report names it.
    agency: Mapped[str] = mapped_column(sa.String(200), default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    #: Optimistic lock (app/versioning.py): an edit made from an older version is refused, not merged.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recommendations = relationship(
        "Recommendation", back_populates="report", order_by="Recommendation.number", passive_deletes="all"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # "Is the demo loaded?" on every page (app/reports/services.py, demo_loaded_statement).
        partial_index("ix_reports_printed_issued_on", "printed_issued_on", where="printed_issued_on IS NOT NULL"),
        # The dashboard filter's OIG offices, walked a distinct value at a time (app/dashboard/filters.py).
        sa.Index("ix_reports_oig_office", "oig_office"),
    )

    def __repr__(self) -> str:
        return f"<Report {self.number}>"
