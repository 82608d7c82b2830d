"""A realistic synthetic data set at the scale of all Inspectors General, for bench/.

Bulk inserts (``insert(table)`` with lists of rows), one transaction per table chunk.
Ten milestones per recommendation, three lines of effort each, recommendations in
every status, two audit events per milestone with a valid hash chain.
"""

import random
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from app.audit import GENESIS_HASH, AuditEvent, canonical_json
from app.auth.models import User
from app.dbtypes import refresh_statistics
from app.extensions import db
from app.metrics.models import Metric, Reading
from app.milestones.models import Milestone
from app.offices.models import Office
from app.recommendations.models import STATUSES, LineOfEffort, Recommendation
from app.reports.models import Report
from app.submissions.models import Submission

BENCH_PASSWORD = "bench password for load tests"
MILESTONES_PER_OWNER = 200
BENCH_USERS = {
    "action_office": "bench-policy@example.gov",
    "oig_reviewer": "bench-oig@example.gov",
    "manager": "bench-manager@example.gov",
    "admin": "bench-admin@example.gov",
}
CHUNK = 5000
LOE = [
    ("governance", "Governance and standardization"),
    ("data_collection", "Data collection"),
    ("data_reporting", "Data reporting"),
]
VERBS = ["Issue", "Publish", "Define", "Implement", "Validate", "Train staff on", "Review", "Automate"]
OBJECTS = [
    "data standard",
    "quality controls",
    "monthly data submissions",
    "reporting template",
    "records retention policy",
    "access controls",
    "sampling plan",
    "field dictionary",
    "dashboard",
    "interagency agreement",
]


def _insert(table, rows):
    for start in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(table), rows[start : start + CHUNK])


def _reset_sequences(*models) -> None:
    """After inserts with explicit ids, PostgreSQL's id sequences continue after the largest."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in models:
        table = model.__table__
        db.session.execute(
            sa.select(
                sa.func.setval(
                    sa.func.pg_get_serial_sequence(table.name, "id"),
                    sa.select(sa.func.max(table.c.id)).scalar_subquery(),
                )
            )
        )
    db.session.commit()


def _max_id(model) -> int:
    return db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(model.id), 0)))


def seed(milestones: int, today: date, echo=print) -> dict:
    rng = random.Random(1515)
    now = datetime.now(timezone.utc)
    n_recs = max(1, milestones // 10)
    n_reports = max(1, n_recs // 5)

    office_base = _max_id(Office)
    offices: list[dict] = [
        {
            "id": office_base + i + 1,
            "code": f"BENCH-{office_base + i + 1}",
            "name": f"Bench agency office {i + 1}",
            "kind": "agency",
            "created_at": now,
        }
        for i in range(20)
    ]
    oig: dict = {
        "id": office_base + 21,
        "code": f"BENCH-OIG-{office_base + 21}",
        "name": "Bench Inspector General",
        "kind": "oig",
        "created_at": now,
    }
    _insert(Office.__table__, offices + [oig])

    pw_hash = generate_password_hash(BENCH_PASSWORD, method="pbkdf2:sha256:600000")
    user_base = _max_id(User)
    users: list[dict] = []
    action_users: dict[int, list[int]] = {}
    uid = user_base
    # About MILESTONES_PER_OWNER milestones a person, as in an office that tracks its work: the
    # staff grows with the data set, so My work shows one person's load at every size.
    staff = max(2, -(-milestones // (len(offices) * MILESTONES_PER_OWNER)))
    for office in offices:
        for k in range(staff + 2):
            uid += 1
            role = "manager" if k >= staff else "action_office"
            users.append(
                {
                    "id": uid,
                    "email": f"u{uid}@bench.example.gov",
                    "name": f"Bench User {uid}",
                    "role": role,
                    "office_id": office["id"],
                    "password_hash": pw_hash,
                    "is_active_account": True,
                    "session_token": f"bench-{uid}-{rng.random()}",
                    "created_at": now,
                }
            )
            if role == "action_office":
                action_users.setdefault(office["id"], []).append(uid)
    for role, email in BENCH_USERS.items():
        if db.session.scalar(sa.select(User.id).where(User.email == email)):
            continue
        uid += 1
        office_id = {"oig_reviewer": oig["id"], "admin": None}.get(role, offices[0]["id"])
        users.append(
            {
                "id": uid,
                "email": email,
                "name": f"Bench {role}",
                "role": role,
                "office_id": office_id,
                "password_hash": pw_hash,
                "is_active_account": True,
                "session_token": f"bench-{uid}-{rng.random()}",
                "created_at": now,
            }
        )
        if role == "action_office":
            action_users[offices[0]["id"]].append(uid)
    _insert(User.__table__, users)
    echo(f"offices {len(offices) + 1}, users {len(users)}")

    report_base, rec_base = _max_id(Report), _max_id(Recommendation)
    reports: list[dict] = []
    for i in range(n_reports):
        rid = report_base + i + 1
        issued = today - timedelta(days=rng.randint(10, 6 * 365))
        reports.append(
            {
                "id": rid,
                "number": f"BENCH-{rid:06d}",
                "title": f"Audit of program {rid}",
                "issued_on": issued,
                "oig_office": "Bench Inspector General",
                "agency": "Bench",
                "summary": "",
                "created_at": now,
            }
        )
    _insert(Report.__table__, reports)

    recs, loes, ms = [], [], []
    loe_id, ms_id = _max_id(LineOfEffort), _max_id(Milestone)
    for i in range(n_recs):
        rid = rec_base + i + 1
        report = reports[i % n_reports]
        office = offices[i % len(offices)]
        status = STATUSES[rng.randrange(len(STATUSES))]
        issued = report["issued_on"]
        decided: date | None = issued + timedelta(days=rng.randint(60, 200)) if status != "unresolved_open" else None
        if decided and decided > today:
            decided = today
        # resolved_closed is not unresolved_open: decided is set whenever final is
        final: date | None = (
            decided + timedelta(days=rng.randint(100, 400)) if status == "resolved_closed" and decided else None
        )
        if final and final > today:
            final = today
        recs.append(
            {
                "id": rid,
                "report_id": report["id"],
                "number": str(i // n_reports + 1),
                "text": f"Develop and implement a plan to improve the data of program {rid}.",
                "status": status,
                "concurrence": "concur",
                "concurrence_response": "",
                "priority": rng.random() < 0.1,
                "action_office_id": office["id"],
                "responsible_official": "Assistant Secretary",
                "issued_on": issued,
                "management_decision_on": decided,
                "final_action_on": final,
                "target_completion_on": issued + timedelta(days=540),
                "created_at": now,
                "updated_at": now,
            }
        )
        line_ids = []
        for position, (kind, title) in enumerate(LOE, start=1):
            loe_id += 1
            line_ids.append(loe_id)
            loes.append(
                {
                    "id": loe_id,
                    "recommendation_id": rid,
                    "kind": kind,
                    "title": title,
                    "description": "",
                    "objective": "",
                    "position": position,
                    "created_at": now,
                }
            )
        for k in range(10):
            ms_id += 1
            start = issued + timedelta(days=rng.randint(0, 300))
            due = start + timedelta(days=rng.randint(30, 240))
            slip = rng.choice([0, 0, 0, 14, 30, 60])
            done = status == "resolved_closed" or (due + timedelta(days=slip) < today and rng.random() < 0.8)
            ms.append(
                {
                    "id": ms_id,
                    "line_of_effort_id": line_ids[k % 3],
                    "title": f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} ({ms_id})",
                    "description": "",
                    "owner_id": rng.choice(action_users[office["id"]]),
                    "office_id": office["id"],
                    "start_on": start,
                    "baseline_due_on": due,
                    "current_due_on": due + timedelta(days=slip),
                    "status": "completed" if done else rng.choice(["not_started", "in_progress"]),
                    "percent_complete": 100 if done else rng.randint(0, 90),
                    "completed_on": due if done else None,
                    "expected_evidence": "",
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    _insert(Recommendation.__table__, recs)
    _insert(LineOfEffort.__table__, loes)
    db.session.commit()
    echo(f"reports {len(reports)}, recommendations {len(recs)}, lines of effort {len(loes)}")
    for first in range(0, len(ms), 50_000):
        _insert(Milestone.__table__, ms[first : first + 50_000])
        db.session.commit()
    echo(f"milestones {len(ms)}")

    seed_audit_events(ms, rng, now)
    readings = seed_readings(today, echo=echo)
    submissions = seed_submissions(today, echo=echo)
    return {"recommendations": len(recs), "milestones": len(ms), "readings": readings, "submissions": submissions}


def analyze() -> None:
    """Fresh planner statistics after a bulk load: ANALYZE on SQLite, VACUUM (ANALYZE) on PostgreSQL."""
    refresh_statistics()


def seed_submissions(today: date, echo=print) -> int:
    """What each recommendation sent OIG, for recommendations that have sent nothing yet.

    A plan (accepted on the management decision day when there is one; otherwise, for half of
    the unresolved ones, waiting or rejected), then a 90-day status update every 80-100 days
    until the final action or today; one in fifty recommendations has its latest one waiting.
    """
    rng = random.Random(2015)
    now = datetime.now(timezone.utc)
    sender = dict(
        db.session.execute(
            sa.select(User.office_id, sa.func.min(User.id)).where(User.role == "action_office").group_by(User.office_id)
        ).all()
    )
    sent = sa.select(Submission.recommendation_id)
    recs = db.session.execute(
        sa.select(
            Recommendation.id,
            Recommendation.action_office_id,
            Recommendation.issued_on,
            Recommendation.management_decision_on,
            Recommendation.final_action_on,
        ).where(Recommendation.id.not_in(sent), Recommendation.action_office_id.in_(list(sender)))
    ).all()
    rows, next_id, total = [], _max_id(Submission) + 1, 0

    def add(rec, number, kind, on, decision):
        nonlocal next_id
        rows.append(
            {
                "id": next_id,
                "recommendation_id": rec.id,
                "number": number,
                "kind": kind,
                "narrative": "Status as of this date.",
                "snapshot": {},
                "snapshot_sha256": "0" * 64,
                "submitted_by_id": sender[rec.action_office_id],
                "submitted_at": datetime.combine(on, datetime.min.time(), timezone.utc),
                "submitted_on": on,
                "decision": decision,
                "analysis": "",
                "decided_by_id": None,
                "decided_at": now if decision else None,
            }
        )
        next_id += 1

    for rec in recs:
        number = 0
        if rec.management_decision_on:
            number += 1
            add(rec, number, "plan", rec.management_decision_on - timedelta(days=rng.randint(5, 30)), "accepted")
            day, end = rec.management_decision_on, rec.final_action_on or today
            while (day := day + timedelta(days=rng.randint(80, 100))) <= end:
                number += 1
                add(rec, number, "status_update", day, "accepted")
        elif rng.random() < 0.5:
            number += 1
            add(
                rec,
                number,
                "plan",
                min(today, rec.issued_on + timedelta(days=rng.randint(30, 120))),
                rng.choice(["rejected", None]),
            )
        if number and rng.random() < 0.02 and rows[-1]["decision"] == "accepted":
            rows[-1].update(decision=None, decided_at=None)
        if len(rows) >= 50_000:
            _insert(Submission.__table__, rows)
            db.session.commit()
            total += len(rows)
            rows = []
    _insert(Submission.__table__, rows)
    total += len(rows)
    db.session.execute(
        sa.text("""
        UPDATE recommendations SET
          plan_submitted_on = (SELECT min(s.submitted_on) FROM submissions s
                               WHERE s.recommendation_id = recommendations.id AND s.kind = 'plan'),
          last_submitted_on = (SELECT max(s.submitted_on) FROM submissions s
                               WHERE s.recommendation_id = recommendations.id)
        WHERE id IN (SELECT recommendation_id FROM submissions)""")
    )
    db.session.commit()
    _reset_sequences(Submission)
    analyze()
    echo(f"submissions {total}")
    return total


def seed_audit_events(milestones: list[dict], rng, now, per_milestone: int = 2) -> int:
    """Two events per milestone (create, then an update), chained onto the existing trail."""
    last = db.session.execute(sa.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)).first()
    prev_hash = last.hash if last else GENESIS_HASH
    next_id = (last.id if last else 0) + 1
    rec_of_line = dict(db.session.execute(sa.select(LineOfEffort.id, LineOfEffort.recommendation_id)).all())
    rows = []
    for m in milestones:
        for k in range(per_milestone):
            event = AuditEvent(
                id=next_id,
                occurred_at=now,
                actor_id=m["owner_id"],
                action="milestone.create" if k == 0 else "milestone.update",
                object_type="milestone",
                object_id=m["id"],
                recommendation_id=rec_of_line[m["line_of_effort_id"]],
                before="" if k == 0 else canonical_json({"percent_complete": 0}),
                after=canonical_json({"percent_complete": m["percent_complete"]}),
                ip="127.0.0.1",
                prev_hash=prev_hash,
            )
            event.hash = event.compute_hash()
            prev_hash = event.hash
            rows.append({c.name: getattr(event, c.key) for c in AuditEvent.__table__.columns})
            next_id += 1
        if len(rows) >= 100_000:
            _insert(AuditEvent.__table__, rows)
            db.session.commit()
            rows = []
    _insert(AuditEvent.__table__, rows)
    db.session.commit()
    _reset_sequences(Office, User, Report, Recommendation, LineOfEffort, Milestone, AuditEvent)
    return next_id


def _quarters_before(day: date, count: int) -> list[tuple[str, date]]:
    """The last ``count`` whole quarters before ``day``: (label "2026-Q3", last day)."""
    quarter = (day.month - 1) // 3  # the current quarter, 0-based; it has not ended
    year = day.year
    out = []
    for _ in range(count):
        quarter -= 1
        if quarter < 0:
            quarter, year = 3, year - 1
        end_month = quarter * 3 + 3
        end = date(year + (end_month == 12), end_month % 12 + 1, 1) - timedelta(days=1)
        out.append((f"{year}-Q{quarter + 1}", end))
    return out[::-1]


def seed_readings(today: date, per_recommendation: int = 51, echo=print) -> int:
    """One quarterly metric per recommendation without one, with readings for ICE, CBP and USCIS.

    51 readings per recommendation (17 quarters x 3 components) makes 5,000,000 readings for
    the 100,000 recommendations of the PostgreSQL scale.
    """
    rng = random.Random(85)
    now = datetime.now(timezone.utc)
    components = ("ICE", "CBP", "USCIS")
    quarters = _quarters_before(today, max(1, per_recommendation // len(components)))
    has_metric = sa.select(LineOfEffort.recommendation_id).join(Metric, Metric.line_of_effort_id == LineOfEffort.id)
    first_lines = (
        db.session.execute(
            sa.select(sa.func.min(LineOfEffort.id))
            .where(LineOfEffort.recommendation_id.not_in(has_metric))
            .group_by(LineOfEffort.recommendation_id)
        )
        .scalars()
        .all()
    )
    metric_id, reading_id = _max_id(Metric), _max_id(Reading)
    total = 0
    for start in range(0, len(first_lines), 10_000):
        metrics, readings = [], []
        for line_id in first_lines[start : start + 10_000]:
            metric_id += 1
            target = rng.choice([90, 95, 98])
            metrics.append(
                {
                    "id": metric_id,
                    "line_of_effort_id": line_id,
                    "name": "Records complete",
                    "description": "",
                    "kind": "outcome",
                    "unit": "%",
                    "direction": "higher",
                    "baseline_value": 60,
                    "baseline_period": "FY2014",
                    "target_value": target,
                    "target_on": today + timedelta(days=365),
                    "frequency": "quarterly",
                    "components": ",".join(components),
                    "data_source": "component systems",
                    "collect_from": quarters[0][1] - timedelta(days=80),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for label, end in quarters:
                for component in components:
                    reading_id += 1
                    readings.append(
                        {
                            "id": reading_id,
                            "metric_id": metric_id,
                            "period": label,
                            "period_end": end,
                            "component": component,
                            "value": rng.randint(55, 100),
                            "note": "",
                            "entered_at": now,
                        }
                    )
        _insert(Metric.__table__, metrics)
        _insert(Reading.__table__, readings)
        db.session.commit()
        total += len(readings)
    _reset_sequences(Metric, Reading)
    echo(f"metric readings {total}")
    return total
