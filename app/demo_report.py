"""What the demo takes from DHS OIG report OIG-15-85 itself: its issue date and its figures, each
with the page it is printed on and the report's own words (tests/test_demo_faithful.py finds every
quotation in the text of the report, ``shared/reference/OIG-15-85-report.txt``).

Pages are the report's printed page numbers: the text of the report has lost its page breaks, and
they were counted from the page footers (``www.oig.dhs.gov``), footnotes and the one printed
number that survives (6); the Background section starts on page 1.

Everything else in the demo (milestones, readings, targets, evidence, comments, people) is
illustrative, and the site says so while the demo is loaded (templates/base.html).
"""

from dataclasses import dataclass
from datetime import date

REPORT_NUMBER = "OIG-15-85"
#: The issue date printed on the report's cover. The reference text starts after the cover; it
#: agrees (fieldwork August 2014 - January 2015, p. 10; the latest date it cites is Feb. 23, 2015, p. 5).
ISSUED_ON = date(2015, 5, 4)


@dataclass(frozen=True)
class ReportFigure:
    component: str
    what: str
    value: int
    #: The period as the report gives it, in words a reader can check.
    period: str
    page: int
    #: The report's words: the first holds the figure, the others the period.
    quotes: tuple[str, ...]

    @property
    def source(self) -> str:
        return f"{REPORT_NUMBER}, p. {self.page}"


FIGURES = {
    "ice_pd_releases": ReportFigure(
        "ICE",
        "releases through prosecutorial discretion, recorded after an interview found the person "
        "not an enforcement priority",
        12757,
        "FY2014 (October 1, 2013 to September 30, 2014)",
        4,
        (
            "in FY 2014, ICE recorded 12,757 instances in which an ICE officer, after interviewing an individual "
            "and determining he or she was not an enforcement priority, used prosecutorial discretion to release "
            "the alien",
        ),
    ),
    "uscis_daca_approved": ReportFigure(
        "USCIS",
        "DACA requests approved",
        632855,
        "August 15, 2012 to September 30, 2014",
        4,
        (
            "As of September 30, 2014, USCIS reported it had approved 632,855 DACA requests",
            "USCIS DACA data from August 15, 2012, through September 30, 2014",
        ),
    ),
    "cbp_daca_released": ReportFigure(
        "CBP",
        "DACA-eligible individuals released by the Office of Border Patrol, which did not initiate "
        "the removal process for them",
        650,
        "June 15, 2012 to September 30, 2014",
        4,
        (
            "CBP’s Office of Border Patrol reported it had released 650 DACA-eligible individuals",
            "CBP’s Office of Border Patrol did not initiate the removal process and released individuals it "
            "determined appeared to be eligible for DACA from June 15, 2012, through September 30, 2014",
        ),
    ),
    "dhs_apprehended": ReportFigure(
        "DHS",
        "aliens apprehended",
        662483,
        "calendar year 2013",
        1,
        ("662,483 aliens apprehended", "Actions in 2013", "Source: Office of Immigration Statistics."),
    ),
    "dhs_removed": ReportFigure(
        "DHS",
        "aliens removed",
        438421,
        "calendar year 2013",
        1,
        ("438,421 aliens removed", "Actions in 2013", "Source: Office of Immigration Statistics."),
    ),
    "dhs_removed_criminal": ReportFigure(
        "DHS",
        "aliens with prior criminal convictions removed",
        198394,
        "calendar year 2013",
        1,
        # The sidebar's lines are interleaved with the page's column in the text: "198,394 aliens
        # with prior criminal" and, three lines on, "convictions removed".
        ("198,394 aliens with prior criminal", "convictions removed", "Actions in 2013"),
    ),
}

#: The data the report says DHS could gather (p. 5), each a demo metric without a baseline.
DATA_ELEMENTS = {
    "home_country": (
        "aliens who are released because the lack of cooperation from their home countries "
        "makes it difficult to remove them"
    ),
    "not_a_priority": (
        "are not placed in or are taken out of the immigration removal process because they "
        "are not considered an enforcement priority, as well as the basis for those decisions"
    ),
    "later_crime": "are granted prosecutorial discretion and later commit a crime",
    "daca_referral": (
        "request deferred action after they are referred to USCIS because they appear eligible "
        "for DACA, as well as USCIS’ decision to grant or deny their request"
    ),
}
DATA_ELEMENTS_PAGE = 5


def baseline_period(key: str) -> str:
    """A metric's baseline period as the demo shows it: the period, then the source page."""
    figure = FIGURES[key]
    return f"{figure.period}. Source: {figure.source}"


def no_baseline(key: str) -> str:
    """Why a metric of one of the report's data elements has no baseline."""
    if key not in DATA_ELEMENTS:
        raise KeyError(key)
    return f"None: data the report says DHS could gather ({REPORT_NUMBER}, p. {DATA_ELEMENTS_PAGE})."
