"""Metrics drive the loop: definitions, readings, flags, improvement actions, CSV import."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.metrics.models import Flag, ImprovementAction, Metric, Reading, ReadingRevision
from app.metrics.periods import period_bounds, period_of
from app.milestones.models import Milestone
from app.timeutil import today, utcnow
from tests.querycount import count_queries


# --- helpers -----------------------------------------------------------------------------


def _plan(make, db, login_as, role="action_office"):
    user = login_as(role)
    rec = make.recommendation(status="resolved_open")
    line = make.line(rec, title="Data collection")
    db.session.commit()
    return user, rec, line


def _define(client, rec, line, **overrides):
    data = {
        "line_of_effort_id": line.id,
        "name": "Share of releases with a recorded basis",
        "kind": "outcome",
        "unit": "% of releases",
        "direction": "higher",
        "baseline_value": "0",
        "baseline_period": "FY2014",
        "target_value": "90",
        "target_on": "",
        "frequency": "quarterly",
        "components": "ICE, CBP",
        "data_source": "EARM",
        "collect_from": "2025-01-01",
    }
    data.update(overrides)
    return client.post_form(f"/recommendations/{rec.id}/metrics/new", data)


def _metric(db, name="Share of releases with a recorded basis"):
    db.session.expire_all()
    return db.session.scalar(sa.select(Metric).where(Metric.name == name))


def _flags(db, metric, status=None, kind="off_target"):
    """The metric's flags of ``kind`` (readings are entered from 2025 on, so the periods left
    without a reading have "missing" flags too)."""
    query = sa.select(Flag).where(Flag.metric_id == metric.id, Flag.kind == kind)
    if status:
        query = query.where(Flag.status == status)
    return db.session.scalars(query.order_by(Flag.period_end, Flag.component)).all()


def _actions(db, prefix):
    return db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like(prefix + "%")).order_by(AuditEvent.id)
    ).all()


# --- definitions ----------------------------------------------------------------------------


def test_action_office_defines_a_metric_and_it_is_audited(client, login_as, make, db):
    _, rec, line = _plan(make, db, login_as)
    response = _define(client, rec, line)
    assert response.status_code == 302
    metric = _metric(db)
    assert metric.component_list == ["ICE", "CBP"] and metric.target_value == 90
    assert "metric.create" in _actions(db, "metric.create")
    page = client.get(f"/metrics/{metric.id}").get_data(as_text=True)
    assert "Share of releases with a recorded basis" in page and "No readings yet." in page


def test_a_data_quality_metric_is_a_percentage_with_a_fixed_direction(client, login_as, make, db):
    _, rec, line = _plan(make, db, login_as)
    _define(
        client,
        rec,
        line,
        name="Duplicates",
        kind="duplicates",
        unit="",
        direction="higher",
        target_value="1",
        frequency="monthly",
        components="ICE, CBP, USCIS",
    )
    metric = _metric(db, "Duplicates")
    assert metric.unit == "%" and metric.direction == "lower"


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("target_value", "ninety", "is not a number"),
        ("components", "ICE, FBI", "unknown component"),
        ("name", "", "This field is required"),
        ("unit", "", "Name the unit"),
        ("frequency", "weekly", "Not a valid choice"),
    ],
)
def test_an_invalid_definition_is_refused_next_to_its_field(client, login_as, make, db, field, value, message):
    _, rec, line = _plan(make, db, login_as)
    response = _define(client, rec, line, **{field: value})
    assert response.status_code == 400
    assert message.lower() in response.get_data(as_text=True).lower()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Metric)) == 0


def test_editing_a_definition_records_before_and_after(client, login_as, make, db):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)
    metric = _metric(db)
    response = client.post_form(
        f"/metrics/{metric.id}/edit",
        {
            "line_of_effort_id": line.id,
            "name": metric.name,
            "kind": "outcome",
            "unit": "% of releases",
            "direction": "higher",
            "baseline_value": "0",
            "baseline_period": "FY2014",
            "target_value": "95",
            "frequency": "quarterly",
            "components": "ICE, CBP, USCIS",
            "collect_from": today().isoformat(),
            "version": metric.version,
            "justification": "The baseline year showed 95 is within reach.",
        },
    )
    assert response.status_code == 302
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "metric.update"))
    changes = {name: (before, after) for name, before, after in event.changes()}
    assert changes["components"] == ("ICE,CBP", "ICE,CBP,USCIS")
    # The plan is accepted: the office's new target waits for a manager (tests/test_records_versions.py).
    target = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "metric.target_request"))
    assert Decimal(target.after_data["requested_target_value"]) == 95


@pytest.mark.parametrize("role", ["oig_reviewer", "manager"])
def test_oig_and_managers_read_but_do_not_define_or_enter(client, login_as, make, db, role):
    rec = make.recommendation(status="resolved_open")
    line = make.line(rec)
    metric = Metric(line_of_effort=line, name="M", unit="u", target_value=1, collect_from=today(), components="ICE")
    db.session.add(metric)
    db.session.commit()
    login_as(role)
    for url in (
        f"/recommendations/{rec.id}/loop",
        f"/recommendations/{rec.id}/metrics",
        f"/recommendations/{rec.id}/flags",
        f"/metrics/{metric.id}",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get(f"/recommendations/{rec.id}/metrics/new").status_code == 403
    assert client.get(f"/metrics/{metric.id}/readings/new").status_code == 403
    token = client.csrf_token(f"/metrics/{metric.id}")
    response = client.post(
        f"/metrics/{metric.id}/readings/new",
        data={"csrf_token": token, "period": "2026-Q1", "component": "ICE", "value": "3"},
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


def test_another_office_cannot_see_the_metrics(client, login_as, make, db):
    rec = make.recommendation()
    make.line(rec)
    db.session.commit()
    login_as("action_office", office=make.office("ICE-OTHER"))
    assert client.get(f"/recommendations/{rec.id}/loop").status_code == 403
    assert client.get(f"/recommendations/{rec.id}/metrics/new").status_code == 403


# --- readings and flags -----------------------------------------------------------------------


def _enter(client, metric, period, component, value, **extra):
    data = {"period": period, "component": component, "value": value, "note": extra.pop("note", "")}
    data.update(extra)
    return client.post_form(f"/metrics/{metric.id}/readings/new", data)


def test_a_reading_off_target_raises_a_flag_and_a_correction_keeps_history(client, login_as, make, db):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)
    metric = _metric(db)
    assert _enter(client, metric, "2025-Q1", "ICE", "95").status_code == 302
    assert _flags(db, metric) == []
    assert _enter(client, metric, "2025-Q2", "ICE", "70").status_code == 302
    [flag] = _flags(db, metric, "open")
    assert (flag.component, flag.period, flag.kind, flag.gap) == ("ICE", "2025-Q2", "off_target", Decimal(-20))
    listing = client.get(f"/recommendations/{rec.id}/flags").get_data(as_text=True)
    assert "2025-Q2" in listing and "-20" in listing and "Off target" in listing

    assert _enter(client, metric, "2025-Q2", "ICE", "92", note="late records", version=1).status_code == 302
    db.session.expire_all()
    reading = db.session.scalar(sa.select(Reading).where(Reading.period == "2025-Q2"))
    assert reading.value == 92
    [old] = db.session.scalars(sa.select(ReadingRevision)).all()
    assert old.reading_id == reading.id and old.value == 70
    assert _flags(db, metric)[0].status == "cleared"
    assert set(_actions(db, "metric.")) >= {
        "metric.reading.create",
        "metric.reading.correct",
        "metric.flag.raise",
        "metric.flag.clear",
    }
    page = client.get(f"/metrics/{metric.id}").get_data(as_text=True)
    assert "late records" in page and "replaced" in page


@pytest.mark.parametrize(
    "data, message",
    [
        ({"period": "2025-13", "component": "ICE", "value": "3"}, "is not a quarterly period"),
        ({"period": "2025-Q1", "component": "USCIS", "value": "3"}, "Not a valid choice"),
        ({"period": "2025-Q1", "component": "ICE", "value": "lots"}, "is not a number"),
        ({"period": "2025-Q1", "component": "ICE", "value": "NaN"}, "is not a number"),
    ],
)
def test_an_invalid_reading_changes_nothing(client, login_as, make, db, data, message):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)
    metric = _metric(db)
    response = client.post_form(f"/metrics/{metric.id}/readings/new", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


def test_a_data_quality_reading_is_entered_as_two_counts(client, login_as, make, db):
    _, rec, line = _plan(make, db, login_as)
    _define(
        client,
        rec,
        line,
        name="Required fields received",
        kind="completeness",
        target_value="95",
        frequency="monthly",
        components="ICE",
    )
    metric = _metric(db, "Required fields received")
    assert (
        client.post_form(
            f"/metrics/{metric.id}/readings/new",
            {"period": "2025-01", "component": "ICE", "numerator": "5", "denominator": "4"},
        ).status_code
        == 400
    )
    assert (
        client.post_form(
            f"/metrics/{metric.id}/readings/new",
            {"period": "2025-01", "component": "ICE", "numerator": "940", "denominator": "1000"},
        ).status_code
        == 302
    )
    reading = db.session.scalar(sa.select(Reading))
    assert (reading.value, reading.numerator, reading.denominator) == (Decimal(94), 940, 1000)
    assert _flags(db, metric, "open")[0].kind == "off_target"


def test_a_monthly_metric_without_last_months_reading_shows_a_missing_flag(client, login_as, make, db, app):
    _, rec, line = _plan(make, db, login_as)
    this_month = today().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    _define(
        client,
        rec,
        line,
        name="Monthly submissions",
        frequency="monthly",
        components="ICE",
        collect_from=last_month.isoformat(),
    )
    metric = _metric(db, "Monthly submissions")
    [flag] = _flags(db, metric, "open", kind="missing")
    assert (flag.kind, flag.period) == ("missing", last_month.strftime("%Y-%m"))
    listing = client.get(f"/recommendations/{rec.id}/flags").get_data(as_text=True)
    assert "Missing" in listing and last_month.strftime("%Y-%m") in listing

    # The scheduled check raises nothing twice.
    runner = app.test_cli_runner()
    assert runner.invoke(args=["metrics", "check"]).output.startswith("0 flags raised")
    # The reading arriving clears the flag it answers.
    assert _enter(client, metric, last_month.strftime("%Y-%m"), "ICE", "95").status_code == 302
    assert _flags(db, metric, "open", kind="missing") == []
    # Once this month has ended, its reading is missing in turn.
    from app.metrics.services import check_all

    assert check_all(this_month + timedelta(days=40)) == 1
    assert [f.period for f in _flags(db, metric, "open", kind="missing")] == [this_month.strftime("%Y-%m")]


# --- improve --------------------------------------------------------------------------------------


def _off_target_flag(client, db, rec, line):
    _define(client, rec, line)
    metric = _metric(db)
    _enter(client, metric, "2025-Q2", "ICE", "70")
    return metric, _flags(db, metric, "open")[0]


def test_adding_a_milestone_answers_the_flag_and_links_back(client, login_as, make, db):
    user, rec, line = _plan(make, db, login_as)
    metric, flag = _off_target_flag(client, db, rec, line)
    due = (today() + timedelta(days=60)).isoformat()
    response = client.post_form(
        f"/flags/{flag.id}/action",
        {
            "decision": "add_milestone",
            "owner_id": user.id,
            "reason": "Records lack the basis field.",
            "milestone_title": "Add a basis field to the release form",
            "milestone_due": due,
            "milestone_id": 0,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    milestone = db.session.scalar(
        sa.select(Milestone).where(Milestone.title == "Add a basis field to the release form")
    )
    assert milestone.line_of_effort_id == line.id and milestone.owner_id == user.id
    action = db.session.scalar(sa.select(ImprovementAction))
    assert action.milestone_id == milestone.id and action.flag_id == flag.id and action.status == "open"
    assert db.session.get(Flag, flag.id).status == "answered"
    # One event for the answer (it names the flag and its new status), not a second "flag answered".
    assert {"milestone.create", "metric.action.create"} <= set(_actions(db, ""))
    assert "metric.flag.answer" not in _actions(db, "")
    answer = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "metric.action.create"))
    assert answer.after_data["flag_id"] == flag.id and answer.after_data["flag_status"] == "answered"
    assert answer.before_data == {"flag_status": "open"}
    loop = client.get(f"/recommendations/{rec.id}/loop").get_data(as_text=True)
    assert "Add a basis field to the release form" in loop and "1 open action" in loop

    # The next reading shows whether it worked.
    _enter(client, metric, "2025-Q3", "ICE", "93")
    listing = client.get(f"/recommendations/{rec.id}/flags?show=all").get_data(as_text=True)
    assert "Next reading 2025-Q3: 93, on target: the action worked" in listing

    # Done once; twice is a conflict.
    assert client.post_form(f"/improvement-actions/{action.id}/done").status_code == 302
    assert client.post_form(f"/improvement-actions/{action.id}/done").status_code == 409
    # A flag already answered cannot be answered again.
    assert client.get(f"/flags/{flag.id}/action").status_code == 409


def test_adjusting_the_target_re_evaluates_the_readings(client, login_as, make, db):
    user, rec, line = _plan(make, db, login_as)
    metric, flag = _off_target_flag(client, db, rec, line)
    response = client.post_form(
        f"/flags/{flag.id}/action",
        {
            "decision": "adjust_target",
            "owner_id": user.id,
            "reason": "The target assumed full coverage.",
            "new_target": "65",
            "milestone_id": 0,
        },
    )
    assert response.status_code == 302
    # The plan is accepted: the office's new target waits for a manager, like a due date.
    db.session.expire_all()
    assert db.session.get(Metric, metric.id).target_value == 90
    action = db.session.scalar(sa.select(ImprovementAction))
    assert (action.old_target_value, action.new_target_value, action.status) == (90, 65, "open")
    from app.metrics.models import TargetChange

    change = db.session.scalar(sa.select(TargetChange))
    assert change.status == "pending" and change.justification == "The target assumed full coverage."
    page = client.get(f"/metrics/{metric.id}").get_data(as_text=True)
    assert "<strong>Request 1, awaiting a decision.</strong>" in page  # named as the table names it
    assert 'data-label="Asked">Request 1: ' in page
    client.post_form("/sign-out")
    login_as("manager", office=rec.action_office)
    refused = client.post_form(
        f"/metrics/{metric.id}",
        {"action": "decide_target", "change_id": change.id, "reason": "  ", "approve": "Approve"},
    )
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "app-error-summary" in body and 'id="decision-reason-error"' in body
    assert f'action="/metrics/{metric.id}"' in body.split('value="decide_target"')[0].rsplit("<form", 1)[1]
    assert db.session.scalar(sa.select(TargetChange.status)) == "pending"
    assert client.post_form(f"/target-changes/{change.id}/decide", {"reason": "x"}).status_code in (404, 405)
    response = client.post_form(
        f"/metrics/{metric.id}",
        {
            "action": "decide_target",
            "change_id": change.id,
            "reason": "Coverage is partial this year.",
            "approve": "Approve",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Metric, metric.id).target_value == 65
    assert db.session.get(ImprovementAction, action.id).status == "done"
    assert flag.id not in [f.id for f in _flags(db, metric, "open")]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"decision": "add_milestone", "reason": "r", "milestone_title": ""}, "Give the new milestone a title"),
        ({"decision": "adjust_target", "reason": "r", "new_target": "x"}, "is not a number"),
        ({"decision": "change_milestone", "reason": "r"}, "Choose the milestone to change"),
        ({"decision": "accept", "reason": ""}, "Give the reason"),
        ({"decision": "accept", "reason": "r", "owner_id": 0}, "Choose an owner"),
        ({"decision": "", "reason": "r"}, "Choose a decision"),
        ({"decision": "delete_everything", "reason": "r"}, "Not a valid choice"),
    ],
)
def test_an_invalid_action_changes_nothing(client, login_as, make, db, data, message):
    user, rec, line = _plan(make, db, login_as)
    _, flag = _off_target_flag(client, db, rec, line)
    data = {"owner_id": user.id, "milestone_id": 0, **data}
    response = client.post_form(f"/flags/{flag.id}/action", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ImprovementAction)) == 0
    assert db.session.get(Flag, flag.id).status == "open"


# --- the loop page's query budget -------------------------------------------------------------------


def _bulk_readings(db, metric, components, count):
    period = date(1990, 1, 1)
    rows = []
    for i in range(count):
        label = f"{period.year}-{period.month:02d}"
        comp = components[i % len(components)]
        rows.append(
            Reading(
                metric_id=metric.id,
                period=label,
                period_end=period_bounds("monthly", label)[1],
                component=comp,
                value=Decimal(i % 100),
                entered_at=utcnow(),
            )
        )
        if i % len(components) == len(components) - 1:
            period = (period + timedelta(days=32)).replace(day=1)
    db.session.add_all(rows)
    db.session.commit()


def test_loop_page_query_count_does_not_grow_with_readings(client, login_as, make, db, app):
    user = login_as("action_office")
    rec = make.recommendation()
    lines = [make.line(rec) for _ in range(3)]
    for line in lines:
        make.milestone(line, owner=user)
    metrics = [
        Metric(
            line_of_effort=line,
            name=f"M{line.id}",
            unit="u",
            target_value=50,
            frequency="monthly",
            components="ICE,CBP",
            collect_from=date(1990, 1, 1),
        )
        for line in lines
    ]
    db.session.add_all(metrics)
    db.session.flush()
    for m in metrics:
        db.session.add(
            Flag(
                metric=m,
                component="ICE",
                period="1990-01",
                period_end=date(1990, 1, 31),
                kind="off_target",
                value=1,
                target_value=50,
            )
        )
    db.session.commit()
    for m in metrics:
        db.session.add(
            ImprovementAction(
                flag=db.session.scalar(sa.select(Flag).where(Flag.metric_id == m.id)),
                decision="fix_data_source",
                owner_id=user.id,
                reason="r",
            )
        )
        db.session.add(
            Flag(
                metric=m,
                component="CBP",
                period="1990-01",
                period_end=date(1990, 1, 31),
                kind="missing",
                target_value=50,
            )
        )
    db.session.commit()
    _bulk_readings(db, metrics[0], ["ICE", "CBP"], 10)
    with count_queries(app) as small:
        assert client.get(f"/recommendations/{rec.id}/loop").status_code == 200
    _bulk_readings(db, metrics[1], ["ICE", "CBP"], 1000)
    with count_queries(app) as large:
        page = client.get(f"/recommendations/{rec.id}/loop")
        assert page.status_code == 200
    assert "1,000 readings" in page.get_data(as_text=True)  # one plural helper, with thousands separators
    assert large.count == small.count, large.statements
    assert small.count <= 12, small.count


# --- CSV import ----------------------------------------------------------------------------------------

GOOD = (
    "period,component,metric,value,note\n"
    "2025-Q1,ICE,Share of releases with a recorded basis,88,\n"
    '2025-Q1,CBP,Share of releases with a recorded basis,"1,000",thousands separator\n'
    "2025-Q2,ICE,Share of releases with a recorded basis,91,\n"
)


@pytest.mark.parametrize(
    "bad_line, problem",
    [
        ("2025-Q2,FBI,Share of releases with a recorded basis,91,", "unknown component 'FBI'"),
        ("2025-Q2,CBP,Share of releases with a recorded basis,ninety-one,", "'ninety-one' is not a number"),
    ],
)
def test_csv_import_is_all_or_nothing_with_a_row_report(client, login_as, make, db, bad_line, problem):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)
    from io import BytesIO

    bad = GOOD + bad_line + "\n"
    response = client.post_form(
        f"/recommendations/{rec.id}/metrics/import",
        {"file": (BytesIO(bad.encode()), "readings.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert '<th scope="row" data-label="Line">5</th>' in page and problem in page.replace("&#39;", "'")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0

    response = client.post_form(
        f"/recommendations/{rec.id}/metrics/import",
        {"file": (BytesIO(GOOD.encode()), "readings.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 3


def test_csv_import_from_the_command_line(app, client, login_as, make, db, tmp_path):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)
    runner = app.test_cli_runner()
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "2025-Q3,ICE,No such metric,5,\n")
    result = runner.invoke(args=["metrics", "import", str(bad)])
    assert result.exit_code != 0
    assert "line 5: unknown metric 'No such metric'" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    result = runner.invoke(args=["metrics", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 3 rows" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 3
    # The same file again: every row unchanged, still a success.
    again = runner.invoke(args=["metrics", "import", str(good)])
    assert again.exit_code == 0 and "3 unchanged" in again.output


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "the file is empty"),
        (b"period,component,value\n", "missing: metric"),
        (b"period,component,metric,value,note\n", "no rows to import"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (
            b"period,component,metric,value,note\n2025-Q1,ICE,Share of releases with a recorded basis,5,\n"
            b"2025-Q1,ICE,Share of releases with a recorded basis,6,\n",
            "the same metric, period and component as line 2",
        ),
    ],
)
def test_csv_check_reports_what_is_wrong(app, db, make, content, problem):
    from app.metrics.csv_import import check_csv

    line = make.line()
    metric = Metric(
        line_of_effort=line,
        name="Share of releases with a recorded basis",
        unit="%",
        target_value=90,
        components="ICE",
        collect_from=today(),
    )
    db.session.add(metric)
    db.session.flush()
    check = check_csv(content, [metric])
    assert not check.ok
    assert any(problem in text for _, text in check.problems), check.problems


# --- the demo --------------------------------------------------------------------------------------------


def test_demo_has_metrics_readings_and_data_quality_per_component(client, login_as, demo, db):
    metrics = db.session.scalars(sa.select(Metric)).all()
    kinds = {m.kind for m in metrics}
    assert kinds == {"outcome", "completeness", "timeliness", "accuracy", "duplicates"}
    releases = next(m for m in metrics if m.name == "ICE prosecutorial-discretion releases recorded")
    assert releases.baseline_value == 12757 and releases.frequency == "annually"
    assert releases.baseline_period == "FY2014 (October 1, 2013 to September 30, 2014). Source: OIG-15-85, p. 4"
    for m in metrics:
        if m.kind != "outcome":
            assert m.component_list == ["ICE", "CBP", "USCIS"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReadingRevision)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Flag).where(Flag.kind == "missing")) == 1
    login_as("oig_reviewer")
    page = client.get("/recommendations/1/metrics").get_data(as_text=True)
    for component in ("ICE", "CBP", "USCIS"):
        assert f"{component}: data quality over time" in page
    csv_text = client.get("/recommendations/1/metrics/data-quality.csv?component=ICE").get_data(as_text=True)
    assert csv_text.splitlines()[0] == (
        "period,Required fields received,Monthly submissions on time,"
        "Sampled records verified without discrepancy,"
        "Records counting a person already counted"
    )


def test_a_reading_is_chosen_from_the_due_periods_and_an_unfinished_or_early_period_is_refused(
    client, login_as, make, db
):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line, collect_from="2025-04-01")
    metric = _metric(db)
    form = client.get(f"/metrics/{metric.id}/readings/new").get_data(as_text=True)
    options = re.findall(r'<option value="(\d{4}-Q\d)"', form)
    assert options[0] == "2025-Q2" and options == sorted(options)  # the oldest missing first
    current = period_of("quarterly", today())
    assert current not in options
    unfinished = _enter(client, metric, current, "ICE", "95")
    assert unfinished.status_code == 400 and "has not ended yet" in unfinished.get_data(as_text=True)
    early = _enter(client, metric, "2025-Q1", "ICE", "95")
    assert early.status_code == 400 and "before the metric&#39;s first period (2025-Q2)" in early.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Reading.id))) == 0
    assert _enter(client, metric, "2025-Q2", "ICE", "95").status_code == 302
    assert _enter(client, metric, "2025-Q2", "CBP", "95").status_code == 302
    options = re.findall(
        r'<option value="(\d{4}-Q\d)"', client.get(f"/metrics/{metric.id}/readings/new").get_data(as_text=True)
    )
    assert options[0] == "2025-Q3" and options[-1] == "2025-Q2"  # read periods last, to correct


def _import(client, rec, text):
    from io import BytesIO

    return client.post_form(
        f"/recommendations/{rec.id}/metrics/import",
        {"file": (BytesIO(text.encode()), "readings.csv")},
        content_type="multipart/form-data",
    )


def test_csv_import_refuses_a_period_not_ended_or_before_the_first_with_the_form_s_words(client, login_as, make, db):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)  # quarterly, readings from 2025-01-01
    current = period_of("quarterly", today())
    metric = "Share of releases with a recorded basis"
    response = _import(client, rec, GOOD + f"2024-Q4,ICE,{metric},80,\n{current},CBP,{metric},80,\n")
    assert response.status_code == 400
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert "Nothing was imported" in page
    assert (
        '<th scope="row" data-label="Line">5</th>' in page
        and "2024-Q4 is before the metric's first period (2025-Q1)" in page
    )
    assert '<th scope="row" data-label="Line">6</th>' in page and f"{current} has not ended yet" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Reading)) == 0


def test_csv_import_changes_a_stored_reading_only_from_its_version(client, login_as, make, db):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)
    assert _import(client, rec, GOOD).status_code == 302
    metric = "Share of releases with a recorded basis"
    blind = _import(client, rec, f"period,component,metric,value,note\n2025-Q1,ICE,{metric},90,recount\n")
    assert blind.status_code == 400
    page = blind.get_data(as_text=True)
    assert (
        '<th scope="row" data-label="Line">2</th>' in page
        and "a reading is already stored for 2025-Q1 ICE (version 1)" in page
    )
    stored = db.session.scalar(sa.select(Reading).where(Reading.period == "2025-Q1", Reading.component == "ICE"))
    assert stored.value == 88 and stored.version == 1

    fixed = f"period,component,metric,value,note,version\n2025-Q1,ICE,{metric},90,recount,1\n"
    assert _import(client, rec, fixed).status_code == 302
    db.session.refresh(stored)
    assert stored.value == 90 and stored.version == 2 and stored.history
    stale = _import(client, rec, fixed.replace(",90,", ",92,"))
    assert stale.status_code == 400 and "changed since version 1 (now version 2)" in stale.get_data(as_text=True)
    bad = _import(client, rec, fixed.replace("recount,1", "recount,one"))
    assert bad.status_code == 400 and "version: &#39;one&#39; is not a whole number" in bad.get_data(as_text=True)
    db.session.refresh(stored)
    assert stored.value == 90 and stored.version == 2
    # The same values again, with no version: nothing changes, and that is no conflict.
    assert _import(client, rec, GOOD).status_code == 400  # 2025-Q1 ICE now holds 90, not 88
    again = f"period,component,metric,value,note\n2025-Q1,ICE,{metric},90,recount\n"
    assert _import(client, rec, again).status_code == 302


def test_the_metric_page_shows_each_reading_s_version_for_a_correcting_import(client, login_as, make, db):
    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)
    assert _import(client, rec, GOOD).status_code == 302
    metric = db.session.scalar(sa.select(Metric))
    page = client.get(f"/metrics/{metric.id}").get_data(as_text=True)
    assert page.count('<span class="app-muted">version 1</span>') == 3


def test_a_downloaded_readings_file_edited_and_imported_again_corrects_the_reading(client, login_as, make, db):
    """Round trip: the readings export carries each reading's version, so the file itself corrects a reading
    through the import; untouched rows change nothing, and a data-quality share keeps its counts."""
    import csv
    import io

    _, rec, line = _plan(make, db, login_as)
    _define(client, rec, line)
    _define(client, rec, line, name="Records complete", kind="completeness", unit="", direction="higher")
    dq = "2025-Q1,ICE,Records complete,940/1000,counted\n"
    assert _import(client, rec, GOOD + dq).status_code == 302
    page = client.get(f"/recommendations/{rec.id}/metrics/import").get_data(as_text=True)
    link = f"/exports/metric-readings.csv?recommendation={rec.id}"
    assert f'href="{link}"' in page  # the import page offers the file to start from
    download = client.get(link)
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    header = rows[0]
    assert header[-1] == "Version" and len(rows) == 5 and {r[-1] for r in rows[1:]} == {"1"}
    at = {name: header.index(name) for name in ("Metric", "Component", "Period", "Value", "Note")}
    for row in rows[1:]:
        if (row[at["Period"]], row[at["Component"]], row[at["Metric"]]) == (
            "2025-Q1",
            "ICE",
            "Share of releases with a recorded basis",
        ):
            row[at["Value"]], row[at["Note"]] = "89", "recount after the audit"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    imported = _import(client, rec, out.getvalue())
    assert imported.status_code == 302, imported.get_data(as_text=True)
    readings = {(r.metric.name, r.period, r.component): r for r in db.session.scalars(sa.select(Reading))}
    corrected = readings[("Share of releases with a recorded basis", "2025-Q1", "ICE")]
    db.session.refresh(corrected)
    assert corrected.value == 89 and corrected.note == "recount after the audit" and corrected.version == 2
    assert [r.version for key, r in sorted(readings.items()) if r is not corrected] == [1, 1, 1]
    counted = readings[("Records complete", "2025-Q1", "ICE")]
    assert (counted.value, counted.numerator, counted.denominator) == (94, 940, 1000)
    # The same file again is now stale for the corrected row: refused with its line, nothing changed.
    stale = _import(client, rec, out.getvalue().replace("recount after the audit", "again"))
    assert stale.status_code == 400 and "changed since version 1 (now version 2)" in stale.get_data(as_text=True)
