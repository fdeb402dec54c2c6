"""Import benchmark (run by hand, not a test): participants, enrolments, then 1M events.

    .venv/bin/python bench/import.py                       # 100,000 people, 1,000,000 events
    .venv/bin/python bench/import.py --participants 10000 --events 100000 --workers 0
    .venv/bin/python bench/import.py --database-url postgresql+psycopg://...   # empty database
    .venv/bin/python bench/import.py --participants 1000000 --events 2000000 --remember 10000

It writes synthetic CSV files (generation is not timed) into a temporary folder, creates
a fresh SQLite database there unless --database-url is given (it is migrated and gets the
programme file), then times each import in its own process, so that the peak memory it
reports (VmHWM of the importing process; ru_maxrss of its largest worker, an upper bound)
is the import's alone. The data comes from bench/synthetic.py (shared with
bench/indicators.py).
Events are written in date order across participants (an export sorted by date), with
pathways whose every end closes a start, so all the API's rules pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import (  # noqa: E402 - the bench folder is put on the path first
    TODAY,
    ids_in_order,
    prepare_database,
    write_enrolments,
    write_events,
    write_participants,
)


def _peak_rss_kib() -> int:
    """This process's peak RSS since it started (VmHWM).

    Not ru_maxrss: on Linux that survives exec, so a child would report the generating
    parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_one(kind: str, path: str, url: str, keys: str, workers: int | None,
            remember: int | None) -> None:
    """The child process: one import, timed; prints a JSON line with the figures."""
    from sqlalchemy.orm import Session

    from cohort.db import make_engine
    from cohort.identity.keyring import load_keyring
    from cohort.importer.enrolments import import_enrolments
    from cohort.importer.events import import_events
    from cohort.importer.participants import import_participants

    importer = {"participants": import_participants, "enrolments": import_enrolments,
                "events": import_events}[kind]
    keyring = load_keyring(keys, env={})
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    extra = {"remembered": remember} if kind == "events" and remember is not None else {}
    with Session(engine) as session, session.begin():
        result = importer(session, keyring, path, today=TODAY, now=now, workers=workers,
                          **extra)
    seconds = time.perf_counter() - started
    engine.dispose()
    own, workers = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    print(json.dumps({
        "cpu_s": round(own.ru_utime + own.ru_stime, 1),
        "worker_cpu_s": round(workers.ru_utime + workers.ru_stime, 1),
        "kind": kind, "rows": result.rows, "created": result.created,
        "unchanged": result.unchanged, "seconds": round(seconds, 2),
        "rows_per_s": round(result.rows / seconds),
        "peak_rss_mb": round(_peak_rss_kib() / 1024),
        "worker_peak_rss_mb": round(workers.ru_maxrss / 1024),
    }))


def timed(kind: str, path: Path, url: str, keys: Path, workers: int | None,
          remember: int | None = None) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--one", kind, str(path), "--database-url", url,
           "--keys", str(keys)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if remember is not None:
        cmd += ["--remember", str(remember)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    figures: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {kind:<12} {figures['rows']:>9} rows  {figures['seconds']:>7}s  "
          f"{figures['rows_per_s']:>8} rows/s  peak RSS {figures['peak_rss_mb']} MB"
          f" (largest worker {figures['worker_peak_rss_mb']} MB)  CPU {figures['cpu_s']}s"
          f" + workers {figures['worker_cpu_s']}s  load {os.getloadavg()[0]:.1f}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: the importer's own choice)")
    parser.add_argument("--dir", type=Path, default=None, help="keep the files here")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--remember", type=int, default=None,
                        help="participants whose state the events import keeps, as "
                             "`cohort import events --remember N` (default: the importer's, "
                             "100,000)")
    parser.add_argument("--reimport", action="store_true",
                        help="import the events file a second time (all unchanged)")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--keys", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one[0], args.one[1], args.database_url, args.keys, args.workers,
                args.remember)
        return

    folder = args.dir or Path(tempfile.mkdtemp(prefix="cohort-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    keys = folder / "bench-keys.toml"
    rng = random.Random(args.seed)
    print(f"files and database in {folder}", flush=True)
    structure = prepare_database(url, keys)["62-A1"]  # the PLIE

    started = time.perf_counter()
    people = write_participants(folder / "participants.csv", args.participants, rng)
    starts = write_enrolments(folder / "enrolments.csv", people, structure, rng)
    print(f"generated participants and enrolments in {time.perf_counter() - started:.1f}s",
          flush=True)
    del people
    timed("participants", folder / "participants.csv", url, keys, args.workers)
    timed("enrolments", folder / "enrolments.csv", url, keys, args.workers)

    started = time.perf_counter()
    from cohort.models import Enrolment, Participant

    count = write_events(folder / "events.csv", ids_in_order(url, Participant),
                         ids_in_order(url, Enrolment), starts, args.events, rng)
    size = (folder / "events.csv").stat().st_size / 1e6
    print(f"generated {count} events ({size:.0f} MB) in {time.perf_counter() - started:.1f}s",
          flush=True)
    timed("events", folder / "events.csv", url, keys, args.workers, args.remember)
    if args.reimport:
        timed("events", folder / "events.csv", url, keys, args.workers, args.remember)


if __name__ == "__main__":
    main()
