"""The shipped programme file and the programme-file validator (domain.md §2, §4); no database.

Lines in schema errors are found by tomllib itself (``services.programme_file.locate``): a
key's own line, or the closing line of a multi-line value holding it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cohort.domain.eligibility import Facts, check
from cohort.errors import CohortError
from cohort.services.programme_file import (
    ProgrammeFileError,
    format_path,
    parse_programme_file,
    parse_programme_text,
)

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "programmes" / "erbm-2023.toml"

MINIMAL = """\
[programme]
code = "test-2024"
title = "Programme de test"
period_start = 2024-01-01
period_end = 2024-12-31
parties = [{ code = "state", name = "État" }]

[[actions]]
code = "62-A1"
departement = "62"
axis = 1
title = "Action une"
public = "Tout public"
territory = "Artois"
eligibility = [{ require = "ase_past" }]
operators = ["plie"]

[actions.budget]
total = 1_000
state = 500

[[actions]]
code = "62-A2"
departement = "62"
axis = 2
title = "Action deux"
public = "Tout public"
territory = "Artois"
eligibility = [
    { require_any = ["rsa_at_entry", "under_26"] },
    { age_min = 16, age_max = 21 },
]
operators = ["plie", "mde"]

[[actions.targets]]
code = "participants_accompanied"
label_fr = "Bénéficiaires accompagnés"
value = 20
unit = "participants"
"""


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    return parse_programme_file(SHIPPED)


@pytest.fixture(scope="module")
def actions(shipped: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["code"]: a for a in shipped["actions"]}


def facts(age: int, *, rsa: bool = False, ase: bool = False, parent: bool = False) -> Facts:
    return Facts(age=age, rsa_at_entry=rsa, ase_past=ase, parent_child_0_3=parent)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line starting with ``needle`` (what the error must name)."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith(needle)]
    return hits[occurrence - 1]


def rejected(tmp_path: Path, text: str) -> ProgrammeFileError:
    path = tmp_path / "programme.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProgrammeFileError) as info:
        parse_programme_file(path)
    return info.value


# --- the shipped file ---------------------------------------------------------------------

def test_shipped_file_validates(shipped: dict[str, Any]) -> None:
    programme = shipped["programme"]
    assert programme["code"] == "erbm-2023"
    assert str(programme["period_start"]) == "2023-01-01"
    assert str(programme["period_end"]) == "2023-12-31"
    assert {p["code"] for p in programme["parties"]} == {"state", "59", "62"}
    settings = dict(programme["settings"])
    common = settings.pop("common_indicators")
    # The clause twins of the two départements and their joint follow-up (issue 19).
    assert [(p["code"], p["actions"]) for p in settings.pop("poolings")] == [
        ("clauses", ["62-A2", "59-A4", "J-CLAUSES"])]
    assert settings == {
        "followup_months": 6, "followup_window_before_days": 15,
        "followup_window_after_days": 45,
        "stable_housing": ["social_rental", "private_rental", "sliding_lease"],
        "fte_hours": 1820, "state_total_per_departement": 500_000,
    }
    # The follow-up figures of domain.md §7 ("all" row) are reported for every action.
    assert {(i["code"], i["params"]["count"], i.get("rate_of")) for i in common} == {
        ("checks_due", "due", None), ("checks_done", "done", "checks_due"),
        ("checks_overdue", "overdue", "checks_due"), ("checks_reached", "reached", "checks_done"),
        ("six_months_in_pathway", "in_pathway", "checks_reached"),
        ("six_months_durable_employment", "durable_employment", "checks_reached"),
        ("six_months_stably_housed", "stably_housed", "checks_reached"),
        ("six_months_has_resources", "has_resources", "checks_reached"),
    }


def test_seventeen_actions(actions: dict[str, dict[str, Any]]) -> None:
    assert len(actions) == 17
    assert sorted(c for c in actions if c.startswith("62-")) == [f"62-A{i}" for i in range(1, 7)]
    assert sorted(c for c in actions if c.startswith("59-")) == [f"59-A{i}" for i in range(1, 7)]
    assert {c for c, a in actions.items() if a["departement"] == "joint"} == {
        "J-CIE", "J-CLAUSES", "J-SIAE", "J-MOBILITE", "J-AVIP"}
    for code, action in actions.items():
        assert action["departement"] == ("joint" if code.startswith("J-") else code[:2])


def test_nord_axes_and_open_eligibility(actions: dict[str, dict[str, Any]]) -> None:
    axes = {code: actions[code]["axis"] for code in actions if code.startswith("59-")}
    assert axes == {"59-A1": 2, "59-A2": 2, "59-A3": 2, "59-A4": 1, "59-A5": 1, "59-A6": 2}
    for code, action in actions.items():
        if not code.startswith("62-"):
            assert action["eligibility"] == []
            assert action["budget"] == {}


@pytest.mark.parametrize(
    ("code", "total", "state"),
    [
        ("62-A1", 84_000, 42_000),
        ("62-A2", 285_000, 142_500),
        ("62-A3", 82_000, 41_000),
        ("62-A4", 200_000, 100_000),
        ("62-A5", 60_000, 30_000),
        ("62-A6", 289_000, 144_500),
    ],
)
def test_pas_de_calais_budgets(actions: dict[str, dict[str, Any]], code: str, total: int,
                               state: int) -> None:
    budget = actions[code]["budget"]
    assert (budget["total"], budget["state"], budget["state_effective"]) == (total, state, state)
    # The financial table: CD 62 share = State share, all of it valuation, no other funding.
    assert budget["departement"] == budget["departement_valuation"] == state
    assert budget["other"] == 0
    assert budget["state"] * 2 == budget["total"]  # grant art. 4.3: State ≤ 50 % per action


def test_pas_de_calais_totals(shipped: dict[str, Any]) -> None:
    budgets = [a["budget"] for a in shipped["actions"] if a["departement"] == "62"]
    assert sum(b["total"] for b in budgets) == 1_000_000
    assert sum(b["state"] for b in budgets) == 500_000
    assert sum(b["state"] for b in budgets) == (
        shipped["programme"]["settings"]["state_total_per_departement"])
    assert sum(b["departement"] for b in budgets) >= sum(b["state"] for b in budgets)


def test_pas_de_calais_targets(actions: dict[str, dict[str, Any]]) -> None:
    def targets(code: str) -> dict[str, dict[str, Any]]:
        return {t["code"]: t for t in actions[code]["targets"]}

    assert targets("62-A1")["participants_accompanied"]["value"] == 20
    assert targets("62-A2")["participants_accompanied"]["value"] == 180
    assert targets("62-A2")["facilitators_fte"]["value"] == 2.5
    assert targets("62-A3") == {}
    assert targets("62-A4")["reinforced_measures"]["value"] == 20
    assert (targets("62-A4")["youths_accompanied"]["min"],
            targets("62-A4")["youths_accompanied"]["max"]) == (20, 40)
    assert targets("62-A5")["households_housed"]["value"] == 15
    assert targets("62-A6") == {}
    assert actions["62-A4"]["settings"]["capacity_units"] == 20
    assert actions["62-A4"]["settings"]["intensity_units"] == {"reinforced": 1, "simple": 0.5}


@pytest.mark.parametrize(
    ("code", "case", "eligible"),
    [
        ("62-A1", facts(40, rsa=True), True),
        ("62-A1", facts(25), True),
        ("62-A1", facts(26), False),
        ("62-A2", facts(30, rsa=True), True),
        ("62-A2", facts(19, ase=True), True),
        ("62-A2", facts(45), False),
        ("62-A3", facts(35, rsa=True, parent=True), True),
        ("62-A3", facts(22, parent=True), True),
        ("62-A3", facts(35, rsa=True), False),
        ("62-A3", facts(35, parent=True), False),
        ("62-A4", facts(24, ase=True), True),
        ("62-A4", facts(25, ase=True), False),
        ("62-A4", facts(20, rsa=True), False),
        ("62-A5", facts(18, ase=True), True),
        ("62-A5", facts(24, ase=True), True),
        ("62-A5", facts(17, ase=True), False),
        ("62-A5", facts(25, ase=True), False),
        ("62-A5", facts(20), False),
        ("62-A6", facts(16, ase=True), True),
        ("62-A6", facts(21, ase=True), True),
        ("62-A6", facts(15, ase=True), False),
        ("62-A6", facts(22, ase=True), False),
        ("62-A6", facts(17), False),
        ("59-A1", facts(50), True),
        ("J-AVIP", facts(50), True),
    ],
)
def test_eligibility_rules(actions: dict[str, dict[str, Any]], code: str, case: Facts,
                           eligible: bool) -> None:
    result = check(actions[code]["eligibility"], case)
    assert result.ok is eligible
    assert bool(result.reasons) is not eligible


def test_refusal_names_the_rule(actions: dict[str, dict[str, Any]]) -> None:
    result = check(actions["62-A6"]["eligibility"], facts(22))
    assert result.reasons == ["requires: ASE past (child welfare)",
                              "requires an age between 16 and 21 at entry"]


# --- malformed files ----------------------------------------------------------------------

def test_minimal_file_validates() -> None:
    data = parse_programme_text(MINIMAL)
    first, second = data["actions"]
    assert first["budget"] == {"total": 1000, "state": 500}
    assert (first["targets"], first["indicators"], first["settings"]) == ([], [], {})
    assert second["budget"] == {}
    assert data["programme"]["settings"]["followup_months"] == 6


def test_quoted_amount_names_key_and_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("state = 500", 'state = "abc"')
    error = rejected(tmp_path, text)
    assert isinstance(error, CohortError)
    assert error.path == "actions[0].budget.state"
    assert error.line == line_of(text, "state =")
    assert f"actions[0].budget.state (line {error.line})" in error.message
    assert "programme.toml" in error.message
    assert error.errors == {"actions[0].budget.state": [f"line {error.line}: must be a number "
                                                       "(unquoted)"]}


def test_negative_amount(tmp_path: Path) -> None:
    text = MINIMAL.replace("total = 1_000", "total = -1")
    error = rejected(tmp_path, text)
    assert (error.path, error.line) == ("actions[0].budget.total", line_of(text, "total ="))


def test_unknown_key_names_key_and_line(tmp_path: Path) -> None:
    text = MINIMAL.replace('territory = "Artois"\neligibility = [\n',
                           'territory = "Artois"\nbudjet = 3\neligibility = [\n')
    error = rejected(tmp_path, text)
    assert error.path == "actions[1].budjet"
    assert error.line == line_of(text, "budjet")
    assert "Unknown field" in error.message


def test_unknown_key_in_sub_table(tmp_path: Path) -> None:
    text = MINIMAL.replace("state = 500", "state = 500\nstate_share = 0.5")
    error = rejected(tmp_path, text)
    assert (error.path, error.line) == ("actions[0].budget.state_share",
                                        line_of(text, "state_share"))


def test_bad_departement(tmp_path: Path) -> None:
    text = MINIMAL.replace('departement = "62"', 'departement = "75"', 2)
    error = rejected(tmp_path, text)
    assert (error.path, error.line) == ("actions[0].departement", line_of(text, "departement"))
    assert set(error.errors) == {"actions[0].departement", "actions[1].departement"}
    assert error.errors["actions[1].departement"][0].startswith(
        f"line {line_of(text, 'departement', 2)}:")
    assert "(and 1 more)" in error.message


def test_bad_axis(tmp_path: Path) -> None:
    text = MINIMAL.replace("axis = 2", "axis = 3")
    error = rejected(tmp_path, text)
    assert (error.path, error.line) == ("actions[1].axis", line_of(text, "axis = 3"))


def test_syntax_error_carries_the_line(tmp_path: Path) -> None:
    text = MINIMAL.replace("axis = 2", "axis = = 2")
    error = rejected(tmp_path, text)
    assert error.line == line_of(text, "axis = =")
    assert "TOML syntax error" in error.message
    assert f"line {error.line}" in error.message


@pytest.mark.parametrize(
    ("requirement", "path_suffix"),
    [
        ('{ require = "homeless" }', "[1].require"),
        ('{ require_any = ["rsa_at_entry", "rich"] }', "[1].require_any[1]"),
        ('{ require = "ase_past", age_min = 16 }', "[1]"),
        ("{ age_min = 21, age_max = 16 }", "[1].age_max"),
        ("{ age_min = 16.5 }", "[1].age_min"),
        ("{ }", "[1]"),
    ],
)
def test_bad_requirement(tmp_path: Path, requirement: str, path_suffix: str) -> None:
    text = MINIMAL.replace("{ age_min = 16, age_max = 21 }", requirement)
    error = rejected(tmp_path, text)
    assert error.path == "actions[1].eligibility" + path_suffix
    # tomllib keeps no positions: inside a multi-line array, the line named is the one
    # that closes the array (see services.programme_file.locate), not the element's own.
    assert error.line == line_of(text, requirement) + 1
    assert text.splitlines()[error.line - 1].strip() == "]"


def test_missing_eligibility_points_at_the_action(tmp_path: Path) -> None:
    text = MINIMAL.replace('eligibility = [{ require = "ase_past" }]\n', "")
    error = rejected(tmp_path, text)
    assert error.path == "actions[0].eligibility"
    assert error.line == line_of(text, "[[actions]]")
    assert "Missing data" in error.message


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("value = 20", "min = 30\nmax = 20", "actions[1].targets[0].max"),
        ("value = 20", "value = 20\nmin = 10", "actions[1].targets[0]"),
        ('unit = "participants"', 'unit = "Personnes"', "actions[1].targets[0].unit"),
    ],
)
def test_bad_target(tmp_path: Path, old: str, new: str, path: str) -> None:
    text = MINIMAL.replace(old, new)
    error = rejected(tmp_path, text)
    assert error.path == path
    expected = line_of(text, new.split("\n")[-1]) if path.endswith(("max", "unit")) else (
        line_of(text, "[[actions.targets]]"))
    assert error.line == expected


def test_duplicate_action_code(tmp_path: Path) -> None:
    text = MINIMAL.replace('code = "62-A2"', 'code = "62-A1"')
    error = rejected(tmp_path, text)
    assert error.path == "actions[1].code"
    assert error.line == line_of(text, 'code = "62-A1"', 2)
    assert "listed twice" in error.message


def test_bad_dates(tmp_path: Path) -> None:
    text = MINIMAL.replace("period_end = 2024-12-31", "period_end = 2023-12-31")
    error = rejected(tmp_path, text)
    assert (error.path, error.line) == ("programme.period_end", line_of(text, "period_end"))
    text = MINIMAL.replace("period_start = 2024-01-01", 'period_start = "le 1er janvier"')
    error = rejected(tmp_path, text)
    assert (error.path, error.line) == ("programme.period_start", line_of(text, "period_start"))


def test_unknown_programme_setting(tmp_path: Path) -> None:
    text = MINIMAL.replace("\n[[actions]]", "\n[programme.settings]\nfollowup_month = 6\n\n"
                           "[[actions]]", 1)
    error = rejected(tmp_path, text)
    assert (error.path, error.line) == ("programme.settings.followup_month",
                                        line_of(text, "followup_month"))


# --- key paths -------------------------------------------------------------------------

def test_format_path() -> None:
    assert format_path(("actions", 3, "budget", "state")) == "actions[3].budget.state"
    assert format_path(("actions", 1, "eligibility", 0)) == "actions[1].eligibility[0]"


def test_common_indicator_needs_a_known_rate_of(tmp_path: Path) -> None:
    common = ('\n[[programme.settings.common_indicators]]\ncode = "checks_done"\n'
              'kind = "followup_checks"\nparams = { count = "done" }\nlabel_fr = "Suivis"\n'
              'definition = "Suivis réalisés."\nnumerator = "suivis"\nrate_of = "checks_due"\n')
    text = MINIMAL.replace("\n[[actions]]", "\n[programme.settings]" + common + "\n[[actions]]", 1)
    error = rejected(tmp_path, text)
    assert error.path == "programme.settings.common_indicators[0].rate_of"
    assert "no common indicator 'checks_due'" in error.message
    text = text.replace('count = "done"', 'count = "finished"')
    error = rejected(tmp_path, text)
    assert error.path == "programme.settings.common_indicators[0].params"
    assert "finished" in error.message


def test_a_pooling_names_known_actions_of_both_departements(tmp_path: Path) -> None:
    pooling = ('\n[[programme.settings.poolings]]\ncode = "deux"\nlabel_fr = "Les deux"\n'
               'actions = ["62-A1", "59-A9"]\n')
    text = MINIMAL.replace("\n[[actions]]", "\n[programme.settings]" + pooling + "\n[[actions]]",
                           1)
    error = rejected(tmp_path, text)
    assert error.path == "programme.settings.poolings[0].actions"
    assert "unknown action(s): 59-A9" in error.message
    error = rejected(tmp_path, text.replace('"59-A9"', '"62-A2"'))
    assert error.path == "programme.settings.poolings[0].actions"
    assert "covers both départements" in error.message


# --- operators (domain.md §2 "Operators") --------------------------------------------------

def test_shipped_operators(actions: dict[str, dict[str, Any]]) -> None:
    assert actions["62-A1"]["operators"] == ["plie"]
    assert actions["62-A2"]["operators"] == ["plie", "mde"]
    assert actions["62-A3"]["operators"] == ["creche", "plie", "mission_locale"]
    assert actions["62-A4"]["operators"] == ["social_support", "cllaj"]
    assert actions["62-A5"]["operators"] == ["bailleur", "cllaj", "mission_locale"]
    assert actions["62-A6"]["operators"] == ["mission_locale"]
    assert actions["59-A6"]["operators"] == ["mds"]  # never a Mission Locale
    assert all(action["operators"] for action in actions.values())


@pytest.mark.parametrize(
    ("operators", "path", "reason"),
    [
        ('["plie", "notary"]', "actions[0].operators[1]", "Must be one of"),
        ("[]", "actions[0].operators", "Shorter than minimum length 1"),
        ('["plie", "plie"]', "actions[0].operators", "listed twice"),
        ('"plie"', "actions[0].operators", "Not a valid list"),
    ],
)
def test_bad_operators(tmp_path: Path, operators: str, path: str, reason: str) -> None:
    text = MINIMAL.replace('operators = ["plie"]\n', f"operators = {operators}\n", 1)
    error = rejected(tmp_path, text)
    assert error.path == path
    assert reason in error.message


def test_missing_operators_points_at_the_action(tmp_path: Path) -> None:
    text = MINIMAL.replace('operators = ["plie"]\n', "", 1)
    error = rejected(tmp_path, text)
    assert error.path == "actions[0].operators"
    assert "Missing data" in error.message
