"""The search box: by number or words through the full-text index of each database; scoped, filtered, paged."""

import pytest

from tests.factories import PASSWORD
from tests.querycount import count_queries


def test_header_box_is_on_every_page(client, login_as):
    login_as("manager")
    page = client.get("/").get_data(as_text=True)
    assert 'role="search"' in page and 'action="/search/"' in page


def test_finds_a_report_by_number_and_its_recommendation(client, demo, login_as):
    login_as("oig_reviewer")
    page = client.get("/search/?q=OIG-15-85").get_data(as_text=True)
    assert "OIG-15-85 Recommendation 1" in page
    page = client.get("/search/?q=OIG-15-85&kind=reports").get_data(as_text=True)
    assert "DHS Missing Data Needed to Strengthen Its Immigration Enforcement Efforts" in page


def test_finds_milestones_by_words_with_stemming_or_substrings(client, demo):
    client.post_form("/sign-in", {"email": "policy@example.gov", "password": PASSWORD}, token_from="/sign-in")
    page = client.get("/search/?q=accuracy+review&kind=milestones").get_data(as_text=True)
    assert "Run a sample-based accuracy review" in page
    assert "Publish the annual immigration" not in page
    page = client.get("/search/?q=prosecutorial+discretion&kind=recommendations").get_data(as_text=True)
    assert "1 recommendation for" in page


def test_other_offices_records_are_not_found(client, make, login_as):
    make.recommendation(office=make.office("ICE"), text="Detention inspections must be thorough.")
    login_as("action_office")
    page = client.get("/search/?q=detention+inspections").get_data(as_text=True)
    assert "Detention inspections" not in page
    assert "0 recommendations for" in page


def test_status_filter_and_paging(client, make, login_as):
    report = make.report(number="PAGE-1")
    for n in range(25):
        make.recommendation(report, number=str(n + 1), text=f"Improve the data quality, part {n + 1}.")
    make.recommendation(report, number="99", text="Improve the data quality, closed.", status="resolved_closed")
    login_as("oig_reviewer")
    first = client.get("/search/?q=data+quality&status=unresolved_open").get_data(as_text=True)
    assert "25 recommendations for" in first and "Page 1 of 2" in first and "page=2" in first
    second = client.get("/search/?q=data+quality&status=unresolved_open&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert second.count("Improve the data quality") == 5
    assert "closed." not in first + second
    assert client.get("/search/?q=data&page=abc").status_code == 200


def test_query_count_does_not_grow_with_hits(app, client, db, make, login_as):
    report = make.report(number="QC-1")
    line = make.line(make.recommendation(report, text="Budget review"))
    for _ in range(3):
        make.milestone(line, title="Budget milestone")
    login_as("oig_reviewer")
    with count_queries(app) as few:
        client.get("/search/?q=budget&kind=milestones")
    for _ in range(15):
        make.milestone(line, title="Budget milestone")
    make.recommendation(report, text="Budget again")
    db.session.commit()
    with count_queries(app) as many:
        client.get("/search/?q=budget&kind=milestones")
    assert many.count == few.count


def test_empty_and_odd_queries_are_fine(client, login_as):
    login_as("manager")
    assert client.get("/search/").status_code == 200
    for q in ("%", "_", "'; drop table reports; --", "a" * 500, "&|!"):
        assert client.get("/search/", query_string={"q": q}).status_code == 200


def test_the_full_text_index_follows_edits(client, db, make, login_as):
    milestone = make.milestone(title="Draft the governance charter")
    db.session.commit()
    login_as("oig_reviewer")
    assert "Draft the governance charter" in client.get("/search/?q=charter&kind=milestones").get_data(as_text=True)
    milestone.title = "Publish the quarterly dashboard"
    db.session.commit()
    assert "0 milestones for" in client.get("/search/?q=charter&kind=milestones").get_data(as_text=True)
    page = client.get("/search/?q=quarterly+dashboards&kind=milestones").get_data(as_text=True)
    assert "Publish the quarterly dashboard" in page


@pytest.mark.parametrize("every_office", [True, False])
def test_words_are_found_through_the_index(app, db, make, every_office):
    """The query's expression is the index's: PostgreSQL can answer it from the GIN index, and
    SQLite reads the FTS5 table (no LIKE scan), for a user of every office and of one."""
    from app.search.services import KINDS_BY_KEY, _statement, prepare

    office = make.office("PLCY")
    made = make.milestone(make.line(make.recommendation(make.report(), office=office)), title="Collect monthly data")
    db.session.commit()
    shape, values = prepare("monthly data", {}, every_office=every_office, office_id=office.id)
    kind = KINDS_BY_KEY["milestones"]
    with db.engine.connect() as conn:
        # The page's ids (in order, to the cap) and the count. On tables this small PostgreSQL
        # walks the ordered list by primary key, and joins an office's few recommendations
        # first, so there the plan of the count for every office shows the indexes.
        for what in ("ids", "count"):
            statement = _statement(kind, shape, what)
            sql = str(statement.params(values).compile(db.engine, compile_kwargs={"literal_binds": True}))
            if db.engine.dialect.name == "postgresql":
                if what == "count" and every_office:
                    conn.exec_driver_sql("SET enable_seqscan = off")
                    plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql))
                    assert "fts_milestones" in plan and "fts_lines_of_effort" in plan
            else:
                plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                assert "fts_milestones VIRTUAL TABLE INDEX" in plan and "fts_lines_of_effort VIRTUAL TABLE" in plan
                assert "LIKE" not in sql
        assert conn.execute(_statement(kind, shape, "ids"), values).scalars().all() == [made.id]
        assert conn.execute(_statement(kind, shape, "count"), values).scalar() == 1


def test_counts_stop_at_the_cap_and_say_so(client, make, login_as, monkeypatch):
    monkeypatch.setattr("app.search.services.COUNT_CAP", 3)
    monkeypatch.setattr("app.search.services.PER_PAGE", 2)
    report = make.report(number="CAP-1")
    for n in range(5):
        make.recommendation(report, number=str(n + 1), text=f"Strengthen budget controls, part {n + 1}.")
    login_as("oig_reviewer")
    page = client.get("/search/?q=budget+controls").get_data(as_text=True)
    assert "more than 3 recommendations for" in page and "Recommendations (more than 3)" in page
    assert "Add words or a filter to narrow the search." in page and "Page 1 of 2" in page
    last = client.get("/search/?q=budget+controls&page=9").get_data(as_text=True)
    assert "Page 2 of 2" in last and last.count("Strengthen budget controls") == 1


def test_milestones_newest_first_across_pages_with_their_line_matches(client, make, login_as, monkeypatch):
    """Milestones are listed most recently added first; one found through its line of effort's
    title is listed once, even when its own words match too."""
    monkeypatch.setattr("app.search.services.PER_PAGE", 2)
    line = make.line(make.recommendation(make.report(number="NEW-1")), title="Ledger reconciliation")
    made = [make.milestone(line, title=f"Ledger check {n}") for n in range(3)]
    made.append(make.milestone(line, title="Close the books"))  # found through the line's title only
    login_as("oig_reviewer")
    first = client.get("/search/?q=ledger&kind=milestones").get_data(as_text=True)
    second = client.get("/search/?q=ledger&kind=milestones&page=2").get_data(as_text=True)
    assert "4 milestones for" in first and "Page 1 of 2" in first
    order = [m.title for m in reversed(made)]
    assert first.index(order[0]) < first.index(order[1]) and order[2] not in first
    assert second.index(order[2]) < second.index(order[3]) and order[0] not in second


def test_every_kind_lists_only_what_an_office_may_read(client, db, make, login_as):
    """Each kind's matches are read as ids, then its rows by id: an office user sees its own
    reports, recommendations, milestones and evidence, never another office's."""
    from app.evidence.models import EvidenceItem

    mine, theirs = make.office("PLCY"), make.office("ICE")
    for office, word in ((mine, "Ours"), (theirs, "Theirs")):
        rec = make.recommendation(
            make.report(number=f"WIDGET-{word}", title=f"Widget audit {word}"),
            office=office,
            text=f"Widget controls {word}",
        )
        make.milestone(make.line(rec), title=f"Widget inventory {word}")
        db.session.add(EvidenceItem(recommendation=rec, title=f"Widget ledger {word}", description="Proof"))
    db.session.commit()
    login_as("action_office", office=mine)
    for kind, listed in (
        ("recommendations", "Widget controls"),
        ("reports", "Widget audit"),
        ("milestones", "Widget inventory"),
        ("evidence", "Widget ledger"),
    ):
        page = client.get(f"/search/?q=widget&kind={kind}").get_data(as_text=True)
        one = {
            "recommendations": "recommendation",
            "reports": "report",
            "milestones": "milestone",
            "evidence": "evidence item",
        }[kind]
        assert f"1 {one} for" in page and f"{listed} Ours" in page and "Theirs" not in page, kind


@pytest.mark.parametrize("every_office", [True, False])
def test_milestones_newest_first_across_the_recent_walk(app, db, make, monkeypatch, every_office):
    """PostgreSQL walks the newest milestones' stored vectors first (``_newest_milestones``),
    then, only when they held fewer than the cap, the older matches through the GIN indexes:
    whether the cap is reached among the newest or not, the ids are the newest matches of all
    (by their own words or their line's title), in order, and the count is theirs; the stored
    vectors follow a milestone's edits, its move to another line and its line's new title (on
    SQLite the same answers through FTS5)."""
    from app.search import services

    monkeypatch.setattr(services, "RECENT_MILESTONES", 6)
    services._statement.cache_clear()
    try:
        office = make.office("PLCY")
        rec = make.recommendation(make.report(), office=office)
        found_line, other_line = make.line(rec, title="Monthly data feeds"), make.line(rec, title="Budget")
        made = []
        for i in range(20):
            if i % 4 == 0:  # found through its line's title only
                made.append(make.milestone(found_line, title=f"Feed check {i}"))
            else:
                title = f"Collect monthly data {i}" if i % 3 else f"Other {i}"
                made.append(make.milestone(other_line, title=title))
        db.session.commit()
        kind = services.KINDS_BY_KEY["milestones"]

        def expect(matching):
            for cap in range(1, len(matching) + 3):
                monkeypatch.setattr(services, "COUNT_CAP", cap - 1)
                shape, values = services.prepare(
                    "monthly data", {}, every_office=every_office, office_id=None if every_office else office.id
                )
                assert kind.ids(shape, values) == matching[:cap], cap
                assert kind.count(shape, values) == min(cap, len(matching)), cap

        def matches(m):
            return m.line_of_effort_id == found_line.id or m.title.startswith("Collect")

        expect(sorted((m.id for m in made if matches(m)), reverse=True))
        # Edits: the newest milestone's own words, one moved onto the found line, the line renamed.
        made[-1].title = "Collect monthly data again"
        made[-2].line_of_effort_id = found_line.id
        db.session.commit()
        expect(sorted((m.id for m in made if matches(m)), reverse=True))
        found_line.title = "Quarterly review"
        db.session.commit()
        expect(sorted((m.id for m in made if m.title.startswith("Collect")), reverse=True))
    finally:
        services._statement.cache_clear()
