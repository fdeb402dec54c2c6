"""The alerts of imported support breaks, one by one or in bulk (run by hand, not a test).

    .venv/bin/python bench/indicators.py --backends postgresql --scales 100000:1000000 --build-only
    .venv/bin/python bench/import_alerts.py --backends postgresql,sqlite --scale 100000:1000000

On a data set built by bench/indicators.py, in a transaction that is rolled back: the
support-break alerts and their messages are deleted, then raised again for every support
break of the data set, first through the per-event hook the API uses
(``alerts.on_event_recorded``, what the events import did until 2026-11-29), then through
``alerts.raise_for_breaks`` in batches of 5,000 ids (what it does now). Each is timed in
its own rolled-back transaction on the same data; the two must raise the same alerts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from indicators import DEFAULT_DIR, Cluster  # noqa: E402 - the bench folder is on the path


def measure(url: str) -> dict[str, Any]:
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from cohort.db import make_engine
    from cohort.importer.pipeline import batches
    from cohort.models import Alert, Event, Notification
    from cohort.services import alerts

    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    figures: dict[str, Any] = {}
    raised: dict[str, list[tuple[int, str, int | None]]] = {}
    for way in ("one_by_one", "bulk"):
        with Session(engine) as session:
            breaks = list(session.execute(sa.select(Event.id).where(
                Event.type == "support_break").order_by(Event.id)).scalars())
            session.execute(sa.delete(Notification).where(Notification.alert_id.is_not(None)))
            session.execute(sa.delete(Alert).where(Alert.cause == "support_break"))
            session.flush()
            started = time.perf_counter()
            if way == "one_by_one":
                for part in batches(breaks):
                    for event in session.execute(sa.select(Event).where(
                            Event.id.in_(part)).order_by(Event.id)).scalars():
                        alerts.on_event_recorded(session, event, now=now)
                session.flush()
            else:
                for part in batches(breaks):
                    alerts.raise_for_breaks(session, part, now=now)
            figures[f"{way}_s"] = round(time.perf_counter() - started, 2)
            raised[way] = [tuple(r) for r in session.execute(
                sa.select(Alert.event_id, Alert.departement, Alert.enrolment_id)
                .where(Alert.cause == "support_break").order_by(Alert.event_id))]
            session.rollback()
    engine.dispose()
    figures.update(support_breaks=len(breaks), alerts=len(raised["bulk"]),
                   same_alerts=raised["bulk"] == raised["one_by_one"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="postgresql")
    parser.add_argument("--scale", default="100000:1000000")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    people, events = (int(n) for n in args.scale.split(":"))
    cluster = None
    try:
        for backend in (b.strip() for b in args.backends.split(",")):
            folder = args.dir / f"{backend}-{people}-{events}"
            if not (folder / "loaded.json").exists():
                sys.exit(f"{folder}/loaded.json missing: run bench/indicators.py --build-only")
            if backend == "sqlite":
                url = f"sqlite:///{folder / 'bench.db'}"
            else:
                import sqlalchemy as sa

                cluster = Cluster(args.dir / "pg")
                url = sa.make_url(cluster.start()).set(
                    database=f"bench_{people}_{events}").render_as_string(hide_password=False)
            print(backend, measure(url), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    main()
