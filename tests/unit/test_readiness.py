"""The readiness list: pure rules, no app, no database."""

from datetime import date
from decimal import Decimal

from app.submissions.readiness import EvidenceFact, FlagFact, MetricFact, MilestoneFact, readiness


def test_nothing_open_means_ready():
    assert (
        readiness(
            [
                MilestoneFact(1, "Charter", "completed", 100, date(2027, 1, 1)),
                MilestoneFact(2, "Dropped", "cancelled", 0, date(2027, 1, 1)),
            ],
            [EvidenceFact(1, "Charter", "accepted")],
            [MetricFact(1, "Fields received", "ICE", "%", "higher", Decimal(95), Decimal(96), "2026-11")],
            [],
        )
        == []
    )


def test_each_open_thing_is_named_in_words():
    items = readiness(
        [
            MilestoneFact(6, "Define required fields", "in_progress", 70, date(2026, 11, 26)),
            MilestoneFact(7, "Begin monthly submissions", "not_started", 0, date(2027, 3, 2)),
        ],
        [EvidenceFact(2, "Data standard", "pending"), EvidenceFact(3, "System inventory", "insufficient")],
        [
            MetricFact(4, "Duplicates", "ICE", "%", "lower", Decimal(1), Decimal("2.09"), "2026-11"),
            MetricFact(4, "Duplicates", "CBP", "%", "lower", Decimal(1), None, None),
            MetricFact(5, "Accuracy", "ICE", "%", "higher", Decimal(98), Decimal(98), "2026-Q3"),
        ],
        [FlagFact(14, "Monthly submissions on time", "USCIS", "2026-11", "missing")],
    )
    assert [(i.key, i.text) for i in items] == [
        ("milestone-6", "Milestone “Define required fields” is in progress (70%), due Nov 26, 2026."),
        ("milestone-7", "Milestone “Begin monthly submissions” is not started, due Mar 2, 2027."),
        ("evidence-2", "Evidence “Data standard” has not been reviewed by OIG yet."),
        ("evidence-3", "OIG judged evidence “System inventory” insufficient."),
        ("metric-4-ICE", "Metric “Duplicates” for ICE is 2.09% in 2026-11, off its target of at most 1%."),
        ("metric-4-CBP", "Metric “Duplicates” has no reading for CBP."),
        (
            "flag-14",
            "Open flag on “Monthly submissions on time” for USCIS, 2026-11: a missing reading, not yet answered.",
        ),
    ]


def test_no_evidence_at_all_is_an_item():
    assert [i.key for i in readiness([], [], [], [])] == ["evidence-none"]
