"""The primary navigation: (endpoint, label, roles that see it). Each domain adds its pages here.

A person's own settings (notifications, email preferences, password, security keys) are in the
signed-in bar above it (templates/base.html), not here: with them the administrator's menu
needed 991 px of the 960 at 1280 px where text is hinted (Linux desktop Chrome), and wrapped."""

from flask_login import current_user

from app.permissions import ANY_ROLE

NAV = [
    ("dashboard.index", "Dashboard", ANY_ROLE),
    ("notifications.queue", "Awaiting your review", ("oig_reviewer",)),
    ("notifications.queue", "Awaiting your approval", ("manager",)),
    ("notifications.queue", "Returned to you", ("action_office",)),
    ("reports.index", "Reports", ("oig_reviewer", "admin")),
    ("milestones.my_work", "My work", ("action_office", "manager", "admin")),
    ("evidence.attention", "Needs attention", ("action_office", "manager")),
    ("evidence.integrity", "Evidence integrity", ("admin",)),
    ("accounts.index", "Accounts", ("admin",)),
    ("exports.index", "Reports and exports", ANY_ROLE),
    ("imports.index", "Import", ("oig_reviewer", "admin")),
    ("calendar.settings", "Calendar and API", ANY_ROLE),
]


def nav_items():
    if not current_user.is_authenticated:
        return []
    return [(endpoint, label) for endpoint, label, allowed in NAV if current_user.role in allowed]
