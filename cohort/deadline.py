"""A deadline on the statements of a block, enforced by the database itself.

An aggregate over centuries (or a plan gone wrong) used to hold a worker until gunicorn
killed it, answering an HTML 500, and on SQLite it held the write lock all along. Here the
database stops the statement: SQLite through a progress handler that interrupts it,
PostgreSQL through `SET LOCAL statement_timeout`; both come back as StatementTimeout
(503 JSON), and the request's transaction is rolled back as for any error.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.errors import StatementTimeout

# SQLite calls the handler every this many virtual-machine instructions (~0.1 ms).
SQLITE_STEPS = 1000
MESSAGE = "the query took longer than {seconds:g} s and was stopped: narrow the period"


@contextmanager
def statement_deadline(session: Session, seconds: float) -> Iterator[None]:
    """Stop any statement of this block still running `seconds` after the block began."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        driver = connection.connection.driver_connection
        deadline = time.monotonic() + seconds
        driver.set_progress_handler(lambda: int(time.monotonic() > deadline), SQLITE_STEPS)
        try:
            yield
        except sa.exc.OperationalError as exc:
            if "interrupted" in str(exc.orig):
                raise StatementTimeout(MESSAGE.format(seconds=seconds)) from None
            raise
        finally:
            driver.set_progress_handler(None, 0)
        return
    before = connection.exec_driver_sql("SHOW statement_timeout").scalar_one()
    connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}")
    try:
        yield
    except sa.exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
            raise StatementTimeout(MESSAGE.format(seconds=seconds)) from None
        raise
    connection.exec_driver_sql("SELECT set_config('statement_timeout', %s, true)",
                               (before,))
