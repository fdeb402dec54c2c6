"""data change log: which dates each write can change, for the published store

``cohort publish`` stored each cut with a digest of whole-table aggregates, recomputed on
every evaluator request to know whether the cut was still current: it grew with the data
(55 ms at 100,000 events, over a second at 3,000,000), and any write made every cut stale
(issue 20). Database triggers now log, for every write to a table the indicators read,
the earliest date whose figures it can change (``day``; 0001-01-01 when any date). A cut
as of A stays current while no write logged since it was computed has ``day`` ≤ A: the
day's new events and enrolments, dated after the end of last month, leave it current.

- PostgreSQL: one row per writing statement (statement triggers over the transition
  tables), ``mark`` the writer's transaction id. A cut keeps the snapshot it was computed
  in, and a logged write is "since" when that snapshot does not see its transaction: no
  row lock shared by writers, and a transaction in flight during ``publish`` counts once
  it commits.
- SQLite: one row per day (row triggers, upserted), marked 0 (pending) by the writes and
  numbered by the connection as it commits (cohort.db), a counter above every earlier
  mark; SQLite has one writer at a time, so marks follow commit order, a cut keeps the
  highest mark it saw, and a pending day counts as changed.

Enrolment updates that only end the enrolment (end date, exit reason) log the earlier of
the old and new end dates; any other change logs its start date. Event voids log the
voided event's date; follow-up checks their window's start; operations, participants'
attributes, links between records and erasures log "any date".

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANY = "DATE '0001-01-01'"
NEVER = "DATE '9999-12-31'"
ENDING = ("end_date", "exit_reason", "end_recorded_at", "version")
ENROLMENT_OTHERS = (
    "participant_id", "action_id", "structure_id", "start_date", "rsa_at_entry",
    "age_at_entry", "under_26", "ase_past", "parent_child_0_3", "intensity", "forced",
    "cancelled_at",
)
PARTICIPANT_ATTRIBUTES = ("merged_into_id", "birth_month", "sex", "home_departement",
                          "home_epci", "ase_past")

# table: (day of an inserted or deleted row `r`, day of an update from `o` to `n`), as SQL.
BY_ROW = {
    "event": ("r.date", "least(o.date, n.date)"),
    "event_void": (f"coalesce((SELECT e.date FROM event e WHERE e.id = r.event_id), {ANY})",
                   f"coalesce((SELECT min(e.date) FROM event e "
                   f"WHERE e.id IN (o.event_id, n.event_id)), {ANY})"),
    "followup_check": ("r.window_start", "least(o.window_start, n.window_start)"),
}
WHOLE = ("operation", "participant_link", "erasure")


def upgrade() -> None:
    op.create_table(
        "data_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("mark", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_change")),
    )
    with op.batch_alter_table("data_change", schema=None) as batch_op:
        batch_op.create_index("ix_data_change_mark", ["mark", "day"], unique=False)
    with op.batch_alter_table("published_aggregate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("watermark", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        op.create_index("ix_data_change_day_sqlite", "data_change", ["day"], unique=True)
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*BY_ROW, "enrolment", *WHOLE, "participant"):
            for suffix in ("insert", "update", "delete", "any"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_logged_{suffix} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_log_change() CASCADE")
        op.execute("DROP FUNCTION log_any_change()")
    else:
        for name in op.get_bind().exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE '%_logged_%'").scalars().all():
            op.execute(f"DROP TRIGGER {name}")
        op.drop_index("ix_data_change_day_sqlite", "data_change")
    with op.batch_alter_table("published_aggregate", schema=None) as batch_op:
        batch_op.drop_column("watermark")
    with op.batch_alter_table("data_change", schema=None) as batch_op:
        batch_op.drop_index("ix_data_change_mark")
    op.drop_table("data_change")


# --- PostgreSQL: statement triggers over the transition tables --------------------------

_MARK = "pg_current_xact_id()::text::bigint"


def _postgresql_triggers() -> None:
    for table, (row_day, update_day) in BY_ROW.items():
        _transition_triggers(table, row_day, f"SELECT min({update_day}) FROM old_rows o "
                                             "JOIN new_rows n ON n.id = o.id")
    ending = " OR ".join(f"o.{c} IS DISTINCT FROM n.{c}" for c in ENROLMENT_OTHERS)
    _transition_triggers(
        "enrolment", "r.start_date",
        f"SELECT min(CASE WHEN {ending} THEN least(o.start_date, n.start_date) "
        f"ELSE least(coalesce(o.end_date, {NEVER}), coalesce(n.end_date, {NEVER})) END) "
        "FROM old_rows o JOIN new_rows n ON n.id = o.id")
    op.execute(f"""
        CREATE FUNCTION log_any_change() RETURNS trigger AS $$
        BEGIN
            INSERT INTO data_change (day, mark) VALUES ({ANY}, {_MARK});
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql""")
    for table in WHOLE:
        op.execute(f"CREATE TRIGGER {table}_logged_any AFTER INSERT OR UPDATE OR DELETE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION log_any_change()")
    op.execute(f"CREATE TRIGGER participant_logged_any AFTER UPDATE OF "
               f"{', '.join(PARTICIPANT_ATTRIBUTES)} ON participant FOR EACH STATEMENT "
               "EXECUTE FUNCTION log_any_change()")


def _transition_triggers(table: str, row_day: str, update_query: str) -> None:
    """One function, three statement triggers (a trigger with transition tables fires on
    one kind of statement); a statement that changed no row logs nothing (every day
    expression is set for a row, so the minimum is null only without rows)."""
    op.execute(f"""
        CREATE FUNCTION {table}_log_change() RETURNS trigger AS $$
        DECLARE
            changed date;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                SELECT min({row_day}) INTO changed FROM new_rows r;
            ELSIF TG_OP = 'DELETE' THEN
                SELECT min({row_day}) INTO changed FROM old_rows r;
            ELSE
                {update_query} INTO changed;
            END IF;
            IF changed IS NOT NULL THEN
                INSERT INTO data_change (day, mark) VALUES (changed, {_MARK});
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql""")
    for kind, tables in (("insert", "NEW TABLE AS new_rows"),
                         ("update", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                         ("delete", "OLD TABLE AS old_rows")):
        op.execute(f"CREATE TRIGGER {table}_logged_{kind} AFTER {kind.upper()} ON {table} "
                   f"REFERENCING {tables} FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION {table}_log_change()")


# --- SQLite: row triggers, one row per day ------------------------------------------------

def _sqlite_trigger(name: str, when: str, table: str, day: str) -> None:
    """Mark the day pending (mark 0), unless it already is: an import touching a day a
    thousand times runs the body once. The connection numbers pending days as it commits
    (cohort.db), and a pending day counts as changed until then."""
    op.execute(f"CREATE TRIGGER {name} AFTER {when} ON {table} FOR EACH ROW "
               f"WHEN NOT EXISTS (SELECT 1 FROM data_change WHERE day = {day} AND mark = 0) "
               f"BEGIN INSERT INTO data_change (day, mark) VALUES ({day}, 0) "
               "ON CONFLICT (day) DO UPDATE SET mark = 0; END")


def _sqlite_triggers() -> None:
    any_day = "'0001-01-01'"
    never = "'9999-12-31'"
    for table, (row_day, update_day) in BY_ROW.items():
        _sqlite_trigger(f"{table}_logged_insert", "INSERT", table, _sqlite_row(row_day, "NEW"))
        _sqlite_trigger(f"{table}_logged_delete", "DELETE", table, _sqlite_row(row_day, "OLD"))
        _sqlite_trigger(f"{table}_logged_update", "UPDATE", table,
                        update_day.replace("o.", "OLD.").replace("n.", "NEW.")
                        .replace("least(", "min(").replace("DATE '0001-01-01'", any_day))
    _sqlite_trigger("enrolment_logged_insert", "INSERT", "enrolment", "NEW.start_date")
    _sqlite_trigger("enrolment_logged_delete", "DELETE", "enrolment", "OLD.start_date")
    _sqlite_trigger("enrolment_logged_update", f"UPDATE OF {', '.join(ENROLMENT_OTHERS)}",
                    "enrolment", "min(OLD.start_date, NEW.start_date)")
    _sqlite_trigger("enrolment_logged_ending", f"UPDATE OF {', '.join(ENDING[:3])}",
                    "enrolment", f"min(coalesce(OLD.end_date, {never}), "
                                 f"coalesce(NEW.end_date, {never}))")
    for table in WHOLE:
        for kind in ("insert", "update", "delete"):
            _sqlite_trigger(f"{table}_logged_{kind}", kind.upper(), table, any_day)
    _sqlite_trigger("participant_logged_update",
                    f"UPDATE OF {', '.join(PARTICIPANT_ATTRIBUTES)}", "participant", any_day)


def _sqlite_row(day: str, row: str) -> str:
    return day.replace("r.", f"{row}.").replace("DATE '0001-01-01'", "'0001-01-01'")
