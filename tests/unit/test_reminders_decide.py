"""The decision, as a pure function of (today, data): no database, no SMTP."""

from datetime import date, timedelta

import pytest

from app.reminders import decide as d

TODAY = date(2026, 11, 25)  # a Wednesday
OFFICE, OTHER = 1, 2
OWNER, MANAGER, OFFICIAL, OTHER_MANAGER = 10, 11, 12, 13


def people(**prefs):
    return {
        OWNER: d.Person(OWNER, "owner@example.gov", "Owner", "action_office", OFFICE, d.Prefs(**prefs)),
        MANAGER: d.Person(MANAGER, "manager@example.gov", "Manager", "manager", OFFICE, d.Prefs(**prefs)),
        OFFICIAL: d.Person(OFFICIAL, "official@example.gov", "Official", "admin", None),
        OTHER_MANAGER: d.Person(OTHER_MANAGER, "m2@example.gov", "Other", "manager", OTHER),
    }


def milestone(due_in: int, id=1, office=OFFICE, owner=OWNER):
    return d.MilestoneFact(id, f"Milestone {id}", TODAY + timedelta(days=due_in), owner, office, 7, "OIG-1 Rec. 1")


def snap(*milestones, recommendations=(), rules=d.Rules(follow_up_official_id=OFFICIAL), **prefs):
    return d.Snapshot(rules, people(**prefs), list(milestones), list(recommendations))


def kinds(dues, recipient=None):
    return sorted(due.kind for due in dues if recipient is None or due.recipient_id == recipient)


@pytest.mark.parametrize(
    "due_in, kind, subject",
    [
        (30, "milestone.due_in_30", "Due in 30 days: Milestone 1"),
        (14, "milestone.due_in_14", "Due in 14 days: Milestone 1"),
        (7, "milestone.due_in_7", "Due in 7 days: Milestone 1"),
        (1, "milestone.due_in_1", "Due in 1 day: Milestone 1"),
        (0, "milestone.due_today", "Due today: Milestone 1"),
        (-1, "milestone.overdue", "Overdue by 1 day: Milestone 1"),
    ],
)
def test_owner_reminders_on_each_offset(due_in, kind, subject):
    [due] = [x for x in d.milestone_reminders(TODAY, snap(milestone(due_in)))]
    assert (due.kind, due.subject, due.recipient_id) == (kind, subject, OWNER)
    assert due.link == d.Link("milestones.show", (("milestone_id", 1),))


def test_a_day_between_offsets_falls_in_one_window_so_a_missed_day_is_caught_up():
    assert kinds(d.milestone_reminders(TODAY, snap(milestone(6)))) == ["milestone.due_in_7"]
    assert kinds(d.milestone_reminders(TODAY, snap(milestone(31)))) == []
    # The days 7..2 share one key: the same message, whichever day the job runs.
    keys = {next(d.milestone_reminders(TODAY + timedelta(days=k), snap(milestone(7)))).key for k in range(0, 6)}
    assert len(keys) == 1


def test_overdue_reminders_are_weekly():
    keys = [next(d.milestone_reminders(TODAY + timedelta(days=k), snap(milestone(0)))).key for k in range(1, 16)]
    assert len(set(keys[0:7])) == 1 and len(set(keys[7:14])) == 1 and keys[0] != keys[7] != keys[14]


def test_admin_offsets_change_the_windows():
    rules = d.Rules(offsets=(10, 3))
    assert kinds(d.milestone_reminders(TODAY, snap(milestone(14), rules=rules))) == []
    assert kinds(d.milestone_reminders(TODAY, snap(milestone(9), rules=rules))) == ["milestone.due_in_10"]


def test_escalation_reaches_the_manager_after_7_days_and_the_official_after_30():
    assert kinds(d.milestone_escalations(TODAY, snap(milestone(-6)))) == []
    assert [(x.kind, x.recipient_id) for x in d.milestone_escalations(TODAY, snap(milestone(-8)))] == [
        ("milestone.escalation_manager", MANAGER)
    ]
    assert kinds(d.milestone_escalations(TODAY, snap(milestone(-30)))) == [
        "milestone.escalation_manager",
        "milestone.escalation_official",
    ]


def test_optional_reminders_follow_preferences_but_escalations_do_not():
    dues = d.decide(TODAY, snap(milestone(-10), milestone(5, id=2), due_soon=False, overdue_weekly=False))
    assert kinds(dues, OWNER) == []
    assert kinds(dues, MANAGER) == ["digest.weekly", "milestone.escalation_manager"]


def test_recommendation_clocks_come_from_the_clock_function():
    rec = d.RecommendationFact(7, "OIG-1 Rec. 1", OFFICE, "unresolved_open", TODAY - timedelta(days=83))
    dues = list(d.recommendation_clock_notices(TODAY, snap(recommendations=[rec])))
    # Issued 83 days ago: the plan response and the first 90-day update are both due in 7 days.
    assert sorted({x.kind for x in dues}) == ["clock.plan_response.due_in_7", "clock.status_update.due_in_7"]
    assert {x.recipient_id for x in dues} == {OWNER, MANAGER}
    assert all("due in 7 days" in x.subject for x in dues)
    late = d.RecommendationFact(8, "OIG-1 Rec. 2", OFFICE, "unresolved_open", TODAY - timedelta(days=200))
    assert "clock.resolution.past_due" in {
        x.kind for x in d.recommendation_clock_notices(TODAY, snap(recommendations=[late]))
    }


def test_digest_lists_the_office_items_only():
    s = snap(milestone(5, id=1), milestone(20, id=2), milestone(-3, id=3), milestone(2, id=4, office=OTHER))
    [digest] = [x for x in d.weekly_digests(TODAY, s) if x.recipient_id == MANAGER]
    due_soon, overdue, pending, nearing = digest.sections
    assert [i.title for i in due_soon.items] == ["Milestone 1"]
    assert [i.title for i in overdue.items] == ["Milestone 3"]
    assert pending.items == () and nearing.items == ()
    assert digest.period == "2026-W48"
    other = [x for x in d.weekly_digests(TODAY, s) if x.recipient_id == OTHER_MANAGER]
    assert [i.title for sec in other[0].sections for i in sec.items] == ["Milestone 4"]


def test_digest_waits_for_its_weekday_and_skips_when_empty_unless_asked():
    s = snap(milestone(5), rules=d.Rules(digest_weekday=4))  # Friday; TODAY is a Wednesday
    assert list(d.weekly_digests(TODAY, s)) == []
    assert len(list(d.weekly_digests(TODAY + timedelta(days=3), s))) == 1  # Saturday catches up
    empty = snap()
    assert list(d.weekly_digests(TODAY, empty)) == []
    asked = snap(digest_when_empty=True)
    assert [x.recipient_id for x in d.weekly_digests(TODAY, asked)] == [MANAGER]


def test_decide_gives_each_key_once():
    dues = d.decide(TODAY, snap(milestone(7), milestone(-8, id=2)))
    assert len({x.key for x in dues}) == len(dues)


def test_digest_lists_due_date_changes_waiting_for_the_manager():
    s = snap(milestone(5, id=1))
    s.pending_date_changes.append(
        d.DateChangeFact(9, milestone(5, id=1), TODAY + timedelta(days=5), TODAY + timedelta(days=40), OWNER)
    )
    s.pending_date_changes.append(
        d.DateChangeFact(10, milestone(5, id=2, office=OTHER), TODAY, TODAY + timedelta(days=9), OWNER)
    )
    [digest] = [x for x in d.weekly_digests(TODAY, s) if x.recipient_id == MANAGER]
    pending = digest.sections[2]
    assert pending.title == "Due-date changes waiting for your approval"
    assert [i.title for i in pending.items] == ["Milestone 1"]
    assert "Jan 4, 2027" in pending.items[0].detail


def test_a_missing_reading_reminds_the_action_office_but_not_the_line_s_lead():
    second = d.Person(20, "second@example.gov", "Second", "action_office", OFFICE)
    fact = d.MissingReadingFact(5, 3, "Releases", "ICE", "2026-10", date(2026, 10, 31), OFFICE, "OIG-1 Rec. 1")
    everyone = {**people(), second.id: second}
    told = [
        due.recipient_id
        for due in d.missing_reading_notices(TODAY, d.Snapshot(d.Rules(), everyone, missing_readings=[fact]))
    ]
    assert sorted(told) == [OWNER, second.id]
    led = d.Snapshot(
        d.Rules(),
        everyone,
        missing_readings=[
            d.MissingReadingFact(5, 3, "Releases", "ICE", "2026-10", date(2026, 10, 31), OFFICE, "OIG-1 Rec. 1", OWNER)
        ],
    )
    assert [due.recipient_id for due in d.missing_reading_notices(TODAY, led)] == [second.id]
