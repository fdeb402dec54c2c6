"""Check (run by hand, not a test): the bulk import wrote the intervals the API would.

    .venv/bin/python bench/import.py --dir /tmp/bench-import          # keeps bench.db there
    .venv/bin/python bench/check_intervals.py --dir /tmp/bench-import  # 300 random people

On a database filled by bench/import.py, for a random sample of participants with events,
it does what `refresh_intervals` (cohort/services/events.py: the resolution every API
write runs) does — resolve the participant's non-voided events and diff them against the
current `event_interval` rows — and counts the rows it would supersede or add. Nothing is
written (the diff is computed, not applied, in a transaction that is rolled back). It
exits non-zero when any sampled participant's intervals differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402

from cohort.db import make_engine  # noqa: E402
from cohort.domain.intervals import resolve  # noqa: E402
from cohort.models import Event, EventInterval  # noqa: E402
from cohort.services.events import facts_of, interval_changes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=None,
                        help="the --dir of bench/import.py (its bench.db)")
    parser.add_argument("--database-url", default=None, help="instead of --dir")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--seed", type=int, default=2023)
    args = parser.parse_args()
    if not (args.dir or args.database_url):
        parser.error("--dir or --database-url is required")
    url = args.database_url or f"sqlite:///{args.dir}/bench.db"
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session, session.begin():
        ids = sorted(session.execute(sa.select(Event.participant_id).distinct()).scalars())
        sample = random.Random(args.seed).sample(ids, min(args.sample, len(ids)))
        differing = superseded = added = rows = 0
        for pid in sample:
            current = session.execute(
                sa.select(EventInterval).where(EventInterval.participant_id == pid,
                                               EventInterval.valid_to.is_(None))
            ).scalars().all()
            rows += len(current)
            changes = interval_changes(pid, current, resolve(facts_of(session, pid)), now=now)
            if changes.superseded or changes.new:
                differing += 1
                superseded += len(changes.superseded)
                added += len(changes.new)
        session.rollback()
    engine.dispose()
    print(f"{len(sample)} participants, {rows} current interval rows: {differing} differ "
          f"({superseded} rows would be superseded, {added} added)")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
