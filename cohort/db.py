"""Database plumbing: the declarative base carrying our conventions, engines, sessions.

Plain SQLAlchemy 2 (no Flask-SQLAlchemy) so the same engine and metadata serve Flask,
the CLI, imports, benchmarks and Alembic alike.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return an aware UTC timestamp (the only clock the models read)."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Store aware datetimes as UTC; SQLite would otherwise drop the offset silently."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: pass an aware UTC datetime")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class UUIDText(sa.types.TypeDecorator[uuid.UUID]):
    """UUIDs as 36-char text on every backend, so raw SQL and dumps read the same."""

    impl = sa.String(36)
    cache_ok = True

    def process_bind_param(self, value: uuid.UUID | str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))

    def process_result_value(self, value: str | None, dialect: Any) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(value)


intpk = Annotated[int, mapped_column(primary_key=True)]
public_uuid = Annotated[
    uuid.UUID, mapped_column(UUIDText(), unique=True, default=uuid.uuid4, nullable=False)
]
created_at = Annotated[dt.datetime, mapped_column(UTCDateTime(), default=utcnow, nullable=False)]


class Model(DeclarativeBase):
    """Base of every table: naming convention (named constraints for batch migrations)."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: UTCDateTime(),
        uuid.UUID: UUIDText(),
        dict[str, Any]: sa.JSON(),
        list[Any]: sa.JSON(),
    }


T = TypeVar("T")

# The lengths IN lists of bulk look-ups are padded to (see padded).
_IN_LENGTHS = (1, 8, 64, 512, 2048, 5000)


def padded(values: Iterable[T]) -> list[T]:
    """The values with the last one repeated up to one of a few lengths, for an IN list.

    SQLite prepares one statement per distinct IN-list length, and its driver keeps the
    last 128 (about 0.75 MB each for 3,000 values): the imports' look-ups, whose lists vary
    in length from chunk to chunk, filled that cache with about 100 MB. A repeated value
    changes nothing an IN selects."""
    out = list(values)
    if out:
        length = next((n for n in _IN_LENGTHS if n >= len(out)), len(out))
        out.extend([out[-1]] * (length - len(out)))
    return out


_CONNECTION = "cohort.connection"


def core(session: Session) -> Connection:
    """The session's connection, for Core statements on paths run for every request.

    A statement through the Session costs several times what it costs on its
    connection (ORM compilation and result machinery); pending ORM changes are flushed
    first, as the Session's autoflush would have done. Sessions of make_sessionmaker
    remember their transaction's connection (asking the Session for it each time cost
    about 0.1 ms).
    """
    session.flush()
    connection: Connection | None = session.info.get(_CONNECTION)
    return connection if connection is not None else session.connection()


def _remember_connection(session: Session, _transaction: Any, connection: Connection) -> None:
    session.info[_CONNECTION] = connection


def _forget_connection(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost transaction ended: its connection went
        session.info.pop(_CONNECTION, None)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


_CHANGES_AT_BEGIN = "cohort_changes_at_begin"
NUMBER_CHANGES = ("UPDATE data_change SET mark = (SELECT coalesce(max(mark), 0) + 1 "
                   "FROM data_change) WHERE mark = 0")


def make_engine(url: str, *, foreign_keys: bool = True, **kwargs: Any) -> Engine:
    """Create an engine; on SQLite turn on WAL, foreign keys and a busy timeout per connection.

    Migrations pass ``foreign_keys=False``: Alembic batch mode copies and drops tables, and
    with the pragma on, dropping a parent cascades into its children (stack-notes P1).
    """
    if not is_sqlite(url):
        from cohort.partitions import translate

        parsed, options = _prepared_statements(url, kwargs)
        engine = sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True, **options)
        # A write past the last history partition: a refusal naming the command to run.
        event.listen(engine, "handle_error", translate)
        return engine
    engine = sa.create_engine(url, hide_parameters=True, **kwargs)
    in_memory = url in ("sqlite://", "sqlite:///") or ":memory:" in url

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so SAVEPOINTs and isolation behave (pysqlite docs).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=10000")
        # Up to 16 MiB of pages per connection, taken as used (the default is 2 MiB): the
        # indicator and report statements re-read the same index pages, and with the
        # default much of a report's time went to read() calls. 64 MiB was no faster and
        # doubled the report's memory, its sorts growing with the cache (bench/report.py).
        cur.execute("PRAGMA cache_size=-16384")
        # Erased identities, pseudonyms and hashes are overwritten, not left in free pages.
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "close")
    def _optimize(dbapi_conn: Any, _record: Any) -> None:
        # SQLite's advice for its 3.40 line: "PRAGMA optimize" just before closing each
        # connection, so that statistics follow the data between `cohort db analyze` runs
        # (it only analyses the tables whose indexes this connection's queries used).
        if not in_memory:
            with contextlib.suppress(sqlite3.Error):  # a busy or read-only file: no stats
                dbapi_conn.execute("PRAGMA optimize")

    @event.listens_for(engine, "commit")
    def _number_changes(conn: Any) -> None:
        # The data change log's pending days (mark 0, written by the triggers of
        # migration 0024) get the next mark as the transaction commits: one writer at a
        # time, so marks follow commit order (cohort.indicators.published). Only after
        # writes: in a read-only transaction the UPDATE would ask for the write lock.
        driver = conn.connection.driver_connection
        if driver.total_changes == conn.info.get(_CHANGES_AT_BEGIN):
            return
        try:
            driver.execute(NUMBER_CHANGES)
        except sqlite3.OperationalError as exc:  # a database before migration 0024
            if "no such table" not in str(exc):
                raise

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: two writers queue on busy_timeout
        # instead of failing with "database is locked" when the reader upgrades.
        # Read-only work (start-up checks, reports) asks for a plain deferred BEGIN.
        # Sent on the driver's connection: through exec_driver_sql it cost as much as a
        # statement, twice per request.
        read_only = conn.get_execution_options().get("cohort_read_only")
        driver = conn.connection.driver_connection
        driver.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")
        conn.info[_CHANGES_AT_BEGIN] = driver.total_changes

    return engine


def _prepared_statements(url: str, kwargs: dict[str, Any]) -> tuple[sa.URL, dict[str, Any]]:
    """psycopg's ``prepare_threshold`` taken from the URL (``?prepare_threshold=none``).

    psycopg prepares a statement on the server once a connection has run it 5 times;
    behind PgBouncer in transaction mode (1.18 keeps no track of prepared statements) the
    next transaction may land on another server connection and fail with "prepared
    statement "_pg3_…" does not exist". A URL through such a pooler says
    ``prepare_threshold=none`` (docs/deployment.md), which reaches every engine of the
    service — requests, CLI, migrations — as the URL does."""
    parsed = sa.make_url(url)
    value = parsed.query.get("prepare_threshold")
    if value is None:
        return parsed, kwargs
    if not isinstance(value, str) or not (value.lower() == "none" or value.isdigit()):
        raise ValueError("prepare_threshold in the database URL: none or a whole number")
    connect_args = {**kwargs.get("connect_args", {}),
                    "prepare_threshold": None if value.lower() == "none" else int(value)}
    return (parsed.difference_update_query(["prepare_threshold"]),
            {**kwargs, "connect_args": connect_args})


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    factory = sessionmaker(engine, expire_on_commit=False)
    event.listen(factory, "after_begin", _remember_connection)
    event.listen(factory, "after_transaction_end", _forget_connection)
    return factory


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


def checkpoint(engine: Engine) -> None:
    """SQLite: fold the WAL into the database file and truncate it.

    After an erasure the old page images (pseudonym, seal) would otherwise stay in the WAL
    until the next checkpoint. Runs on a raw connection: a checkpoint cannot run inside
    the transaction SQLAlchemy would begin. No-op on PostgreSQL.
    """
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        # Best effort: a busy database checkpoints by itself later; never stall a request.
        driver.execute("PRAGMA busy_timeout=1000")
        driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        driver.execute("PRAGMA busy_timeout=10000")
    finally:
        raw.close()


def refresh_statistics(engine: Engine) -> None:
    """Let the query planner see the data as it is now (issue 23).

    Neither database gathered statistics on its own soon enough: SQLite never does unless
    asked, and PostgreSQL's autovacuum came 20 s after a large import, the first requests
    paying for plans made on empty tables. Run after imports and by `cohort db analyze`
    (cron); on SQLite `ANALYZE` then `PRAGMA optimize`, on PostgreSQL `ANALYZE`."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("PRAGMA optimize")
        else:
            connection.exec_driver_sql("ANALYZE")
        connection.commit()
