"""The indicator queries seek one person's rows; they never walk an index per person
(issue 23: 62-A6's `link_person_by_deadline` walked `(type, date, participant_id)` once per
person, 24 of 31 s at 1M events on SQLite). Every statement of the 62 indicator set and of
a cohort table is explained on a populated, analysed database: `EXPLAIN QUERY PLAN` on
SQLite, `EXPLAIN (FORMAT JSON)` on PostgreSQL, with nested loops forced there (a test
database this small would be read whole, which says nothing about a département's).

A walk is a look-up of `event` or `event_interval` repeated per row of an outer loop (an
inner loop of a join, a correlated subquery) whose seek is bound by nothing but the event
type and a date range: every person's events of that type, read again for each person.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.db import core
from cohort.domain.pathway_status import DEFAULT_STABLE_HOUSING
from cohort.indicators.base import Cut
from cohort.indicators.cohorts import cohort_table
from cohort.indicators.engine import compute_action
from cohort.partitions import PARTITION
from cohort.reference import actions_of, programme_by_code
from tests.builders import enrol, record, register, runs

D = dt.date
PER_ROW_TABLES = ("event", "event_interval")
# What binds a seek to one row of the outer loop (anything else than the type and dates).
RANGE_ONLY = {"type", "date", "family", "valid_to", "valid_from"}


@pytest.fixture(params=["analysed", "no statistics"])
def populated(request: pytest.FixtureRequest, session: Session, keyring: Any,
              backend: str) -> Session:
    """ASE youths in 62-A6 and adults in 62-A1 with pathways, link persons and contacts;
    analysed, or (SQLite) without statistics, as a database is until its first analysis
    (the plans issue 23 met). The housing entries have no exit yet: a young database."""
    if request.param == "no statistics" and backend != "sqlite":
        pytest.skip("PostgreSQL's planner always has some statistics (autovacuum)")
    a6, a1 = runs(session, "62-A6"), runs(session, "62-A1")
    for n in range(120):
        person = register(session, keyring, ase_past=True, home_departement="62",
                          birth_date=D(2005, 1 + n % 12, 1 + n % 27))
        enrol(session, keyring, person, "62-A6", a6, D(2023, 1 + n % 12, 2))
        for k in range(4):
            record(session, keyring, person, "contact", D(2023, 1 + (n + k) % 12, 3 + k),
                   mode="phone")
        if n % 3 == 0:
            record(session, keyring, person, "link_person_chosen", D(2023, 12, 10))
        if n % 4 == 0:
            record(session, keyring, person, "housing_entry", D(2023, 3, 1 + n % 20),
                   housing_type="social_rental")
        if n % 5 == 0:
            record(session, keyring, person, "training_start", D(2023, 4, 1 + n % 20),
                   qualifying=True)
        if n % 2 == 0:
            adult = register(session, keyring, home_departement="62",
                             birth_date=D(1980, 1 + n % 12, 1))
            enrol(session, keyring, adult, "62-A1", a1, D(2023, 1 + n % 12, 5),
                  rsa_at_entry=True)
            record(session, keyring, adult, "employment_start", D(2023, 6, 1 + n % 20),
                   contract="cdi")
    session.flush()
    connection = core(session)
    connection.exec_driver_sql("ANALYZE")
    if request.param == "no statistics":
        connection.exec_driver_sql("DELETE FROM sqlite_stat1")
        connection.exec_driver_sql("ANALYZE sqlite_schema")  # reloads the (no) statistics
    return session


@pytest.fixture
def statements(populated: Session, backend: str) -> Iterator[list[tuple[str, Any, str]]]:
    """Every SELECT the 62 set and a 62-A6 cohort table run: (statement, parameters, by)."""
    session = populated
    connection = core(session)
    seen: list[tuple[str, Any, str]] = []
    by = {"name": ""}

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters, by["name"]))

    sa.event.listen(connection, "before_cursor_execute", capture)
    try:
        programme = programme_by_code(session, "erbm-2023")
        cut = Cut(period_from=D(2023, 1, 1), period_to=D(2023, 12, 31), as_of=D(2024, 1, 31))
        for action in actions_of(session, programme, departement="62"):
            by["name"] = f"indicators of {action.code}"
            compute_action(session, programme, action, cut)
        by["name"] = "cohort table"
        a6 = [a.id for a in actions_of(session, programme) if a.code == "62-A6"]
        cohort_table(session, a6, cut, grain="quarter", stable_housing=DEFAULT_STABLE_HOUSING)
    finally:
        sa.event.remove(connection, "before_cursor_execute", capture)
    if backend == "postgresql":
        # Per-row plans, as a large database gets: no reading a table whole, no hashing.
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    yield seen
    if backend == "postgresql":
        for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
            connection.exec_driver_sql(f"SET LOCAL {setting} = on")


# --- SQLite: the EXPLAIN QUERY PLAN tree --------------------------------------------------

_SEARCH = re.compile(r"^SEARCH (\w+?)(?:_\d+)? USING (?:COVERING )?INDEX (\w+) \((.*)\)$")
_SCAN = re.compile(r"^SCAN (\w+?)(?:_\d+)?(?: USING|$)")


def _bound_columns(conditions: str) -> set[str]:
    return {part.strip().split("=")[0].split("<")[0].split(">")[0]
            for part in conditions.split(" AND ")}


def sqlite_walks(rows: list[tuple[int, int, int, str]]) -> list[str]:
    """Look-ups of a per-row table bound by type and dates only, inside a correlated
    subquery or as an inner loop (not the first loop of its query block)."""
    children: dict[int, list[tuple[int, str]]] = {}
    for node, parent, _, detail in rows:
        children.setdefault(parent, []).append((node, detail))
    walks: list[str] = []

    def visit(parent: int, per_row: bool) -> None:
        loops = 0
        for node, detail in children.get(parent, []):
            correlated = detail.startswith("CORRELATED")
            search, scan = _SEARCH.match(detail), _SCAN.match(detail)
            if search or scan:
                repeated = per_row or loops > 0
                loops += 1
                table = (search or scan).group(1)  # type: ignore[union-attr]
                if table in PER_ROW_TABLES and repeated and (
                        scan or _bound_columns(search.group(3)) <= RANGE_ONLY):  # type: ignore[union-attr]
                    walks.append(detail)
            visit(node, per_row or correlated)

    visit(0, False)
    return walks


# --- PostgreSQL: the JSON plan --------------------------------------------------------------

_QUALIFIED = re.compile(r"\b([a-z_][a-z0-9_]*)\.([a-z_][a-z0-9_]*)\b")


def _index_columns(connection: sa.Connection) -> dict[str, list[str]]:
    rows = connection.exec_driver_sql(
        "SELECT i.relname, a.attname, k.n FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n) ON true"
        " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
        " ORDER BY i.relname, k.n").all()
    columns: dict[str, list[str]] = {}
    for index, column, _ in rows:
        columns.setdefault(index, []).append(column)
    return columns


def _seek_prefix(index_columns: list[str], condition: str) -> set[str]:
    """The leading columns of the index the condition binds to one value (``=``, or
    ``IS NULL``, which a B-tree seeks like a value)."""
    bound = set()
    for column in index_columns:
        if re.search(rf"\b{column}\b\)?(::\w+)? (= |IS NULL)", condition):
            bound.add(column)
        else:
            break
    return bound


def parent_table(relation: str | None) -> str | None:
    """A history partition's table (migration 0023: `event_y2024` reads `event`)."""
    found = PARTITION.match(relation or "")
    return found["table"] if found else relation


def postgres_walks(plan: dict[str, Any], indexes: dict[str, list[str]],
                   empty: frozenset[str] = frozenset()) -> list[str]:
    """Index look-ups of a per-row table parameterised by an outer row (a condition naming
    another relation's column) whose equality-bound index prefix is only type and dates.

    ``empty``: history partitions holding no row (the test data's other years), whose
    plans cost nothing whichever index they read, so the planner takes any."""
    walks: list[str] = []

    def visit(node: dict[str, Any], per_row: bool) -> None:
        relation = parent_table(node.get("Relation Name"))
        condition = node.get("Index Cond", "")
        outer = {alias for alias, _ in _QUALIFIED.findall(condition)} - {node.get("Alias")}
        if (relation in PER_ROW_TABLES and per_row and outer and "Index Name" in node
                and node.get("Relation Name") not in empty):
            prefix = _seek_prefix(indexes.get(node["Index Name"], []), condition)
            if prefix <= RANGE_ONLY:
                walks.append(f"{node['Node Type']} using {node['Index Name']} ({condition})")
        repeated = node["Node Type"] == "Nested Loop"
        for child in node.get("Plans", []):
            relationship = child.get("Parent Relationship")
            inner = (repeated and relationship == "Inner") or (
                relationship == "SubPlan" and not child.get("Subplan Name", "").startswith(
                    "hashed"))
            visit(child, per_row or inner)

    visit(plan, False)
    return walks


def test_no_indicator_statement_walks_an_index_per_person(
        populated: Session, statements: list[tuple[str, Any, str]], backend: str) -> None:
    connection = core(populated)
    assert len(statements) > 30
    assert any("link_person_chosen" in str(p) for _, p, _ in statements)
    indexes = _index_columns(connection) if backend == "postgresql" else {}
    empty = frozenset(connection.exec_driver_sql(
        "SELECT relname FROM pg_class WHERE relispartition AND reltuples = 0").scalars()
    ) if backend == "postgresql" else frozenset()
    assert "event_y2023" not in empty
    found = []
    for statement, parameters, by in statements:
        if backend == "sqlite":
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                              parameters).all()
            walks = sqlite_walks([tuple(r) for r in rows])
        else:
            plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                              parameters).scalar_one()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            walks = postgres_walks(plan[0]["Plan"], indexes, empty)
        found += [f"{by}: {w}" for w in walks]
        if walks:
            print(statement, json.dumps(plan, indent=1) if backend != "sqlite" else rows)
    assert found == [], "\n".join(found)


def test_the_walk_detectors_see_a_walk() -> None:
    """The detectors on the plans 62-A6's link-person query had before migration 0019."""
    sqlite_plan = [(2, 0, 0, "SCAN anon_1"),
                   (5, 0, 0, "SEARCH participant USING INTEGER PRIMARY KEY (rowid=?)"),
                   (9, 0, 0, "SEARCH event_1 USING COVERING INDEX ix_event_type_date "
                             "(type=? AND date<?)")]
    assert sqlite_walks(sqlite_plan) != []
    seek = sqlite_plan[:2] + [(9, 0, 0, "SEARCH event_1 USING COVERING INDEX "
                                        "ix_event_type_participant_date "
                                        "(type=? AND participant_id=? AND date<?)")]
    assert sqlite_walks(seek) == []
    correlated = [(1, 0, 0, "SCAN participant"), (3, 0, 0, "CORRELATED SCALAR SUBQUERY 1"),
                  (4, 3, 0, "SEARCH event USING INDEX ix_event_type_date (type=?)")]
    assert sqlite_walks(correlated) != []
    indexes = {"ix_event_type_date": ["type", "date", "participant_id"],
               "ix_event_type_participant_date": ["type", "participant_id", "date"]}

    def loop(index: str, condition: str) -> dict[str, Any]:
        return {"Node Type": "Nested Loop", "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "participant",
             "Parent Relationship": "Outer"},
            {"Node Type": "Index Only Scan", "Relation Name": "event", "Index Name": index,
             "Index Cond": condition, "Parent Relationship": "Inner"}]}

    assert postgres_walks(loop("ix_event_type_date", "((type = 'link_person_chosen'::text) "
                                "AND (participant_id = p.id))"), indexes) != []
    assert postgres_walks(loop("ix_event_type_date", "((type)::text = 'link_person_chosen'"
                                "::text) AND (date <= '2024-01-31'::date) AND "
                                "(participant_id = participant.id))"), indexes) != []
    indexes["ix_event_interval_current"] = ["family", "valid_to", "participant_id"]
    assert postgres_walks(loop("ix_event_interval_current",
                               "(((family)::text = 'resource'::text) AND (valid_to IS NULL) "
                               "AND (participant_id = anon_5.participant_id))"), indexes) == []
    assert postgres_walks(loop("ix_event_type_participant_date",
                               "((type = 'link_person_chosen'::text) AND "
                               "(participant_id = p.id))"), indexes) == []


def test_statistics_follow_the_data_when_connections_close(
        fresh_database_url: str, keyring: Any, backend: str) -> None:
    """SQLite gathers no statistics unless asked: each connection asks (``PRAGMA optimize``)
    as it closes, so a database written and read by the service has them by the next
    connection, without waiting for `cohort db analyze`."""
    if backend != "sqlite":
        pytest.skip("PRAGMA optimize is SQLite's; PostgreSQL's autovacuum analyses")
    from cohort.db import make_engine

    engine = make_engine(fresh_database_url)
    with Session(engine) as session, session.begin():
        where = runs(session, "62-A6")
        for n in range(30):
            person = register(session, keyring, ase_past=True, home_departement="62",
                              birth_date=D(2005, 1 + n % 12, 1))
            enrol(session, keyring, person, "62-A6", where, D(2023, 2, 2))
            record(session, keyring, person, "link_person_chosen", D(2023, 12, 10))

    def analysed() -> set[str]:
        reader = sa.create_engine(fresh_database_url)
        with reader.connect() as conn:
            found = set(conn.exec_driver_sql(
                "SELECT tbl FROM sqlite_stat1 WHERE stat NOT LIKE '0%'").scalars())
        reader.dispose()
        return found

    assert "event" not in analysed()
    with Session(engine) as session:
        programme = programme_by_code(session, "erbm-2023")
        a6 = next(a for a in actions_of(session, programme) if a.code == "62-A6")
        compute_action(session, programme, a6, Cut(period_from=D(2023, 1, 1),
                                                   period_to=D(2023, 12, 31),
                                                   as_of=D(2024, 1, 31)))
    engine.dispose()
    assert {"event", "enrolment"} <= analysed()


def _relations(plan: dict[str, Any]) -> Iterator[str]:
    if "Relation Name" in plan:
        yield plan["Relation Name"]
    for child in plan.get("Plans", []):
        yield from _relations(child)


def test_indicator_statements_read_only_the_partitions_up_to_the_as_of_date(
        populated: Session, statements: list[tuple[str, Any, str]], backend: str) -> None:
    """Partitioned history (migration 0023): every statement of the 62 set and of the
    cohort table, cut as of 31 January 2024, leaves out the partitions of 2025 onwards
    (the planner prunes them from the dates the statement binds)."""
    if backend != "postgresql":
        pytest.skip("SQLite keeps plain tables")
    connection = core(populated)
    later = {f"{table}_y{year}" for table in PER_ROW_TABLES for year in range(2025, 2031)}
    read: dict[str, set[str]] = {}
    for statement, parameters, by in statements:
        plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                          parameters).scalar_one()
        plan = json.loads(plan) if isinstance(plan, str) else plan
        relations = set(_relations(plan[0]["Plan"]))
        if relations & later:
            read.setdefault(by, set()).update(relations & later)
        read.setdefault("any", set()).update(relations)
    assert "event_y2023" in read["any"]
    assert "event_interval_y2023" in read["any"]
    assert {k: sorted(v) for k, v in read.items() if k != "any"} == {}
