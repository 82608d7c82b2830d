"""The milestone update the write benchmarks post (bench/writes.py over HTTP, bench/profile_write.py in-process):
one home for the form, so that both post the same thing."""

import re
from datetime import date

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


def form_state(page: str) -> tuple[str, int]:
    """The CSRF token and the milestone's version from the milestone page's update form."""
    token, version = CSRF.search(page), _VERSION.search(page)
    if token is None or version is None:
        raise SystemExit("the milestone page has no update form (is the user its owner?)")
    return token.group(1), int(version.group(1))


def update_form(token: str, version: int, i: int, on: date) -> dict:
    """The i-th status update, as the page's "Post an update" form sends it."""
    return {
        "csrf_token": token,
        "action": "update",
        "version": version,
        "noted_on": on.isoformat(),
        "status": "in_progress",
        "percent_complete": i % 100,
        "note": f"update {i}",
    }
