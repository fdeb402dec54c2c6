"""Which history partitions the indicator statements read (run by hand, not a test).

    .venv/bin/python bench/partition_pruning.py                 # a throwaway PostgreSQL
    .venv/bin/python bench/partition_pruning.py --pg-url "postgresql+psycopg://…/postgres"

On a PostgreSQL database migrated to head (event and event_interval partitioned by year,
migration 0023) holding the demo's pathways from 2023 to the end of 2025, it captures
every statement of the 62 indicator set and of a 62-A6 cohort table for P = 2024 as of
31 December 2024, runs ``EXPLAIN`` on each, and prints, per statement, the partitions its
plan reads, then the plan of one statement (62-A6, young people who chose their link
person) trimmed to its scan nodes. docs/performance.md quotes the output. The same
property is asserted for every statement by tests/db/test_query_plans.py.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from indicators import Cluster, _pg_database  # noqa: E402 - the bench folder is on the path

D = dt.date


def build(url: str, keys: Path) -> None:
    from alembic import command
    from sqlalchemy.orm import Session

    from cohort import demo
    from cohort.cli import alembic_config
    from cohort.db import make_engine
    from cohort.identity.keyring import generate_key_file, load_keyring
    from cohort.services.programmes import load_programme_file

    command.upgrade(alembic_config(url), "head")
    generate_key_file(keys, demo=True)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        load_programme_file(session, ROOT / "config" / "programmes" / "erbm-2023.toml")
        demo.generate(session, load_keyring(str(keys)), seed=2023, participants=400,
                      today=D(2025, 12, 31))
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def statements(url: str) -> list[tuple[str, Any, str]]:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from cohort.db import core, make_engine
    from cohort.domain.pathway_status import DEFAULT_STABLE_HOUSING
    from cohort.indicators.base import Cut
    from cohort.indicators.cohorts import cohort_table
    from cohort.indicators.engine import compute_action
    from cohort.reference import actions_of, programme_by_code

    engine = make_engine(url)
    seen: list[tuple[str, Any, str]] = []
    by = {"name": ""}
    with Session(engine) as session:
        connection = core(session)

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                seen.append((statement, parameters, by["name"]))

        sa.event.listen(connection, "before_cursor_execute", capture)
        programme = programme_by_code(session, "erbm-2023")
        cut = Cut(period_from=D(2024, 1, 1), period_to=D(2024, 12, 31), as_of=D(2024, 12, 31))
        for action in actions_of(session, programme, departement="62"):
            by["name"] = action.code
            compute_action(session, programme, action, cut)
        by["name"] = "cohort table"
        a6 = [a.id for a in actions_of(session, programme) if a.code == "62-A6"]
        cohort_table(session, a6, cut, grain="quarter", stable_housing=DEFAULT_STABLE_HOUSING)
        sa.event.remove(connection, "before_cursor_execute", capture)
    engine.dispose()
    return seen


def _scans(plan: dict[str, Any], depth: int = 0) -> list[str]:
    lines = []
    if "Relation Name" in plan:
        cond = plan.get("Index Cond") or plan.get("Filter") or ""
        lines.append(f"{'  ' * depth}{plan['Node Type']} on {plan['Relation Name']}"
                     + (f" using {plan['Index Name']}" if "Index Name" in plan else "")
                     + (f"  [{cond[:110]}]" if cond else ""))
    for child in plan.get("Plans", []):
        lines += _scans(child, depth + 1)
    return lines


def explain(url: str, seen: list[tuple[str, Any, str]]) -> None:
    import sqlalchemy as sa

    from cohort.db import make_engine
    from cohort.partitions import PARTITION

    engine = make_engine(url)
    per_statement = []
    sample = None
    with engine.connect() as conn:
        partitions = sorted(conn.exec_driver_sql(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "WHERE p.relname IN ('event', 'event_interval')").scalars())
        counts = dict(conn.execute(sa.text(
            "SELECT tableoid::regclass::text, count(*) FROM event GROUP BY 1")).all())
        for statement, parameters, by in seen:
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                       parameters).scalar_one()
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            read = sorted({line.split(" on ")[1].split()[0] for line in _scans(plan)
                           if PARTITION.match(line.split(" on ")[1].split()[0])})
            per_statement.append((by, read))
            if sample is None and by == "62-A6" and "link_person_chosen" in str(parameters):
                sample = (statement, plan)
    engine.dispose()
    print(f"history partitions: {', '.join(partitions)}")
    print("events per partition: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"\n{len(per_statement)} statements (62 set and 62-A6 cohort table, P = 2024, "
          "as of 2024-12-31); partitions read, with how many statements read them:")
    tally = Counter(p for _, read in per_statement for p in read)
    for name in partitions:
        print(f"  {name:32} {tally.get(name, 0)}")
    later = [(by, read) for by, read in per_statement
             if any(r.endswith(("y2025", "y2026", "y2027")) for r in read)]
    print(f"statements reading a partition after 2024: {len(later)}")
    if sample:
        print("\n62-A6 link person chosen by the deadline, scan nodes of its plan:")
        print("\n".join(_scans(sample[1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", default=None, help="a running server (its postgres db)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-pruning"))
    args = parser.parse_args()
    cluster = None
    server = args.pg_url
    if server is None:
        cluster = Cluster(args.dir)
        server = cluster.start()
    try:
        url, _ = _pg_database(server, "pruning", drop=True)
        with tempfile.TemporaryDirectory() as tmp:
            build(url, Path(tmp) / "keys.toml")
        explain(url, statements(url))
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
