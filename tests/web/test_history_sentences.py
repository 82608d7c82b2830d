"""History in plain language: sentences built from audit events (no app needed)."""

from types import SimpleNamespace

from app.history import Names, change_lines, date_span, sentence


def _event(action, before=None, after=None, actor="Dana Whitfield", object_id=6):
    return SimpleNamespace(
        action=action,
        before_data=before or {},
        after_data=after or {},
        object_id=object_id,
        actor=SimpleNamespace(name=actor) if actor else None,
    )


LABELS = Names(
    labels={
        "in_progress": "In progress",
        "completed": "Completed",
        "resolved_open": "Resolved, open",
        "closure_pending": "Closure pending",
        "closure_request": "Closure request",
    },
    requesters={3: "Dana Whitfield"},
    milestones={6: "Define required fields"},
)


def test_an_approved_due_date_change_names_both_people_and_formats_the_dates():
    event = _event(
        "milestone.due_date_approve",
        {"current_due_on": "2027-01-16", "title": "Define required fields"},
        {
            "current_due_on": "2027-02-06",
            "requested_due_on": "2027-02-06",
            "change_id": 3,
            "title": "Define required fields",
            "version": 4,
        },
        actor="Priya Raman",
    )
    assert sentence(event, LABELS) == (
        "Dana Whitfield moved the due date of “Define required fields” "
        "from Jan 16 to Feb 6, 2027; approved by Priya Raman."
    )


def test_a_milestone_edit_lists_labels_and_values_but_no_bookkeeping():
    event = _event(
        "milestone.update",
        {"title": "Define required fields", "status": "in_progress", "percent_complete": 60, "version": 2},
        {
            "title": "Define required fields",
            "status": "completed",
            "percent_complete": 100,
            "completed_on": "2026-11-20",
            "version": 3,
        },
    )
    text = sentence(event, LABELS)
    assert text == (
        "Dana Whitfield changed the milestone “Define required fields”: status from In progress to "
        "Completed; progress from 60% to 100%; completion date from none to Nov 20, 2026."
    )


def test_status_and_submission_sentences():
    assert sentence(
        _event(
            "recommendation.status",
            {"status": "resolved_open"},
            {"status": "closure_pending", "reason": "All done.", "submission": 3},
        ),
        LABELS,
    ) == ("Dana Whitfield changed the status from Resolved, open to Closure pending with submission 3: “All done.”")
    assert sentence(
        _event(
            "submission.create",
            None,
            {"number": 3, "kind": "closure_request", "snapshot_sha256": "ab" * 32, "acknowledged": [{}, {}]},
        ),
        LABELS,
    ) == ("Dana Whitfield sent submission 3, a closure request, to OIG, acknowledging 2 open items.")


def test_hashes_never_appear():
    text = sentence(
        _event(
            "evidence.upload", None, {"title": "Charter", "filename": "charter.pdf", "sha256": "f" * 64, "version": 1}
        ),
        LABELS,
    )
    assert "f" * 16 not in text and text == "Dana Whitfield uploaded the evidence “Charter” (charter.pdf)."


def test_date_span_keeps_both_years_across_a_new_year():
    assert date_span("2026-12-20", "2027-01-10") == "from Dec 20, 2026 to Jan 10, 2027"


def test_two_refusals_say_what_was_tried_and_why_so_they_do_not_read_alike():
    denied = _event("access.denied", None, {"path": "/milestones/6/edit", "method": "POST", "reason": ""})
    conflict = _event(
        "access.conflict",
        None,
        {
            "path": "/recommendations/1/submissions/new/closure_request",
            "method": "POST",
            "reason": "Submission 2 (closure request) is still awaiting OIG's decision.",
        },
    )
    assert sentence(denied, LABELS) == (
        "Dana Whitfield was refused (POST /milestones/6/edit): not allowed for their role or office."
    )
    assert sentence(conflict, LABELS) == (
        "Dana Whitfield was refused (POST /recommendations/1/submissions/new/closure_request): "
        "“Submission 2 (closure request) is still awaiting OIG's decision.”"
    )


def test_targets_and_readings_carry_their_metric_s_unit():
    names = Names(
        metrics={4: "Duplicates"},
        units={4: "%", 5: "releases"},
        readings={9: "Releases"},
        reading_units={9: "releases"},
    )
    flag = _event(
        "metric.flag.raise",
        None,
        {"metric_id": 4, "component": "ICE", "period": "2026-11", "kind": "off_target", "value": "2.09", "target": "1"},
        actor=None,
    )
    assert sentence(flag, names) == "A flag was raised on “Duplicates” for ICE, 2026-11: 2.09% against a target of 1%."
    target = _event(
        "metric.target_request",
        {"target_value": "90"},
        {"requested_target_value": "95", "justification": "Better data."},
        object_id=4,
    )
    assert sentence(target, names) == (
        "Dana Whitfield asked to change the target of “Duplicates” from 90% to 95%: “Better data.”"
    )
    reading = _event(
        "metric.reading.correct",
        {"value": "12757"},
        {"value": "12800", "component": "ICE", "period": "FY2014", "note": "recount"},
        object_id=9,
    )
    assert sentence(reading, names) == (
        "Dana Whitfield corrected ICE, FY2014 on “Releases” from 12,757\u00a0releases to 12,800\u00a0releases: “recount”."
    )


def test_an_approval_gives_the_manager_s_reason_when_there_is_one():
    event = _event(
        "milestone.due_date_approve",
        {"current_due_on": "2027-01-16", "title": "Define required fields"},
        {"current_due_on": "2027-02-06", "change_id": 3, "title": "Define required fields", "decision_reason": "Fair"},
        actor="Priya Raman",
    )
    assert sentence(event, LABELS) == (
        "Dana Whitfield moved the due date of “Define required fields” "
        "from Jan 16 to Feb 6, 2027; approved by Priya Raman: “Fair”."
    )


# --- the labelled lines of the milestone page ("What changed") --------------------------


def test_a_target_request_and_its_refusal_read_as_lines_without_bookkeeping():
    asked = _event(
        "metric.target_request",
        {"target_value": "60", "target_on": "2027-09-29"},
        {
            "requested_target_value": "45",
            "requested_target_on": "2027-09-29",  # unchanged: not a line
            "justification": "Agreements signed.",
            "change_id": 9,
        },
    )
    assert change_lines(asked, LABELS.labels, requests={9: 2}) == [
        ("", "Request 2"),
        ("Requested target", "45 (instead of 60)"),
        ("Reason", "Agreements signed."),
    ]
    declined = _event(
        "metric.target_decline",
        {"target_value": "60", "version": 3},
        {"target_value": "60", "version": 4, "decision_reason": "Wait a year.", "change_id": 9},
        actor="Priya Raman",
    )
    assert change_lines(declined, LABELS.labels, requests={9: 2}) == [
        ("", "Request 2"),
        ("Manager's reason", "Wait a year."),
    ]


def test_a_created_milestone_lists_what_it_holds_and_a_cleared_field_says_none():
    created = _event(
        "milestone.create",
        None,
        {
            "title": "Define required fields",
            "description": "",
            "current_due_on": "2027-01-16",
            "status": "in_progress",
            "percent_complete": 0,
            "depends_on": [4, 5],
            "version": 1,
        },
    )
    assert change_lines(created, LABELS.labels, titles={4: "Charter the group"}) == [
        ("Title", "Define required fields"),
        ("Due date", "Jan 16, 2027"),
        ("Status", "In progress"),
        ("Progress", "0%"),
        ("Dependencies", "“Charter the group”, another milestone"),
    ]
    reopened = _event(
        "milestone.update",
        {"status": "completed", "completed_on": "2026-11-20", "percent_complete": 100},
        {"status": "in_progress", "completed_on": None, "percent_complete": 80},
    )
    assert change_lines(reopened, LABELS.labels) == [
        ("Status", "Completed → In progress"),
        ("Progress", "100% → 80%"),
        ("Completion date", "Nov 20, 2026 → none"),
    ]
