"""partitioned history on PostgreSQL: event and event_interval by year, audit_entry by month

The three tables that grow with time are converted in place into declarative range
partitions (issue 20): ``event`` on its date, ``event_interval`` on its start date, one
partition a year, and ``audit_entry`` on ``at``, one a month (UTC bounds). Each also gets
a partition for everything before its first period, so history never lacks a home; the
partitions run through the end of next year, and ``cohort db partitions create`` adds the
following ones ahead of time. A write past the last one fails (no default partition), and
the application names the command to run (cohort/partitions.py).

A unique key of a partitioned table must contain its partition key, so on PostgreSQL:
- the primary keys become (id, date), (id, start_date) and (id, at); ids still come from
  the same sequences, which alone number the rows;
- ``event.uuid`` is unique per (uuid, date), and a trigger refuses a uuid already stored
  on another date (``cohort.services.events`` serialises concurrent claims of one uuid);
  ``audit_entry.hash`` is unique per (hash, at) (the chain itself forbids a repeat);
- the six foreign keys to ``event.id`` cannot exist: triggers check them instead, with
  the same outcome (the referenced row locked FOR KEY SHARE as PostgreSQL's own foreign
  keys do, a delete of a referenced event refused).
SQLite keeps plain tables: this revision does nothing there.

The conversion copies the rows into the new partitions and rebuilds the indexes, so its
time grows with the history (see docs/operations.md, "Partitioned history"). The downgrade
copies them back into plain tables with the former keys.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03 09:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table, partition key, period, columns of its unique keys (named as the models name them)
PARTITIONED = (
    ("event", "date", "year", {"uq_event_uuid": "uuid"}),
    ("event_interval", "start_date", "year", {}),
    ("audit_entry", "at", "month", {"uq_audit_entry_hash": "hash"}),
)
# The foreign keys to event.id, checked by triggers once event is partitioned.
EVENT_REFERENCES = (
    ("event", "closes_id"),
    ("event", "corrects_id"),
    ("event_void", "event_id"),
    ("event_interval", "start_event_id"),
    ("event_interval", "end_event_id"),
    ("alert", "event_id"),
)
# Yearly partitions start here: a few years before the 2023 convention, since events may
# precede a first enrolment by a year and partners import older history.
FIRST_YEAR = 2020
APPEND_ONLY_TRIGGER = (
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
)


def _fk_name(table: str, column: str) -> str:
    return f"fk_{table}_{column}_event"


def _referencing_tables() -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    for table, column in EVENT_REFERENCES:
        tables.setdefault(table, []).append(column)
    return tables


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in EVENT_REFERENCES:
        op.drop_constraint(_fk_name(table, column), table, type_="foreignkey")
    for table, key, period, uniques in PARTITIONED:
        _partition(table, key, period, uniques)
    op.execute(APPEND_ONLY_TRIGGER)
    _create_reference_triggers()
    op.execute("ANALYZE event, event_interval, audit_entry")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _drop_reference_triggers()
    for table, _key, _period, uniques in reversed(PARTITIONED):
        _unpartition(table, uniques)
    op.execute(APPEND_ONLY_TRIGGER)
    for table, column in EVENT_REFERENCES:
        op.create_foreign_key(_fk_name(table, column), table, "event", [column], ["id"],
                              ondelete="RESTRICT")


def _definitions(table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The table's plain indexes (as CREATE statements) and its foreign keys (name and
    definition), to build again on the converted table."""
    conn = op.get_bind()
    indexes = conn.execute(sa.text(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = CAST(:t AS regclass) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "                AND c.conrelid = i.indrelid) ORDER BY 1"), {"t": table}).scalars()
    # A partitioned table's own index reads "ON ONLY table": the plain table takes it whole.
    creates = [sql.replace(" ON ONLY ", " ON ") for sql in indexes]
    fks = conn.execute(sa.text(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f' ORDER BY 1"),
        {"t": table}).all()
    return creates, [(name, sql) for name, sql in fks]


def _swap(table: str, partition_by: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Rename ``table`` aside and create its replacement (same columns, defaults, checks);
    the sequence of its id is detached so that dropping the old table keeps it."""
    creates, fks = _definitions(table)
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    op.execute(f"CREATE TABLE {table} (LIKE {table}_old INCLUDING DEFAULTS "
               f"INCLUDING CONSTRAINTS){partition_by}")
    return creates, fks


def _finish(table: str, keys: list[str], creates: list[str],
            fks: list[tuple[str, str]]) -> None:
    """Copy the rows, drop the old table, then build the keys and indexes (whose names
    the old table held) on the new one."""
    op.execute(f"INSERT INTO {table} SELECT * FROM {table}_old")  # noqa: S608 - our names
    op.execute(f"DROP TABLE {table}_old")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    for sql in keys + creates:
        op.execute(sql)
    for name, sql in fks:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {sql}")


def _partition(table: str, key: str, period: str, uniques: dict[str, str]) -> None:
    conn = op.get_bind()
    low, high, now = conn.execute(sa.text(
        f"SELECT min({key}), max({key}), now() FROM {table}")).one()  # noqa: S608 - our names
    creates, fks = _swap(table, f" PARTITION BY RANGE ({key})")
    for sql in _partitions(table, period, low, high, now):
        op.execute(sql)
    _finish(table, [f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id, {key})",
                    *(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({column}, {key})"
                      for name, column in uniques.items())], creates, fks)


def _unpartition(table: str, uniques: dict[str, str]) -> None:
    creates, fks = _swap(table, "")
    _finish(table, [f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY (id)",
                    *(f"ALTER TABLE {table} ADD CONSTRAINT {name} UNIQUE ({column})"
                      for name, column in uniques.items())], creates, fks)


def _partitions(table: str, period: str, low: object, high: object, now: object) -> list[str]:
    """Years from 2020 (or the first stored one if earlier), months from the current one
    (or the first stored one), through the end of next year; plus one partition for
    everything before the first."""
    this_year = now.year  # type: ignore[attr-defined]
    if period == "year":
        first = min(low.year if low else FIRST_YEAR, FIRST_YEAR)  # type: ignore[attr-defined]
        last = max(high.year if high else this_year, this_year + 1)  # type: ignore[attr-defined]
        starts = [(y, 1) for y in range(first, last + 1)]
    else:
        start = (low.year, low.month) if low else (this_year, now.month)  # type: ignore[attr-defined]
        first_month = min(start, (this_year, now.month))  # type: ignore[attr-defined]
        end = max((high.year, high.month) if high else first_month,  # type: ignore[attr-defined]
                  (this_year + 1, 12))
        starts = []
        y, m = first_month
        while (y, m) <= end:
            starts.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    statements = []
    first_y, first_m = starts[0]
    statements.append(
        f"CREATE TABLE {table}_before_{_suffix(period, first_y, first_m)} PARTITION OF "
        f"{table} FOR VALUES FROM (MINVALUE) TO ({_bound(period, first_y, first_m)})")
    for y, m in starts:
        ny, nm = (y + 1, 1) if period == "year" else ((y + 1, 1) if m == 12 else (y, m + 1))
        statements.append(
            f"CREATE TABLE {table}_{_suffix(period, y, m)} PARTITION OF {table} "
            f"FOR VALUES FROM ({_bound(period, y, m)}) TO ({_bound(period, ny, nm)})")
    return statements


def _suffix(period: str, year: int, month: int) -> str:
    return f"y{year}" if period == "year" else f"m{year}_{month:02d}"


def _bound(period: str, year: int, month: int) -> str:
    # Timestamps bounds in UTC whatever the session's time zone.
    return (f"'{year}-01-01'" if period == "year"
            else f"'{year}-{month:02d}-01 00:00:00+00'")


def _create_reference_triggers() -> None:
    """Each referencing table checks its new or changed references (the event locked FOR
    KEY SHARE, as a foreign key would); a delete of events still referenced is refused."""
    for table, columns in _referencing_tables().items():
        checks = "\n".join(
            f"""
            IF NEW.{column} IS NOT NULL THEN
                PERFORM 1 FROM event WHERE id = NEW.{column} FOR KEY SHARE;
                IF NOT FOUND THEN
                    RAISE EXCEPTION 'insert or update on table "{table}" violates foreign key '
                        '"{_fk_name(table, column)}"'
                        USING ERRCODE = 'foreign_key_violation',
                              DETAIL = format('Key ({column})=(%s) is not present in table '
                                              '"event".', NEW.{column});
                END IF;
            END IF;""" for column in columns)
        op.execute(f"""
            CREATE FUNCTION {table}_event_references() RETURNS trigger AS $$
            BEGIN{checks}
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql""")
        op.execute(
            f"CREATE TRIGGER {table}_event_references AFTER INSERT OR UPDATE OF "
            f"{', '.join(columns)} ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION {table}_event_references()")
    still = "\n                OR ".join(
        f"EXISTS (SELECT 1 FROM {table} r JOIN gone g ON r.{column} = g.id)"
        for table, column in EVENT_REFERENCES)
    op.execute(f"""
        CREATE FUNCTION event_still_referenced() RETURNS trigger AS $$
        BEGIN
            IF {still} THEN
                RAISE EXCEPTION 'update or delete on table "event" violates a foreign key: '
                    'a deleted event is still referenced'
                    USING ERRCODE = 'foreign_key_violation';
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql""")
    op.execute("CREATE TRIGGER event_still_referenced AFTER DELETE ON event "
               "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
               "EXECUTE FUNCTION event_still_referenced()")
    op.execute("""
        CREATE FUNCTION event_uuid_unique() RETURNS trigger AS $$
        BEGIN
            IF EXISTS (SELECT 1 FROM event WHERE uuid = NEW.uuid AND date <> NEW.date) THEN
                RAISE EXCEPTION 'duplicate key value violates unique constraint "uq_event_uuid"'
                    USING ERRCODE = 'unique_violation',
                          DETAIL = 'Key (uuid) already exists on another date.';
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql""")
    op.execute("CREATE TRIGGER event_uuid_unique AFTER INSERT OR UPDATE OF uuid ON event "
               "FOR EACH ROW EXECUTE FUNCTION event_uuid_unique()")


def _drop_reference_triggers() -> None:
    op.execute("DROP TRIGGER event_uuid_unique ON event")
    op.execute("DROP FUNCTION event_uuid_unique()")
    op.execute("DROP TRIGGER event_still_referenced ON event")
    op.execute("DROP FUNCTION event_still_referenced()")
    for table in _referencing_tables():
        op.execute(f"DROP TRIGGER {table}_event_references ON {table}")
        op.execute(f"DROP FUNCTION {table}_event_references()")
