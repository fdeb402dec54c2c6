"""Per-request database access for the shells: one session, one transaction; and the
read replica the statistics read from when one is configured (READ_DATABASE_URL)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, current_app, g
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from cohort.db import core, make_engine, make_sessionmaker
from cohort.identity.keyring import Keyring

log = logging.getLogger("cohort.replica")

# A replica that cannot be reached is not tried again for this long (per process): every
# statistics request would otherwise wait for its connection attempt first.
REPLICA_RETRY_SECONDS = 30
# libpq's connect_timeout for the replica (a host that drops packets, not one that refuses).
REPLICA_CONNECT_TIMEOUT_SECONDS = 3

# How far the replica is behind, in seconds: 0 when it streams from the primary and has
# replayed all it received; otherwise the age of the last transaction it replayed (the
# primary may be idle, or the replica cut off from it). Not a standby: 0.
LAG_SQL = """
SELECT CASE
  WHEN NOT pg_is_in_recovery() THEN 0
  WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
       AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0
  ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())
END
"""


@dataclass(frozen=True)
class ReadSource:
    """Where a request's statistics were read: on the replica (with its lag in seconds, None
    when it has replayed nothing yet) or on the primary because the replica was down."""

    replica: bool
    lag_seconds: float | None = None

    def header(self) -> str:
        if not self.replica:
            return "primary; replica-unavailable"
        lag = "unknown" if self.lag_seconds is None else f"{self.lag_seconds:.1f}"
        return f"replica; lag={lag}"


class _ReplicaState:
    """When the replica may be tried again after a failed connection (per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._retry_at = 0.0

    def due(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._retry_at

    def failed(self) -> None:
        with self._lock:
            self._retry_at = time.monotonic() + REPLICA_RETRY_SECONDS


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["cohort.engine"] = engine
    app.extensions["cohort.sessionmaker"] = make_sessionmaker(engine)
    if read_url := app.config.get("READ_DATABASE_URL"):
        # Read-only at the server too: a replica URL pointed at the primary by mistake
        # still cannot be written through.
        replica = make_engine(read_url, connect_args={
            "connect_timeout": REPLICA_CONNECT_TIMEOUT_SECONDS,
            "options": "-c default_transaction_read_only=on"})
        app.extensions["cohort.read_engine"] = replica
        app.extensions["cohort.read_sessionmaker"] = make_sessionmaker(replica)
        app.extensions["cohort.replica_state"] = _ReplicaState()

    @app.teardown_appcontext
    def _close(exc: BaseException | None) -> None:
        session: Session | None = g.pop("cohort_session", None)
        if session is not None:
            session.close()

    @app.after_request
    def _read_source(response: Response) -> Response:
        source: ReadSource | None = g.get("cohort_read_source")
        if source is not None:
            response.headers["Cohort-Read-Source"] = source.header()
        return response


def sessions() -> sessionmaker[Session]:
    factory: sessionmaker[Session] = current_app.extensions["cohort.sessionmaker"]
    return factory


def session() -> Session:
    """The request's session (created lazily, closed at teardown)."""
    if "cohort_session" not in g:
        g.cohort_session = sessions()()
    current: Session = g.cohort_session
    return current


@contextmanager
def reading() -> Iterator[Session]:
    """A read transaction of its own on the request's session, ended before the request's
    unit of work begins.

    On SQLite every unit of work takes the write lock at its first statement (BEGIN
    IMMEDIATE, see cohort.db), so requests run one at a time from there to their commit;
    authenticating in a plain BEGIN keeps that read (and the parsing of the body that
    follows it) out of the locked part. PostgreSQL has no such lock: one transaction.
    """
    s = session()
    if s.get_bind().dialect.name != "sqlite":
        yield s
        return
    s.connection(execution_options={"cohort_read_only": True})
    try:
        yield s
    finally:
        s.rollback()


@contextmanager
def reader() -> Iterator[Connection]:
    """A connection for the reads that precede the request's unit of work (authentication).

    As ``reading`` does, and for the same reason, it reads on SQLite in a plain BEGIN of
    its own, outside the write lock; here on a pooled connection without a Session, which
    costs a tenth of a request less. On PostgreSQL: the request session's connection.
    """
    bind = session().get_bind()
    if bind.dialect.name == "sqlite" and isinstance(bind, Engine):
        with bind.connect() as connection:
            yield connection.execution_options(cohort_read_only=True)
        return
    with reading() as s:  # also when tests bind the sessions to one connection
        yield core(s)


@contextmanager
def transaction() -> Iterator[Session]:
    """The request's unit of work: commit on success, roll back on any error."""
    s = session()
    try:
        yield s
        s.commit()
    except BaseException:
        s.rollback()
        raise


def read_source() -> ReadSource | None:
    """Where this request's statistics were read (None: no replica configured)."""
    source: ReadSource | None = g.get("cohort_read_source")
    return source


@contextmanager
def statistics(*, audited: bool) -> Iterator[tuple[Session, Session | None]]:
    """Sessions for read-only statistics: ``(reads, writes)``.

    With a replica configured and reachable, ``reads`` is a read-only session on it and
    ``writes`` (``audited``: the audit entries of the queries) the request's unit of work
    on the primary, committed at the end; a standby accepts no write, so what the
    statistics must record goes there. Without a replica (always on SQLite), or when it
    cannot be reached, both are the request's unit of work on the primary as before
    (``audited``), or its read transaction and None."""
    with _replica() as replica:
        if replica is None:
            with transaction() if audited else reading() as s:
                yield s, (s if audited else None)
        elif audited:
            with transaction() as s:
                yield replica, s
        else:
            yield replica, None


@contextmanager
def _replica() -> Iterator[Session | None]:
    """A session on the replica, its lag read (``g.cohort_read_source``); None when no
    replica is configured or it cannot be reached (a warning is logged, and the replica
    is left alone for REPLICA_RETRY_SECONDS)."""
    factory: sessionmaker[Session] | None = current_app.extensions.get(
        "cohort.read_sessionmaker")
    if factory is None:
        yield None
        return
    state: _ReplicaState = current_app.extensions["cohort.replica_state"]
    replica: Session | None = None
    if state.due():
        replica = factory()
        try:
            lag = replica.execute(sa.text(LAG_SQL)).scalar_one()
        except sa.exc.OperationalError as exc:  # refused, timed out, shutting down
            replica.close()
            replica = None
            state.failed()
            # The driver's first line: which server and why, never a participant.
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            log.warning("read replica unreachable, statistics read on the primary "
                        "(replica retried in %d s): %s", REPLICA_RETRY_SECONDS, reason)
    if replica is None:
        g.cohort_read_source = ReadSource(replica=False)
        yield None
        return
    g.cohort_read_source = ReadSource(replica=True,
                                      lag_seconds=None if lag is None else float(lag))
    try:
        yield replica
    finally:
        replica.rollback()  # read only: nothing to keep
        replica.close()


def keyring() -> Keyring:
    ring: Keyring = current_app.extensions["cohort.keyring"]
    return ring


def setting(name: str) -> Any:
    return current_app.config[name]


def ledger_path() -> Path | None:
    """Where erasures are also written, outside the database (None: not configured)."""
    value = current_app.config.get("ERASURE_LEDGER_FILE")
    return Path(value) if value else None


def checkpoint() -> None:
    """After an erasure on SQLite, fold the WAL into the file and truncate it, so the old
    page images (with the destroyed pseudonym and seal) do not linger in the WAL."""
    from cohort.db import checkpoint as checkpoint_engine

    checkpoint_engine(current_app.extensions["cohort.engine"])
