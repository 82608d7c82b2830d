"""Configuration read from the environment.

Every setting has a safe default for a developer's machine; production sets the
environment. ``TestConfig`` is what the test suite passes to ``create_app``.
"""

import os


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(raw: str | None) -> str | None:
    """Platform-style URLs name no driver (``postgres://`` is not even a SQLAlchemy dialect): use psycopg 3."""
    if not raw:
        return raw
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix) :]
    return raw


class Config:
    #: None means "generate one into instance/secret_key on first run" (see create_app).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    #: None means "a SQLite file in the instance folder" (see create_app).
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    EVIDENCE_DIR = os.environ.get("EVIDENCE_DIR")
    #: Virus scanner run on every upload before it is accepted, e.g. "clamdscan --no-summary {path}".
    EVIDENCE_SCAN_COMMAND = os.environ.get("EVIDENCE_SCAN_COMMAND")
    EVIDENCE_SCAN_TIMEOUT = int(os.environ.get("EVIDENCE_SCAN_TIMEOUT", "120"))

    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "tracker@example.gov")
    #: Absolute base for links in emails, which are sent outside any request; unset, the local
    #: development server on PORT (what `make run` serves).
    BASE_URL = (os.environ.get("BASE_URL") or f"http://127.0.0.1:{os.environ.get('PORT') or '5000'}").rstrip("/")

    #: Single sign-on through the agency's OpenID Connect provider: on when OIDC_ISSUER and
    #: OIDC_CLIENT_ID are set. The issuer's /.well-known/openid-configuration gives the endpoints.
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "").strip().rstrip("/")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "").strip()
    #: Either a client secret, or the PEM private key that signs private_key_jwt assertions (Login.gov).
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET") or None
    OIDC_PRIVATE_KEY_FILE = os.environ.get("OIDC_PRIVATE_KEY_FILE") or None
    #: The button reads "Sign in with <name>".
    OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "your agency account")
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email")
    #: e.g. Login.gov's "http://idmanagement.gov/ns/assurance/aal/3?hspd12=true" for PIV/CAC.
    OIDC_ACR_VALUES = os.environ.get("OIDC_ACR_VALUES", "")
    #: "off" hides and refuses the password form while single sign-on is on (break-glass accounts excepted).
    PASSWORD_SIGN_IN = _bool("PASSWORD_SIGN_IN", True)
    #: Roles that must use a security key after their password, e.g. "oig_reviewer,admin".
    MFA_REQUIRED_ROLES = os.environ.get("MFA_REQUIRED_ROLES", "")
    #: WebAuthn's relying party name, shown by the browser when a key is registered.
    WEBAUTHN_RP_NAME = os.environ.get("WEBAUTHN_RP_NAME", "Corrective Action Tracker")

    #: OWASP's 2023 floor for PBKDF2-HMAC-SHA256.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:600000"

    #: AC-7: this many failed sign-ins within the window lock the account for LOCKOUT_MINUTES.
    LOCKOUT_THRESHOLD = 5
    LOCKOUT_WINDOW_MINUTES = 15
    LOCKOUT_MINUTES = 15
    #: AC-7 against password spraying: this many failed sign-ins from one client address within the
    #: window refuse every sign-in from it (429) until the window ends. Shared by all workers (database).
    SIGN_IN_ADDRESS_LIMIT = int(os.environ.get("SIGN_IN_ADDRESS_LIMIT", "30"))
    SIGN_IN_ADDRESS_WINDOW_MINUTES = int(os.environ.get("SIGN_IN_ADDRESS_WINDOW_MINUTES", "15"))
    #: How long a one-time password reset link works.
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", str(24 * 60)))
    #: AC-2(3): accounts unused this long are deactivated by the scheduled job.
    IDLE_DEACTIVATION_DAYS = 90
    #: HMAC key signing the audit chain's checkpoints; unset: a key generated into instance/audit_checkpoint_key.
    #: Keep it where the database's administrators cannot write.
    AUDIT_CHECKPOINT_KEY = os.environ.get("AUDIT_CHECKPOINT_KEY")
    #: Append-only file of signed checkpoints; unset: instance/audit-checkpoints.jsonl.
    AUDIT_CHECKPOINT_FILE = os.environ.get("AUDIT_CHECKPOINT_FILE")
    AUDIT_CHECKPOINT_MINUTES = int(os.environ.get("AUDIT_CHECKPOINT_MINUTES", "60"))
    #: Behind a TLS-terminating proxy, trust its X-Forwarded-Proto/For (HSTS, Secure cookies, client address).
    TRUST_PROXY = _bool("TRUST_PROXY")
    #: Scheduler election (see app/reminders/leader.py): a standby takes over at most LEASE + POLL
    #: seconds after the leader stops renewing (SQLite), or at its next poll (PostgreSQL).
    SCHEDULER_LEASE_SECONDS = float(os.environ.get("SCHEDULER_LEASE_SECONDS", "30"))
    SCHEDULER_POLL_SECONDS = float(os.environ.get("SCHEDULER_POLL_SECONDS", "10"))
    #: How often the leader sends pending mail, and when a claim of a dead sender is released.
    REMINDERS_DELIVER_SECONDS = float(os.environ.get("REMINDERS_DELIVER_SECONDS", "60"))
    REMINDERS_CLAIM_LEASE_SECONDS = float(os.environ.get("REMINDERS_CLAIM_LEASE_SECONDS", "600"))
    #: How many hosts run this app (`flask check` refuses SQLite for more than one).
    TRACKER_HOSTS = int(os.environ.get("TRACKER_HOSTS", "1"))
    #: /metrics answers these addresses (comma-separated networks) or a bearer METRICS_TOKEN.
    METRICS_ALLOW = os.environ.get("METRICS_ALLOW", "127.0.0.1/8,::1/128")
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN")
    #: Application logs as JSON lines on stderr (one line per request).
    LOG_JSON = _bool("LOG_JSON", True)
    #: /readyz answers 503 when the scheduler's heartbeat is stale (off: it only reports it).
    READYZ_REQUIRE_SCHEDULER = _bool("READYZ_REQUIRE_SCHEDULER")
    #: Never on in production: set here, it wins over FLASK_DEBUG in the environment.
    DEBUG = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    WTF_CSRF_TIME_LIMIT = None  # the session bounds the token's life
    #: bench/run.py only: a bare route as the floor, and an X-Query-Count header on every response.
    BENCH_MODE = _bool("TRACKER_BENCH_MODE")
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(100 * 1024 * 1024)))


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    #: Hashing at production strength would make every sign-in in the suite slow.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    MAIL_SERVER = None
    MAIL_SUPPRESS_SEND = False
    LOG_JSON = False
