"""The harness every test uses.

Each test gets a database of its own with a migrated template's contents: a file copy on
SQLite; on PostgreSQL (set ``TEST_DATABASE_URL`` to a server URL, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/test) a ``CREATE DATABASE … TEMPLATE`` clone
that, once its test is done, is put back as the template was (TRUNCATE, COPY, setval) and
lent to the next test of the worker: a clone writes the whole database (8 MB) to the WAL and
a drop waits for a checkpoint. The schema always comes from the Alembic migrations, so the
suite tests them too.

Under pytest-xdist every worker is its own process with its own templates (named after
the worker), its own live servers and its own browser. A test that asks for ``demo``
gets a clone of a second template, migrated and seeded once per worker, and a copy of
its evidence files: seeding the demo takes over a second, copying it a few milliseconds.
"""

import contextlib
import contextvars
import gc
import hashlib
import itertools
import os
import queue
import re
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from _pytest.nodeid import NodeId  # pytest 9.2: a node id is structured (see pytest_collection_modifyitems)
from jinja2 import BytecodeCache
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db as _db
from config import TestConfig
from tests.factories import PASSWORD, Factory

PG_URL = os.environ.get("TEST_DATABASE_URL")
# Every tmp_path (SQLite databases, evidence files) in memory when the machine has /dev/shm: on
# disk each SQLite commit waits 2 to 7 ms for fsync while the core sits idle, on tmpfs nothing.
# Still real SQLite files, WAL and all. Set PYTEST_DEBUG_TEMPROOT to put them elsewhere.
if os.access("/dev/shm", os.W_OK):
    os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", "/dev/shm")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_counter = itertools.count()
#: Threads per worker dropping the PostgreSQL databases tests are done with.
DROPPERS = 4
#: A PostgreSQL test database put back this many times is vacuumed (tests/conftest.py: _Resetter).
VACUUM_EVERY = 20
_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
MIGRATIONS = os.path.join(os.path.dirname(__file__), "..", "migrations")


class TrackerClient(FlaskClient):
    """A test client that knows how to send forms the way a browser does, CSRF token included.

    Each request runs in an empty context, so it pushes its own app context: its own ``g``
    and database session, as in production, not the ones the test itself holds open.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)

    def csrf_token(self, path: str = "/") -> str:
        page = self.get(path).get_data(as_text=True)
        match = _CSRF_RE.search(page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, url: str, data: dict | None = None, *, token_from: str | None = None, **kw):
        """Posts ``data`` with a CSRF token: read from the page ``token_from`` when it is named
        (which also checks that the page offers a form), else made from this client's session,
        as the page the form sits on would make it (a signed-in client only)."""
        data = dict(data or {})
        if "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token(token_from) if token_from else self.session_csrf_token()
        return self.post(url, data=data, **kw)

    def session_csrf_token(self, *, signed_in: bool = True) -> str:
        """The token Flask-WTF's ``generate_csrf()`` puts in a form, for this client's session."""
        app = self.application
        with self.session_transaction() as session:
            if signed_in:
                assert "_user_id" in session, "post_form without token_from is for a signed-in client"
            raw = session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
        secret = app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key
        return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)

    def sign_in(self, email: str, password: str = PASSWORD):
        """Posts the sign-in form with the token the sign-in page would give this session (the page
        itself is tested in test_auth.py; fetching it for every signed-in test only adds time)."""
        token = self.session_csrf_token(signed_in=False)
        return self.post("/sign-in", data={"csrf_token": token, "email": email, "password": password})


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept for the whole worker.

    Every test builds its own app and so its own Jinja environment; without this each
    one compiles every template it renders again. The key holds the template's source
    checksum, so an edited template is compiled afresh.
    """

    def __init__(self):
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._store.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_compiled_templates = _CompiledTemplates()


def _share_url_builders() -> None:
    """Lets every test's app reuse the URL builders the apps before it compiled.

    Werkzeug compiles two small Python functions per route (``url_for`` calls them) through the
    ``ast`` module when a rule is added: four fifths of ``create_app``, which every test calls.
    A builder depends only on its rule (path, defaults and their parsed parts) and is bound to
    the rule it serves, so one compiled for the same rule in an earlier app is the same function.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    builders: dict[tuple, object] = {}

    def shared(self, append_unknown: bool = True):
        key = (
            self.rule,
            self.subdomain,
            self.host,
            self.merge_slashes,
            self.map.host_matching,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
            append_unknown,
        )
        if key not in builders:
            builders[key] = compile_builder(self, append_unknown)
        return builders[key]

    Rule._compile_builder = shared  # type: ignore[method-assign]


_share_url_builders()


TESTS = Path(__file__).parent
TIERS = ("unit", "web", "e2e")


class _LoadGroups:
    """Under ``--dist loadgroup``, gives the tests of one ``xdist_group`` the ``@group`` suffix the
    scheduler groups by: pytest-xdist 3.8 sets ``item._nodeid``, which pytest 9.2 no longer reads
    (a node's id is ``item._id``), so without this the groups were silently ignored and each walked
    page was loaded once per test. Runs last: after ``-m``/``-k`` have deselected."""

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        if not config.getoption("loadgroup", default=False):  # set only in xdist workers
            return
        for item in items:
            names = sorted(
                {
                    str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
                    for mark in item.iter_markers("xdist_group")
                }
            )
            if names and "@" not in item.nodeid:
                item._id = NodeId.parse(f"{item.nodeid}@{'_'.join(names)}")


def pytest_configure(config):
    config.pluginmanager.register(_LoadGroups(), "tracker-loadgroups")


#: Tests that take seconds (most start processes: gunicorn, ``flask scheduler``, a second app),
#: run first: xdist hands tests out in collection order, and one of these started last kept one
#: worker busy for seconds after the other had finished. A renamed test merely runs in its place.
STARTED_FIRST = (
    "tests/web/test_cluster.py::test_two_servers_and_two_schedulers_on_one_database",
    "tests/web/test_crash.py::test_killing_the_worker_mid_request_leaves_the_database_consistent",
    "tests/web/test_audit_concurrency.py::test_parallel_requests_on_two_gunicorn_workers_keep_one_chain",
    "tests/web/test_odd_input.py::test_every_export_survives_any_stored_string",
    "tests/web/test_audit_concurrency.py::test_parallel_requests_on_the_threaded_server_keep_one_chain",
    "tests/web/test_spraying.py::test_spraying_two_gunicorn_workers_is_limited_at_the_shared_count",
    "tests/web/test_security.py::test_the_lockout_counter_holds_across_processes",
    "tests/web/test_api.py::test_schemathesis_finds_no_server_errors",
    "tests/web/test_security.py::test_hostile_input_on_every_form_never_gives_a_server_error",
    "tests/web/test_security.py::test_headers_on_every_page_for_every_role",
    "tests/web/test_spraying.py::test_failures_from_one_address_across_two_app_instances_are_counted_together",
    "tests/web/test_reminders_send.py::test_two_processes_started_at_once_send_each_message_once",
    "tests/web/test_exports.py::test_the_acknowledgements_of_a_closure_request_are_in_its_documents_and_the_live_plan",
    "tests/web/test_query_budgets.py::test_main_pages_have_a_fixed_query_budget",
)


def pytest_collection_modifyitems(items):
    """Marks each test with its tier, the folder it is in (``-m "not e2e"`` is ``make test-fast``),
    and moves the tests of ``STARTED_FIRST`` to the front, in that order.

    A file outside the three folders counts as ``web``. A unit test may not use the app.
    """
    for item in items:
        folder = Path(item.fspath).relative_to(TESTS).parts[0]
        tier = folder if folder in TIERS else "web"
        if tier == "unit" and "app" in getattr(item, "fixturenames", ()):
            raise pytest.UsageError(f"{item.nodeid} uses the app: tests/unit is for pure rules, move it to tests/web")
        item.add_marker(getattr(pytest.mark, tier))
    rank = {nodeid: i for i, nodeid in enumerate(STARTED_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid, len(rank)))  # stable: the rest keep their order


def pytest_collection_finish(session):
    """Spares the garbage collector the objects every test keeps: the modules, the collected tests.

    A worker's heap holds the whole app, SQLAlchemy and every collected test; with the default
    thresholds the collector walked it again and again (a sixth of a web test's CPU time, measured
    with ``gc.callbacks``). Frozen, the full collections skip it; with the larger thresholds the
    young generations, where each test's garbage is, are collected about a sixth as often.
    Reference counting still frees almost everything at once; only cycles wait longer.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)


def _config_for(url: str, tmp_path) -> type:
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        EVIDENCE_DIR = str(tmp_path / "evidence")
        AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.jsonl")
        AUDIT_CHECKPOINT_KEY = "test-checkpoint-key"

    return Config


#: One dialect and one cache of compiled SQL per kind of database, for the whole worker.
_shared_dialects: dict[str, tuple] = {}


def _share_compiled_statements(engine) -> None:
    """Lets every test's engine reuse the SQL compiled for the tests before it.

    SQLAlchemy caches compiled statements per engine, keyed by the engine's dialect object, so
    each test's new engine compiled every statement again (a quarter of a web test's time). The
    engines of one worker talk to the same server with the same driver: they take one dialect,
    initialised on a first connection, and one cache. Each engine keeps its own pool.
    """
    name = engine.url.drivername
    if name not in _shared_dialects:
        with engine.connect():
            pass  # initialises the dialect (server version and features) before it is shared
        _shared_dialects[name] = (engine.dialect, sa.util.LRUCache(20_000))
    engine.dialect, engine._compiled_cache = _shared_dialects[name]


def _test_app(url: str, tmp_path, config: type | None = None):
    app = create_app(config or _config_for(url, tmp_path))
    app.test_client_class = TrackerClient
    app.jinja_env.bytecode_cache = _compiled_templates
    with app.app_context():
        _share_compiled_statements(_db.engine)
    return app


def _migrate(url: str, tmp_path) -> None:
    from flask_migrate import upgrade

    app = create_app(_config_for(url, tmp_path))
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        _db.engine.dispose()


def _admin_engine():
    return sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


_SCHEMA_FINGERPRINT = """
SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
    SELECT 'c' || c.oid || ':' || c.relname || ':' || c.relkind::text || ':' || c.relnatts
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
    UNION ALL
    SELECT 'a' || a.attrelid || ':' || a.attnum || ':' || a.atttypid || ':' || a.attisdropped || ':'
           || a.attnotnull || ':' || a.atthasdef
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0
    UNION ALL SELECT 't' || oid || ':' || tgenabled::text FROM pg_trigger
    UNION ALL SELECT 'k' || oid FROM pg_constraint WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT 'n' || oid FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%'
    UNION ALL SELECT 'p' || oid FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'e' || oid FROM pg_extension
    UNION ALL SELECT 'd' || array_to_string(setconfig, ';') FROM pg_db_role_setting
) AS f(x)
"""


class _Snapshot:
    """A PostgreSQL test database's contents: its schema's fingerprint, the rows of every table
    (COPY's binary form) and where each sequence stood."""

    def __init__(self, fingerprint: str, tables: list[str], rows: dict[str, bytes], sequences: list[tuple]):
        self.fingerprint = fingerprint
        self.tables = tables
        self.rows = rows
        self.sequences = sequences


class _Resetter:
    """A connection to one PostgreSQL test database that reads its contents or puts them back."""

    def __init__(self, url: str):
        import psycopg

        conninfo = sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.conn = psycopg.connect(conninfo, autocommit=True)
        # A reset need not survive a crash of the server: the test database is dropped then anyway.
        self.conn.execute("SET synchronous_commit = off")
        #: Tables emptied by DELETE since this database's last VACUUM, and the resets so far.
        self._dirty: set[str] = set()
        self.resets = 0

    def _fingerprint(self) -> str:
        return self.conn.execute(_SCHEMA_FINGERPRINT).fetchone()[0]

    def read(self) -> _Snapshot:
        conn = self.conn
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        rows = {}
        with conn.transaction(), conn.cursor() as cur:
            for table in tables:
                if cur.execute(f'SELECT EXISTS (SELECT FROM public."{table}")').fetchone()[0]:
                    with cur.copy(f'COPY public."{table}" TO STDOUT (FORMAT binary)') as copy:
                        rows[table] = b"".join(bytes(block) for block in copy)
            sequences = cur.execute(
                "SELECT format('%I.%I', schemaname, sequencename), coalesce(last_value, start_value),"
                " last_value IS NOT NULL FROM pg_sequences"
            ).fetchall()
        return _Snapshot(self._fingerprint(), tables, rows, sequences)

    def _others(self) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]

    def reset(self, snapshot: _Snapshot) -> bool:
        """Puts the database back as ``snapshot`` found it; False (nothing done) when its schema
        changed or another connection is still on it after a second."""
        for _ in range(50):
            if not self._others():
                break
            time.sleep(0.02)
        else:
            return False
        if self._fingerprint() != snapshot.fingerprint:
            return False
        conn = self.conn
        probe = " UNION ALL ".join(
            f'SELECT {i} FROM (SELECT FROM public."{t}" LIMIT 1) AS x{i}' for i, t in enumerate(snapshot.tables)
        )
        filled = {snapshot.tables[r[0]] for r in conn.execute(probe)} | set(snapshot.rows)
        with conn.transaction(), conn.cursor() as cur:
            # Without triggers (the audit trail's guard, the search tables' upkeep) and foreign keys:
            # the rows go back exactly as they were read, and every table with a row is emptied, so
            # no row is left pointing at one that is gone. DELETE, not TRUNCATE: a TRUNCATE gives
            # each table and index a new file and makes every later connection read the table's
            # catalog entries again (92 ms a test for its 10 tables, three quarters of a reset).
            cur.execute("SET LOCAL session_replication_role = replica")
            for table in sorted(filled):
                cur.execute(f'DELETE FROM public."{table}"')
            for table, data in snapshot.rows.items():
                with cur.copy(f'COPY public."{table}" FROM STDIN (FORMAT binary)') as copy:
                    copy.write(data)
            if snapshot.sequences:
                cur.executemany("SELECT setval(%s::regclass, %s, %s)", snapshot.sequences)
        # The deleted rows' space, taken back now and then (the statistics reset below keeps
        # autovacuum from seeing them): a database is lent to hundreds of tests.
        self._dirty |= filled
        self.resets += 1
        if self.resets % VACUUM_EVERY == 0:
            conn.execute("VACUUM " + ", ".join(f'public."{t}"' for t in sorted(self._dirty)))
            self._dirty.clear()
        # Vacuum and analyze stamps, row counts: as on a new clone (a test reads them).
        conn.execute("SELECT pg_stat_reset()")
        return True

    def close(self) -> None:
        self.conn.close()


class _Databases:
    """Makes and drops this worker's databases: templates and the clones tests run on."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.prefix = f"tracker_{WORKER}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.engine = _admin_engine() if PG_URL else None
        self.made: set[str] = set()
        self._to_drop: queue.SimpleQueue = queue.SimpleQueue()
        self._droppers: list[threading.Thread] = []
        self._spare: dict[str, list[str]] = {}
        self._snapshots: dict[str, _Snapshot] = {}
        self._resetters: dict[str, _Resetter] = {}

    def url(self, name: str) -> str:
        if PG_URL:
            return sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        return f"sqlite:///{self.tmp / (name + '.db')}"

    def name(self, url: str) -> str:
        database = sa.make_url(url).database
        return database if PG_URL else os.path.basename(database)[: -len(".db")]

    def create(self, name: str, template: str | None = None) -> str:
        """A new database, empty or copied from ``template`` (a name this object made)."""
        if PG_URL:
            clause = f' TEMPLATE "{template}"' if template else ""
            with self.engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"{clause}'))
            self.made.add(name)
        elif template:
            shutil.copyfile(self.tmp / f"{template}.db", self.tmp / f"{name}.db")
        return self.url(name)

    def clone(self, template: str) -> str:
        return self.create(f"{self.prefix}_{next(_counter)}", template)

    def lend(self, template: str) -> str:
        """A database with ``template``'s contents for one test: on PostgreSQL one this worker
        lent before and has put back as it was (see ``take_back``), else a new clone."""
        if PG_URL:
            spare = self._spare.setdefault(template, [])
            if spare:
                return self.url(spare.pop())
        return self.clone(template)

    def take_back(self, url: str, template: str) -> None:
        """Ends a test's use of a database ``lend`` gave it. On PostgreSQL the database is put back
        in ``template``'s state and kept for the next test: a clone costs the server 8 MB of WAL
        and a drop a checkpoint, the reset a few milliseconds. A database whose schema the test
        changed, or that some connection still uses, is dropped instead."""
        if PG_URL:
            name = sa.make_url(url).database
            resetter = self._resetters.get(name) or _Resetter(url)
            self._resetters[name] = resetter
            snapshot = self._snapshots.get(template)
            if snapshot is not None and resetter.reset(snapshot):
                self._spare.setdefault(template, []).append(name)
                return
            resetter.close()
            del self._resetters[name]
        self.drop(url)

    def snapshot(self, url: str, template: str) -> None:
        """Reads ``template``'s contents from ``url``, a database cloned from it and not yet used."""
        if PG_URL and template not in self._snapshots:
            name = sa.make_url(url).database
            self._resetters[name] = _Resetter(url)
            self._snapshots[template] = self._resetters[name].read()

    def drop(self, url: str) -> None:
        name = sa.make_url(url).database
        if PG_URL:
            # DROP DATABASE waits for a checkpoint (a second or more on a busy server): threads
            # of this worker drop while the next tests run, several at once so that drops
            # requested together share one checkpoint.
            if not self._droppers:
                self._droppers = [threading.Thread(target=self._drop_queued, daemon=True) for _ in range(DROPPERS)]
                for thread in self._droppers:
                    thread.start()
            self._to_drop.put(name)
            return
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(name + suffix):
                os.remove(name + suffix)

    def _drop_now(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.made.discard(name)

    def _drop_queued(self) -> None:
        while (name := self._to_drop.get()) is not None:
            self._drop_now(name)

    def close(self) -> None:
        if PG_URL:
            for resetter in self._resetters.values():
                resetter.close()
            for _ in self._droppers:
                self._to_drop.put(None)
            for thread in self._droppers:
                thread.join()
            for name in sorted(self.made):
                self._drop_now(name)
            self.engine.dispose()


@pytest.fixture(scope="session")
def _databases(tmp_path_factory):
    databases = _Databases(tmp_path_factory.mktemp("db"))
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def database_template(_databases, _plain_template):
    """A migrated, empty database to clone for each test: yields ``(clone, drop)``.

    ``clone()`` makes a new database from the template and returns its URL; ``drop(url)``
    removes it.
    """
    yield (lambda: _databases.clone(_plain_template)), _databases.drop


@pytest.fixture
def fresh_instance(database_template, tmp_path):
    """A second instance: an empty migrated database and an empty evidence directory (a restore's target)."""
    clone, drop = database_template
    url = clone()
    app = create_app(_config_for(url, tmp_path / "fresh"))
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    drop(url)


@pytest.fixture(scope="session")
def _plain_template(_databases, tmp_path_factory) -> str:
    """The name of the migrated, empty template."""
    template = f"{_databases.prefix}_template"
    _migrate(_databases.create(template), tmp_path_factory.mktemp("migrate"))
    return template


@pytest.fixture(scope="session")
def demo_template(_databases, database_template, tmp_path_factory):
    """The demo seeded once into a template of its own: yields ``clone(tmp_path) -> url``.

    Seeded again if the day changes while the suite runs, since the demo's dates count from
    today. ``clone`` also copies the demo's evidence files into ``tmp_path / "evidence"``.
    """
    from app.demo import seed_demo
    from app.timeutil import today

    seeded: dict = {}

    def seed(day):
        work = tmp_path_factory.mktemp("demo")
        url = database_template[0]()
        app = _test_app(url, work)
        with app.app_context():
            seed_demo(PASSWORD, day)
            _db.session.commit()
            _db.session.remove()
            if not PG_URL:
                with _db.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            _db.engine.dispose()
        return _databases.name(url), work / "evidence"

    class Clone:
        def template(self, tmp_path) -> str:
            """Today's seeded template, its evidence files copied into ``tmp_path / "evidence"``."""
            day = today()
            if day not in seeded:
                seeded[day] = seed(day)
            name, evidence = seeded[day]
            if evidence.exists():
                shutil.copytree(evidence, tmp_path / "evidence", dirs_exist_ok=True)
            return name

        def __call__(self, tmp_path) -> str:
            return _databases.clone(self.template(tmp_path))

    yield Clone()


@pytest.fixture
def app(request, _databases, _plain_template, tmp_path):
    if "demo" in request.fixturenames:
        template = request.getfixturevalue("demo_template").template(tmp_path)
    else:
        template = _plain_template
    url = _databases.lend(template)
    _databases.snapshot(url, template)
    app = _test_app(url, tmp_path)
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()
    _databases.take_back(url, template)


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app):
    return Factory()


@pytest.fixture
def login_as(app, client, make, db):
    """``login_as("manager")`` signs ``client`` in as a new user of that role (or ``user=``)."""

    def login(role: str = "action_office", *, user=None, **kw):
        user = user or make.user(role, **kw)
        db.session.commit()
        response = client.sign_in(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login


@pytest.fixture
def demo(app, db):
    """The OIG-15-85 demo, with every demo user's password set to ``PASSWORD``.

    The ``app`` fixture already runs on a clone of the seeded demo template (it looks for this
    fixture among the test's), so there is nothing left to do here.
    """


# --- the browser -----------------------------------------------------------------

#: Debian's chromium-headless-shell by default (the Makefile says why); CHROMIUM picks another.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium-headless-shell")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # A new document in the same frame, not a new frame per document: a page load costs the
    # browser 0.14 instead of 0.19 CPU-s (measured over repeated loads of the dashboard), which
    # pages see no difference of. The browser tier's Chromium CPU: -11% on two journey files.
    "--disable-features=RenderDocument",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (Debian's package of that name)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


#: base URL -> the app ``_serve`` serves there.
_served: dict = {}


@contextlib.contextmanager
def _serve(app):
    """Serves ``app`` on a free loopback port in a thread of this process: yields its URL.

    The static files (USWDS's stylesheet, scripts, fonts and icons: a dozen per page) may be kept
    by the browser for the test: without a max-age it asks this server again on every page load,
    and each answer costs the test's process and the browser a request."""
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    server = make_server("127.0.0.1", 0, app, threaded=True)
    _served[f"http://127.0.0.1:{server.server_port}"] = app
    # shutdown() waits for the serving loop to look up: every half second by default, a quarter of
    # a second lost at the end of every browser test on average.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        del _served[f"http://127.0.0.1:{server.server_port}"]


@pytest.fixture
def live_server(app):
    """The test's app served on a free loopback port, in a thread of this process."""
    with _serve(app) as base:
        yield base


@contextlib.contextmanager
def browser_page(browser, base_url):
    """A page in a browser context of its own (one person's browser), collecting console errors
    in ``page.console_errors``; the context is closed on exit."""
    context = browser.new_context(base_url=base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.base_url = base_url
    page.console_errors = []
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))
    page.on("pageerror", lambda e: page.console_errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser, live_server):
    with browser_page(browser, live_server) as page:
        yield page


def sign_in_browser(
    page, email: str, password: str = PASSWORD, *, base_url: str | None = None, open: str | None = None
) -> None:
    """Signs the page's browser in as ``email`` and opens ``open``, else the page the sign-in form
    leads to (the dashboard).

    The test client posts the sign-in form to the app served at ``base_url`` (the page's own by
    default) and the browser is given the session cookie it answered with: one page load instead
    of loading the form, filling it and loading the next page. The form itself is driven in a
    browser by test_sign_in.py and test_security_keys.py."""
    base_url = base_url or page.base_url
    app = _served[base_url]
    client = app.test_client()
    response = client.sign_in(email, password)
    target = response.headers.get("Location", "")
    assert response.status_code == 302 and "/sign-in" not in target, f"{email} could not sign in"
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])
    page.goto(open or target)
    assert "/sign-in" not in page.url, f"{email} could not sign in"


@pytest.fixture
def sign_in(page):
    """``sign_in(email)``: the page's browser signed in as ``email``, on the dashboard (or on the
    page ``open=`` names: the dashboard is not loaded then)."""

    def sign_in(email: str, password: str = PASSWORD, *, open: str | None = None):
        sign_in_browser(page, email, password, open=open)

    return sign_in
