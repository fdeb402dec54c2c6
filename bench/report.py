"""Execution report benchmark (run by hand, not a test): the full report, HTML + XLSX.

    .venv/bin/python bench/indicators.py --build-only          # the data sets, once
    .venv/bin/python bench/report.py                            # 100k / 1M, SQLite and PostgreSQL
    .venv/bin/python bench/report.py --backends sqlite --scale 10000:100000 --runs 5
    .venv/bin/python bench/report.py --workers 1                # on one connection

It reuses the databases bench/indicators.py builds under --dir (default
/tmp/bench-indicators): participants, enrolments over 2022–2024 in 62-A1…62-A6, events,
operations and six-month check results. In a separate process that only opens the
database, it times what `cohort report` does for département 62 and one year, in
published mode: build the model (every indicator, the monthly series, data quality, the
cohort table, finance, the fingerprint) then render HTML and XLSX; --runs times after one
warm-up, reporting the median and the process's peak RSS (VmHWM). --workers sets
REPORT_WORKERS (default 2, as in config/default.toml).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from indicators import DEFAULT_DIR, Cluster, _peak_rss_kib  # noqa: E402 - bench folder on path

TARGET_SECONDS = 5.0


def measure(url: str, year: int, runs: int, workers: int) -> dict[str, Any]:
    from sqlalchemy.orm import sessionmaker

    from cohort.actors import SYSTEM
    from cohort.config import load_settings
    from cohort.db import make_engine
    from cohort.report import model
    from cohort.report.html import to_html
    from cohort.report.xlsx import to_xlsx

    settings = load_settings({"DATABASE_URL": url, "REPORT_WORKERS": workers}, env={})
    engine = make_engine(url)
    factory = sessionmaker(engine)
    params = {"programme": "erbm-2023", "departement": "62", "year": year,
              "mode": "published", "as_of": dt.date(year + 1, 3, 31), "format": "bench"}
    today = dt.date(year + 1, 4, 15)

    def report() -> tuple[dict[str, Any], float, float, float]:
        started = time.perf_counter()
        with factory() as session:
            built = model.build(session, SYSTEM, params, settings, today=today)
            session.rollback()
        modelled = time.perf_counter()
        html = to_html(built)
        xlsx = to_xlsx(built)
        done = time.perf_counter()
        assert html
        assert xlsx
        return built, modelled - started, done - modelled, done - started

    first = report()[0]
    digest = hashlib.sha256(json.dumps(first, sort_keys=True).encode()).hexdigest()[:12]
    timings = []
    for _ in range(runs):
        built, model_s, render_s, total_s = report()
        assert hashlib.sha256(json.dumps(built, sort_keys=True).encode()).hexdigest()[:12] \
            == digest
        timings.append((model_s, render_s, total_s))
    engine.dispose()
    return {
        "total_median_s": round(statistics.median(t[2] for t in timings), 3),
        "model_median_s": round(statistics.median(t[0] for t in timings), 3),
        "render_median_s": round(statistics.median(t[1] for t in timings), 3),
        "runs_s": [round(t[2], 3) for t in timings], "digest": digest,
        "peak_rss_mb": round(_peak_rss_kib() / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--scale", default="100000:1000000", help="participants:events")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--year", type=int, default=2023)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2,
                        help="REPORT_WORKERS: connections sharing the snapshot (1: one)")
    parser.add_argument("--pg-url", default=None, help="a running server holding the data")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.year, args.runs, args.workers)))
        return
    people, events = (int(n) for n in args.scale.split(":"))
    results = []
    cluster = None
    try:
        for backend in (b.strip() for b in args.backends.split(",")):
            marker = args.dir / f"{backend}-{people}-{events}" / "loaded.json"
            if not marker.exists():
                sys.exit(f"{marker} missing: run bench/indicators.py --build-only first")
            if backend == "sqlite":
                url = f"sqlite:///{marker.parent / 'bench.db'}"
            else:
                server = args.pg_url
                if server is None:
                    cluster = Cluster(args.dir / "pg")
                    server = cluster.start()
                import sqlalchemy as sa

                url = sa.make_url(server).set(database=f"bench_{people}_{events}") \
                    .render_as_string(hide_password=False)
            from alembic import command

            from cohort.cli import alembic_config

            command.upgrade(alembic_config(url), "head")
            out = subprocess.run([sys.executable, __file__, "--measure", url, "--year",
                                  str(args.year), "--runs", str(args.runs),
                                  "--workers", str(args.workers)],
                                 check=True, capture_output=True, text=True)
            figures = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{backend}: {people:,} participants, {events:,} events: report "
                  f"{figures['total_median_s']} s (model {figures['model_median_s']} s, "
                  f"HTML+XLSX {figures['render_median_s']} s), peak RSS "
                  f"{figures['peak_rss_mb']} MB, digest {figures['digest']}", flush=True)
            results.append({"backend": backend, "participants": people, "events": events,
                            "year": args.year, "runs": args.runs, "workers": args.workers,
                            **figures,
                            "meets_time": figures["total_median_s"] <= TARGET_SECONDS})
    finally:
        if cluster is not None:
            cluster.stop()
    if args.json:
        args.json.write_text(json.dumps({"date": dt.datetime.now(dt.UTC).date().isoformat(),
                                         "results": results}, indent=2))


if __name__ == "__main__":
    main()
