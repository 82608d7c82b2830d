"""In a real browser: stored XSS payloads stay text, and the strict CSP breaks nothing (no CSP error).

Payloads go into every text field that pages show today (user and office names, report, recommendation,
line of effort and milestone text); a payload that ran would open a dialog or set ``window.__xss``.
"""

import sqlalchemy as sa
from flask import Response, render_template_string
from playwright.sync_api import expect

from app.permissions import roles

PAYLOADS = [
    '<script>alert("xss-script")</script>',
    "<img src=x onerror=\"window.__xss=1;alert('xss-img')\">",
    '"><svg onload=alert("xss-svg")>',
    "javascript:alert('xss-link')",
    "</textarea><iframe src=javascript:alert(1)>",
    "{{ 7*7 }} ${7*7}",
]


def _watch_dialogs(page):
    dialogs = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return dialogs


def test_stored_xss_payloads_render_as_text_on_every_page(page, sign_in, make, db):
    office = make.office("XSS", name=PAYLOADS[2])
    admin = make.user("admin", name=PAYLOADS[0], email="xss-admin@example.gov")
    make.user("action_office", office=office, name=PAYLOADS[1])
    report = make.report(title=PAYLOADS[1], summary=PAYLOADS[4])
    rec = make.recommendation(
        report=report,
        office=office,
        text=PAYLOADS[3],
        responsible_official=PAYLOADS[5],
        concurrence_response=PAYLOADS[0],
    )
    line = make.line(rec, title=PAYLOADS[0], description=PAYLOADS[1], objective=PAYLOADS[2])
    make.milestone(line, title=PAYLOADS[1], description=PAYLOADS[4], expected_evidence=PAYLOADS[0], owner=admin)
    db.session.commit()
    dialogs = _watch_dialogs(page)

    sign_in("xss-admin@example.gov")
    urls = ["/", f"/recommendations/{rec.id}", "/accounts", f"/accounts/{admin.id}", "/account/password"]
    links = page.locator("nav.usa-nav a.usa-nav-link")
    urls += [links.nth(i).get_attribute("href") for i in range(links.count())]
    for url in dict.fromkeys(urls):
        response = page.goto(url)
        assert response.status < 400, url
        page.wait_for_load_state("load")
        assert page.evaluate("window.__xss") is None, url
    page.goto(f"/recommendations/{rec.id}")
    expect(page.get_by_text(PAYLOADS[3]).first).to_be_visible()  # shown, as text
    page.goto("/accounts")
    expect(page.get_by_role("link", name=PAYLOADS[1])).to_be_visible()
    assert dialogs == []
    assert page.console_errors == []


GANTT_AND_CHART_JS = """
(function () {
  "use strict";
  var canvas = document.getElementById("chart");
  var chart = new Chart(canvas, {type: "bar", data: {labels: ["ICE", "CBP", "USCIS"],
    datasets: [{label: "Releases", data: [12757, 650, 632855]}]}, options: {animation: false}});
  document.body.setAttribute("data-chart", chart.data.datasets[0].data.length === 3 ? "drawn" : "failed");
  new Gantt("#gantt", [
    {id: "m1", name: "Charter the working group", start: "2026-01-05", end: "2026-02-10", progress: 100},
    {id: "m2", name: "Issue the data standard", start: "2026-02-11", end: "2026-04-01", progress: 40,
     dependencies: "m1"}
  ], {view_mode: "Week", readonly: true});
  document.body.setAttribute("data-gantt", document.querySelectorAll("#gantt .bar-wrapper").length);
})();
"""

CSP_PAGE = """{% extends "base.html" %}
{% block title %}CSP check{% endblock %}
{% block head %}<link rel="stylesheet" href="{{ url_for('static', filename='vendor/frappe-gantt/frappe-gantt.css') }}">{% endblock %}
{% block content %}
<h1>CSP check</h1>
<canvas id="chart" aria-label="Releases by component" role="img"></canvas>
<div id="gantt"></div>
<form method="post" action="/" data-confirm="Really?"><button type="submit" id="confirm-me">Go</button></form>
{% endblock %}
{% block scripts %}
<script src="{{ url_for('static', filename='vendor/chartjs/chart.umd.min.js') }}"></script>
<script src="{{ url_for('static', filename='vendor/frappe-gantt/frappe-gantt.umd.js') }}"></script>
<script src="/csp-check.js"></script>
{% endblock %}"""


def test_uswds_chartjs_and_frappe_gantt_work_under_the_csp_without_errors(app, page, sign_in, make, db):
    @app.route("/csp-check")
    @roles("admin")
    def csp_check():
        return render_template_string(CSP_PAGE)

    @app.route("/csp-check.js")
    @roles("admin")
    def csp_check_js():
        return Response(GANTT_AND_CHART_JS, mimetype="text/javascript")

    make.user("admin", email="csp-admin@example.gov")
    db.session.commit()
    sign_in("csp-admin@example.gov")
    response = page.goto("/csp-check")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    expect(page.locator("body")).to_have_attribute("data-chart", "drawn")
    expect(page.locator("body")).to_have_attribute("data-gantt", "2")
    assert page.evaluate("window.uswdsPresent") is True
    expect(page.locator("html")).not_to_have_class("usa-js-loading")
    # app.js under the CSP: the confirmation on a data-confirm form still asks.
    dialogs = _watch_dialogs(page)
    page.locator("#confirm-me").click()
    assert dialogs == ["Really?"]
    # USWDS behaviour under the CSP: the mobile menu opens.
    page.set_viewport_size({"width": 480, "height": 800})
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("nav.usa-nav")).to_have_class("usa-nav is-visible")
    assert page.console_errors == []


def test_an_inline_script_is_blocked_and_reported(app, page, sign_in, make, db):
    """The other half of the proof: the browser does enforce the policy."""

    @app.route("/inline-for-test")
    @roles("admin")
    def inline():
        return '<!doctype html><title>x</title><script>window.__inline = 1</script><p style="color:red">x</p>'

    make.user("admin", email="inline-admin@example.gov")
    db.session.commit()
    sign_in("inline-admin@example.gov", open="/inline-for-test")
    assert page.evaluate("window.__inline") is None
    assert any("Content Security Policy" in e for e in page.console_errors)


def test_admin_creates_an_account_and_the_new_user_sets_a_password(page, sign_in, make, db, browser, live_server):
    make.office("DHS-PLCY", name="DHS Office of Policy")
    make.user("admin", email="admin-e2e@example.gov")
    db.session.commit()
    sign_in("admin-e2e@example.gov", open="/accounts")
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Email address").fill("dana@example.gov")
    page.get_by_label("Full name").fill("Dana Whitfield")
    page.get_by_label("Role").select_option("action_office")
    page.get_by_label("Office").select_option(label="DHS Office of Policy (DHS-PLCY)")
    page.get_by_role("button", name="Create account").click()
    link = page.get_by_label("One-time link").input_value()
    assert "/reset-password/" in link

    other = browser.new_context(base_url=live_server)
    newcomer = other.new_page()
    newcomer.goto(link)
    newcomer.get_by_label("New password", exact=True).fill("short")
    newcomer.get_by_label("Type the new password again").fill("short")
    newcomer.get_by_role("button", name="Set password").click()
    expect(newcomer.locator("#password-error")).to_contain_text("Use at least 15 characters")
    expect(newcomer.locator(".app-error-summary")).to_contain_text("Use at least 15 characters")
    newcomer.get_by_label("New password", exact=True).fill("granite meadow violin 2031")
    newcomer.get_by_label("Type the new password again").fill("granite meadow violin 2031")
    newcomer.get_by_role("button", name="Set password").click()
    expect(newcomer.get_by_text("Your password is set")).to_be_visible()
    newcomer.get_by_label("Email address").fill("dana@example.gov")
    newcomer.get_by_label("Password").fill("granite meadow violin 2031")
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer.get_by_text("Dana Whitfield")).to_be_visible()
    other.close()

    from app.auth.models import User

    user = db.session.scalar(sa.select(User).where(User.email == "dana@example.gov"))
    page.goto(f"/accounts/{user.id}")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_text("is deactivated")).to_be_visible()
    assert page.console_errors == []
