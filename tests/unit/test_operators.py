"""Who may enrol where (domain.md §2 "Operators"): the pure rule and its forcing."""

from __future__ import annotations

import datetime as dt

import pytest

from cohort.domain import operators, rules
from cohort.errors import Forbidden, Rejected


def refusals(action_dept: str, ops: list[str], kind: str, dept: str = "62") -> list[str]:
    return operators.refusals(action_departement=action_dept, operators=ops,
                              structure_kind=kind, structure_departement=dept)


def test_plie_may_enrol_into_62_a1_a_mission_locale_may_not() -> None:
    assert refusals("62", ["plie"], "plie") == []
    assert refusals("62", ["plie"], "mission_locale") == [
        "is not run by structures of kind mission_locale (run by: plie)"]


def test_another_departement_is_refused_even_for_the_right_kind() -> None:
    assert refusals("59", ["mds"], "mds", "62") == [
        "is an action of another département (59) than the structure's"]
    assert len(refusals("59", ["mds"], "mission_locale", "62")) == 2


def test_joint_actions_are_open_to_both_departements() -> None:
    for dept in ("59", "62"):
        assert refusals("joint", ["creche", "plie"], "plie", dept) == []
    assert refusals("joint", ["creche", "plie"], "mds", "59") != []


def test_an_action_with_no_operators_declared_refuses_everyone() -> None:
    assert refusals("62", [], "plie") == [
        "is not run by structures of kind plie (run by: none declared)"]


DATA = {"start_date": dt.date(2024, 1, 10), "rsa_at_entry": True}
BIRTH = dt.date(1990, 1, 1)
WRONG = ["is not run by structures of kind mission_locale (run by: plie)"]


def entry(data: dict, *, is_admin: bool, refused: list[str]) -> rules.Entry:
    return rules.enrolment_entry([], {}, data, birth=BIRTH, ase_past=False, is_admin=is_admin,
                                 today=dt.date(2024, 6, 1), operator_refusals=refused)


def test_the_enrolment_rule_refuses_naming_the_action_field() -> None:
    with pytest.raises(Rejected) as info:
        entry(DATA, is_admin=True, refused=WRONG)
    assert info.value.errors == {"action_id": WRONG}
    assert info.value.code == "not_operator"


def test_only_an_administrator_forces_with_a_justification() -> None:
    with pytest.raises(Forbidden):
        entry(DATA | {"force": True, "force_justification": "x"}, is_admin=False, refused=WRONG)
    with pytest.raises(Rejected) as info:
        entry(DATA | {"force": True}, is_admin=True, refused=WRONG)
    assert info.value.field == "force_justification"
    forced = entry(DATA | {"force": True, "force_justification": "Seule structure sur place"},
                   is_admin=True, refused=WRONG)
    assert forced.forced
    assert forced.force_justification == "Seule structure sur place"
    # Forcing what needs no forcing records nothing.
    assert not entry(DATA | {"force": True, "force_justification": "x"}, is_admin=True,
                     refused=[]).forced
