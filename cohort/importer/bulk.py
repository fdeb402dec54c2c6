"""Bulk inserts of ready-made rows: executemany on SQLite, COPY on PostgreSQL.

The big imports hand over plain tuples of values the driver takes as they are (strings,
numbers, booleans, dates, JSON text), in the form SQLAlchemy itself would bind them, so no
per-value type processing is left: ``Connection.execute(insert(...), dicts)`` costs about
three times as much per row here (docs/performance.md). Column names come from the
table's metadata, quoted by the dialect. Values that are the same for every row (the
recording time) are rendered once through the column's own type.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cohort.partitions import storage_not_ready


class BulkInsert:
    """Insert rows (tuples in ``columns`` order) into ``table`` within the connection's
    transaction."""

    def __init__(self, conn: Connection, table: sa.Table, columns: Sequence[str]):
        self.conn = conn
        self.table = table
        self.columns = list(columns)
        # Neither COPY nor a precompiled statement fills Python-side defaults in.
        unfilled = [c.name for c in table.c if c.default is not None and c.name not in columns]
        if unfilled:
            raise ValueError(f"bulk insert into {table.name} must give {', '.join(unfilled)}")
        self.postgres = conn.dialect.name == "postgresql"
        quote = conn.dialect.identifier_preparer.quote
        names = ", ".join(quote(c) for c in self.columns)
        if self.postgres:
            self.sql = f"COPY {quote(table.name)} ({names}) FROM STDIN"
        elif conn.dialect.paramstyle == "qmark":
            marks = ", ".join("?" for _ in self.columns)
            # Names from our own metadata, quoted by the dialect; values are bound.
            self.sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
        else:
            raise ValueError(f"bulk insert: unsupported driver {conn.dialect.driver}")

    def render(self, column: str, value: Any) -> Any:
        """One value as the column's type binds it on this database (for constants)."""
        process = self.table.c[column].type.bind_processor(self.conn.dialect)
        return value if process is None else process(value)

    def insert(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows already in wire form (see the module docstring)."""
        if not rows:
            return
        if not self.postgres:
            self.conn.exec_driver_sql(self.sql, rows)
            return
        raw = self.conn.connection.driver_connection
        try:
            with raw.cursor() as cursor, cursor.copy(self.sql) as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
        except Exception as exc:
            # COPY bypasses SQLAlchemy's error hook: a row past the last partition is
            # refused here the same way (cohort/partitions.py).
            refusal = storage_not_ready(exc)
            if refusal is not None:
                raise refusal from None
            raise
