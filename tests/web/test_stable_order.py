"""What a page, a document, an email or the audit trail lists comes in one order on SQLite and
PostgreSQL alike: every ORDER BY of something shown ends on a unique column.

Rows that tie are made by ``_out_of_order``: three, their ids in the order expected, stored second,
third, first. A SELECT without ORDER BY, or with one that ties, gives back the order they were
stored in (a scan, an index on another column) or its reverse (a hash join), never the ids' order.
"""

import io
import itertools
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from docx import Document
from werkzeug.exceptions import HTTPException

from app.api.models import ApiToken
from app.audit import AuditEvent
from app.auth.models import ExternalIdentity
from app.evidence.models import EvidenceItem
from app.metrics.charts import metric_results
from app.metrics.models import Flag, Metric, Reading, TargetChange
from app.metrics.periods import period_bounds, previous_periods
from app.metrics.services import check_all, sync_flags
from app.milestones import services as milestone_services
from app.milestones.models import Milestone
from app.recommendations.models import Recommendation
from app.reminders.services import plan
from app.submissions.package import closure_package
from app.timeutil import today, utcnow
from tests.factories import days

#: Ids far above what the sequences give in a test, so that a row stored with one never collides.
_ids = itertools.count(1_000_001)


def _out_of_order(*makers) -> list:
    """Three rows that tie, made by ``makers`` (each takes an id, adds and flushes its row) with ids
    ascending in the order given, and stored second, third, first."""
    ids = [next(_ids) for _ in makers]
    made = {i: makers[i](ids[i]) for i in (1, 2, 0)}
    return [made[i] for i in range(len(makers))]


def _stored(db, row):
    db.session.add(row)
    db.session.flush()
    return row


def _in_order(text: str, *parts: str) -> bool:
    """Each of ``parts`` is in ``text``, each after the one before."""
    at = [text.find(p) for p in parts]
    return -1 not in at and at == sorted(at)


def _metric(db, line, name="Releases with a recorded basis", **kw) -> Metric:
    kw.setdefault("frequency", "quarterly")
    kw.setdefault("components", "ICE")
    kw.setdefault("target_value", Decimal("90"))
    kw.setdefault("collect_from", date(2025, 1, 1))
    return _stored(db, Metric(line_of_effort=line, name=name, **kw))


def _reading(db, metric, period: str, period_end: date, value, **kw) -> Reading:
    return _stored(
        db,
        Reading(metric=metric, period=period, period_end=period_end, component="ICE", value=Decimal(value), **kw),
    )


# --- the plan: lines of effort and dependencies ---------------------------------------------------


def test_a_milestone_lists_what_it_depends_on_and_what_depends_on_it_by_due_date(client, login_as, make, db):
    user = login_as("action_office")
    line = make.line(make.recommendation(), title="Data collection")
    later = make.milestone(line, title="Alpha, due later", due=days(60))
    sooner = make.milestone(line, title="Bravo, due sooner", due=days(20))
    milestone = make.milestone(line, title="The milestone", due=days(90))
    milestone.depends_on = [later, sooner]
    after_later = make.milestone(line, title="Xray, due later", due=days(150))
    after_sooner = make.milestone(line, title="Yankee, due sooner", due=days(120))
    after_later.depends_on = [milestone]
    after_sooner.depends_on = [milestone]
    db.session.commit()
    db.session.expire_all()

    page = client.get(f"/milestones/{milestone.id}").get_data(as_text=True)
    assert _in_order(page, "Bravo, due sooner", "Alpha, due later")
    assert _in_order(page, "Yankee, due sooner", "Xray, due later")
    timeline = client.get(f"/recommendations/{line.recommendation_id}/timeline").get_data(as_text=True)
    assert f'"dependencies": "m{sooner.id},m{later.id}"' in timeline.replace('":"', '": "')
    with pytest.raises(HTTPException) as refused:
        milestone_services.complete(db.session.get(Milestone, milestone.id), completed_on=today(), note="", actor=user)
    assert "not yet completed: Bravo, due sooner; Alpha, due later." in refused.value.description


LINES = ("Alpha line", "Bravo line", "Charlie line")


def _lines_at_one_position(make, db) -> Recommendation:
    """Lines added at once all read the same last position (create_line)."""
    rec = make.recommendation()
    _out_of_order(*(lambda id, title=title: make.line(rec, id=id, title=title, position=1) for title in LINES))
    db.session.commit()
    return rec


@pytest.mark.parametrize(
    "path",
    [
        "/recommendations/{rec}",
        "/recommendations/{rec}/timeline",
        "/recommendations/{rec}/evidence",
        "/recommendations/{rec}/metrics/new",
    ],
)
def test_lines_of_effort_at_the_same_position_keep_the_order_they_were_added_in(client, login_as, make, db, path):
    login_as("action_office")
    rec = _lines_at_one_position(make, db)
    page = client.get(path.format(rec=rec.id)).get_data(as_text=True)
    assert _in_order(page, *LINES)


def test_the_plan_document_lists_lines_at_the_same_position_in_the_order_they_were_added_in(client, login_as, make, db):
    login_as("action_office")
    rec = _lines_at_one_position(make, db)
    response = client.get(f"/exports/recommendations/{rec.id}/plan.docx")
    assert response.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(response.data)).paragraphs)
    assert _in_order(text, *LINES)


# --- metrics: readings, flags ---------------------------------------------------------------------

#: Periods that end on Dec 31 (a metric read quarterly, then yearly, then monthly), in the order
#: entered, which is not their labels' order, and their values.
SAME_END = (("2025-Q4", "10"), ("2025", "20"), ("2025-12", "30"))


def test_readings_of_periods_ending_the_same_day_keep_the_order_they_were_entered_in(client, login_as, make, db):
    """The one entered last is the latest: in the plan's documents and the closure snapshot, the
    closure package, the metric's page and the readings export."""
    login_as("action_office")
    rec = make.recommendation(status="resolved_open")
    metric = _metric(db, make.line(rec), frequency="monthly")
    _out_of_order(
        *(
            lambda id, period=period, value=value: _reading(db, metric, period, date(2025, 12, 31), value, id=id)
            for period, value in SAME_END
        )
    )
    db.session.commit()
    db.session.expire_all()

    (result,) = metric_results(rec.id)
    assert (result["period"], result["value"]) == ("2025-12", 30)
    (package_metric,) = closure_package(db.session.get(Recommendation, rec.id)).metrics
    assert [(c, r.period) for c, r in package_metric.latest] == [("ICE", "2025-12")]
    page = client.get(f"/metrics/{metric.id}").get_data(as_text=True)
    readings = page[page.index('id="readings-heading"') :]
    assert _in_order(readings, ">2025-12<", ">2025<", ">2025-Q4<")  # newest first
    export = client.get(f"/exports/metric-readings.csv?recommendation={rec.id}").get_data(as_text=True)
    assert _in_order(export, ",2025-Q4,", ",2025,", ",2025-12,")


def test_the_flags_page_lists_flags_of_periods_ending_the_same_day_in_the_order_they_were_raised(
    client, login_as, make, db
):
    login_as("action_office")
    rec = make.recommendation(status="resolved_open")
    metric = _metric(db, make.line(rec), frequency="monthly")

    def flag(period, value):
        return lambda id: _stored(
            db,
            Flag(
                id=id,
                metric_id=metric.id,
                component="ICE",
                period=period,
                period_end=date(2025, 12, 31),
                kind="off_target",
                value=Decimal(value),
                target_value=Decimal(90),
            ),
        )

    _out_of_order(*(flag(period, value) for period, value in SAME_END))
    db.session.commit()
    page = client.get(f"/recommendations/{rec.id}/flags?show=all").get_data(as_text=True)
    rows = page[page.index("<tbody") :]
    assert _in_order(rows, ">2025-Q4<", ">2025<", ">2025-12<")


def test_flags_are_raised_in_period_order_whatever_order_the_readings_were_entered_in(make, db):
    """Their ids, the audit trail's events and the notifications follow the periods."""
    rec = make.recommendation(status="resolved_open")
    periods = previous_periods("quarterly", today(), 3)
    metric = _metric(db, make.line(rec), collect_from=period_bounds("quarterly", periods[0])[0])
    for period in reversed(periods):  # the latest entered first
        _reading(db, metric, period, period_bounds("quarterly", period)[1], "50")
    db.session.commit()

    raised = sync_flags(db.session.get(Metric, metric.id), today())
    assert [f.period for f in raised] == periods
    assert [f.id for f in raised] == sorted(f.id for f in raised)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "metric.flag.raise").order_by(AuditEvent.id)
    ).all()
    assert [e.after_data["period"] for e in events] == periods


def test_the_daily_check_raises_each_metric_s_flags_in_turn(make, db):
    rec = make.recommendation(status="resolved_open")
    (period,) = previous_periods("quarterly", today(), 1)
    line = make.line(rec)
    start, end = period_bounds("quarterly", period)

    def metric(name):
        def made(id):
            m = _metric(db, line, name=name, collect_from=start, id=id)
            _reading(db, m, period, end, "50")
            return m

        return made

    metrics = _out_of_order(metric("Alpha"), metric("Bravo"), metric("Charlie"))
    db.session.commit()

    assert check_all(today()) == 3
    flags = db.session.scalars(sa.select(Flag).order_by(Flag.id)).all()
    assert [f.metric_id for f in flags] == [m.id for m in metrics]
    raised_for = db.session.scalars(
        sa.select(AuditEvent.object_id).where(AuditEvent.action == "metric.flag.raise").order_by(AuditEvent.id)
    ).all()
    assert raised_for == [f.id for f in flags]


# --- evidence, My work -----------------------------------------------------------------------------


def test_evidence_needing_attention_uploaded_at_the_same_moment_keeps_its_order(client, login_as, make, db):
    user = login_as("action_office")
    rec = make.recommendation()
    at = utcnow().replace(microsecond=0) - timedelta(days=2)
    titles = {
        status: [f"{name} {status}" for name in ("Alpha", "Bravo", "Charlie")] for status in ("insufficient", "pending")
    }

    def item(title, status):
        return lambda id: _stored(
            db,
            EvidenceItem(
                id=id,
                recommendation_id=rec.id,
                title=title,
                review_status=status,
                created_by_id=user.id,
                created_at=at,
            ),
        )

    for status, names in titles.items():
        _out_of_order(*(item(title, status) for title in names))
    db.session.commit()
    page = client.get("/evidence/attention").get_data(as_text=True)
    assert _in_order(page, *titles["insufficient"])
    assert _in_order(page, *titles["pending"])


def test_target_changes_asked_at_the_same_moment_keep_their_order_on_my_work(client, login_as, make, db):
    manager = login_as("manager")
    staff = make.user("action_office", office=manager.office)
    line = make.line(make.recommendation(office=manager.office, status="resolved_open"))
    at = utcnow().replace(microsecond=0)
    names = ("Alpha metric", "Bravo metric", "Charlie metric")

    def change(name):
        return lambda id: _stored(
            db,
            TargetChange(
                id=id,
                metric_id=_metric(db, line, name=name).id,
                old_target_value=Decimal(90),
                new_target_value=Decimal(80),
                status="pending",
                justification="The source changed.",
                requested_by_id=staff.id,
                requested_at=at,
            ),
        )

    _out_of_order(*(change(name) for name in names))
    db.session.commit()
    page = client.get("/my-work").get_data(as_text=True)
    assert _in_order(page, *names)


# --- the weekly digest ------------------------------------------------------------------------------


def test_the_weekly_digest_lists_recommendations_nearing_the_limit_in_a_fixed_order(make, db):
    office = make.office("DHS-PLCY")
    make.user("manager", office=office, email="manager@example.gov")
    report = make.report(number="OIG-24-7")
    issued = today() - timedelta(days=215)  # past the six months
    _out_of_order(
        *(
            lambda id, n=n: make.recommendation(report=report, office=office, number=n, issued_on=issued, id=id)
            for n in ("3", "1", "2")
        )
    )
    db.session.commit()

    (digest,) = [r for r in plan(today()) if r.due.kind == "digest.weekly"]
    (section,) = [s for s in digest.due.sections if s.title.startswith("Recommendations nearing")]
    labels = ["OIG-24-7 Rec. 3", "OIG-24-7 Rec. 1", "OIG-24-7 Rec. 2"]
    assert [item.title for item in section.items] == labels
    assert _in_order(digest.body_text, *labels)


# --- people and offices of the same name, things made at the same moment ----------------------------

#: Three people named alike, in the order their accounts were made (not their emails' order).
EMAILS = ("pat.lee@example.gov", "lee.pat@example.gov", "patricia.lee@example.gov")


def _namesakes(make, db, offices=(None, None, None)) -> list:
    people = _out_of_order(
        *(
            lambda id, email=email, office=office: make.user(
                "action_office", office, id=id, name="Pat Lee", email=email
            )
            for email, office in zip(EMAILS, offices)
        )
    )
    db.session.commit()
    return people


def test_the_accounts_page_lists_people_of_the_same_name_in_a_fixed_order(client, login_as, make, db):
    login_as("admin")
    _namesakes(make, db)
    page = client.get("/accounts").get_data(as_text=True)
    assert _in_order(page, *(f">{email}<" for email in EMAILS))


def test_the_follow_up_official_choices_list_people_of_the_same_name_in_a_fixed_order(client, login_as, make, db):
    login_as("admin")
    _namesakes(make, db)
    page = client.get("/reminders/settings").get_data(as_text=True)
    assert _in_order(page, *(f"Pat Lee ({email})" for email in EMAILS))


def test_the_owner_choices_list_people_of_the_same_name_in_a_fixed_order(client, login_as, make, db):
    login_as("action_office")
    line = make.line(make.recommendation())
    codes = ("MM-OFFICE", "ZZ-OFFICE", "AA-OFFICE")
    _namesakes(make, db, offices=[make.office(code) for code in codes])
    page = client.get(f"/lines/{line.id}/milestones/new").get_data(as_text=True)
    assert _in_order(page, *(f"Pat Lee ({code})" for code in codes))


def test_the_owners_an_improvement_action_may_have_are_in_a_fixed_order(client, login_as, make, db):
    user = login_as("action_office")
    metric = _metric(db, make.line(make.recommendation(status="resolved_open")))
    flag = _stored(
        db,
        Flag(
            metric_id=metric.id,
            component="ICE",
            period="2025-Q4",
            period_end=date(2025, 12, 31),
            kind="off_target",
            value=Decimal(50),
            target_value=Decimal(90),
        ),
    )
    people = _namesakes(make, db, offices=[user.office] * 3)
    page = client.get(f"/flags/{flag.id}/action").get_data(as_text=True)
    assert _in_order(page, *(f'value="{p.id}">Pat Lee<' for p in people))


def test_office_choices_list_offices_of_the_same_name_by_their_code(client, login_as, make, db):
    login_as("admin")
    offices = _out_of_order(
        *(
            lambda id, code=code: make.office(code, id=id, name="Office of Audits")
            for code in ("AA-AUD", "MM-AUD", "ZZ-AUD")
        )
    )
    report = make.report()
    db.session.commit()
    account_form = client.get("/accounts/new").get_data(as_text=True)
    assert _in_order(account_form, *(f"Office of Audits ({o.code})" for o in offices))
    recommendation_form = client.get(f"/reports/{report.id}/recommendations/new").get_data(as_text=True)
    assert _in_order(recommendation_form, *(f'value="{o.id}"' for o in offices))
    dashboard = client.get("/").get_data(as_text=True)
    assert _in_order(dashboard, *(f'value="{o.code}"' for o in offices))


def test_linked_identities_made_at_the_same_moment_keep_their_order(client, login_as, make, db):
    login_as("admin")
    person = make.user("action_office")
    at = utcnow().replace(microsecond=0)
    issuers = ("https://mm.example.gov", "https://zz.example.gov", "https://aa.example.gov")
    _out_of_order(
        *(
            lambda id, issuer=issuer: _stored(
                db,
                ExternalIdentity(
                    id=id, user_id=person.id, issuer=issuer, subject="s-1", email=person.email, created_at=at
                ),
            )
            for issuer in issuers
        )
    )
    db.session.commit()
    page = client.get(f"/accounts/{person.id}").get_data(as_text=True)
    assert _in_order(page, *issuers)


def test_api_tokens_made_at_the_same_moment_are_listed_newest_first(client, login_as, make, db):
    user = login_as("action_office")
    at = utcnow().replace(microsecond=0)
    names = ("Alpha token", "Bravo token", "Charlie token")
    _out_of_order(
        *(
            lambda id, name=name: _stored(
                db,
                ApiToken(id=id, user_id=user.id, name=name, token_hash=f"{id:064x}", hint="trk_", created_at=at),
            )
            for name in names
        )
    )
    db.session.commit()
    page = client.get("/calendar/").get_data(as_text=True)
    assert _in_order(page, *reversed(names))
