"""Duplicates report bench (run by hand, not a test): what a report page costs.

    .venv/bin/python bench/duplicate_report.py                    # 20,000 people, 500 pairs
    .venv/bin/python bench/duplicate_report.py --people 100000 --pairs 2000 --min-shared 2

It builds bench/similarity.py's synthetic population (seed 17), adds a respelled,
mistyped or day/month-swapped copy of some of them (the planted duplicates), imports
everyone into a fresh SQLite database through the CSV importer, then as an administrator:
counts the bucket pairs the report's statement groups, reads the report a page of 20
after another (timing each and counting the identities opened), and says how many of the
planted pairs the pages found, and after how many pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import sqlalchemy as sa  # noqa: E402
from similarity import exact, import_identities, population, variants  # noqa: E402

KINDS = ("respelling (last name)", "typo, last name", "day/month swapped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=500, help="planted duplicates")
    parser.add_argument("--pages", type=int, default=0,
                        help="pages to read (default: until the report ends)")
    parser.add_argument("--min-shared", type=int, default=1,
                        help="the report's min_shared (2: pairs sharing two buckets or more)")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()


    from cohort.actors import Actor, Role
    from cohort.services import duplicate_report
    from cohort.services.participants import find_by_pseudonym, pseudonyms_of

    rng = random.Random(args.seed)
    people = population(rng, args.people, "mixed")
    kinds = variants(rng)
    planted: list[tuple[tuple[str, str, dt.date], tuple[str, str, dt.date]]] = []
    for i in rng.sample(range(len(people)), len(people)):
        if len(planted) >= args.pairs:
            break
        copy = kinds[KINDS[len(planted) % len(KINDS)]](people[i])
        if copy is not None and exact(copy) != exact(people[i]):
            planted.append((people[i], copy))
    everyone = people + [copy for _, copy in planted]

    tmp = Path(tempfile.mkdtemp(prefix="bench-report-"))
    try:
        url = f"sqlite:///{tmp}/report.db"
        imported = import_identities(tmp, url, everyone)
        ring, engine, factory, created = (imported.ring, imported.engine, imported.factory,
                                          imported.created)
        now = dt.datetime.now(dt.UTC)
        print(f"{created:,} participants imported ({args.people:,} people + "
              f"{len(planted):,} planted duplicates: {', '.join(KINDS)})")

        with factory() as session:
            started = time.perf_counter()
            grouped = session.execute(sa.select(sa.func.count()).select_from(
                duplicate_report.bucket_pairs().subquery())).scalar_one()
            took = time.perf_counter() - started
            print(f"bucket pairs (stored buckets shared, not linked, not dismissed): "
                  f"{grouped:,}, counted in {took:.2f} s")

        admin = Actor(role=Role.ADMIN, user_id=None, structure_id=None)
        wanted = set()
        with factory() as session:
            def uuid_of(who: tuple[str, str, dt.date]) -> object:
                fields = dict(zip(("last_name", "first_names", "birth_date"), who, strict=True))
                found = find_by_pseudonym(session, pseudonyms_of(ring, fields))
                assert found is not None
                return found.uuid

            for person, copy in planted:
                wanted.add(frozenset((uuid_of(person), uuid_of(copy))))

        times, found_at, after, page_number, pairs_seen = [], {}, None, 0, 0
        while True:
            page_number += 1
            with factory() as session, session.begin():
                started = time.perf_counter()
                page = duplicate_report.page(session, ring, admin, after=after, per_page=20,
                                             now=now, min_shared=args.min_shared)
                times.append(time.perf_counter() - started)
            for pair in page.items:
                pairs_seen += 1
                key = frozenset((pair.first_uuid, pair.second_uuid))
                if key in wanted:
                    found_at.setdefault(key, page_number)
            after = page.next
            if after is None or (args.pages and page_number >= args.pages):
                break
        pages_needed = sorted(found_at.values())
        print(f"min_shared {args.min_shared}: pages read: {page_number} (20 pairs each), "
              f"{pairs_seen:,} pairs listed; "
              f"planted pairs found: {len(found_at):,} / {len(planted):,}"
              + (f", the last on page {pages_needed[-1]}" if pages_needed else ""))
        print(f"time per page: median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms, first {times[0] * 1000:.0f} ms")
        engine.dispose()
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
