"""Demo data: DHS OIG report OIG-15-85 and its corrective action plan.

The report, its recommendation, DHS's response and the metric baselines are the report's own
(app/demo_report.py holds its issue date and figures with their pages). The plan's milestones,
readings, targets, evidence and comments are illustrative, and the site says so while the demo
is loaded. The clocks are replayed: ``issued_on`` is a day relative to today, so that the demo
always shows work done, work due soon and one overdue milestone, and ``printed_issued_on`` keeps
the real issue date. Loading twice changes nothing.
"""

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from app import audit
from app.auth.models import User
from app.comments.demo import seed_comments
from app.demo_report import ISSUED_ON, REPORT_NUMBER
from app.evidence.demo import seed_evidence
from app.extensions import db
from app.milestones.demo import EARLY_DATE_CHANGE, seed_milestone_history
from app.metrics.demo import seed_metrics
from app.milestones.models import Milestone
from app.offices.models import Office
from app.recommendations.models import LineOfEffort, Recommendation
from app.reminders.demo import seed_reminders
from app.reports.models import Report

REPORT_TITLE = "DHS Missing Data Needed to Strengthen Its Immigration Enforcement Efforts"
#: The report's words (p. 7), as printed.
RECOMMENDATION_TEXT = (
    "We recommend that the Department of Homeland Security Deputy Secretary require the Office of "
    "Policy to develop and implement a plan to collect, analyze, and report data on the Department’s "
    "use of prosecutorial discretion to assess immigration enforcement activities and improve future "
    "policy. The plan should include steps taken to ensure the completeness and accuracy of the "
    "prosecutorial discretion data."
)
#: DHS's management comments as the report sums them up (p. 7); the letter itself (Appendix B) is
#: not in the text.
CONCURRENCE_RESPONSE = (
    "The Department agreed with our report recommendation and indicated that it plans a multi-pronged "
    "approach to assessing and accounting for DHS immigration enforcement efforts. The project includes "
    "three lines of effort relating to policy—governance and standardization; data collection; and data "
    "reporting. The Department believes this project will provide a framework for measuring and evaluating "
    "its enforcement actions from a range of perspectives; and more accountable and accurate data that will "
    "benefit the Department and the Nation."
)
#: The report's finding (p. 3).
SUMMARY = (
    "DHS does not collect and analyze data on the use of prosecutorial discretion to fully assess its "
    "current immigration enforcement activities and to develop future policy."
)
#: The demo replays the 2015 case as if the report had been issued this many days ago, so
#: that its clocks (90-day response, 6-month resolution) are live.
ISSUED_DAYS_AGO = 75

OFFICES = [
    ("DHS-PLCY", "DHS Office of Policy", "agency"),
    ("DHS-OIG", "DHS Office of Inspector General", "oig"),
    ("ICE", "U.S. Immigration and Customs Enforcement", "agency"),
    ("CBP", "U.S. Customs and Border Protection", "agency"),
    ("USCIS", "U.S. Citizenship and Immigration Services", "agency"),
]

USERS = [
    ("policy@example.gov", "Dana Whitfield", "action_office", "DHS-PLCY"),
    ("oig@example.gov", "Marcus Ortega", "oig_reviewer", "DHS-OIG"),
    ("manager@example.gov", "Priya Raman", "manager", "DHS-PLCY"),
    ("admin@example.gov", "Sam Okafor", "admin", None),
]

LINES_OF_EFFORT = [
    (
        "governance",
        "Governance and standardization",
        "Set who owns prosecutorial discretion data and what a decision record must contain.",
        "A Department-wide definition, data standard and governance body for prosecutorial discretion data.",
    ),
    (
        "data_collection",
        "Data collection",
        "Collect complete and accurate prosecutorial discretion data from ICE, CBP and USCIS.",
        "Every component records each discretion decision with its basis, linked to one person, every month.",
    ),
    (
        "data_reporting",
        "Data reporting",
        "Analyze and report the data to leadership and the public, and use it to improve policy.",
        "Quarterly reports to leadership and an annual public report that include prosecutorial discretion.",
    ),
]


@dataclass
class DemoMilestone:
    """A milestone of the plan as the demo shows it: ``status``, ``percent``, ``completed`` (days from
    today) and ``due`` are where its history (app/milestones/demo.py) leaves it."""

    line: str
    title: str
    start: int
    due: int
    status: str = "not_started"
    percent: int = 0
    completed: int | None = None
    evidence: str = ""


MILESTONES = [
    DemoMilestone(
        "governance",
        "Charter the Prosecutorial Discretion Data Working Group (ICE, CBP, USCIS, OIS)",
        -80,
        -50,
        "completed",
        100,
        -52,
        "Signed charter and member list",
    ),
    DemoMilestone(
        "governance",
        "Issue a Department-wide data standard defining a prosecutorial discretion decision",
        -50,
        -10,
        "completed",
        100,
        -12,
        "Published data standard, version 1.0",
    ),
    DemoMilestone(
        "governance",
        "Publish data governance policy: data stewards, roles and quality controls",
        -20,
        5,
        "in_progress",
        60,
        None,
        "Signed policy memorandum",
    ),
    DemoMilestone(
        "governance",
        "Deputy Secretary approves the data strategy and corrective action plan",
        -10,
        20,
        "in_progress",
        20,
        None,
        "Approval memorandum",
    ),
    DemoMilestone(
        "data_collection",
        "Inventory component systems that record prosecutorial discretion (EARM, e3, CLAIMS)",
        -70,
        -30,
        "completed",
        100,
        -33,
        "System inventory spreadsheet",
    ),
    DemoMilestone(
        "data_collection",
        "Define required fields: basis for discretion, release reason, DACA referral and USCIS decision",
        -40,
        -6,
        "in_progress",
        70,
        None,
        "Field dictionary approved by the working group",
    ),
    DemoMilestone(
        "data_collection",
        "Add a unique person identifier to link records across components",
        -10,
        45,
        "in_progress",
        15,
        None,
        "Design note and test results on de-duplication",
    ),
    DemoMilestone(
        "data_collection",
        "Begin monthly data submissions from ICE, CBP and USCIS to OIS",
        30,
        90,
        evidence="First three monthly submissions with completeness report",
    ),
    DemoMilestone(
        "data_collection",
        "Run a sample-based accuracy review: records verified against case files",
        60,
        150,
        evidence="Sampling plan and review results",
    ),
    DemoMilestone(
        "data_reporting",
        "Design the prosecutorial discretion dashboard and report template",
        -15,
        12,
        "in_progress",
        40,
        None,
        "Approved report template",
    ),
    DemoMilestone(
        "data_reporting",
        "Publish the first quarterly prosecutorial discretion report to leadership",
        60,
        120,
        evidence="Quarterly report as delivered",
    ),
    DemoMilestone(
        "data_reporting",
        "Publish the annual immigration enforcement report including prosecutorial discretion",
        150,
        300,
        evidence="Published annual report",
    ),
]


def seed_demo(password: str | None, on: date) -> str | None:
    """Load the demo. Returns the generated password when users were created without one."""
    generated = None
    offices = {}
    for code, name, kind in OFFICES:
        office = db.session.scalar(sa.select(Office).where(Office.code == code))
        if office is None:
            office = Office(code=code, name=name, kind=kind)
            db.session.add(office)
        offices[code] = office
    db.session.flush()

    users = {}
    for email, name, role, office_code in USERS:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is None:
            if password is None and generated is None:
                generated = secrets.token_urlsafe(15)
            user = User(email=email, name=name, role=role, office_id=offices[office_code].id if office_code else None)
            user.set_password(password or generated or "")
            db.session.add(user)
            db.session.flush()
            audit.record(
                "user.create",
                user,
                after={"email": email, "role": role, "office": office_code},
                actor=user if role == "admin" else None,
            )
        users[role] = user
    seed_reminders()

    existing = db.session.scalar(sa.select(Report).where(Report.number == REPORT_NUMBER))
    if existing is not None:
        if existing.printed_issued_on is None:
            # Loaded by an earlier version: mark it replayed, so that the site says what is illustrative.
            existing.printed_issued_on = ISSUED_ON
            audit.record("demo.mark_replayed", existing, after={"printed_issued_on": ISSUED_ON})
        return generated

    issued = on - timedelta(days=ISSUED_DAYS_AGO)
    report = Report(
        number=REPORT_NUMBER,
        title=REPORT_TITLE,
        issued_on=issued,
        printed_issued_on=ISSUED_ON,
        oig_office="DHS Office of Inspector General",
        agency="Department of Homeland Security",
        summary=SUMMARY,
    )
    db.session.add(report)
    recommendation = Recommendation(
        report=report,
        number="1",
        text=RECOMMENDATION_TEXT,
        status="unresolved_open",
        concurrence="concur",
        concurrence_response=CONCURRENCE_RESPONSE,
        action_office_id=offices["DHS-PLCY"].id,
        issued_on=issued,
        responsible_official="Assistant Secretary for Policy",
        target_completion_on=on + timedelta(days=300),
    )
    db.session.add(recommendation)
    lines = {}
    for position, (kind, title, description, objective) in enumerate(LINES_OF_EFFORT, start=1):
        lines[kind] = LineOfEffort(
            recommendation=recommendation,
            kind=kind,
            title=title,
            description=description,
            objective=objective,
            lead_owner=users["action_office"],
            position=position,
        )
        db.session.add(lines[kind])
    # Each milestone as first planned; seed_milestone_history plays its history forward to the
    # status, percent and dates ``MILESTONES`` gives.
    moved_title, moved_days = EARLY_DATE_CHANGE[:2]
    for m in MILESTONES:
        due = on + timedelta(days=m.due - (moved_days if m.title.startswith(moved_title) else 0))
        db.session.add(
            Milestone(
                line_of_effort=lines[m.line],
                title=m.title,
                owner=users["action_office"],
                office_id=offices["DHS-PLCY"].id,
                start_on=on + timedelta(days=m.start),
                baseline_due_on=due,
                current_due_on=due,
                status="not_started",
                percent_complete=0,
                expected_evidence=m.evidence,
            )
        )
    db.session.flush()
    seed_milestone_history(recommendation.id, users["action_office"], on)
    seed_metrics(lines, users, on)
    audit.record(
        "demo.seed",
        report,
        after={
            "report": REPORT_NUMBER,
            "milestones": len(MILESTONES),
            "printed_issued_on": ISSUED_ON,
            "replayed_issued_on": issued,
        },
        recommendation_id=recommendation.id,
    )
    seed_comments(recommendation, users)
    seed_evidence(on)
    return generated
