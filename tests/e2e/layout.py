"""Layout checks run in the page: sideways scrolling of the document, and content boxes that
overlap without one containing the other (a chart over a table, a table over the footer)."""

#: The content boxes that must never overlap one another.
CONTENT_BOXES = "canvas, table, figure, h1, h2, h3, h4, h5, h6, p, form, .usa-alert, footer"

_OVERLAPS_JS = """(selector) => {
  const boxes = [];
  for (const el of document.querySelectorAll(selector)) {
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") continue;
    // Not rendered: inside a closed <details> (its boxes still report a position), or hidden.
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) continue;
    const closed = el.closest("details:not([open])");
    if (closed && !el.closest("summary")) continue;
    // What shows of a box: clipped by every ancestor that hides or scrolls its overflow
    // (a wide table inside its scrolling container ends at the container's edge).
    let b = el.getBoundingClientRect();
    let r = {left: b.left, top: b.top, right: b.right, bottom: b.bottom};
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const ps = getComputedStyle(p);
      if (ps.overflowX !== "visible" || ps.overflowY !== "visible") {
        const pr = p.getBoundingClientRect();
        r = {left: Math.max(r.left, pr.left), top: Math.max(r.top, pr.top),
             right: Math.min(r.right, pr.right), bottom: Math.min(r.bottom, pr.bottom)};
      }
    }
    r.width = r.right - r.left; r.height = r.bottom - r.top;
    if (r.width < 2 || r.height < 2) continue;   // screen-reader-only text is a 1 px box
    if (el.closest("[hidden], .usa-sr-only")) continue;
    boxes.push([el, r]);
  }
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
    " «" + (el.textContent || "").trim().slice(0, 40) + "»";
  const found = [];
  for (let i = 0; i < boxes.length; i++) {
    const [a, ra] = boxes[i];
    for (let j = i + 1; j < boxes.length; j++) {
      const [b, rb] = boxes[j];
      if (a.contains(b) || b.contains(a)) continue;
      const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (w > 2 && h > 2) found.push(name(a) + " overlaps " + name(b));
    }
  }
  return found.slice(0, 10);
}"""


#: Charts (metrics-charts.js, dashboard-charts.js) whose canvas Chart.js never drew: an empty box
#: above the table, e.g. when a page forgot to load the scripts.
_UNDRAWN_CHARTS_JS = """() => Array.from(document.querySelectorAll("canvas[data-chart]"))
  .filter((c) => !(window.Chart && window.Chart.getChart(c)))
  .map((c) => "chart " + c.getAttribute("data-chart") + " was not drawn").slice(0, 5)"""


#: Tables that scroll sideways in their container: on a desktop (1024 px and wider) none may, and
#: on a phone (under USWDS's 480 px) none may either: a table too wide for one is stacked there
#: (data_table(stacked=True or "lines"), its rows standing as blocks of cells). Between the two a
#: wide table may scroll.
_TABLES_SCROLLING_JS = """() => {
  const w = window.innerWidth;
  if (w >= 480 && w < 1024) return [];
  return Array.from(document.querySelectorAll(".usa-table-container--scrollable"))
    .filter((c) => c.scrollWidth > c.clientWidth + 1 && c.getClientRects().length)
    .map((c) => "the table «" + (c.getAttribute("aria-label") || "").slice(0, 40) + "» scrolls sideways ("
      + c.scrollWidth + " px in " + c.clientWidth + " px)").slice(0, 5);
}"""


def layout_problems(page) -> list[str]:
    """What is wrong with the page's layout at its current width ([] when nothing)."""
    problems = page.evaluate(_UNDRAWN_CHARTS_JS)
    widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    if widths[0] > widths[1]:
        problems.append(f"the document scrolls sideways ({widths[0]} px wide in {widths[1]} px)")
    problems += page.evaluate(_TABLES_SCROLLING_JS)
    problems += page.evaluate(_OVERLAPS_JS, CONTENT_BOXES)
    return problems


def send_plan_and_closure_request(
    recommendation_id: int = 1,
    office_email: str = "policy@example.gov",
    oig_email: str = "oig@example.gov",
    *,
    closure_request: bool = True,
) -> None:
    """On the seeded demo (in an app context): the office sends the plan, OIG accepts it, and the
    office sends a closure request acknowledging every open item, which then awaits OIG (unless
    ``closure_request`` is false: the office may then send one). The pages
    a reviewer decides from (submission, closure package) exist only from then on."""
    from app.auth.models import User
    from app.extensions import db
    from app.recommendations.models import Recommendation
    from app.submissions import services
    from app.submissions.package import readiness_for

    rec = db.session.get(Recommendation, recommendation_id)
    office = db.session.scalar(db.select(User).where(User.email == office_email))
    oig = db.session.scalar(db.select(User).where(User.email == oig_email))
    services.submit(rec, "plan", "Three lines of effort with milestones.", office)
    plan = db.session.scalar(db.select(services.Submission).order_by(services.Submission.id.desc()))
    services.decide(plan, "accepted", "The plan answers the recommendation.", oig)
    if closure_request:
        services.submit(
            rec,
            "closure_request",
            "Data collected and reported.",
            office,
            acknowledgements={i.key: "Tracked in the next plan." for i in readiness_for(rec)},
        )
    db.session.commit()


def sign_in(page, email: str, password: str) -> None:
    """Signs the page's browser context in (a failed sign-in shows the form again)."""
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "/sign-in" not in page.url, f"{email} could not sign in"
