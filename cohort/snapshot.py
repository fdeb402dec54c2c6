"""Several read-only sessions that all see one and the same state of the database.

A long read such as the execution report runs dozens of independent aggregate statements;
spread over two connections they use both cores (SQLite releases the GIL while a statement
runs, PostgreSQL runs each connection in its own backend). The figures must still add up,
so every connection reads the same state:

- PostgreSQL: the first connection exports its REPEATABLE READ snapshot and the others
  import it (``SET TRANSACTION SNAPSHOT``), as ``pg_dump --jobs`` does;
- SQLite (WAL): each connection pins its snapshot with a first read; ``PRAGMA
  data_version``, read on a control connection before and after, changes if any other
  connection committed in between, in which case the connections are opened again.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Hashable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

ATTEMPTS = 5
K = TypeVar("K", bound=Hashable)
_SNAPSHOT_ID = re.compile(r"^[0-9A-Fa-f-]+$")


def can_share(engine: Engine) -> bool:
    """An in-memory SQLite database is private to its connection: nothing to share."""
    url = engine.url
    return url.get_backend_name() != "sqlite" or url.database not in (None, "", ":memory:")


@contextmanager
def shared_snapshot(engine: Engine, count: int, *,
                    between: Callable[[], None] | None = None) -> Iterator[list[Session]]:
    """``count`` read-only sessions on one state of the database (rolled back at the end).

    ``between`` runs after the first connection has pinned its snapshot and before the
    others do: tests use it to commit a write in that window."""
    with ExitStack() as stack:
        if engine.dialect.name == "postgresql":
            connections = _postgresql(engine, count, stack, between)
        else:
            connections = _sqlite(engine, count, stack, between)
        sessions = [stack.enter_context(Session(bind=c, autoflush=False))
                    for c in connections]
        yield sessions


def run_shared(engine: Engine, tasks: Mapping[K, Callable[[Session], Any]],
               workers: int) -> dict[K, Any]:
    """Run independent read-only tasks on ``workers`` connections that share one snapshot,
    each connection taking the next task when it is free (give the longest first). The
    calling thread is one of the workers; the first error is raised once all have stopped."""
    pending = list(tasks.items())
    results: dict[K, Any] = {}
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(session: Session) -> None:
        while True:
            with lock:
                if errors or not pending:
                    return
                key, task = pending.pop(0)
            try:
                value = task(session)
            except BaseException as exc:  # re-raised in the calling thread below
                with lock:
                    errors.append(exc)
                return
            with lock:
                results[key] = value

    with shared_snapshot(engine, max(1, min(workers, len(pending)))) as sessions:
        helpers = [threading.Thread(target=work, args=(s,), daemon=True) for s in sessions[1:]]
        for helper in helpers:
            helper.start()
        work(sessions[0])
        for helper in helpers:
            helper.join()
    if errors:
        raise errors[0]
    return results


def _read_only(stack: ExitStack, engine: Engine, **options: Any) -> Connection:
    connection = stack.enter_context(engine.connect())
    if options.get("postgresql_readonly") and _in_hot_standby(connection):
        # A standby (READ_DATABASE_URL) has read-only transactions only; setting the mode
        # would have the pool reset it to read-write afterwards, which the standby refuses.
        options = {k: v for k, v in options.items() if k != "postgresql_readonly"}
    connection.execution_options(**options)
    stack.enter_context(connection.begin())  # rolled back: nothing is ever written here
    return connection


def _in_hot_standby(connection: Connection) -> bool:
    """Whether the server is a hot standby (reported by PostgreSQL ≥ 14 at connection)."""
    info = getattr(connection.connection.driver_connection, "info", None)
    return info is not None and info.parameter_status("in_hot_standby") == "on"


def _postgresql(engine: Engine, count: int, stack: ExitStack,
                between: Callable[[], None] | None) -> list[Connection]:
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    leader = _read_only(stack, engine, **options)
    snapshot = leader.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    if not _SNAPSHOT_ID.match(snapshot):  # a server-made id, checked before it is quoted
        raise RuntimeError("unexpected snapshot id from PostgreSQL")
    if between:
        between()
    connections = [leader]
    for _ in range(count - 1):
        follower = _read_only(stack, engine, **options)
        follower.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        connections.append(follower)
    return connections


def _sqlite(engine: Engine, count: int, stack: ExitStack,
            between: Callable[[], None] | None) -> list[Connection]:
    with engine.connect() as control:
        control.execution_options(cohort_read_only=True)
        for _ in range(ATTEMPTS):
            with ExitStack() as attempt:
                before = _data_version(control)
                connections = []
                for index in range(count):
                    connection = _read_only(attempt, engine, cohort_read_only=True)
                    # The first read pins this connection's snapshot of the WAL.
                    connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
                    connections.append(connection)
                    if index == 0 and between:
                        between()
                if _data_version(control) == before:
                    stack.enter_context(attempt.pop_all())
                    return connections
            # A commit landed in between (the snapshots may differ): closed, tried again.
    # Writers kept committing in the window: one connection sees one state by itself.
    return [_read_only(stack, engine, cohort_read_only=True)]


def _data_version(control: Connection) -> int:
    version: int = control.exec_driver_sql("PRAGMA data_version").scalar_one()
    control.rollback()  # no transaction left open on the control connection
    return version


__all__ = ["can_share", "run_shared", "shared_snapshot"]
