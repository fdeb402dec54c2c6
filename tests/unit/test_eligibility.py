"""Eligibility of an enrolment (domain.md §4), with the Pas-de-Calais rules declared inline in
the programme file's format."""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

import pytest

from cohort.domain.calendar import age_in_years
from cohort.domain.eligibility import Facts, check, describe

RULES: dict[str, list[dict[str, Any]]] = tomllib.loads(
    """
    "62-A1" = [{require_any = ["rsa_at_entry", "under_26"]}]
    "62-A2" = [{require_any = ["rsa_at_entry", "under_26"]}]
    "62-A3" = [{require = "parent_child_0_3"}, {require_any = ["rsa_at_entry", "under_26"]}]
    "62-A4" = [{require = "ase_past"}, {age_max = 24}]
    "62-A5" = [{require = "ase_past"}, {age_min = 18, age_max = 24}]
    "62-A6" = [{require = "ase_past"}, {age_min = 16, age_max = 21}]
    """
)


def facts(age: int, *, rsa: bool = False, ase: bool = False, parent: bool = False) -> Facts:
    return Facts(age=age, rsa_at_entry=rsa, ase_past=ase, parent_child_0_3=parent)


# (action, facts, indices of the requirements that fail)
CASES = [
    # 62-A1 / 62-A2: RSA recipient, or under 26
    ("62-A1", facts(25), []),
    ("62-A1", facts(26), [0]),
    ("62-A1", facts(26, rsa=True), []),
    ("62-A2", facts(25), []),
    ("62-A2", facts(26), [0]),
    ("62-A2", facts(58, rsa=True), []),
    # 62-A3: parent of a child aged 0-3, and (RSA or under 26)
    ("62-A3", facts(25, parent=True), []),
    ("62-A3", facts(26, parent=True), [1]),
    ("62-A3", facts(26, parent=True, rsa=True), []),
    ("62-A3", facts(20, rsa=True), [0]),
    ("62-A3", facts(30), [0, 1]),
    # 62-A4: ASE past, and under 25
    ("62-A4", facts(24, ase=True), []),
    ("62-A4", facts(25, ase=True), [1]),
    ("62-A4", facts(16, ase=True), []),
    ("62-A4", facts(20, rsa=True), [0]),
    ("62-A4", facts(25), [0, 1]),
    # 62-A5: ASE past, and 18 <= age < 25
    ("62-A5", facts(17, ase=True), [1]),
    ("62-A5", facts(18, ase=True), []),
    ("62-A5", facts(24, ase=True), []),
    ("62-A5", facts(25, ase=True), [1]),
    ("62-A5", facts(20), [0]),
    # 62-A6: ASE past, and 16 <= age <= 21
    ("62-A6", facts(15, ase=True), [1]),
    ("62-A6", facts(16, ase=True), []),
    ("62-A6", facts(21, ase=True), []),
    ("62-A6", facts(22, ase=True), [1]),
    ("62-A6", facts(16, rsa=True, parent=True), [0]),
]


@pytest.mark.parametrize(("action", "who", "failing"), CASES)
def test_eligibility_at_the_boundaries(action: str, who: Facts, failing: list[int]) -> None:
    requirements = RULES[action]
    result = check(requirements, who)
    assert result.ok is (not failing)
    assert result.reasons == [describe(requirements[i]) for i in failing]


@pytest.mark.parametrize(
    ("requirement", "words"),
    [
        ({"require": "ase_past"}, ["ASE"]),
        ({"require": "parent_child_0_3"}, ["parent", "0-3"]),
        ({"require_any": ["rsa_at_entry", "under_26"]}, ["RSA", "under 26"]),
        ({"age_min": 16, "age_max": 21}, ["16", "21"]),
        ({"age_min": 18}, ["at least 18"]),
        ({"age_max": 24}, ["at most 24"]),
    ],
)
def test_reason_names_the_failed_requirement(requirement: dict[str, Any], words: list[str]) -> None:
    reason = describe(requirement)
    assert all(w in reason for w in words), reason


@pytest.mark.parametrize(
    ("action", "birth", "start", "ok"),
    [
        ("62-A6", "2007-06-15", "2023-06-14", False),  # the day before the 16th birthday
        ("62-A6", "2007-06-15", "2023-06-15", True),
        ("62-A6", "2001-06-15", "2023-06-14", True),  # still 21
        ("62-A6", "2001-06-15", "2023-06-15", False),  # 22 today
        ("62-A5", "2005-03-01", "2023-02-28", False),  # 17
        ("62-A5", "2005-03-01", "2023-03-01", True),
        ("62-A5", "2004-02-29", "2022-02-28", False),  # born 29 Feb: 18 only on 1 March
        ("62-A5", "2004-02-29", "2022-03-01", True),
        ("62-A4", "1998-09-30", "2023-09-29", True),  # still 24
        ("62-A4", "1998-09-30", "2023-09-30", False),
        ("62-A1", "1997-12-31", "2023-12-30", True),  # under 26 on the eve of the 26th birthday
        ("62-A1", "1997-12-31", "2023-12-31", False),
    ],
)
def test_age_at_entry_from_birth_date(action: str, birth: str, start: str, ok: bool) -> None:
    age = age_in_years(dt.date.fromisoformat(birth), dt.date.fromisoformat(start))
    assert check(RULES[action], facts(age, ase=True)).ok is ok
