"""The corrective-action tracker: the application factory.

Its steps import the rooms inside them: this module runs before any ``app.*`` module, so imports at
its top would load every room (and close cycles) whenever anything imports ``app.extensions``.
"""

import importlib
import os
import secrets
from pathlib import Path

from flask import Flask

from config import Config, database_url


def create_app(config: type[Config] | object = Config) -> Flask:
    app = Flask(__name__, instance_relative_config=True, template_folder="../templates", static_folder="../static")
    app.config.from_object(config)
    app.config.setdefault("SESSION_IDLE_MINUTES", 30)
    app.config.setdefault("SESSION_MAX_HOURS", 12)
    os.makedirs(app.instance_path, exist_ok=True)
    configure_instance(app)
    configure_transport(app)
    register_extensions(app)
    register_blueprints(app)
    register_observability(app)
    register_request_hooks(app)
    register_errors(app)
    register_cli(app)
    register_template_helpers(app)
    if app.config.get("BENCH_MODE"):
        from bench.mode import register as register_bench  # bench/, outside the app: only in bench mode

        register_bench(app)
    return app


def configure_instance(app: Flask) -> None:
    """Fill in what the environment left unset with per-instance values, never constants."""
    if not app.config.get("SECRET_KEY"):
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        app.config["SECRET_KEY"] = key_file.read_text().strip()
        app.config["SECRET_KEY_GENERATED"] = True  # `flask check` says so: other hosts have other keys
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config.get("SQLALCHEMY_DATABASE_URI"))
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + str(Path(app.instance_path) / "tracker.db")
    if not app.config.get("EVIDENCE_DIR"):
        app.config["EVIDENCE_DIR"] = str(Path(app.instance_path) / "evidence")


def configure_transport(app: Flask) -> None:
    from app.security import TrackerSessionInterface

    app.session_interface = TrackerSessionInterface()
    if app.config.get("TRUST_PROXY"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every model known to SQLAlchemy and Alembic)
    from app.extensions import csrf, db, login_manager, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in_page"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    import sqlalchemy as sa

    from app.auth.models import User
    from app.dbtypes import bound

    # Every signed-in request runs it: built once, the token bound when it runs.
    user_by_token = sa.select(User).where(
        User.session_token == bound("session_token", sa.String), User.is_active_account.is_(True)
    )

    @login_manager.user_loader
    def load_user(session_token: str):
        return db.session.scalar(user_by_token, {"session_token": session_token})

    with app.app_context():
        _configure_sqlite(db)


def _configure_sqlite(db) -> None:
    from sqlalchemy import event

    engine = db.engine
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers go on while one request writes; foreign keys are off by default in SQLite.
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # A writer waits for the one write lock rather than fail: writes take it at their first
        # statement (audit chain), so on a busy host several queue up; 30 s, not a 500.
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


#: The domains whose views live in ``<domain>/routes.py``. Their packages define only the blueprint:
#: the views are imported here, once every package exists, so a service importing another domain's
#: service never drags that domain's pages (and, behind them, every other domain) in a cycle.
ROUTED_DOMAINS = (
    "accounts",
    "api",
    "auth",
    "calendar",
    "comments",
    "dashboard",
    "evidence",
    "exports",
    "imports",
    "metrics",
    "milestones",
    "notifications",
    "recommendations",
    "reminders",
    "reports",
    "search",
    "submissions",
)


def register_blueprints(app: Flask) -> None:
    for domain in ROUTED_DOMAINS:
        importlib.import_module(f"app.{domain}.routes")
    importlib.import_module("app.auth.mfa_routes")
    from app.accounts import bp as accounts_bp
    from app.extensions import csrf
    from app.auth import bp as auth_bp
    from app.dashboard import bp as dashboard_bp
    from app.evidence import bp as evidence_bp
    from app.health import bp as health_bp
    from app.milestones import bp as milestones_bp
    from app.metrics import bp as metrics_bp
    from app.notifications import bp as notifications_bp
    from app.recommendations import bp as recommendations_bp
    from app.submissions import bp as submissions_bp
    from app.comments import bp as comments_bp
    from app.reports import bp as reports_bp
    from app.reminders import bp as reminders_bp
    from app.api import bp as api_bp
    from app.api.pages import tokens_bp
    from app.calendar import bp as calendar_bp
    from app.exports import bp as exports_bp
    from app.imports import bp as imports_bp
    from app.search import bp as search_bp

    app.register_blueprint(accounts_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(milestones_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(recommendations_bp)
    app.register_blueprint(submissions_bp)
    app.register_blueprint(comments_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(reminders_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the bearer token, not a cookie, authenticates API calls
    app.register_blueprint(tokens_bp)
    app.register_blueprint(calendar_bp)
    app.register_blueprint(exports_bp)
    app.register_blueprint(imports_bp)
    app.register_blueprint(search_bp)


def register_observability(app: Flask) -> None:
    """Request ids, JSON log lines and metrics: registered before the sign-in hook, so refusals count too."""
    from app.health.observe import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from flask import abort, request, session
    from flask_login import current_user, logout_user

    from app.auth.services import session_expired
    from app.extensions import login_manager
    from app.permissions import TOKEN_ACCESS
    from app.timeutil import utcnow

    @app.before_request
    def require_sign_in():
        if request.endpoint is None or request.endpoint == "static":
            return None
        view = app.view_functions.get(request.endpoint)
        access = getattr(view, "access", None)
        if access is None:
            abort(403)  # fail closed: a view that declares no rule serves nobody
        if access == "public" or access in TOKEN_ACCESS:
            return None  # API views check their bearer token themselves
        if current_user.is_authenticated:
            now = utcnow().timestamp()
            if session_expired(now):
                logout_user()
                session.clear()
                return login_manager.unauthorized()
            session["seen_at"] = now
            return None
        return login_manager.unauthorized()

    @app.before_request
    def refuse_control_characters():
        # SI-10: C0 control characters in query strings and form keys are a 400 naming the
        # parameter; form values are checked by every form (app/inputs.py), next to the field.
        from app.inputs import refuse_control_characters_in_request

        refuse_control_characters_in_request()

    @app.after_request
    def security_headers(response):
        from app.security import apply_security_headers

        return apply_security_headers(response)


def register_errors(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from app.templating import register

    register(app)
