"""Check (run by hand, not a test): the cohort table's censoring shortcut is exact.

    .venv/bin/python bench/check_latest_base.py            # 300 random as-of dates

The cohort table (cohort/indicators/cohorts.py) decides "H ≤ A" for a horizon H = base +
N months as "base ≤ _latest_base(A, N)", a date computed once per horizon. This checks,
for random as-of dates A between 2020 and 2030 (plus every month end of 2023 and 2024 and
29 February 2024), every horizon of the table and every base day from A − N months − 2
months to A + 1 day, that the shortcut agrees with `calendar.add_months(base, N) ≤ A`.
Pure Python, no database; exits non-zero on the first disagreement.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cohort.domain.calendar import add_months, end_of_month  # noqa: E402
from cohort.indicators.cohorts import HORIZON_MONTHS, _latest_base  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dates", type=int, default=300, help="random as-of dates")
    parser.add_argument("--seed", type=int, default=2023)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    first, last = dt.date(2020, 1, 1), dt.date(2030, 12, 31)
    as_ofs = {first + dt.timedelta(days=rng.randrange((last - first).days))
              for _ in range(args.dates)}
    as_ofs |= {end_of_month(dt.date(year, month, 1)) for year in (2023, 2024)
               for month in range(1, 13)}
    as_ofs.add(dt.date(2024, 2, 29))
    checked = 0
    for as_of in sorted(as_ofs):
        for months in sorted(set(HORIZON_MONTHS.values())):
            latest = _latest_base(as_of, months)
            day = as_of - dt.timedelta(days=31 * months + 62)
            while day <= as_of + dt.timedelta(days=1):
                if (day <= latest) != (add_months(day, months) <= as_of):
                    sys.exit(f"disagree: as of {as_of}, +{months} months, base {day}")
                checked += 1
                day += dt.timedelta(days=1)
    print(f"{len(as_ofs)} as-of dates, horizons of {sorted(set(HORIZON_MONTHS.values()))} "
          f"months: {checked} (as-of, horizon, base day) cases agree")


if __name__ == "__main__":
    main()
