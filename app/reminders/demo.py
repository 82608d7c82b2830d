"""Demo reminder settings: the defaults, with the demo admin standing in as audit follow-up official."""

import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db
from app.reminders.models import ReminderSettings


def seed_reminders() -> None:
    if db.session.get(ReminderSettings, 1) is not None:
        return
    official = db.session.scalar(sa.select(User).where(User.email == "admin@example.gov"))
    db.session.add(ReminderSettings(id=1, follow_up_official_id=official.id if official else None))
    db.session.flush()
