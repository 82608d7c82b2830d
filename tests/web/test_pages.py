from app.milestones.models import Milestone
from tests.factories import days


def test_dashboard_lists_reports_and_recommendations_with_status(client, login_as, demo):
    login_as("oig_reviewer")
    page = client.get("/").get_data(as_text=True)
    assert "OIG-15-85" in page
    assert "DHS Missing Data Needed to Strengthen Its Immigration Enforcement Efforts" in page
    assert "Unresolved, open" in page


def test_recommendation_page_shows_text_status_lines_and_milestones(client, login_as, demo, db):
    login_as("oig_reviewer")
    page = client.get("/recommendations/1").get_data(as_text=True)
    assert "require the Office of Policy to develop and implement a plan" in page
    for line in ("Governance and standardization", "Data collection", "Data reporting"):
        assert line in page
    milestones = db.session.scalars(db.select(Milestone)).all()
    assert len(milestones) >= 12
    for m in milestones:
        assert m.title in page
    assert "Overdue" in page
    assert "Concur" in page


def test_demo_has_done_due_soon_and_overdue_milestones(demo, db):
    milestones = db.session.scalars(db.select(Milestone)).all()
    assert any(m.status == "completed" for m in milestones)
    assert sum(m.is_overdue() for m in milestones) == 1
    assert any(not m.is_closed and days(0) <= m.current_due_on <= days(14) for m in milestones)


def test_other_office_cannot_open_a_recommendation(client, login_as, make, demo, db):
    other = make.office("ICE-TEST")
    login_as("action_office", office=other)
    assert client.get("/recommendations/1").status_code == 403
    assert "OIG-15-85" not in client.get("/").get_data(as_text=True)


def test_manager_of_the_office_reads_the_plan(client, login_as, demo):
    from app.offices.models import Office
    from app.extensions import db

    office = db.session.scalar(db.select(Office).where(Office.code == "DHS-PLCY"))
    login_as("manager", office=office)
    assert client.get("/recommendations/1").status_code == 200


def test_error_pages_use_the_site_look(client, login_as):
    login_as("admin")
    response = client.get("/recommendations/99999")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page and "usa-header" in page


def test_unexpected_error_shows_an_incident_number(app, client, login_as, caplog):
    from app.permissions import roles

    @app.route("/boom-for-test")
    @roles("admin")
    def boom():
        raise RuntimeError("boom")

    login_as("admin")
    response = client.get("/boom-for-test")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    incident = page.split('class="app-incident">')[1].split("<")[0]
    assert incident in caplog.text


def test_recommendation_page_query_count_does_not_grow_with_milestones(client, login_as, make, db, app):
    from tests.querycount import count_queries

    user = login_as("oig_reviewer")
    rec = make.recommendation()
    lines = [make.line(rec) for _ in range(3)]
    for i in range(10):
        make.milestone(lines[i % 3], owner=user)
    db.session.commit()
    with count_queries(app) as small:
        assert client.get(f"/recommendations/{rec.id}").status_code == 200
    for i in range(190):
        make.milestone(lines[i % 3], owner=user)
    db.session.commit()
    with count_queries(app) as large:
        assert client.get(f"/recommendations/{rec.id}").status_code == 200
    assert large.count == small.count
    assert small.count <= 12
