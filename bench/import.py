"""Import benchmark (run by hand, not a test): participants, enrolments, then 1M events.

    .venv/bin/python bench/import.py                       # 100,000 people, 1,000,000 events
    .venv/bin/python bench/import.py --participants 10000 --events 100000 --workers 0
    .venv/bin/python bench/import.py --database-url postgresql+psycopg://...   # empty database
    .venv/bin/python bench/import.py --participants 1000000 --events 2000000 --remember 10000
    .venv/bin/python bench/import.py --uuids        # the files name everything by uuid

By default the files name things as a partner's export does (issue 22): participants carry
the structure's own file numbers, enrolments and events name people by file number, events
have the partner's own ids and name the enrolment their support breaks belong to by action
code; every import runs with ``--structure`` (the PLIE). ``--uuids`` writes participant_id,
enrolment_id and uuid ids instead. Each import is followed by the statistics refresh the
CLI runs (``cohort.db.refresh_statistics``), timed apart ("analyze").

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
from typing import Any

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
            remember: int | None, structure: str | None = None) -> None:
    """The child process: one import, timed; prints a JSON line with the figures."""
    from sqlalchemy.orm import Session

    from cohort.db import make_engine, refresh_statistics
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
    extra: dict[str, object] = (
        {"remembered": remember} if kind == "events" and remember is not None else {})
    if structure is not None:
        extra["structure"] = structure
    with Session(engine) as session, session.begin():
        result = importer(session, keyring, path, today=TODAY, now=now, workers=workers,
                          **extra)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    refresh_statistics(engine)  # as `cohort import` does after a successful import
    analyze = time.perf_counter() - started
    engine.dispose()
    own, workers = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    print(json.dumps({
        "cpu_s": round(own.ru_utime + own.ru_stime, 1),
        "worker_cpu_s": round(workers.ru_utime + workers.ru_stime, 1),
        "kind": kind, "rows": result.rows, "created": result.created,
        "unchanged": result.unchanged, "seconds": round(seconds, 2),
        "analyze_s": round(analyze, 2),
        "rows_per_s": round(result.rows / seconds),
        "peak_rss_mb": round(_peak_rss_kib() / 1024),
        "worker_peak_rss_mb": round(workers.ru_maxrss / 1024),
    }))


def timed(kind: str, path: Path, url: str, keys: Path, workers: int | None,
          remember: int | None = None, structure: str | None = None) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--one", kind, str(path), "--database-url", url,
           "--keys", str(keys)]
    if structure is not None:
        cmd += ["--structure", structure]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if remember is not None:
        cmd += ["--remember", str(remember)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    cpu_per_row = 1e6 * (figures["cpu_s"] + figures["worker_cpu_s"]) / max(1, figures["rows"])
    print(f"  {kind:<12} {figures['rows']:>9} rows  {figures['seconds']:>7}s  "
          f"{figures['rows_per_s']:>8} rows/s  peak RSS {figures['peak_rss_mb']} MB"
          f" (largest worker {figures['worker_peak_rss_mb']} MB)  CPU {figures['cpu_s']}s"
          f" + workers {figures['worker_cpu_s']}s ({cpu_per_row:.0f} µs/row)  analyze "
          f"{figures['analyze_s']}s  load {os.getloadavg()[0]:.1f}", flush=True)
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
    parser.add_argument("--uuids", action="store_true",
                        help="name everything by uuid (default: natural keys, as partners)")
    parser.add_argument("--structure", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--one", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--keys", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one[0], args.one[1], args.database_url, args.keys, args.workers,
                args.remember, args.structure)
        return
    run_bench(args)


def _rewrite(path: Path, change: Any) -> None:
    """Rewrite a CSV file row by row (``change(header, row)``), as `;`-separated."""
    import csv

    target = path.with_suffix(".tmp")
    with path.open(encoding="utf-8", newline="") as fh, \
            target.open("w", encoding="utf-8", newline="") as out:
        first = fh.readline()
        fh.seek(0)
        reader = csv.reader(fh, delimiter=";" if first.count(";") > first.count(",") else ",")
        writer = csv.writer(out, delimiter=";")
        header = next(reader)
        writer.writerow(change(header, None))
        for n, row in enumerate(reader):
            writer.writerow(change(header, (n, row)))
    target.replace(path)


def natural_keys_people(folder: Path) -> None:
    """Participants with the structure's file numbers (F0000000… in file order), and
    enrolments naming them by file number instead of identity (not timed)."""
    def participants(header: list[str], item: Any) -> list[str]:
        return [*header, "file_number"] if item is None else [*item[1], f"F{item[0]:07d}"]

    def enrolments(header: list[str], item: Any) -> list[str]:
        # file_number for the identity, and no structure_id: --structure gives it.
        if item is None:
            return ["file_number", header[3], *header[5:]]
        return [f"F{item[0]:07d}", item[1][3], *item[1][5:]]  # one per person, same order

    _rewrite(folder / "participants.csv", participants)
    _rewrite(folder / "enrolments.csv", enrolments)


def natural_keys_events(folder: Path, participant_ids: list[str]) -> None:
    """Events with the partner's own ids, people by file number, support breaks' enrolment
    by action code (each person's one enrolment in 62-A1) (not timed)."""
    number = {pid: f"F{i:07d}" for i, pid in enumerate(participant_ids)}
    renamed = {"participant_id": "file_number", "enrolment_id": "action_code"}

    def events(header: list[str], item: Any) -> list[str]:
        if item is None:
            return [renamed.get(c, c) for c in header]
        n, row = item
        at = {c: i for i, c in enumerate(header)}
        out = list(row)
        out[at["id"]] = f"EV{n}"
        out[at["participant_id"]] = number[row[at["participant_id"]]]
        if row[at["enrolment_id"]]:
            out[at["enrolment_id"]] = "62-A1"
        return out

    _rewrite(folder / "events.csv", events)


def run_bench(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Generate the files, import them in order; the figures of each import."""
    folder = args.dir or Path(tempfile.mkdtemp(prefix="cohort-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    keys = folder / "bench-keys.toml"
    rng = random.Random(args.seed)
    print(f"files and database in {folder}", flush=True)
    structure = prepare_database(url, keys)["62-A1"]  # the PLIE
    natural = not args.uuids
    scope = structure if natural else None
    figures: dict[str, dict[str, Any]] = {}

    started = time.perf_counter()
    people = write_participants(folder / "participants.csv", args.participants, rng)
    starts = write_enrolments(folder / "enrolments.csv", people, structure, rng)
    print(f"generated participants and enrolments in {time.perf_counter() - started:.1f}s"
          f" ({'natural keys' if natural else 'uuids'})", flush=True)
    del people
    if natural:  # the file numbers are given in the participants file's order
        natural_keys_people(folder)
    figures["participants"] = timed("participants", folder / "participants.csv", url, keys,
                                    args.workers, structure=scope)
    figures["enrolments"] = timed("enrolments", folder / "enrolments.csv", url, keys,
                                  args.workers, structure=scope)

    started = time.perf_counter()
    from cohort.models import Enrolment, Participant

    count = write_events(folder / "events.csv", ids_in_order(url, Participant),
                         ids_in_order(url, Enrolment), starts, args.events, rng)
    if natural:
        natural_keys_events(folder, ids_in_order(url, Participant))
    size = (folder / "events.csv").stat().st_size / 1e6
    print(f"generated {count} events ({size:.0f} MB) in {time.perf_counter() - started:.1f}s",
          flush=True)
    figures["events"] = timed("events", folder / "events.csv", url, keys, args.workers,
                              args.remember, structure=scope)
    if args.reimport:
        figures["events again"] = timed("events", folder / "events.csv", url, keys,
                                        args.workers, args.remember, structure=scope)
    return figures


if __name__ == "__main__":
    main()
