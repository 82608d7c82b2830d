"""Factories with defaults: a test names only what it cares about."""

import itertools
from datetime import date, timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from app.auth.models import User
from app.extensions import db
from app.milestones.models import Milestone
from app.offices.models import Office
from app.recommendations.models import LineOfEffort, Recommendation
from app.reports.models import Report
from app.timeutil import today

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)


class Factory:
    """``make.user(role="manager")``, ``make.milestone(title="…")``: rows flushed, not committed."""

    def office(self, code: str | None = None, **kw) -> Office:
        code = code or f"OFF-{next(_seq)}"
        existing = db.session.scalar(sa.select(Office).where(Office.code == code))
        if existing:
            return existing
        office = Office(code=code, name=kw.pop("name", f"Office {code}"), **kw)
        db.session.add(office)
        db.session.flush()
        return office

    def user(self, role: str = "action_office", office: Office | None = None, **kw) -> User:
        n = next(_seq)
        if office is None and role != "admin":
            office = self.office(
                "DHS-OIG" if role == "oig_reviewer" else "DHS-PLCY", kind="oig" if role == "oig_reviewer" else "agency"
            )
        user = User(
            email=kw.pop("email", f"user{n}@example.gov"),
            name=kw.pop("name", f"User {n}"),
            role=role,
            office_id=office.id if office else None,
            **kw,
        )
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.flush()
        return user

    def report(self, **kw) -> Report:
        n = next(_seq)
        kw.setdefault("number", f"OIG-TEST-{n}")
        kw.setdefault("title", f"Test report {n}")
        kw.setdefault("issued_on", today() - timedelta(days=30))
        kw.setdefault("oig_office", "DHS Office of Inspector General")
        report = Report(**kw)
        db.session.add(report)
        db.session.flush()
        return report

    def recommendation(self, report: Report | None = None, office: Office | None = None, **kw) -> Recommendation:
        report = report or self.report()
        office = office or self.office("DHS-PLCY")
        kw.setdefault("number", str(next(_seq)))
        kw.setdefault("text", "Develop and implement a plan.")
        kw.setdefault("issued_on", report.issued_on)
        rec = Recommendation(report=report, action_office_id=office.id, **kw)
        db.session.add(rec)
        db.session.flush()
        return rec

    def line(self, recommendation: Recommendation | None = None, **kw) -> LineOfEffort:
        recommendation = recommendation or self.recommendation()
        kw.setdefault("title", f"Line of effort {next(_seq)}")
        kw.setdefault("position", len(recommendation.lines_of_effort) + 1)
        line = LineOfEffort(recommendation=recommendation, **kw)
        db.session.add(line)
        db.session.flush()
        return line

    def milestone(self, line: LineOfEffort | None = None, **kw) -> Milestone:
        line = line or self.line()
        due = kw.pop("due", today() + timedelta(days=30))
        kw.setdefault("title", f"Milestone {next(_seq)}")
        kw.setdefault("office_id", line.recommendation.action_office_id)
        kw.setdefault("start_on", today() - timedelta(days=10))
        kw.setdefault("baseline_due_on", due)
        kw.setdefault("current_due_on", due)
        milestone = Milestone(line_of_effort=line, **kw)
        db.session.add(milestone)
        db.session.flush()
        return milestone

    def notification_world(self) -> SimpleNamespace:
        """Issue 16's cast: an office (staff, a line lead, a milestone owner, a manager), its OIG, GAO's
        reviewer, and another office with its own manager, recommendation and milestone."""
        oig_office = self.office("DHS-OIG", kind="oig", name="DHS Office of Inspector General")
        plcy = self.office("DHS-PLCY", name="Office of Policy")
        other = self.office("OTHER", name="Other office")
        w = SimpleNamespace(
            sender=self.user("action_office", office=plcy, name="Sam Sender", email="sender@example.gov"),
            owner=self.user("action_office", office=plcy, name="Olga Owner", email="owner@example.gov"),
            lead=self.user("action_office", office=plcy, name="Lee Lead", email="lead@example.gov"),
            manager=self.user("manager", office=plcy, name="Mona Manager", email="manager@example.gov"),
            reviewer=self.user("oig_reviewer", office=oig_office, name="Olivia Reviewer", email="oig@example.gov"),
            reviewer_elsewhere=self.user(
                "oig_reviewer",
                office=self.office("GAO", kind="oig", name="GAO"),
                name="Gus Auditor",
                email="gao@example.gov",
            ),
            stranger=self.user("action_office", office=other, name="Eve Stranger", email="eve@example.gov"),
            other_manager=self.user("manager", office=other, name="Otto Manager", email="otto@example.gov"),
        )
        w.gao = w.reviewer_elsewhere
        w.rec = self.recommendation(office=plcy, report=self.report(number="OIG-15-85"), number="1")
        w.line = self.line(w.rec, lead_owner_id=w.lead.id, title="Data collection")
        w.milestone = self.milestone(w.line, owner=w.owner, title="Publish the data standard")
        w.other_rec = self.recommendation(office=other, report=self.report(number="OIG-20-1"), number="2")
        w.other_milestone = self.milestone(self.line(w.other_rec), owner=w.stranger, title="Other office's milestone")
        return w


def days(n: int) -> date:
    return today() + timedelta(days=n)
