"""The exports carry what disclosure control published, and nothing else (issue 19).

Random indicator results and cohort tables go through ``publish`` and then through every
export format (French CSV, machine CSV, XLSX, JSON). Each file is read back as a reader
would — a spreadsheet, ``csv``, openpyxl, ``json`` — and must show exactly the published
cells: every hidden cell hidden (empty, "secret" or null), every shown one equal to its
published value, no formula, no hidden row, column or sheet. On the cohort tables the
brute-force attacker of test_disclosure_properties then works from the hidden set read
back from each file: no hidden cell can be recomputed from it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from cohort.indicators import exports
from cohort.indicators.cohorts import STATUS_COLUMNS, CohortRow
from cohort.indicators.disclosure import Additive, Breakdown
from cohort.indicators.engine import IndicatorResult
from cohort.indicators.publish import Rules, publish_cohorts, publish_indicators
from tests.unit.test_disclosure_properties import Table, can_differ, nothing_left_to_hide

SETTINGS = settings(max_examples=60, deadline=None)
HEADER = {"programme": "erbm-2023", "period_from": "2023-01-01", "period_to": "2023-12-31",
          "as_of": "2024-01-31", "recorded_before": None}
BOOK = {"indicators": [], "cohort_cells": [], "horizons": []}


def _result(code: str, kind: str, values: dict[str, Any], *, breakdowns: list[str] = (),
            rate_of: str | None = None, is_count: bool = True, unit: str = "people",
            target: dict[str, Any] | None = None) -> IndicatorResult:
    return IndicatorResult(
        action="62-A6", code=code, kind=kind, label_fr=f"Libellé {code}", definition="déf",
        numerator="n", denominator="d" if rate_of else None, values=values,
        breakdowns=list(breakdowns), target=target, rate_of=rate_of, is_count=is_count,
        extra_counts=[k for k in values if k not in ("value", *breakdowns)] if is_count
        else [], unit=unit)


@st.composite
def indicator_results(draw: st.DrawFn) -> tuple[list[IndicatorResult], Rules]:
    k = draw(st.sampled_from([3, 5]))
    rules = Rules("published", k, draw(st.sampled_from([1, k])))
    total = draw(st.integers(0, 40))
    rsa = draw(st.integers(0, total))
    young = draw(st.integers(0, total))
    turned = draw(st.integers(0, total))
    linked = draw(st.integers(0, turned))
    breaks = draw(st.integers(0, 30))
    people = draw(st.integers(0, breaks))
    measures = draw(st.integers(0, 12))
    units = draw(st.integers(0, 2 * measures)) / 2
    results = [
        _result("accompanied", "accompanied", {"value": total, "rsa": rsa, "under_26": young},
                breakdowns=["rsa", "under_26"],
                target={"code": "t", "label_fr": "Cible", "value": 20}),
        _result("turned_18", "turned_18", {"value": turned}, rate_of="accompanied"),
        _result("link_person", "link_person_by_deadline", {"value": linked},
                rate_of="turned_18"),
        _result("support_breaks", "events_on_enrolments", {"value": breaks, "people": people},
                unit="events"),
        _result("measures_in_use", "capacity_units", {"value": units, "measures": measures},
                is_count=False, unit="reinforced_measure_equivalents",
                target={"code": "m", "label_fr": "Mesures", "value": 20}),
        _result("hours", "realised_hours", {"value": 1234.5, "fte": 0.68}, is_count=False,
                unit="hours"),
    ]
    return results, rules


@st.composite
def cohort_rows(draw: st.DrawFn) -> tuple[list[CohortRow], Rules]:
    k = draw(st.sampled_from([3, 5]))
    rules = Rules("published", k, 1)
    rows = []
    for cohort in range(draw(st.integers(1, 2))):
        for horizon in draw(st.lists(st.sampled_from(["entry", "exit", "entry_6m"]),
                                     min_size=1, max_size=2, unique=True)):
            members = draw(st.integers(0, 12))
            censored = draw(st.integers(0, members))
            known = draw(st.integers(0, members - censored))
            counts = {c: draw(st.integers(0, known)) for c in STATUS_COLUMNS}
            rows.append(CohortRow(f"2023-T{cohort + 1}", horizon, members, censored,
                                  members - censored, known, counts))
    return rows, rules


def _indicator_report(results: list[IndicatorResult], rules: Rules) -> dict[str, Any]:
    rendered = publish_indicators(results, rules)
    return {**HEADER, "mode": rules.mode, "notice": rules.notice, "k": rules.k,
            "actions": [{"code": "62-A6", "title": "t", "departement": "62", "public": "p",
                         "territory": "t", "indicators": rendered}]}


def _cohort_report(rows: list[CohortRow], rules: Rules) -> dict[str, Any]:
    return {**HEADER, "mode": rules.mode, "notice": rules.notice, "k": rules.k,
            "grain": "quarter", "actions": ["62-A6"], "rows": publish_cohorts(rows, rules)}


HIDDEN = exports.HIDDEN  # expected: hidden; None: shown as empty (a share of nobody)


def _expected_indicator_cells(report: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(indicator, cut) → the published value, HIDDEN when hidden."""
    cells: dict[tuple[str, str], Any] = {}
    for item in report["actions"][0]["indicators"]:
        hidden = item["suppressed"]
        cells[(item["code"], "value")] = HIDDEN if "value" in hidden else item["value"]
        for part, value in {**item["breakdowns"], **item["details"]}.items():
            cells[(item["code"], part)] = HIDDEN if part in hidden else value
        if item["rate_of"]:
            cells[(item["code"], "rate")] = HIDDEN if "rate" in hidden else item["rate"]
            cells[(item["code"], "denominator")] = (
                HIDDEN if "denominator" in hidden else item["denominator_value"])
    return cells


def _expected_cohort_cells(report: dict[str, Any]) -> dict[tuple[str, str], Any]:
    cells: dict[tuple[str, str], Any] = {}
    for row in report["rows"]:
        hidden, cut = row["suppressed"], f"cohort={row['cohort']};horizon={row['horizon']}"
        for c in ("members", "censored", "observable", "known"):
            cells[(c, cut)] = HIDDEN if c in hidden else row[c]
        for c in STATUS_COLUMNS:
            cells[(c, cut)] = HIDDEN if c in hidden else row["counts"][c]
            share_hidden = f"{c}|share" in hidden or c in hidden
            cells[(f"share_{c}", cut)] = HIDDEN if share_hidden else row["shares"][c]
        cells[("share_unknown", cut)] = (HIDDEN if "known|share" in hidden
                                         else row["shares"]["unknown"])
    return cells


def _same(shown: Any, expected: Any, tolerance: float = 1e-4) -> bool:
    """Same cell: both hidden, both empty, or the same number to the format's precision
    (4 decimals for machines, a tenth of a percent for the spreadsheet)."""
    if expected is HIDDEN or expected is None or shown is None or shown is HIDDEN:
        return shown is expected
    return math.isclose(float(shown), float(expected), abs_tol=tolerance)


def _machine_cells(content: bytes) -> dict[tuple[str, str], Any]:
    text = content.decode("utf-8")
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows
    assert list(rows[0]) == exports.TIDY_HEADER
    cells: dict[tuple[str, str], Any] = {}
    for row in rows:
        assert row["status"] in ("published", "rounded", "suppressed")
        if row["status"] == "suppressed":
            assert row["value"] == ""
            cells[(row["indicator"], row["cut"])] = HIDDEN
        else:
            cells[(row["indicator"], row["cut"])] = float(row["value"]) if row["value"] else None
    return cells


def _french_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM a French spreadsheet needs
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
    start = next(i for i, line in enumerate(lines) if not line) + 1
    assert lines[start][:2] in (["Action", "Code"], ["Cohorte", "Horizon"])  # French headers
    return lines[start + 1:]


def _french_number(text: str, rate: bool) -> Any:
    if text == "secret":
        return HIDDEN
    if text == "":
        return None
    assert "." not in text  # decimal comma
    value = float(text.replace(",", "."))
    return value / 100 if rate else value


def _xlsx_cell(value: Any) -> Any:
    return HIDDEN if value == "secret" else value


def _xlsx_values(content: bytes) -> list[list[Any]]:
    wb = load_workbook(io.BytesIO(content))
    for ws in wb.worksheets:
        assert ws.sheet_state == "visible"
        assert not any(d.hidden for d in ws.row_dimensions.values())
        assert not any(d.hidden for d in ws.column_dimensions.values())
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", cell.coordinate  # no formula anywhere
    ws = wb.worksheets[0]
    assert ws.freeze_panes == "A5"
    assert [ws.title for ws in wb.worksheets][1:] == ["Notes", "Dictionnaire"]
    return [[c.value for c in row] for row in ws.iter_rows(min_row=5)]


def _check_every_format(export: exports.Export, expected: dict[tuple[str, str], Any],
                        wide: list[tuple[int, str, bool]], key_of: Any) -> None:
    """Each format shows the published cells and hides the hidden ones: the tidy CSV
    every cell, the French CSV and the XLSX sheet the wide ``columns``."""
    files = {fmt: exports.render(export, fmt).content for fmt in exports.FORMATS}
    machine = _machine_cells(files["csv"])
    for key, value in expected.items():
        assert key in machine, key
        assert _same(machine[key], value), (key, machine[key], value)
    french = _french_rows(files["csv-fr"])
    sheet = _xlsx_values(files["xlsx"])
    assert len(french) == len(sheet) == len(export.rows)
    for line, cells, source in zip(french, sheet, export.rows, strict=True):
        for column, name, rate in wide:
            key = key_of(source, name)
            if key not in expected:
                continue
            want = expected[key]
            assert _same(_french_number(line[column], rate), want,
                         5e-4 if rate else 1e-4), (key, line[column])
            assert _same(_xlsx_cell(cells[column]), want), (key, cells[column])
    assert json.loads(files["json"]) == json.loads(json.dumps(export.body, default=str))


INDICATOR_WIDE = [(3, "value", False), (6, "rsa", False), (7, "under_26", False),
                  (10, "denominator", False), (11, "rate", True)]


@SETTINGS
@given(indicator_results())
def test_every_indicator_export_shows_the_published_cells_only(
        drawn: tuple[list[IndicatorResult], Rules]) -> None:
    results, rules = drawn
    report = _indicator_report(results, rules)
    export = exports.indicator_export(report, {"action": "62-A6"}, BOOK)
    _check_every_format(export, _expected_indicator_cells(report), INDICATOR_WIDE,
                        lambda source, cut: (source[1], cut))


COHORT_WIDE = [(2 + i, c, False)
               for i, c in enumerate(("members", "censored", "observable", "known",
                                      *STATUS_COLUMNS))]
COHORT_WIDE += [(10 + i, f"share_{c}", True) for i, c in enumerate((*STATUS_COLUMNS, "unknown"))]
HORIZON_CODES = {"entrée": "entry", "sortie": "exit", "entrée + 6 mois": "entry_6m"}


def _cohort_key(source: list[Any], name: str) -> tuple[str, str]:
    return (name, f"cohort={source[0]};horizon={HORIZON_CODES[source[1]]}")


def _table(rows: list[CohortRow], k: int) -> Table:
    """The cohort table as the attacker of test_disclosure_properties sees its relations."""
    values: dict[str, int] = {}
    additive, breakdowns = [], []
    for r in rows:
        cut = f"cohort={r.cohort};horizon={r.horizon}"
        values.update({f"members|{cut}": r.members, f"censored|{cut}": r.censored,
                       f"observable|{cut}": r.observable, f"known|{cut}": r.known})
        additive.append(Additive(f"members|{cut}", (f"censored|{cut}", f"observable|{cut}")))
        breakdowns.append(Breakdown(f"known|{cut}", f"observable|{cut}"))
        for c in STATUS_COLUMNS:
            values[f"{c}|{cut}"] = r.counts[c]
            breakdowns.append(Breakdown(f"{c}|{cut}", f"known|{cut}"))
    return Table(values, additive, breakdowns, k, 1)


@SETTINGS
@given(cohort_rows())
def test_no_hidden_cohort_cell_can_be_recomputed_from_any_export(
        drawn: tuple[list[CohortRow], Rules]) -> None:
    rows, rules = drawn
    report = _cohort_report(rows, rules)
    export = exports.cohort_export(report, {"actions": ["62-A6"]}, BOOK)
    expected = _expected_cohort_cells(report)
    _check_every_format(export, expected, COHORT_WIDE, _cohort_key)
    # What the machine CSV hides is what publish hid; the attacker, holding every shown
    # count and every relation, cannot pin any hidden count down.
    machine = _machine_cells(exports.render(export, "csv").content)
    table = _table(rows, rules.k)
    hidden = {f"{name}|{cut}" for (name, cut), value in machine.items()
              if value is HIDDEN and f"{name}|{cut}" in table.values}
    assume(len(hidden) <= 6)
    for key, value in machine.items():
        cell = f"{key[0]}|{key[1]}"
        if cell in table.values and value is not HIDDEN:
            assert value == table.values[cell]  # base 1: shown exactly
    for cell in sorted(hidden):
        assert can_differ(table, hidden, cell) or nothing_left_to_hide(table, hidden, cell)
