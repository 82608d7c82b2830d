"""What a person, an API client or a file sends never reaches a database constraint unchecked: a
value the database would refuse (a string too long for its column on PostgreSQL, a number past its
precision) is refused next to its field, and a unique key taken by another request between the
form's check and the save (two people saving at the same moment) is the form's own error, not a
server error. Nothing is saved and no audit event is written for a refused change. A number
counted from the rows before it (a submission's, an evidence version's) is taken under its
parent's lock, so a second request at the same moment counts on from the first.

The races are played at the database, the app's own code untouched: the other request's row is
written just before this request's insert (after every check has read), by another connection
that commits (on SQLite, by this request's own connection when it already holds the single write
lock, since no other writer can commit then), so the insert meets the unique key.
"""

from contextlib import contextmanager
from io import BytesIO
from datetime import date

import pytest
import sqlalchemy as sa

from app.api.models import ApiToken
from app.audit import AuditEvent
from app.auth.models import User
from app.evidence.models import EvidenceItem, EvidenceVersion
from app.metrics.models import Flag, Metric, Reading
from app.recommendations.models import Recommendation
from app.reminders.models import ReminderSettings
from app.reports.models import Report
from app.submissions.models import Submission
from app.timeutil import utcnow
from tests import evidence_files as files
from tests.web.test_reports import REPORT


def _count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _events(db, action: str) -> int:
    return _count(db, AuditEvent, AuditEvent.action == action)


class Race:
    #: False where the race cannot happen: on SQLite, once this request holds the one write lock
    #: (from its first write, or the BEGIN IMMEDIATE of ``dbtypes.unique_or_taken``), no other
    #: request can commit before this one does.
    played = False


@contextmanager
def another_request_writes(db, table, values: dict, *, at: int = 1, before_statement: str = "INSERT INTO"):
    """While the block runs, another request inserts ``values`` into ``table`` and commits just
    before this one's ``at``-th insert into that table (``before_statement="UPDATE"``: update of
    it), after this request's checks have read; on SQLite, just before this request takes the write
    lock for that statement, if it does not hold it already."""
    engine = db.engine
    other = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    writes = []
    race = Race()

    def play():
        with other.begin() as connection:
            connection.execute(table.insert().values(values))
        race.played = True

    def before(conn, cursor, statement, parameters, context, executemany):
        if race.played:
            return
        if statement == "BEGIN IMMEDIATE" and len(writes) == at - 1:
            play()
        elif statement.startswith(f"{before_statement} {table.name} "):
            writes.append(statement)
            locked = engine.dialect.name == "sqlite" and conn.connection.dbapi_connection.in_transaction
            if len(writes) == at and not locked:
                play()

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield race
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        other.dispose()
    assert len(writes) >= at or race.played, f"the request wrote {table.name} {len(writes)} times"
    assert race.played or engine.dialect.name == "sqlite", "on PostgreSQL the race is always there to play"


# --- unique keys taken between the check and the save --------------------------------------


def _report_row(number: str) -> dict:
    return {"number": number, "title": "Theirs", "issued_on": date(2024, 3, 1), "oig_office": "DHS OIG"}


def test_a_report_number_taken_at_the_same_moment_is_refused_next_to_the_field(client, db, login_as):
    login_as("oig_reviewer")
    with another_request_writes(db, Report.__table__, _report_row("OIG-24-01")):
        response = client.post_form("/reports/new", REPORT)
    assert response.status_code == 400
    assert "A report with this number already exists." in response.get_data(as_text=True)
    assert _count(db, Report) == 1 and _events(db, "report.create") == 0


def test_a_report_corrected_to_a_number_taken_at_the_same_moment_is_refused(client, db, make, login_as):
    mine = make.report(number="OIG-24-02")
    login_as("oig_reviewer")
    data = {**REPORT, "title": mine.title, "version": "1", "reason": "Typo in the number."}
    with another_request_writes(db, Report.__table__, _report_row("OIG-24-01"), before_statement="UPDATE"):
        response = client.post_form(f"/reports/{mine.id}/edit", data)
    assert response.status_code == 400
    assert "A report with this number already exists." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Report, mine.id).number == "OIG-24-02" and _events(db, "report.correct") == 0


def test_a_recommendation_number_taken_at_the_same_moment_is_refused(client, db, make, login_as):
    office = make.office("DHS-PLCY")
    other = make.recommendation(office=office, number="2")
    login_as("oig_reviewer")
    theirs = {
        "report_id": other.report_id,
        "number": "1",
        "text": "Theirs.",
        "issued_on": other.issued_on,
        "action_office_id": office.id,
        "status": "unresolved_open",
    }
    url = f"/reports/{other.report_id}/recommendations/new"
    with another_request_writes(db, Recommendation.__table__, theirs):
        response = client.post_form(url, {"number": "1", "text": "Do it.", "action_office_id": office.id})
    assert response.status_code == 400
    assert f"Report {other.report.number} already has a recommendation 1." in response.get_data(as_text=True)
    assert _count(db, Recommendation) == 2 and _events(db, "recommendation.create") == 0

    data = {
        "number": "3",
        "text": other.text,
        "action_office_id": office.id,
        "issued_on": other.issued_on.isoformat(),
        "version": "1",
        "reason": "Renumbered.",
    }
    with another_request_writes(db, Recommendation.__table__, {**theirs, "number": "3"}, before_statement="UPDATE"):
        response = client.post_form(f"/reports/recommendations/{other.id}/edit", data)
    assert response.status_code == 400
    assert f"Report {other.report.number} already has a recommendation 3." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Recommendation, other.id).number == "2" and _events(db, "recommendation.correct") == 0


def test_an_email_address_taken_at_the_same_moment_is_refused_next_to_the_field(client, db, make, login_as):
    office = make.office("ICE")
    login_as("admin")
    theirs = {
        "email": "new.person@example.gov",
        "name": "Theirs",
        "role": "manager",
        "office_id": office.id,
        "password_hash": "!",
    }
    with another_request_writes(db, User.__table__, theirs):
        response = client.post_form(
            "/accounts/new",
            {"email": "New.Person@example.gov", "name": "New Person", "role": "manager", "office_id": str(office.id)},
            token_from="/accounts/new",
        )
    assert response.status_code == 400
    assert "An account with this email address already exists." in response.get_data(as_text=True)
    assert _count(db, User, User.email == "new.person@example.gov") == 1 and _events(db, "user.create") == 0


# --- metric readings: the form, the API and the CSV import ---------------------------------


@pytest.fixture
def metric(db, make):
    line = make.line(make.recommendation())
    metric = Metric(
        line_of_effort=line,
        name="Share of releases with a recorded basis",
        unit="%",
        target_value=90,
        frequency="quarterly",
        components="ICE,CBP",
        collect_from=date(2026, 1, 1),
    )
    db.session.add(metric)
    db.session.commit()
    return metric


def _their_reading(metric, component="ICE") -> dict:
    return {
        "metric_id": metric.id,
        "period": "2026-Q1",
        "period_end": date(2026, 3, 31),
        "component": component,
        "value": 95,
        "note": "",
        "version": 1,
        "entered_at": utcnow(),
    }


TAKEN = "A reading for 2026-Q1 ICE was stored by someone else at the same moment"


def test_a_reading_stored_at_the_same_moment_is_refused_on_the_form(client, db, login_as, metric):
    login_as("action_office")
    data = {"period": "2026-Q1", "component": "ICE", "value": "80", "note": ""}
    with another_request_writes(db, Reading.__table__, _their_reading(metric)) as race:
        response = client.post_form(f"/metrics/{metric.id}/readings/new", data)
    if not race.played:  # SQLite: the request held the write lock before it looked: no race
        assert response.status_code == 302 and _count(db, Reading, Reading.value == 80) == 1
        return
    assert response.status_code == 400
    assert TAKEN in response.get_data(as_text=True)
    assert _count(db, Reading, Reading.value == 80) == 0 and _events(db, "metric.reading.create") == 0
    assert _count(db, Reading) == 1


def test_a_reading_stored_at_the_same_moment_is_a_409_on_the_api(client, db, make, metric):
    _, secret = ApiToken.issue(make.user("action_office"), "write", "test")
    db.session.commit()
    with another_request_writes(db, Reading.__table__, _their_reading(metric)) as race:
        response = client.post(
            f"/api/v1/metrics/{metric.id}/readings",
            json={"period": "2026-Q1", "component": "ICE", "value": "80"},
            headers={"Authorization": f"Bearer {secret}"},
        )
    if not race.played:  # SQLite: the request held the write lock before it looked: no race
        assert response.status_code == 201 and _count(db, Reading, Reading.value == 80) == 1
        return
    assert response.status_code == 409 and response.json["message"].startswith(TAKEN)
    assert _count(db, Reading, Reading.value == 80) == 0 and _events(db, "metric.reading.create") == 0
    assert _count(db, Reading) == 1


def test_a_reading_stored_at_the_same_moment_is_a_problem_of_its_line_in_a_csv_file(client, db, login_as, metric):

    login_as("action_office")
    name = metric.name
    rows = f"period,component,metric,value,note\n2026-Q1,CBP,{name},91,\n2026-Q1,ICE,{name},80,\n"
    # The file's first reading (CBP, line 2) is inserted first; the other request stores ICE just
    # before the second.
    with another_request_writes(db, Reading.__table__, _their_reading(metric), at=2) as race:
        response = client.post_form(
            f"/recommendations/{metric.line_of_effort.recommendation_id}/metrics/import",
            {"file": (BytesIO(rows.encode()), "readings.csv")},
            content_type="multipart/form-data",
        )
    if not race.played:  # SQLite: the file's first reading took the write lock: no race after it
        assert response.status_code == 302 and _count(db, Reading, Reading.value.in_((80, 91))) == 2
        return
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    assert '<th scope="row" data-label="Line">3</th>' in page and TAKEN[1:] in page
    assert _count(db, Reading, Reading.value.in_((80, 91))) == 0 and _events(db, "metric.reading.create") == 0
    assert _count(db, Reading) == 1


def test_a_flag_raised_at_the_same_moment_by_another_request_is_not_raised_twice(client, db, make, metric):
    """Two readings of one metric saved at once (or a reading and the scheduler's daily check)
    both find a flag to raise: the later one keeps the flag the first raised."""
    _, secret = ApiToken.issue(make.user("action_office"), "write", "test")
    db.session.commit()
    theirs = {
        "metric_id": metric.id,
        "component": "ICE",
        "period": "2026-Q1",
        "period_end": date(2026, 3, 31),
        "kind": "off_target",
        "status": "open",
        "value": 70,
        "target_value": 90,
        "raised_at": utcnow(),
    }
    with another_request_writes(db, Flag.__table__, theirs) as race:
        response = client.post(
            f"/api/v1/metrics/{metric.id}/readings",
            json={"period": "2026-Q1", "component": "ICE", "value": "70"},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert response.status_code == 201, response.json
    assert _count(db, Reading) == 1
    ice_q1 = (Flag.component == "ICE", Flag.period == "2026-Q1", Flag.kind == "off_target")
    assert _count(db, Flag, *ice_q1) == 1 and _count(db, Flag) > 1
    # This request raised (and audited) every other flag; the other request raised that one (on
    # SQLite, where the reading's insert took the write lock, no other request could: all of them).
    assert _events(db, "metric.flag.raise") == _count(db, Flag) - race.played


# --- values past their column ---------------------------------------------------------------


def test_reminder_days_too_many_for_their_column_are_refused_next_to_the_field(client, db, login_as):
    """Forty reminder days written out do not fit the 100 characters the settings keep (PostgreSQL
    refused the save with a server error; SQLite kept them all)."""
    login_as("admin")
    data = {
        "offsets": ", ".join(str(day) for day in range(1, 41)),
        "escalate_manager_after_days": "7",
        "escalate_official_after_days": "30",
        "follow_up_official_id": "",
        "digest_weekday": "0",
    }
    response = client.post_form("/reminders/settings", data, token_from="/reminders/settings")
    assert response.status_code == 400
    assert "Enter at most" in response.get_data(as_text=True)
    assert db.session.get(ReminderSettings, 1) is None or db.session.get(ReminderSettings, 1).offsets != data["offsets"]
    assert _events(db, "reminder.settings") == 0


@pytest.mark.parametrize("value", ["99999999999999.99999", "-99999999999999.99995"])
def test_a_reading_that_rounds_past_its_column_is_refused(client, db, make, metric, value):
    """Numeric(18, 4) keeps four decimals: a value just under 10^14 rounds up to 10^14, one digit
    too many (PostgreSQL refused the save with a server error)."""
    _, secret = ApiToken.issue(make.user("action_office"), "write", "test")
    db.session.commit()
    response = client.post(
        f"/api/v1/metrics/{metric.id}/readings",
        json={"period": "2026-Q1", "component": "ICE", "value": value},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 400 and "is too large" in response.json["message"]
    assert _count(db, Reading) == 0 and _events(db, "metric.reading.create") == 0


# --- ids sent in a form ---------------------------------------------------------------------


def test_a_change_id_past_any_id_is_not_found(client, login_as):
    """SQLite takes no integer past 64 bits (OverflowError, a server error): an id past any id is
    simply not found."""
    login_as("manager")
    for change_id in ("99999999999999999999", "-99999999999999999999"):
        response = client.post_form("/queue", {"change_id": change_id, "reason": "x", "approve": "Approve"})
        assert response.status_code == 404, change_id


def test_a_recommendations_file_another_import_overtakes_imports_nothing(client, db, login_as):
    """Two people importing files that share a report at the same moment: the later import meets
    the report the first added since its check, imports nothing and says why."""
    login_as("oig_reviewer")
    rows = (
        "Report Number,Report Title,Issue Date,Agency,Recommendation Number,Recommendation,Status\n"
        "OIG-24-05,Title,2024-01-05,DHS,1,Do it.,Open\n"
    )
    with another_request_writes(db, Report.__table__, _report_row("OIG-24-05")) as race:
        response = client.post_form(
            "/imports/",
            {"file": (BytesIO(rows.encode()), "recs.csv"), "submit": "1"},
            token_from="/imports/",
            content_type="multipart/form-data",
        )
    assert race.played and _count(db, Report) == 1
    if db.engine.dialect.name == "sqlite":
        # The import takes SQLite's write lock before it looks for the file's reports, so it finds
        # the report added since its check and adds the recommendation to it.
        assert response.status_code == 302
        assert db.session.scalar(sa.select(Recommendation)).report.title == "Theirs"
        return
    assert response.status_code == 409
    assert "Another import added some of this file" in response.get_data(as_text=True)
    assert _count(db, Recommendation) == 0
    assert _events(db, "recommendation.import") == 0 and _events(db, "import.recommendations") == 0


def test_preferences_saved_twice_at_once_a_double_click_keep_the_later_save(client, db, login_as):
    """A person's first save of their email preferences creates their row: a second save at the
    same moment (a double click) finds it made and saves over it, instead of a server error."""
    from app.reminders.models import ReminderPreference

    user = login_as("manager")
    theirs = {"user_id": user.id, "due_soon": True, "due_today": True, "overdue_weekly": True, "weekly_digest": True}
    data = {"due_today": "y", "weekly_digest": "y", "digest_weekday": "3"}
    data["csrf_token"] = client.csrf_token("/reminders/preferences")  # the page, before the race
    with another_request_writes(db, ReminderPreference.__table__, theirs) as race:
        response = client.post_form("/reminders/preferences", data)
    assert race.played and response.status_code == 302
    [prefs] = db.session.scalars(sa.select(ReminderPreference).where(ReminderPreference.user_id == user.id))
    assert (prefs.due_soon, prefs.due_today, prefs.overdue_weekly, prefs.digest_weekday) == (False, True, False, 3)
    assert _events(db, "reminder.preferences") == 1


# --- numbered rows: a submission's number, an evidence version's number --------------------


@contextmanager
def another_request_commits_first(db, work):
    """While the block runs, another request runs ``work(connection)`` and commits just before this
    request's first write or lock (an INSERT, UPDATE or DELETE, SQLite's BEGIN IMMEDIATE, a SELECT …
    FOR UPDATE): after the reads a page makes to show and check, before it saves."""
    engine = db.engine
    other = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    race = Race()

    def before(conn, cursor, statement, parameters, context, executemany):
        if race.played:
            return
        words = statement.lstrip().upper()
        if words.startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")) or " FOR UPDATE" in words:
            with other.begin() as connection:
                work(connection)
            race.played = True

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield race
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        other.dispose()


def _plan_to_send(make, db):
    office = make.office("DHS-PLCY")
    rec = make.recommendation(office=office, target_completion_on=date(2030, 1, 1))
    staff = make.user("action_office", office=office)
    make.milestone(make.line(rec), owner=staff)
    db.session.commit()
    return rec, staff


def test_a_plan_sent_twice_at_once_a_double_click_sends_one_and_says_so(client, db, make, login_as):
    """Two sends of the same plan at the same moment (a double click on "Send to OIG"): the first is
    submission 1; the second finds it waiting for OIG's decision and says so, instead of meeting
    the submission number the first took (a server error)."""
    rec, staff = _plan_to_send(make, db)
    login_as(user=staff)
    sub = Submission.__table__

    def theirs(connection):
        connection.execute(
            sub.insert().values(
                recommendation_id=rec.id,
                number=1,
                kind="plan",
                narrative="Theirs.",
                snapshot={},
                snapshot_sha256="0" * 64,
                submitted_by_id=staff.id,
                submitted_on=date.today(),
            )
        )

    url = f"/recommendations/{rec.id}/submissions/new/plan"
    data = {"narrative": "Our plan.", "confirm": "1"}
    data["csrf_token"] = client.csrf_token(url)  # the page, before the race
    with another_request_commits_first(db, theirs) as race:
        response = client.post_form(url, data)
    assert race.played
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Submission 1: Corrective action plan is with OIG" in page
    assert "Submission 1 (corrective action plan) is still awaiting OIG&#39;s decision." in page
    [theirs_id] = db.session.scalars(sa.select(Submission.id))
    assert f'href="/submissions/{theirs_id}"' in page
    assert _events(db, "access.conflict") == 1
    assert _count(db, Submission) == 1 and _events(db, "submission.create") == 0


def test_two_new_versions_of_one_evidence_item_at_once_are_both_kept(app, client, db, make, login_as):
    """Two people uploading a new version of the same evidence at the same moment: each upload is
    kept, as versions 2 and 3, instead of both taking number 2 (a server error, the file lost)."""
    staff = login_as("action_office")
    milestone = make.milestone()
    db.session.commit()
    upload = {
        "files-0-file": (BytesIO(files.PDF), "charter.pdf"),
        "files-0-title": "Charter",
        "files-0-description": "",
    }
    response = client.post_form(
        f"/milestones/{milestone.id}/evidence", upload, token_from="/", content_type="multipart/form-data"
    )
    assert response.status_code == 302
    item = db.session.scalar(sa.select(EvidenceItem))

    def theirs(connection):
        connection.execute(EvidenceItem.__table__.update().where(EvidenceItem.id == item.id).values(current_version=2))
        connection.execute(
            EvidenceVersion.__table__.insert().values(
                item_id=item.id,
                number=2,
                storage_key="theirs-" + "0" * 40,
                original_filename="theirs.pdf",
                content_type="application/pdf",
                size_bytes=3,
                sha256="0" * 64,
                note="Theirs",
                uploaded_by_id=staff.id,
            )
        )

    data = {"action": "version", "file": (BytesIO(files.PDF_V2), "charter-v2.pdf"), "note": "Signature added"}
    data["csrf_token"] = client.csrf_token(f"/evidence/{item.id}")
    with another_request_commits_first(db, theirs) as race:
        response = client.post_form(f"/evidence/{item.id}", data, content_type="multipart/form-data")
    assert race.played
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.expire_all()
    numbers = db.session.execute(
        sa.select(EvidenceVersion.number, EvidenceVersion.original_filename)
        .where(EvidenceVersion.item_id == item.id)
        .order_by(EvidenceVersion.number)
    ).all()
    assert numbers == [(1, "charter.pdf"), (2, "theirs.pdf"), (3, "charter-v2.pdf")]
    assert db.session.get(EvidenceItem, item.id).current_version == 3
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "evidence.version"))
    assert event.after_data["version"] == 3
