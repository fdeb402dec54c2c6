"""Where the 62 indicator set spends its time: each indicator's seconds, slowest first, and
the plan of the slowest statements (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN`` on
PostgreSQL), on a database built by bench/indicators.py.

    .venv/bin/python bench/query_profile.py --database-url sqlite:////tmp/bench-ind/sqlite-100000-340000/bench.db
    .venv/bin/python bench/query_profile.py --database-url ... --only link_person --plans 1

Issue 23 found one indicator (62-A6 ``link_person_by_deadline``) taking 24 of 31 s at 1M
events because its per-person EXISTS walked an index; this prints such a case at once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.synthetic import PROGRAMME_CODE  # noqa: E402


def profile(url: str, year: int, top: int, plans: int, only: str | None) -> None:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from cohort.db import make_engine
    from cohort.indicators import catalogue
    from cohort.indicators import engine as indicator_engine
    from cohort.indicators.base import Cut
    from cohort.reference import actions_of, programme_by_code

    db = make_engine(url)
    timings: list[tuple[float, str, str]] = []
    statements: list[tuple[float, str, Any]] = []
    current = {"name": ""}

    def before(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        conn.info["started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        statements.append((time.perf_counter() - conn.info["started"],
                           f"{current['name']}", (statement, parameters)))

    sa.event.listen(db, "before_cursor_execute", before)
    sa.event.listen(db, "after_cursor_execute", after)
    original = dict(catalogue.KINDS)

    def timed(kind: str) -> Any:
        def run(ctx: Any) -> Any:
            current["name"] = f"{kind} {ctx.params.get('status', '')}".strip()
            started, cpu = time.perf_counter(), time.process_time()
            values = original[kind](ctx)
            timings.append((time.perf_counter() - started, current["name"],
                            f"CPU {time.process_time() - cpu:.3f} s"))
            return values
        return run

    indicator_engine.KINDS.update({kind: timed(kind) for kind in original})
    cut = Cut(period_from=dt.date(year, 1, 1), period_to=dt.date(year, 12, 31),
              as_of=dt.date(year, 12, 31))
    try:
        with Session(db) as session:
            programme = programme_by_code(session, PROGRAMME_CODE)
            started, cpu = time.perf_counter(), time.process_time()
            for action in actions_of(session, programme):
                if action.code.startswith("62-"):
                    current["action"] = action.code
                    before_count = len(timings)
                    indicator_engine.compute_action(session, programme, action, cut)
                    timings[before_count:] = [(s, f"{action.code} {n}", c)
                                              for s, n, c in timings[before_count:]]
            total = time.perf_counter() - started
            print(f"62 set: {total:.2f} s (CPU of this process {time.process_time() - cpu:.2f} s,"
                  f" load {os.getloadavg()[0]:.1f}), {len(timings)} indicators, "
                  f"{len(statements)} statements")
            for seconds, name, cpu_text in sorted(timings, reverse=True)[:top]:
                print(f"  {seconds:7.3f} s  ({cpu_text})  {name}")
            conn = session.connection()
            sqlite = conn.dialect.name == "sqlite"
            chosen = [s for s in statements if only is None or only in s[1]]
            for seconds, name, (statement, parameters) in sorted(
                    chosen, key=lambda s: s[0], reverse=True)[:plans]:
                print(f"\n--- {seconds:.3f} s, {name}")
                prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
                for row in conn.exec_driver_sql(prefix + statement, parameters).all():
                    print("   ", row[3] if sqlite else row[0])
    finally:
        indicator_engine.KINDS.update(original)
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--top", type=int, default=8, help="indicators shown")
    parser.add_argument("--plans", type=int, default=2, help="slowest statements explained")
    parser.add_argument("--only", default=None,
                        help="explain only the statements of indicators named so, "
                             "e.g. link_person_by_deadline")
    args = parser.parse_args()
    profile(args.database_url, args.year, args.top, args.plans, args.only)


if __name__ == "__main__":
    main()
