import os
import pytest
from tests.e2e.test_accessibility import assert_accessible

OUT = "/tmp/casefix_shots"
PAGES = {
    "action_office": ["/", "/recommendations/1", "/recommendations/1/metrics", "/metrics/1", "/metrics/2", "/exports/semiannual", "/recommendations/1/timeline", "/recommendations/1/lines/new"],
    "oig_reviewer": ["/", "/recommendations/1", "/recommendations/1/metrics", "/exports/semiannual", "/reports/1", "/reports/"],
    "manager": ["/", "/recommendations/1", "/exports/semiannual"],
    "admin": ["/", "/recommendations/1", "/exports/semiannual"],
}
EMAILS = {"action_office": "policy@example.gov", "oig_reviewer": "oig@example.gov", "manager": "manager@example.gov", "admin": "admin@example.gov"}


@pytest.mark.parametrize("role", list(PAGES))
def test_shots(page, sign_in, demo, role):
    sign_in(EMAILS[role])
    for url in PAGES[role]:
        for width in (1280, 1024, 390):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(url)
            page.wait_for_timeout(300)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            name = f"{role}_{url.strip('/').replace('/', '_') or 'dashboard'}_{width}.png"
            page.screenshot(path=os.path.join(OUT, name), full_page=True)
            print(name, "overflow", overflow)
        assert_accessible(page, f"{url} {role}")
