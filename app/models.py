"""Imports every domain's models, so that SQLAlchemy and Alembic see the whole schema."""

from app.audit import AuditEvent  # noqa: F401
from app.auth.models import ExternalIdentity, PasswordResetToken, RecoveryCode, SecurityKey, User  # noqa: F401
from app.offices.models import Office  # noqa: F401
from app.reports.models import Report  # noqa: F401
from app.recommendations.models import LineOfEffort, Recommendation, StatusChange  # noqa: F401
from app.milestones.models import DueDateChange, Milestone, MilestoneUpdate, milestone_dependencies  # noqa: F401
from app.metrics.models import Flag, ImprovementAction, Metric, Reading, ReadingRevision  # noqa: F401
from app.evidence.models import EvidenceCheck, EvidenceItem, EvidenceReview, EvidenceVersion  # noqa: F401
from app.submissions.models import Submission  # noqa: F401
from app.comments.models import Comment  # noqa: F401
from app.reminders.models import (  # noqa: F401
    OutboxMessage,
    ReminderPreference,
    ReminderSettings,
    SchedulerLease,
    SchedulerNode,
)
from app.api.models import ApiToken  # noqa: F401
from app.calendar.models import CalendarToken  # noqa: F401
from app.notifications.models import Notification, NotificationPreference  # noqa: F401
