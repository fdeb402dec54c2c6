"""Calendar arithmetic (domain.md §7 "N months after D", §4 age at entry)."""

from __future__ import annotations

import datetime as dt

import pytest

from cohort.domain.calendar import add_months, age_in_years, birth_month, end_of_month

D = dt.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (D(2023, 8, 31), 6, D(2024, 2, 29)),  # the spec's example: leap year
        (D(2024, 8, 31), 6, D(2025, 2, 28)),
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2023, 3, 31), 1, D(2023, 4, 30)),
        (D(2023, 1, 30), 1, D(2023, 2, 28)),
        (D(2023, 2, 28), 1, D(2023, 3, 28)),  # a clamped day is not "end of month" forever
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2023, 6, 15), 6, D(2023, 12, 15)),
        (D(2023, 7, 15), 6, D(2024, 1, 15)),  # year boundary
        (D(2023, 12, 31), 1, D(2024, 1, 31)),
        (D(2023, 5, 10), 0, D(2023, 5, 10)),
        (D(2024, 2, 29), -12, D(2023, 2, 28)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2023, 3, 31), -1, D(2023, 2, 28)),
        (D(2024, 1, 15), -1, D(2023, 12, 15)),
        (D(2024, 1, 31), -25, D(2021, 12, 31)),
    ],
)
def test_add_months_clamps_to_month_end(start: dt.date, months: int, expected: dt.date) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (D(2007, 6, 15), D(2023, 6, 14), 15),  # day before the 16th birthday
        (D(2007, 6, 15), D(2023, 6, 15), 16),  # the birthday itself
        (D(2007, 6, 15), D(2023, 6, 16), 16),
        (D(2005, 1, 1), D(2022, 12, 31), 17),  # year boundary
        (D(2005, 1, 1), D(2023, 1, 1), 18),
        (D(1997, 12, 31), D(2023, 12, 30), 25),
        (D(1997, 12, 31), D(2023, 12, 31), 26),
        # born 29 February: a year older on 1 March in common years, on 29 February in leap ones
        (D(2004, 2, 29), D(2022, 2, 28), 17),
        (D(2004, 2, 29), D(2022, 3, 1), 18),
        (D(2004, 2, 29), D(2024, 2, 28), 19),
        (D(2004, 2, 29), D(2024, 2, 29), 20),
        (D(2004, 2, 29), D(2004, 2, 29), 0),
        (D(2004, 2, 29), D(2005, 2, 28), 0),
    ],
)
def test_age_in_completed_years(birth: dt.date, on: dt.date, age: int) -> None:
    assert age_in_years(birth, on) == age


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (D(2024, 2, 1), D(2024, 2, 29)),
        (D(2023, 2, 28), D(2023, 2, 28)),
        (D(2023, 12, 5), D(2023, 12, 31)),
    ],
)
def test_end_of_month(d: dt.date, expected: dt.date) -> None:
    assert end_of_month(d) == expected


def test_birth_month_is_zero_padded() -> None:
    assert birth_month(D(2005, 3, 9)) == "2005-03"
