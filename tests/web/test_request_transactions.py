"""How a request's transaction ends (app/__init__.py, ``end_reads_with_a_commit``): a GET or HEAD
that changed nothing commits (so that psycopg keeps the statements it prepared), and every
other request ends as before: committed by its view, or rolled back."""

import pytest
import sqlalchemy as sa
from flask import abort

from app.auth.models import User
from app.permissions import public


@pytest.fixture
def ends(app, db):
    """The ends of the database transactions of the next requests, in order: "commit" or "rollback"."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
    on_commit, on_rollback = (lambda conn: seen.append("commit")), (lambda conn: seen.append("rollback"))
    sa.event.listen(engine, "commit", on_commit)
    sa.event.listen(engine, "rollback", on_rollback)
    yield seen
    sa.event.remove(engine, "commit", on_commit)
    sa.event.remove(engine, "rollback", on_rollback)


@pytest.fixture
def routes(app, db, make):
    """Test views, added before the app's first request: a read that fails, reads that change an
    object and do not commit it (left in the session, or flushed), and a read that answers 404."""
    user = make.user("admin", name="Unchanged Name")
    db.session.commit()
    user_id = user.id

    @public
    def failing_read():
        db.session.execute(sa.select(User.id)).all()
        raise RuntimeError("the view failed after reading")

    @public
    def uncommitted_change():
        db.session.get(User, user_id).name = "Changed Without Commit"
        return "changed"

    @public
    def flushed_change():
        db.session.get(User, user_id).name = "Flushed Without Commit"
        db.session.flush()
        return "flushed"

    @public
    def missing_read():
        db.session.execute(sa.select(User.id)).all()
        abort(404)

    app.add_url_rule("/test/failing-read", view_func=failing_read)
    app.add_url_rule("/test/uncommitted-change", view_func=uncommitted_change)
    app.add_url_rule("/test/missing-read", view_func=missing_read)
    app.add_url_rule("/test/flushed-change", view_func=flushed_change)
    return user_id


def test_a_read_that_changed_nothing_ends_with_a_commit(client, login_as, ends):
    login_as("action_office")
    ends.clear()
    assert client.get("/").status_code == 200
    assert client.head("/my-work").status_code == 200
    assert ends == ["commit", "commit"]


def test_a_failed_read_rolls_back(app, client, routes, ends):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the 500 page, as in production
    assert client.get("/test/failing-read").status_code == 500
    # The error handler rolls the failed work back first; the error page's own reads (the header)
    # then end as any read does.
    assert ends == ["rollback", "commit"]


def test_a_read_answering_404_changed_nothing_and_commits(client, routes, ends):
    assert client.get("/test/missing-read").status_code == 404
    assert ends == ["commit"]


def test_a_change_a_read_did_not_commit_is_rolled_back(app, db, client, routes, ends):
    assert client.get("/test/uncommitted-change").status_code == 200
    assert ends == ["rollback"]
    db.session.expire_all()
    assert db.session.get(User, routes).name == "Unchanged Name"


def test_a_change_a_read_flushed_and_did_not_commit_is_rolled_back(app, db, client, routes, ends):
    assert client.get("/test/flushed-change").status_code == 200
    assert ends == ["rollback"]
    db.session.expire_all()
    assert db.session.get(User, routes).name == "Unchanged Name"


def test_a_post_is_left_to_its_view(client, login_as, ends):
    """A refused form writes nothing and rolls back: the hook is for GET and HEAD only."""
    login_as("action_office")
    token = client.session_csrf_token()
    ends.clear()
    refused = client.post("/reminders/preferences", data={"notify_oig_decision": "off", "csrf_token": token})
    assert refused.status_code == 400
    assert ends and set(ends) == {"rollback"}
