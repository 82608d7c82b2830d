"""Imports every domain's models, so that SQLAlchemy and Alembic see the whole schema."""
from app.audit import AuditEvent  # noqa: F401
from app.auth.models import User  # noqa: F401
from app.milestones.models import Milestone, milestone_dependencies  # noqa: F401
from app.offices.models import Office  # noqa: F401
from app.recommendations.models import LineOfEffort, Recommendation  # noqa: F401
from app.reports.models import Report  # noqa: F401
from app.api.models import ApiToken  # noqa: F401
from app.calendar.models import CalendarToken  # noqa: F401
