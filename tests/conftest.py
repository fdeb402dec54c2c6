"""Test fixtures: a migrated database per backend (SQLite and PostgreSQL 15), a savepoint
per test, the Flask app bound to it, and keys generated for the run.

PostgreSQL is started from /usr/lib/postgresql/15/bin on a unix socket in a temporary
folder (as the ``postgres`` user when we are root: the server refuses to run as root).
``COHORT_TEST_DATABASE_URL`` points at an already running server instead. In CI a missing
PostgreSQL fails the run; on a laptop without it the PostgreSQL half is skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.orm import Session, sessionmaker

from cohort import create_app
from cohort.cli import alembic_config
from cohort.config import PROJECT_ROOT
from cohort.db import make_engine
from cohort.identity.keyring import generate_key_file, load_keyring

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
PROGRAMME_FILE = PROJECT_ROOT / "config" / "programmes" / "erbm-2023.toml"
TODAY = dt.date(2024, 6, 15)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=["all", "sqlite", "postgresql"], default="all",
                     help="database backends to run the database tests on")
    parser.addoption("--database-tests-only", action="store_true",
                     help="run only the tests parametrised by backend (and the end-of-run "
                          "checks): `make test` runs the PostgreSQL half this way, beside "
                          "a SQLite run of everything")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--backend")
        backends = ["sqlite", "postgresql"] if choice == "all" else [choice]
        metafunc.parametrize("backend", backends, scope="session")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the plaintext check last, after every other test has written its data."""
    if config.getoption("--database-tests-only"):
        kept, dropped = [], []
        for item in items:
            callspec = getattr(item, "callspec", None)
            on_backend = callspec is not None and "backend" in callspec.params
            last = item.get_closest_marker("last_in_run") is not None
            (kept if on_backend or last else dropped).append(item)
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
    items.sort(key=lambda item: (item.get_closest_marker("last_in_run") is not None,
                                 item.get_closest_marker("first_in_run") is None))


@pytest.fixture(scope="session", autouse=True)
def all_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every log line of the run, from every logger, in one file the last test reads."""
    import logging

    path = tmp_path_factory.getbasetemp() / "all-logs.txt"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("cohort"), logging.getLogger("werkzeug")]
    for logger in loggers:
        logger.addHandler(handler)
    yield path
    for logger in loggers:
        logger.removeHandler(handler)
    handler.close()


def _as_postgres(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, cwd="/", capture_output=True, text=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A throwaway PostgreSQL 15 server for the whole run (unix socket, fsync off)."""
    if url := os.environ.get("COHORT_TEST_DATABASE_URL"):
        yield url
        return
    if not os.path.exists(f"{PGBIN}/pg_ctl"):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL 15 binaries missing in {PGBIN} (required in CI)")
        pytest.skip("PostgreSQL binaries not installed")
    root = tempfile.mkdtemp(prefix="cohort-pg.")
    if os.geteuid() == 0:
        if subprocess.run(["id", "postgres"], capture_output=True).returncode:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        shutil.chown(root, "postgres")
    data = f"{root}/data"
    _as_postgres([f"{PGBIN}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-locale"])
    _as_postgres([f"{PGBIN}/pg_ctl", "-D", data, "-l", f"{root}/server.log", "-w", "-t", "60",
                  "-o", f"-c listen_addresses='' -c unix_socket_directories='{root}' "
                  "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                  "-c max_connections=200", "start"])
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={root}"
    finally:
        _as_postgres([f"{PGBIN}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Replica:
    """A hot standby of the test cluster, streaming from it (see ``pg_replica``)."""

    primary_host: str
    root: str
    data: str
    running: bool = True

    def url(self, primary_url: str) -> str:
        """The same database as ``primary_url``, read on the standby."""
        url = sa.make_url(primary_url)
        assert url.query.get("host") == self.primary_host, "a database of the test cluster"
        return url.update_query_dict({"host": self.root}).render_as_string(hide_password=False)

    def wait_for(self, primary_url: str) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        primary = sa.create_engine(primary_url, poolclass=sa.NullPool)
        standby = sa.create_engine(self.url(primary_url), poolclass=sa.NullPool)
        try:
            with primary.connect() as conn:
                target = conn.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar_one()
            with standby.connect() as conn:
                for _ in range(3000):  # 30 s at most: a standby that never catches up fails
                    if conn.exec_driver_sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                            (target,)).scalar_one():
                        return
                    conn.rollback()
                    time.sleep(0.01)
            raise AssertionError(f"the standby did not replay up to {target}")
        finally:
            primary.dispose()
            standby.dispose()

    def stop(self) -> None:
        if self.running:
            _as_postgres([f"{PGBIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"])
            self.running = False


@pytest.fixture(scope="module")
def pg_replica(pg_server: str) -> Iterator[Replica]:
    """A second cluster, a hot standby of the test cluster, for one module's tests.

    ``pg_basebackup -R`` (the same binaries, as the same user) copies the primary and
    writes its primary_conninfo; the standby listens on a unix socket of its own. The
    primary needs nothing beyond what initdb gives: wal_level=replica, max_wal_senders=10
    and a ``local replication all trust`` line in pg_hba.conf are its defaults. The copy
    holds every database of the cluster (about 8 MB each), so the modules that use it are
    marked ``first_in_run``; the standby is stopped at the end of the module, so the rest
    of the run does not replay its writes on it."""
    host = sa.make_url(pg_server).query.get("host")
    if os.environ.get("COHORT_TEST_DATABASE_URL") or not isinstance(host, str):
        pytest.skip("a standby is made from the fixture's own PostgreSQL server only "
                    "(COHORT_TEST_DATABASE_URL is set)")
    root = tempfile.mkdtemp(prefix="cohort-pg-replica.")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data = f"{root}/data"
    # No sync of the copy (the cluster runs with fsync=off) and no manifest: seconds less.
    _as_postgres([f"{PGBIN}/pg_basebackup", "-h", host, "-U", "postgres", "-D", data, "-R",
                  "-X", "stream", "-c", "fast", "--no-sync", "--no-manifest"])
    _as_postgres([f"{PGBIN}/pg_ctl", "-D", data, "-l", f"{root}/server.log", "-w", "-t", "60",
                  "-o", f"-c listen_addresses='' -c unix_socket_directories='{root}' "
                  "-c fsync=off -c max_connections=200 -c hot_standby_feedback=on", "start"])
    replica = Replica(primary_host=host, root=root, data=data)
    try:
        yield replica
    finally:
        replica.stop()
        shutil.rmtree(root, ignore_errors=True)


PGBOUNCER = os.environ.get("PGBOUNCER", "/usr/sbin/pgbouncer")


@dataclass
class Pooler:
    """PgBouncer in transaction mode in front of the test cluster (see ``pg_bouncer``)."""

    primary_host: str
    root: str
    pid: int

    def url(self, primary_url: str) -> str:
        """The same database as ``primary_url``, reached through the pooler (without
        server-side prepared statements, which PgBouncer 1.18 cannot follow)."""
        url = sa.make_url(primary_url)
        assert url.query.get("host") == self.primary_host, "a database of the test cluster"
        return url.update_query_dict({"host": self.root, "port": "6432",
                                      "prepare_threshold": "none"}).render_as_string(
            hide_password=False)


@pytest.fixture(scope="module")
def pg_bouncer(pg_server: str) -> Iterator[Pooler]:
    """Debian's PgBouncer (1.18) in transaction mode in front of the test cluster, for one
    module's tests: unix socket only, every database of the cluster, few server
    connections (3 per database) so that client transactions really share them. 3 is
    what a report needs at once with REPORT_WORKERS=2: the request's own transaction
    and one per worker (docs/deployment.md, "PgBouncer"); a client left waiting for a
    server connection fails after 10 s instead of PgBouncer's default 120 s."""
    host = sa.make_url(pg_server).query.get("host")
    if not isinstance(host, str):
        pytest.skip("the pooler is put in front of the fixture's own PostgreSQL server only")
    if not os.path.exists(PGBOUNCER):
        if os.environ.get("CI"):
            pytest.fail(f"PgBouncer missing at {PGBOUNCER} (required in CI: .ci/run installs it)")
        pytest.skip(f"PgBouncer not installed ({PGBOUNCER} missing; Debian: apt-get install "
                    "pgbouncer)")
    root = tempfile.mkdtemp(prefix="cohort-pgbouncer.")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    ini = Path(root) / "pgbouncer.ini"
    ini.write_text(f"""[databases]
* = host={host} port=5432 user=postgres

[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = {root}
auth_type = any
pool_mode = transaction
default_pool_size = 3
max_client_conn = 200
query_wait_timeout = 10
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
ignore_startup_parameters = extra_float_digits
""", encoding="utf-8")
    _as_postgres([PGBOUNCER, "-d", str(ini)])  # daemonises once it listens
    pidfile = Path(root) / "pgbouncer.pid"
    for _ in range(500):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        time.sleep(0.01)
    pooler = Pooler(primary_host=host, root=root, pid=int(pidfile.read_text()))
    try:
        yield pooler
    finally:
        os.kill(pooler.pid, signal.SIGTERM)  # the daemon this fixture started
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def keys_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "test-keys.toml"
    generate_key_file(path, demo=False)
    return path


@pytest.fixture(scope="session")
def keyring(keys_file: Path) -> Any:
    return load_keyring(str(keys_file), env={})


def empty_database(backend: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    """A new database on the backend with nothing in it: a file on SQLite, a database of
    its own on the test server on PostgreSQL."""
    if backend == "sqlite":
        return f"sqlite:///{tmp}/cohort-{uuid.uuid4().hex[:8]}.db"
    server = request.getfixturevalue("pg_server")
    name = "t_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False)


def new_database(backend: str, tmp: Path, request: pytest.FixtureRequest) -> str:
    """An empty database on the backend, migrated to head, with the programme loaded."""
    url = empty_database(backend, tmp, request)
    command.upgrade(alembic_config(url), "head")
    _load_programme(url)
    return url


def _load_programme(url: str) -> None:
    from cohort.services.programmes import load_programme_file

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        load_programme_file(session, PROGRAMME_FILE)
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory,
                 request: pytest.FixtureRequest) -> str:
    """One migrated database per backend for the whole run (tests roll back)."""
    return new_database(backend, tmp_path_factory.mktemp(backend), request)


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database of the test's own, for tests that need real commits (concurrency, CLI)."""
    return new_database(backend, tmp_path, request)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One connection and an outer transaction rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


@pytest.fixture
def session_factory(connection: sa.Connection) -> sessionmaker[Session]:
    # Every commit the code under test makes only releases a savepoint.
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def app(database_url: str, keys_file: Path, session_factory: sessionmaker[Session],
        tmp_path: Path) -> Iterator[Any]:
    app = create_app({"TESTING": True, "DATABASE_URL": database_url,
                      "KEYS_FILE": str(keys_file), "SESSION_COOKIE_SECURE": False,
                      "WTF_CSRF_ENABLED": True,
                      "ERASURE_LEDGER_FILE": str(tmp_path / "erasure-ledger.jsonl")})
    app.extensions["cohort.sessionmaker"] = session_factory
    yield app
    app.extensions["cohort.engine"].dispose()


@pytest.fixture
def client(app: Any) -> Any:
    """An anonymous client (no token, no session)."""
    return app.test_client()


@pytest.fixture
def people(session: Session) -> dict[str, Any]:
    """Structures and users of every role, with tokens (see tests/builders.py `cast`)."""
    from tests.builders import cast

    made = cast(session)
    session.commit()  # releases the savepoint: the app's sessions see the rows
    return made


def admin_client(app: Any) -> Any:
    """For tests on a database of their own: an administrator with a token."""
    from cohort.actors import SYSTEM
    from cohort.db import unit_of_work
    from cohort.services import accounts, structures
    from tests.builders import token_client

    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        home = structures.create_structure(s, SYSTEM, {
            "name": "Département du Pas-de-Calais", "kind": "departement", "departement": "62"})
        user = accounts.create_user(s, SYSTEM, {
            "email": "admin@example.org", "display_name": "admin", "structure_id": home.uuid,
            "role": "admin", "password": None}, now=dt.datetime.now(dt.UTC))
        secret = accounts.create_token(s, SYSTEM, user, label="tests", days=1,
                                       now=dt.datetime.now(dt.UTC)).secret
    return token_client(app, secret)


def clone(client: Any) -> Any:
    """Another client with the same credentials (one per thread in concurrency tests)."""
    twin = client.application.test_client()
    twin.environ_base.update(client.environ_base)
    return twin


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright; one per test run (CI installs it: never skipped)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
