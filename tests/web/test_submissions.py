"""Submissions to OIG and OIG's decisions, through the server."""

import re
from datetime import datetime, time, timezone

import pytest
import sqlalchemy as sa

from app.audit import AuditEvent
from app.recommendations.clocks import clocks_for
from app.recommendations.models import StatusChange
from app.submissions import services
from app.submissions import snapshot as snapshots
from app.submissions.models import Submission
from app.submissions.services import dates_from
from tests.factories import days


@pytest.fixture
def plan(make, db):
    """A recommendation with one line of effort and two milestones, and its office's staff."""
    office = make.office("DHS-PLCY")
    rec = make.recommendation(
        office=office, responsible_official="Assistant Secretary for Policy", target_completion_on=days(300)
    )
    staff = make.user("action_office", office=office, name="Dana Whitfield")
    line = make.line(rec, title="Data collection", objective="Collect complete data")
    make.milestone(line, title="Define required fields", owner=staff, due=days(20))
    make.milestone(line, title="Monthly submissions", owner=staff, due=days(90))
    reviewer = make.user("oig_reviewer", name="Marcus Ortega")
    db.session.commit()
    return rec, staff, reviewer


@pytest.fixture
def switch(client, login_as):
    """Sign out whoever is signed in, then sign in ``user``."""

    def switch(role=None, *, user=None, **kw):
        client.delete_cookie("session")
        return login_as(role, user=user, **kw) if role else login_as(user=user)

    return switch


def _submit(client, rec, kind="plan", narrative="Our plan, with milestones."):
    """Write the narrative, then confirm on the page that shows what will be sent (each readiness
    item of a closure request acknowledged)."""
    url = f"/recommendations/{rec.id}/submissions/new/{kind}"
    review = client.post_form(url, {"narrative": narrative})
    if review.status_code != 200:
        return review
    assert "Check what will be sent to OIG" in review.get_data(as_text=True)
    acks = {
        name: "Sent anyway: the rest is tracked in the plan."
        for name in re.findall(r'name="(ack-[^"]+)"', review.get_data(as_text=True))
    }
    return client.post_form(url, {"narrative": narrative, "confirm": "1", **acks})


def _decide(client, submission_id, decision, analysis="OIG analysis.", **extra):
    return client.post_form(f"/submissions/{submission_id}", {"decision": decision, "analysis": analysis, **extra})


def _latest(db) -> Submission:
    db.session.expire_all()
    return db.session.scalars(sa.select(Submission).order_by(Submission.id.desc()).limit(1)).one()


def test_a_submitted_snapshot_stays_identical_after_the_plan_is_edited(client, switch, db, plan):
    rec, staff, _ = plan
    switch(user=staff)
    assert _submit(client, rec).status_code == 302
    sent = _latest(db)
    frozen, digest = sent.snapshot, sent.snapshot_sha256
    page_before = client.get(f"/submissions/{sent.id}").get_data(as_text=True)
    assert "Define required fields" in page_before and days(20).strftime("%b %-d, %Y") in page_before

    milestone = rec.lines_of_effort[0].milestones[0]
    milestone.title = "Define required fields, renamed later"
    milestone.current_due_on = days(60)
    rec.responsible_official = "Someone else"
    db.session.commit()

    again = _latest(db)
    assert again.snapshot == frozen and again.snapshot_sha256 == digest
    page_after = client.get(f"/submissions/{sent.id}").get_data(as_text=True)
    assert "renamed later" not in page_after and "Someone else" not in page_after
    assert "Define required fields" in page_after and "Assistant Secretary for Policy" in page_after
    with pytest.raises(ValueError):
        again.snapshot = {"tampered": True}


def test_snapshot_holds_plan_officials_dates_and_narrative(client, switch, db, plan):
    rec, staff, _ = plan
    switch(user=staff)
    _submit(client, rec, narrative="Cover note for OIG")
    snap = _latest(db).snapshot
    assert snap["narrative"] == "Cover note for OIG" and snap["kind"] == "plan"
    sections = {s["key"]: s["data"] for s in snap["sections"]}
    assert sections["recommendation"]["responsible_official"] == "Assistant Secretary for Policy"
    assert sections["recommendation"]["target_completion_on"] == days(300).isoformat()
    milestone = sections["plan"][0]["milestones"][0]
    assert milestone["title"] == "Define required fields" and milestone["owner"] == "Dana Whitfield"
    assert milestone["baseline_due_on"] == milestone["current_due_on"] == days(20).isoformat()
    assert milestone["status"] == "not_started"


def test_a_section_is_added_with_one_line(monkeypatch, make, db):
    rec = make.recommendation()
    monkeypatch.setattr(
        snapshots,
        "SECTIONS",
        snapshots.SECTIONS
        + [snapshots.Section("extra", "Extra", lambda r, kind: [{"file": "charter.pdf"}], kinds=("closure_request",))],
    )
    closure = snapshots.build_snapshot(rec, "closure_request")
    assert [s["key"] for s in closure["sections"]] == ["recommendation", "plan", "evidence", "metrics", "extra"]
    assert closure["sections"][-1]["data"] == [{"file": "charter.pdf"}]
    assert [s["key"] for s in snapshots.build_snapshot(rec, "plan")["sections"]] == ["recommendation", "plan"]


def test_the_whole_decision_cycle(client, switch, db, plan):
    rec, staff, reviewer = plan
    switch(user=staff)
    _submit(client, rec)
    first = _latest(db)
    assert first.number == 1 and first.is_pending

    switch(user=reviewer)
    assert _decide(client, first.id, "rejected", "Milestones lack dates for data quality.").status_code == 302
    db.session.expire_all()
    assert rec.status == "unresolved_open" and rec.management_decision_on is None
    assert _latest(db).analysis == "Milestones lack dates for data quality."

    switch(user=staff)
    _submit(client, rec, narrative="Revised: accuracy review added.")
    second = _latest(db)
    assert second.number == 2
    switch(user=reviewer)
    _decide(client, second.id, "accepted", "The plan answers the recommendation.")
    db.session.expire_all()
    assert rec.status == "resolved_open" and rec.management_decision_on == days(0)

    switch(user=staff)
    _submit(client, rec, kind="closure_request", narrative="All done; evidence attached.")
    db.session.expire_all()
    assert rec.status == "closure_pending"
    closure = _latest(db)
    switch(user=reviewer)
    _decide(client, closure.id, "rejected", "Results not yet shown.")
    db.session.expire_all()
    assert rec.status == "resolved_open"

    switch(user=staff)
    _submit(client, rec, kind="closure_request", narrative="Now with results.")
    switch(user=reviewer)
    _decide(client, _latest(db).id, "accepted", "Verified.", close_anyway="y")
    db.session.expire_all()
    assert rec.status == "resolved_closed" and rec.final_action_on == days(0)

    moves = db.session.execute(
        sa.select(StatusChange.from_status, StatusChange.to_status, StatusChange.actor_id).order_by(StatusChange.id)
    ).all()
    assert moves == [
        ("unresolved_open", "resolved_open", reviewer.id),
        ("resolved_open", "closure_pending", staff.id),
        ("closure_pending", "resolved_open", reviewer.id),
        ("resolved_open", "closure_pending", staff.id),
        ("closure_pending", "resolved_closed", reviewer.id),
    ]
    history = client.get(f"/recommendations/{rec.id}/history").get_data(as_text=True)
    for text in (
        "Dana Whitfield sent submission 4, a closure request, to OIG, acknowledging",
        "Marcus Ortega rejected submission",
        "Milestones lack dates for data quality.",
        "Marcus Ortega changed the status from Closure pending to Resolved, closed",
    ):
        assert text in history


@pytest.mark.parametrize("role", ["action_office", "admin", "manager"])
def test_only_oig_decides(client, switch, make, db, plan, role):
    rec, staff, _ = plan
    switch(user=staff)
    _submit(client, rec)
    sent = _latest(db)
    switch(role, office=None if role == "admin" else rec.action_office)
    assert _decide(client, sent.id, "accepted").status_code == 403
    db.session.expire_all()
    assert _latest(db).is_pending and rec.status == "unresolved_open"
    event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).one()
    assert event.action == "access.denied"


def test_nobody_decides_their_own_submission(app, make, db, plan):
    from werkzeug.exceptions import Forbidden

    from app.submissions.services import decide

    rec, _, reviewer = plan
    own = Submission(
        recommendation_id=rec.id,
        number=1,
        kind="status_update",
        narrative="x",
        snapshot={},
        snapshot_sha256="0" * 64,
        submitted_by_id=reviewer.id,
        submitted_on=days(0),
    )
    db.session.add(own)
    db.session.flush()
    with app.test_request_context():
        with pytest.raises(Forbidden):
            decide(own, "accepted", "Fine by me.", reviewer)


def test_oig_and_other_offices_cannot_submit(client, switch, make, db, plan):
    rec, _, reviewer = plan
    switch(user=reviewer)
    assert _submit(client, rec).status_code == 403
    switch("action_office", office=make.office("ICE-TEST"))
    assert _submit(client, rec).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 0


def test_conflicting_submissions_and_decisions_are_refused_with_409(client, switch, db, plan):
    rec, staff, reviewer = plan
    switch(user=staff)
    assert _submit(client, rec, kind="closure_request").status_code == 409  # not resolved yet
    _submit(client, rec)
    assert _submit(client, rec).status_code == 409  # one plan awaiting a decision at a time
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1
    sent = _latest(db)
    switch(user=reviewer)
    _decide(client, sent.id, "accepted")
    assert _decide(client, sent.id, "rejected").status_code == 409
    db.session.expire_all()
    assert _latest(db).decision == "accepted" and rec.status == "resolved_open"
    conflicts = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "access.conflict")).all()
    assert len(conflicts) == 3 and all(e.recommendation_id == rec.id for e in conflicts)


def test_a_closure_url_typed_while_closure_is_pending_shows_the_state_not_the_form(client, switch, db, plan):
    rec, staff, reviewer = _resolved(client, switch, db, plan)
    url = f"/recommendations/{rec.id}/submissions/new/closure_request"
    assert _submit(client, rec, kind="closure_request").status_code == 302
    sent = _latest(db)
    page = client.get(url)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<form" not in body.split("<main", 1)[1].split("</main>", 1)[0]
    assert f"{sent.title} is with OIG" in body and f'href="/submissions/{sent.id}"' in body
    assert "Dana Whitfield" in body and "An OIG reviewer" in body and "accepting closes the recommendation" in body
    assert "Closure pending" in body
    # A kind the status does not allow: the reason, no form either.
    plan_page = client.get(f"/recommendations/{rec.id}/submissions/new/plan").get_data(as_text=True)
    assert "A corrective action plan cannot be sent now" in plan_page and "<textarea" not in plan_page
    assert "cannot be sent while the recommendation is “Closure pending”" in plan_page
    # Sending anyway is still refused with 409 and recorded; nothing is sent.
    assert client.post_form(url, {"narrative": "Again."}).status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 2
    refused = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "access.conflict")).all()
    assert [e.after_data["pending"] for e in refused] == [sent.number]


@pytest.mark.parametrize(
    "data",
    [
        {"decision": "accepted", "analysis": ""},
        {"decision": "maybe", "analysis": "Hmm"},
        {"analysis": "No decision"},
    ],
)
def test_bad_decisions_change_nothing(client, switch, db, plan, data):
    rec, staff, reviewer = plan
    switch(user=staff)
    _submit(client, rec)
    switch(user=reviewer)
    response = client.post_form(f"/submissions/{_latest(db).id}", data)
    assert response.status_code == 400 and "usa-error-message" in response.get_data(as_text=True)
    assert _latest(db).is_pending


def test_an_empty_narrative_is_refused_next_to_the_field(client, switch, db, plan):
    rec, staff, _ = plan
    switch(user=staff)
    response = _submit(client, rec, narrative="   ")
    assert response.status_code == 400 and "Write a cover narrative" in response.get_data(as_text=True)
    assert client.get(f"/recommendations/{rec.id}/submissions/new/nonsense").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 0


def test_awaiting_page_lists_pending_submissions_for_oig(client, switch, db, plan):
    rec, staff, reviewer = plan
    switch(user=staff)
    _submit(client, rec)
    assert client.get("/submissions/awaiting").status_code == 403
    switch(user=reviewer)
    page = client.get("/").get_data(as_text=True)
    assert 'href="/queue"' in page and 'href="/submissions/awaiting"' not in page  # the queue is the home
    queue = client.get("/queue").get_data(as_text=True)
    assert 'href="/submissions/awaiting">Submissions awaiting decision</a>' in queue
    assert "Submission 1: Corrective action plan" in queue
    page = client.get("/submissions/awaiting").get_data(as_text=True)
    assert "Submission 1: Corrective action plan" in page and 'href="/queue">Awaiting your review</a>' in page
    _decide(client, _latest(db).id, "accepted")
    assert "No submission is awaiting a decision." in client.get("/submissions/awaiting").get_data(as_text=True)


def test_awaiting_page_is_paged_oldest_first(client, switch, make, db, monkeypatch):
    monkeypatch.setattr("app.submissions.routes.AWAITING_PER_PAGE", 2)
    sender = make.user("action_office")
    for n in range(5):
        rec = make.recommendation(number=f"P{n}")
        db.session.add(
            Submission(
                recommendation_id=rec.id,
                number=1,
                kind="plan",
                narrative="n",
                snapshot={},
                snapshot_sha256="0" * 64,
                submitted_by_id=sender.id,
                submitted_on=days(n - 9),
                submitted_at=datetime.combine(days(n - 9), time(12), timezone.utc),
            )
        )
    db.session.commit()
    switch("oig_reviewer")
    first = client.get("/submissions/awaiting").get_data(as_text=True)
    assert "5 submissions awaiting a decision, 2 a page." in first and "Page 1 of 3" in first
    assert first.index("Rec. P0") < first.index("Rec. P1") and "Rec. P2" not in first
    last = client.get("/submissions/awaiting?page=3").get_data(as_text=True)
    assert "Rec. P4" in last and "Rec. P3" not in last and "Page 3 of 3" in last


def test_the_recommendation_keeps_its_first_plan_and_latest_submission_dates(db, plan):
    """The clocks' inputs are kept on the recommendation as submissions are sent, and equal
    what the submissions themselves say."""
    rec, staff, reviewer = plan
    first = services.submit(rec, "plan", "First plan.", staff, on=days(-20))
    services.decide(first, "rejected", "Add dates.", reviewer, on=days(-18))
    second = services.submit(rec, "plan", "Revised plan.", staff, on=days(-5))
    services.decide(second, "accepted", "Good.", reviewer, on=days(-4))
    services.submit(rec, "status_update", "90 days on.", staff, on=days(-2))
    db.session.commit()
    db.session.expire_all()
    assert (rec.plan_submitted_on, rec.last_submitted_on) == (days(-20), days(-2))
    assert dates_from(services.for_recommendation(rec.id)) == {
        "plan_submitted_on": days(-20),
        "last_update_on": days(-2),
    }
    assert clocks_for(rec, days(0))["plan_response"].state == "met"


def test_dashboard_lists_the_clocks_without_a_query_per_row(app, client, switch, make, db):
    from tests.querycount import count_queries

    switch("oig_reviewer")
    user = make.user("action_office")

    def add(n):
        for _ in range(n):
            rec = make.recommendation(issued_on=days(-200))
            db.session.add(
                Submission(
                    recommendation_id=rec.id,
                    number=1,
                    kind="plan",
                    narrative="n",
                    snapshot={},
                    snapshot_sha256="0" * 64,
                    submitted_by_id=user.id,
                    submitted_on=days(-100),
                )
            )
        db.session.commit()

    add(2)
    with count_queries(app) as small:
        page = client.get("/").get_data(as_text=True)
    assert "Past due" in page  # the resolution limit (6 months) has passed
    add(20)
    with count_queries(app) as large:
        client.get("/")
    assert large.count == small.count


def test_other_offices_cannot_read_a_submission(client, switch, make, db, plan):
    rec, staff, _ = plan
    switch(user=staff)
    _submit(client, rec)
    sent = _latest(db)
    switch("action_office", office=make.office("ICE-TEST"))
    assert client.get(f"/submissions/{sent.id}").status_code == 403
    switch("manager", office=rec.action_office)
    assert client.get(f"/submissions/{sent.id}").status_code == 200


def test_a_revised_plan_accepted_after_resolution_keeps_the_decision_date(client, switch, db, plan):
    rec, staff, reviewer = plan
    rec.status, rec.management_decision_on = "resolved_open", days(-40)
    db.session.commit()
    switch(user=staff)
    _submit(client, rec, narrative="Revised plan: one more milestone.")
    switch(user=reviewer)
    assert _decide(client, _latest(db).id, "accepted", "Revision accepted.").status_code == 302
    db.session.expire_all()
    assert rec.status == "resolved_open" and rec.management_decision_on == days(-40)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StatusChange)) == 0


def _resolved(client, switch, db, plan):
    rec, staff, reviewer = plan
    switch(user=staff)
    _submit(client, rec)
    switch(user=reviewer)
    _decide(client, _latest(db).id, "accepted", "Plan accepted.")
    switch(user=staff)
    return rec, staff, reviewer


def test_sending_shows_what_will_be_sent_and_sends_nothing_until_confirmed(client, switch, db, plan):
    rec, staff, _ = plan
    switch(user=staff)
    url = f"/recommendations/{rec.id}/submissions/new/plan"
    review = client.post_form(url, {"narrative": "Three lines of effort."})
    page = review.get_data(as_text=True)
    assert review.status_code == 200 and "Check what will be sent to OIG" in page
    assert "Three lines of effort." in page and "1 lines of effort, 2 milestones" in page
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0
    back = client.post_form(url, {"narrative": "Three lines of effort.", "edit": "1"})
    assert "Three lines of effort." in back.get_data(as_text=True)  # the entry is kept
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 0
    sent = client.post_form(url, {"narrative": "Three lines of effort.", "confirm": "1"})
    assert sent.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Submission.id))) == 1


def test_a_closure_request_needs_each_open_item_acknowledged_and_keeps_the_words(client, switch, db, plan):
    rec, staff, reviewer = _resolved(client, switch, db, plan)
    url = f"/recommendations/{rec.id}/submissions/new/closure_request"
    review = client.post_form(url, {"narrative": "Done."}).get_data(as_text=True)
    keys = re.findall(r'name="(ack-[^"]+)"', review)
    # two open milestones and no evidence
    assert len(keys) == 3 and "Milestone “Define required fields” is not started" in review
    assert "No evidence is offered for closure." in review
    partial = client.post_form(url, {"narrative": "Done.", "confirm": "1", keys[0]: "Finished next week."})
    body = partial.get_data(as_text=True)
    # One line in the summary, however many are missing, leading to the first one left empty.
    assert partial.status_code == 400 and "There is a problem. Nothing was saved." in body
    assert "2 of 3 open items are not acknowledged" in body
    assert body.count('href="#ack-') == 1 and f'href="#{keys[1]}"' in body and "Finished next week." in body
    assert body.count("Say why you send the closure request with this item open.") == 2  # beside each field
    assert db.session.scalar(sa.select(sa.func.count(Submission.id)).where(Submission.kind == "closure_request")) == 0
    words = {k: f"Reason {i}" for i, k in enumerate(keys)}
    assert client.post_form(url, {"narrative": "Done.", "confirm": "1", **words}).status_code == 302
    closure = _latest(db)
    recorded = next(s for s in closure.snapshot["sections"] if s["key"] == "readiness")["data"]
    assert [r["acknowledgement"] for r in recorded] == ["Reason 0", "Reason 1", "Reason 2"]
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "submission.create").order_by(AuditEvent.id.desc())
    ).first()
    assert len(event.after_data["acknowledged"]) == 3
    switch(user=reviewer)
    page = client.get(f"/submissions/{closure.id}").get_data(as_text=True)
    assert (
        "Readiness for closure: 3 items not done" in page
        and "Not ready: 3 items" in page
        and "Sender: “Reason 1”" in page
    )
    # The readiness list shows once (it was in a summary, the acknowledgements and beside the decision).
    assert page.count("Milestone “Define required fields” is not started") == 1
    assert page.count("Sender: “Reason") == 3
    refused = _decide(client, closure.id, "accepted", "Fine.")
    assert refused.status_code == 400 and "tick this box to close anyway" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert rec.status == "closure_pending"
    assert _decide(client, closure.id, "accepted", "Fine.", close_anyway="y").status_code == 302
    db.session.expire_all()
    assert rec.status == "resolved_closed"


def test_the_service_refuses_a_closure_request_with_unacknowledged_items(db, plan):
    rec, staff, reviewer = plan
    services.submit(rec, "plan", "Plan.", staff)
    services.decide(_latest(db), "accepted", "Ok.", reviewer)
    with pytest.raises(services.NotAcknowledged) as refused:
        services.submit(rec, "closure_request", "Done.", staff, acknowledgements={})
    assert len(refused.value.items) == 3
    assert rec.status == "resolved_open"


def test_oig_closing_from_the_status_page_is_warned_of_open_items(client, switch, db, plan):
    rec, staff, reviewer = _resolved(client, switch, db, plan)
    acks = {}
    url = f"/recommendations/{rec.id}/submissions/new/closure_request"
    for name in re.findall(r'name="(ack-[^"]+)"', client.post_form(url, {"narrative": "Done."}).get_data(as_text=True)):
        acks[name] = "Tracked."
    client.post_form(url, {"narrative": "Done.", "confirm": "1", **acks})
    switch(user=reviewer)
    form = client.get(f"/recommendations/{rec.id}/status").get_data(as_text=True)
    assert "Not ready: 3 items" in form
    refused = client.post_form(f"/recommendations/{rec.id}/status", {"to_status": "resolved_closed", "reason": "Ok"})
    assert refused.status_code == 400
    db.session.expire_all()
    assert rec.status == "closure_pending"
    done = client.post_form(
        f"/recommendations/{rec.id}/status", {"to_status": "resolved_closed", "reason": "Ok", "close_anyway": "y"}
    )
    assert done.status_code == 302


# --- the management decision on the money (IG Act section 5) ----------------------------------------------


@pytest.fixture
def costly(db, plan):
    rec, staff, reviewer = plan
    rec.questioned_costs, rec.unsupported_costs, rec.funds_put_to_better_use = 1000, 400, 5000
    db.session.commit()
    return rec, staff, reviewer


@pytest.mark.parametrize(
    "money, message",
    [
        ({}, "Enter the amount the management decision sustains, from $0.00 to $1,000.00"),
        ({"disallowed_costs": "1000.01", "agreed_funds": "10"}, "from $0.00 to $1,000.00 (the questioned costs)"),
        ({"disallowed_costs": "-1", "agreed_funds": "10"}, "from $0.00 to $1,000.00"),
        (
            {"disallowed_costs": "10", "agreed_funds": "5000.01"},
            "from $0.00 to $5,000.00 (the funds put to better use)",
        ),
        ({"disallowed_costs": "ten", "agreed_funds": "10"}, "Not a valid decimal value"),
    ],
)
def test_accepting_a_plan_asks_for_the_money_decision_and_refuses_a_bad_amount(
    client, switch, db, costly, money, message
):
    rec, staff, reviewer = costly
    switch(user=staff)
    _submit(client, rec)
    switch(user=reviewer)
    page = client.get(f"/submissions/{_latest(db).id}").get_data(as_text=True)
    assert "Questioned costs disallowed (USD)" in page and "Funds agreed to be put to better use (USD)" in page
    response = client.post_form(
        f"/submissions/{_latest(db).id}", {"decision": "accepted", "analysis": "Adequate.", **money}
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert _latest(db).is_pending and rec.status == "unresolved_open" and rec.disallowed_costs is None


def test_accepting_a_plan_records_the_money_decision_and_reopening_clears_it(client, switch, db, costly):
    rec, staff, reviewer = costly
    switch(user=staff)
    _submit(client, rec)
    switch(user=reviewer)
    response = client.post_form(
        f"/submissions/{_latest(db).id}",
        {"decision": "accepted", "analysis": "Adequate.", "disallowed_costs": "250.50", "agreed_funds": "5000"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert rec.status == "resolved_open" and rec.disallowed_costs == 250.50 and rec.agreed_funds == 5000
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "recommendation.money_decision"))
    assert {k: v for k, v in event.after_data.items() if k != "version"} == {
        "disallowed_costs": "250.50",
        "agreed_funds": "5000.00",
    }

    from app.recommendations.services import change_status

    change_status(rec, "unresolved_open", "The plan no longer answers the recommendation.", reviewer)
    db.session.commit()
    db.session.expire_all()
    assert rec.management_decision_on is None and rec.disallowed_costs is None and rec.agreed_funds is None


def test_a_rejection_or_a_recommendation_without_money_asks_nothing(client, switch, db, plan, costly):
    rec, staff, reviewer = costly
    switch(user=staff)
    _submit(client, rec)
    switch(user=reviewer)
    assert _decide(client, _latest(db).id, "rejected", "Not enough.").status_code == 302
    db.session.expire_all()
    assert rec.disallowed_costs is None
    rec.questioned_costs = rec.unsupported_costs = rec.funds_put_to_better_use = None
    db.session.commit()
    switch(user=staff)
    _submit(client, rec)
    switch(user=reviewer)
    assert "Questioned costs disallowed" not in client.get(f"/submissions/{_latest(db).id}").get_data(as_text=True)
    assert _decide(client, _latest(db).id, "accepted", "Adequate.").status_code == 302
