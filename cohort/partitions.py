"""Partitioned history on PostgreSQL (migration 0023): the partitions, their coverage, and
the error a write past the last one gets.

``event`` is partitioned on its date and ``event_interval`` on its start date, a partition
a year (``event_y2027``); ``audit_entry`` on ``at``, a partition a month in UTC
(``audit_entry_m2027_01``); each also has one partition for everything before its first
period (``event_before_y2020``). There is no partition after the last one on purpose: a
write there fails at once and names the command that creates the next periods, instead of
piling a year's rows into a default partition that would have to be split under lock.
SQLite keeps plain tables, and everything here is a no-op there.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cohort.errors import CohortError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class History:
    table: str
    key: str
    period: str  # "year" or "month"
    field: str  # what a refused write names: the input behind the partition key


HISTORY = (
    History("event", "date", "year", "date"),
    History("event_interval", "start_date", "year", "date"),
    History("audit_entry", "at", "month", "at"),
)
BY_TABLE = {h.table: h for h in HISTORY}
PARTITION = re.compile(
    r"^(?P<table>event|event_interval|audit_entry)_(?P<before>before_)?"
    r"(?:y(?P<year>\d{4})|m(?P<myear>\d{4})_(?P<month>\d{2}))$")
# What PostgreSQL cannot declare on a partitioned table, enforced otherwise (migration
# 0023): unique keys widened with the partition key, foreign keys to event.id checked by
# triggers. `alembic check` leaves them out of its comparison on PostgreSQL (env.py).
WIDENED_UNIQUES = frozenset({"uq_event_uuid", "uq_audit_entry_hash"})
TRIGGER_CHECKED_FKS = frozenset({
    "fk_event_closes_id_event", "fk_event_corrects_id_event", "fk_event_void_event_id_event",
    "fk_event_interval_start_event_id_event", "fk_event_interval_end_event_id_event",
    "fk_alert_event_id_event",
})
# Waiting longer for a running report to release the parent table would queue every
# write behind the partition being created.
LOCK_TIMEOUT = "5s"


class StorageNotReady(CohortError):
    """A write falls past the last partition: an administrator must create the next ones."""

    status = 503
    code = "storage_not_ready"


def is_partitioned(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


# SQLite's data change log keeps one row per day (upserted by its triggers, migration
# 0024); PostgreSQL's keeps one per statement, so the unique index exists on SQLite only.
SQLITE_ONLY_INDEXES = frozenset({"ix_data_change_day_sqlite"})


def in_comparison(name: str | None, type_: str, dialect: str) -> bool:
    """Whether `alembic check` compares this object (env.py): partitions are not in the
    models, and the keys above differ from them by design on PostgreSQL."""
    if dialect == "sqlite" and type_ == "index":
        return name not in SQLITE_ONLY_INDEXES
    if dialect != "postgresql" or name is None:
        return True
    if type_ == "table":
        return PARTITION.match(name) is None
    if type_ == "unique_constraint":
        return name not in WIDENED_UNIQUES
    if type_ == "foreign_key_constraint":
        return name not in TRIGGER_CHECKED_FKS
    return True


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # exclusive

    def name(self, history: History) -> str:
        if history.period == "year":
            return f"{history.table}_y{self.start.year}"
        return f"{history.table}_m{self.start.year}_{self.start.month:02d}"


def period_of(history: History, day: dt.date) -> Period:
    if history.period == "year":
        return Period(dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1))
    start = day.replace(day=1)
    return Period(start, (start + dt.timedelta(days=32)).replace(day=1))


@dataclass(frozen=True)
class Coverage:
    table: str
    partitions: int
    through: dt.date | None  # the last day a write may fall on; None: not partitioned


def coverage(conn: Connection) -> list[Coverage]:
    """How far each history table's partitions reach."""
    if not is_partitioned(conn):
        return [Coverage(h.table, 0, None) for h in HISTORY]
    names = conn.execute(sa.text(
        "SELECT p.relname, c.relname FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent "
        "WHERE p.relname IN ('event', 'event_interval', 'audit_entry')")).all()
    result = []
    for history in HISTORY:
        ends = [_period_end(m) for parent, name in names if parent == history.table
                if (m := PARTITION.match(name)) and not m["before"]]
        last = max(ends, default=None)
        result.append(Coverage(history.table, sum(1 for p, _ in names if p == history.table),
                               last - dt.timedelta(days=1) if last else None))
    return result


def _period_end(match: re.Match[str]) -> dt.date:
    if match["year"]:
        return dt.date(int(match["year"]) + 1, 1, 1)
    year, month = int(match["myear"]), int(match["month"])
    return dt.date(year + 1, 1, 1) if month == 12 else dt.date(year, month + 1, 1)


def create_through(conn: Connection, last_day: dt.date) -> list[str]:
    """Create every missing period after each table's last partition, through the one
    holding ``last_day``; the names created (none when already covered). Indexes,
    constraints and triggers come from the parent."""
    if not is_partitioned(conn):
        return []
    created = []
    conn.execute(sa.text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    for cover in coverage(conn):
        history = BY_TABLE[cover.table]
        if cover.through is None:
            continue
        day = cover.through + dt.timedelta(days=1)
        while day <= last_day:
            period = period_of(history, day)
            name = period.name(history)
            conn.execute(sa.text(
                f"CREATE TABLE {name} PARTITION OF {history.table} FOR VALUES FROM "
                f"({_bound(history, period.start)}) TO ({_bound(history, period.end)})"))
            created.append(name)
            day = period.end
    return created


def _bound(history: History, day: dt.date) -> str:
    # Timestamp bounds in UTC whatever the session's time zone.
    return f"'{day.isoformat()}'" if history.period == "year" else f"'{day.isoformat()} 00:00+00'"


def shortfalls(conn: Connection, must_reach: dt.date) -> list[str]:
    """Why the partitions do not hold writes through ``must_reach``, table by table."""
    problems = []
    for cover in coverage(conn):
        if cover.through is not None and cover.through < must_reach:
            problems.append(f"{cover.table}: partitions end on {cover.through.isoformat()}, "
                            f"writes up to {must_reach.isoformat()} must fit")
    return problems


_NO_PARTITION = re.compile(r'no partition of relation "(?P<table>[a-z_]+)" found for row')
_KEY_VALUE = re.compile(r"\((?P<key>[a-z_]+)\) = \((?P<value>[^)]*)\)")


def storage_not_ready(error: BaseException) -> StorageNotReady | None:
    """The refusal for a driver error raised by a write past the last partition, logged
    loudly with the command that fixes it; None for any other error."""
    text = str(error)
    found = _NO_PARTITION.search(text)
    if found is None or found["table"] not in BY_TABLE:
        return None
    history = BY_TABLE[found["table"]]
    value = _KEY_VALUE.search(getattr(getattr(error, "diag", None), "message_detail", None)
                              or text)
    year = value["value"][:4] if value and value["value"][:4].isdigit() else None
    through = f" --through {year}-12-31" if year else ""
    log.error("no partition of %s holds %s: run `cohort db partitions create%s`",
              history.table, f"year {year}" if year else "this row", through)
    reason = (f"no partition of the {history.table} history holds year {year} yet"
              if year else f"no partition of the {history.table} history holds this row")
    return StorageNotReady(
        f"{reason}; an administrator must run `cohort db partitions create{through}`",
        errors={history.field: [reason]})


def translate(exc: Any) -> Any:
    """SQLAlchemy ``handle_error`` hook: a write past the last partition becomes a
    ``StorageNotReady`` refusal (and not an integrity error a service could take for a
    duplicate)."""
    return storage_not_ready(exc.original_exception)
