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


class Config:
    #: None means "generate one into instance/secret_key on first run" (see create_app).
    SECRET_KEY = os.environ.get("SECRET_KEY")
    #: None means "a SQLite file in the instance folder" (see create_app).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
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

    #: OWASP's 2023 floor for PBKDF2-HMAC-SHA256.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:600000"

    #: AC-7: this many failed sign-ins within the window lock the account for LOCKOUT_MINUTES.
    LOCKOUT_THRESHOLD = 5
    LOCKOUT_WINDOW_MINUTES = 15
    LOCKOUT_MINUTES = 15
    #: How long a one-time password reset link works.
    PASSWORD_RESET_MINUTES = int(os.environ.get("PASSWORD_RESET_MINUTES", str(24 * 60)))
    #: AC-2(3): accounts unused this long are deactivated by the scheduled job.
    IDLE_DEACTIVATION_DAYS = 90
    #: Behind a TLS-terminating proxy, trust its X-Forwarded-Proto/For (HSTS, Secure cookies, client address).
    TRUST_PROXY = _bool("TRUST_PROXY")
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
