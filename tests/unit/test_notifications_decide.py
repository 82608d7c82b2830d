"""Who is told of what (app/notifications/decide.py): pure rules, no app, no database."""

from app.notifications import decide as d

OFFICE, OTHER = 1, 2
OIG_OFFICE, OTHER_OIG = 10, 11
alice = d.Person(1, "alice@example.gov", "Alice Moreno", "action_office", OFFICE)
bob = d.Person(2, "bob@example.gov", "Bob Li", "action_office", OFFICE)
mgr = d.Person(3, "mgr@example.gov", "Maria Grant", "manager", OFFICE)
oig = d.Person(4, "oig@example.gov", "Olivia Reviewer", "oig_reviewer", OIG_OFFICE)
oig2 = d.Person(5, "oig2@example.gov", "Omar Reviewer", "oig_reviewer", OTHER_OIG)
stranger = d.Person(6, "eve@example.gov", "Eve Other", "action_office", OTHER)
admin = d.Person(7, "admin@example.gov", "Ada Admin", "admin", None)


def deliver(kind, candidates, actor=None, prefs=None):
    return d.deliveries(
        kind, candidates, actor_id=actor.id if actor else None, recommendation_office_id=OFFICE, prefs=prefs or {}
    )


def test_the_actor_is_never_told_of_their_own_action():
    chosen = deliver("comment", [(alice, "a"), (bob, "b")], actor=alice)
    assert [c.person for c in chosen] == [bob]


def test_each_person_is_told_once_with_the_first_reason():
    chosen = deliver(
        "oig_decision",
        d.oig_decision_recipients(
            milestone_owners=[alice, bob], line_leads=[alice], responsible_officials=[], managers=[mgr], submitter=alice
        ),
    )
    assert [(c.person, c.reason) for c in chosen] == [
        (alice, "You sent this submission to OIG."),
        (bob, "You own a milestone of this plan."),
        (mgr, "You manage the office responsible for this plan."),
    ]


def test_nobody_who_may_not_see_the_recommendation_is_told():
    chosen = deliver("evidence_reviewed", d.evidence_reviewed_recipients(uploader=stranger, milestone_owner=bob))
    assert [c.person for c in chosen] == [bob]
    assert [c.person for c in deliver("comment", [(admin, "x"), (oig2, "y")])] == [admin, oig2]


def test_preferences_choose_the_email_and_oig_decisions_cannot_be_switched_off():
    prefs = {(alice.id, "comment"): "off", (bob.id, "comment"): "daily"}
    chosen = deliver("comment", [(alice, ""), (bob, ""), (mgr, "")], prefs=prefs)
    assert [c.email for c in chosen] == ["off", "daily", "immediate"]
    chosen = deliver(
        "oig_decision",
        [(alice, ""), (bob, "")],
        prefs={(alice.id, "oig_decision"): "off", (bob.id, "oig_decision"): "daily"},
    )
    assert [c.email for c in chosen] == ["immediate", "daily"]


def test_a_submission_goes_to_the_reviewers_of_the_reports_oig_else_to_every_reviewer():
    assert [p for p, _ in d.submission_sent_recipients([oig, oig2], {OIG_OFFICE})] == [oig]
    assert [p for p, _ in d.submission_sent_recipients([oig, oig2], set())] == [oig, oig2]


def test_date_changes_go_to_managers_then_back_to_requester_and_owner():
    assert [p for p, _ in d.date_change_requested_recipients([mgr])] == [mgr]
    chosen = deliver("date_change_decided", d.date_change_decided_recipients(requester=alice, owner=bob), actor=mgr)
    assert [c.person for c in chosen] == [alice, bob]


def test_target_changes_go_to_managers_then_back_to_requester_and_line_lead_once():
    assert [p for p, _ in d.target_change_requested_recipients([mgr])] == [mgr]
    chosen = deliver(
        "target_change_decided", d.target_change_decided_recipients(requester=alice, line_lead=bob), actor=mgr
    )
    assert [(c.person, c.reason) for c in chosen] == [
        (alice, "You asked for this target change."),
        (bob, "You lead the line of effort this metric measures."),
    ]
    # The requester who leads the line too is told once.
    chosen = deliver("target_change_decided", d.target_change_decided_recipients(requester=alice, line_lead=alice))
    assert [c.person for c in chosen] == [alice]
    assert "target_change_requested" in d.KINDS_FOR_ROLE["manager"]
    assert "target_change_decided" in d.KINDS_FOR_ROLE["action_office"]


def test_mentions_by_email_or_by_name_among_those_who_may_see():
    people = [alice, bob, mgr, oig]
    body = "Thanks @alice@example.gov, and @Maria Grant: see @Nobody Here and @eve@example.gov."
    assert d.mentions(body, people) == [alice, mgr]
    assert d.mentions("cc @bob li.", people) == [bob]
    assert d.mentions("mail me at x@alice@example.gov", people) == []
    chosen = deliver(
        "comment",
        d.comment_recipients(body="@Olivia Reviewer please look", participants=[alice, bob], people=people),
        actor=bob,
    )
    assert [(c.person, c.reason) for c in chosen] == [
        (oig, "You were mentioned in this message."),
        (alice, "You take part in this conversation."),
    ]


def test_a_flag_goes_to_the_line_lead():
    assert [p for p, _ in d.metric_flag_recipients(alice)] == [alice]
    assert d.metric_flag_recipients(None) == []
