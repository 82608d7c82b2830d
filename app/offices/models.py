from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.dbtypes import UTCDateTime, enum
from app.extensions import db
from app.timeutil import utcnow

OFFICE_KINDS = ("agency", "oig")


class Office(db.Model):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short machine-friendly name used in URLs, CSV files and the CLI ("DHS-PLCY").
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: An auditee office, or an Inspector General's office.
    kind: Mapped[str] = mapped_column(enum(*OFFICE_KINDS, name="office_kind"), default="agency")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Office {self.code}>"
