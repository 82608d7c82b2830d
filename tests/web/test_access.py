"""Every route declares who may use it, and none serves an anonymous visitor by accident."""

import re


#: Endpoints an anonymous visitor may reach (2xx).
PUBLIC = {"auth.sign_in_page", "auth.break_glass_page", "health.healthz", "health.readyz", "health.metrics", "static"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        args = {name: 1 for name in rule.arguments}
        if rule.endpoint == "static":
            args = {"filename": "css/app.css"}
        url = re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(args.get(m.group(1), 1)), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, url


def test_every_view_declares_an_access_rule(app):
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and getattr(view, "access", None) is None
    ]
    assert missing == []


def test_no_route_answers_an_anonymous_request_with_success(app):
    client = app.test_client()
    served = []
    for endpoint, method, url in _routes(app):
        response = client.open(url, method=method)
        if 200 <= response.status_code < 300 and endpoint not in PUBLIC:
            served.append((endpoint, method, url, response.status_code))
    assert served == []


def test_anonymous_pages_redirect_to_sign_in(client, demo):
    for url in ("/", "/recommendations/1"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in")


def test_a_view_without_a_rule_is_refused(app, client, login_as):
    @app.route("/undeclared-for-test")
    def undeclared():
        return "should never be served"

    login_as("admin")
    assert client.get("/undeclared-for-test").status_code == 403
