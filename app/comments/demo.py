"""Demo conversation on OIG-15-85: what OIG asked for when it left the recommendation open."""

from app.comments.services import add_comment

MESSAGES = [
    (
        "oig_reviewer",
        "The recommendation stays unresolved and open until we receive a corrective action plan "
        "with milestones for each line of effort, including the steps that will ensure the "
        "completeness and accuracy of the prosecutorial discretion data.",
    ),
    (
        "action_office",
        "Understood. The plan will cover governance, data collection and data reporting, with a "
        "sample-based accuracy review under data collection.",
    ),
]


def seed_comments(recommendation, users: dict) -> None:
    """Called once, when the demo recommendation is created."""
    for role, body in MESSAGES:
        add_comment(recommendation, body, users[role])
