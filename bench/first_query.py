"""First indicators request after a large import on PostgreSQL (issue 22, part 6; run by
hand, not a test).

    .venv/bin/python bench/first_query.py                     # 100,000 people, 300,000 events
    .venv/bin/python bench/first_query.py --participants 20000 --events 60000

It starts a throwaway PostgreSQL 15 cluster (as bench/indicators.py does), imports the
natural-key files of bench/import.py — participants, enrolments, events, each through the
importer followed by ``cohort.db.refresh_statistics``, as ``cohort import`` runs them —
then, in a fresh process that has never queried the database, times the 62 indicators
(``queries.indicators``, every action of département 62, year ``--year``, published mode)
twice: the first request, planned with the statistics the import left, and the second.
Issue 22's target: the first within 2x the second (it was 23-25 s against 0.6 s when the
tables had no statistics until autovacuum's ANALYZE).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from indicators import Cluster, _pg_database  # noqa: E402 - the bench folder comes first
from synthetic import PROGRAMME_CODE, TODAY  # noqa: E402


def first_and_second(url: str, year: int) -> dict[str, float]:
    """The child process: the indicators request twice, timed."""
    from sqlalchemy.orm import sessionmaker

    from cohort.actors import SYSTEM
    from cohort.config import load_settings
    from cohort.db import make_engine
    from cohort.indicators import queries

    settings = load_settings({"DATABASE_URL": url}, env={})
    engine = make_engine(url)
    factory = sessionmaker(engine)
    cut = {"programme": PROGRAMME_CODE, "departement": "62", "mode": "published",
           "period_from": dt.date(year, 1, 1), "period_to": dt.date(year, 12, 31),
           "as_of": dt.date(year, 12, 31)}
    figures: dict[str, float] = {}
    for name in ("first_s", "second_s"):
        started = time.perf_counter()
        with factory() as session:
            queries.indicators(session, SYSTEM, dict(cut), settings, today=TODAY,
                               now=dt.datetime.now(dt.UTC))
        figures[name] = round(time.perf_counter() - started, 3)
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(first_and_second(args.measure, args.year)))
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="cohort-first-query-"))
    cluster = Cluster(folder / "pg")
    server = cluster.start()
    try:
        url, _ = _pg_database(server, "first_query", drop=True)
        bench = importlib.import_module("import")  # bench/import.py
        bench.run_bench(argparse.Namespace(
            participants=args.participants, events=args.events, database_url=url,
            workers=args.workers, dir=folder, seed=args.seed, remember=None,
            reimport=False, uuids=False))
        out = subprocess.run([sys.executable, __file__, "--measure", url, "--year",
                              str(args.year)], check=True, capture_output=True, text=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        ratio = figures["first_s"] / max(figures["second_s"], 1e-9)
        print(f"indicators {args.year}: first request {figures['first_s']}s, second "
              f"{figures['second_s']}s (x{ratio:.2f}; target: within x2)  load "
              f"{os.getloadavg()[0]:.1f}", flush=True)
    finally:
        cluster.stop()


if __name__ == "__main__":
    main()
