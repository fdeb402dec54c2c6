"""The 2023 execution report of the Pas-de-Calais from the hand-computed indicator world.

Every indicator of the report is checked against the values computed by hand in
tests/db/test_indicators.py, then the accompanied-per-month series, the data-quality
section, the cohort sizes and the financial checks (one of which fails: a State share of
51 %); the XLSX is read back with openpyxl and must hold the same figures as numbers; the
JSON and CSV are byte-identical on a rerun; the HTML renders in Chromium with its charts.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.errors import Forbidden, Rejected
from cohort.report import model
from cohort.report.formats import to_csv_long, to_csv_zip, to_json
from cohort.report.html import to_html
from cohort.report.xlsx import to_xlsx
from cohort.services import events
from cohort.services.budgets import record_actual
from tests.builders import NOW, record
from tests.db.test_indicators import EXPECTED, world  # noqa: F401 - the shared data set

D = dt.date
SETTINGS = {"DISCLOSURE_K": 5, "DISCLOSURE_ROUNDING_BASE": 5}
PARAMS = {"programme": "erbm-2023", "departement": "62", "year": 2023,
          "as_of": D(2024, 1, 31), "mode": "internal"}


@pytest.fixture
def report_world(world: dict[str, Any], session: Session,  # noqa: F811 - the imported fixture
                 keyring: Any) -> dict[str, Any]:
    y4 = world["y4"]
    wrong = record(session, keyring, y4, "contact", D(2023, 11, 20), mode="phone")
    events.void(session, SYSTEM, wrong, "mauvaise personne",
                now=dt.datetime(2023, 12, 1, 9, 0, tzinfo=dt.UTC))  # voided in 2023
    # 62-A3 actually cost 82 000 € of which the State paid 41 820 €: 51 %.
    record_actual(session, SYSTEM, "erbm-2023", "62-A3", 2023, {
        "total": Decimal("82000"), "state_effective": Decimal("41820"),
        "departement": Decimal("41820"), "departement_valuation": Decimal("41000"),
        "other": None}, now=NOW)
    session.flush()
    return world


def _build(session: Session, **overrides: Any) -> dict[str, Any]:
    return model.build(session, SYSTEM, {**PARAMS, **overrides}, SETTINGS,
                       today=D(2024, 6, 15))


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    return {"value": item["value"], **item["breakdowns"], **item["details"]}


def test_every_figure_of_the_report(report_world: Any, session: Session) -> None:
    report = _build(session)
    head = report["header"]
    assert (head["notice"], head["as_of"], head["year"]) == (
        "effectifs exacts — usage interne", "2024-01-31", 2023)
    assert len(head["fingerprint"]) == 64

    shown = {f"{a['code']}/{i['code']}": _flat(i) for a in report["actions"]
             for i in [*a["indicators"], *a["followups"]]}
    assert shown == EXPECTED

    a4 = next(a for a in report["actions"] if a["code"] == "62-A4")
    # a1 from January, a2 February–June, a3 from September.
    assert [m["value"] for m in a4["accompanied_by_month"]] == [1, 2, 2, 2, 2, 2, 1, 1, 2, 2,
                                                                 2, 2]
    quality = {a["code"]: {k: q["value"] for k, q in a["quality"].items()}
               for a in report["actions"]}
    assert quality == {  # open with no event since 2 November; overdue; forced; voided
        "62-A1": {"quiet_enrolments": 1, "overdue_checks": 1, "forced_enrolments": 0,
                  "voided_events": 0},
        "62-A2": {"quiet_enrolments": 1, "overdue_checks": 3, "forced_enrolments": 0,
                  "voided_events": 0},
        "62-A3": {"quiet_enrolments": 3, "overdue_checks": 0, "forced_enrolments": 0,
                  "voided_events": 0},
        "62-A4": {"quiet_enrolments": 2, "overdue_checks": 0, "forced_enrolments": 0,
                  "voided_events": 0},
        "62-A5": {"quiet_enrolments": 2, "overdue_checks": 0, "forced_enrolments": 0,
                  "voided_events": 0},
        "62-A6": {"quiet_enrolments": 1, "overdue_checks": 0, "forced_enrolments": 0,
                  "voided_events": 1},
    }
    entries = {r["cohort"]: r["members"] for r in report["cohorts"]["rows"]
               if r["horizon"] == "entry"}
    assert entries == {"2023-T1": 14, "2023-T2": 1, "2023-T3": 1, "2023-T4": 1}
    # Six months after exit (H ≤ A = 31 January for exits up to 31 July), 2023-T1: p1, p4,
    # b1, b3 and a2 are observable. b3 is known by its re-entry in 62-A1 (in force on
    # 30 October); p1 (H = 31 December) by its check reached on 10 January, H + 10 days:
    # its only event then is dated after H. Not known: p4 (its event of 1 September is
    # dated H − 90, out of (H − 90, H]; its check overdue), b1 (check not reached), a2
    # (check refused after A). Both known are in durable employment (p1 in a CDI, b3 in a
    # six-month CDD), hence in a pathway; neither has housing or resources recorded by H.
    exit_6m = next(r for r in report["cohorts"]["rows"]
                   if (r["cohort"], r["horizon"]) == ("2023-T1", "exit_6m"))
    assert (exit_6m["members"], exit_6m["censored"], exit_6m["observable"],
            exit_6m["known"]) == (14, 9, 5, 2)
    assert exit_6m["counts"] == {"in_pathway": 2, "durable_employment": 2,
                                 "stably_housed": 0, "has_resources": 0}

    finance = report["finance"]
    a3 = next(line for line in finance["actions"] if line["action"] == "62-A3")
    assert (a3["total"], a3["state"], a3["state_effective"], a3["state_share"]) == (
        82000, 41000, 41820, 0.51)
    assert a3["actuals_recorded"] is True
    results = {(c["code"], c["action"]): c["ok"] for c in finance["checks"]}
    assert results == {("state_share_max_50", f"62-A{i}"): i != 3 for i in range(1, 7)} | {
        ("departement_at_least_state", None): True, ("state_total", None): True}
    assert finance["totals"]["state"] == 500_000
    assert finance["all_ok"] is False


def test_the_xlsx_holds_the_same_numbers(report_world: Any, session: Session) -> None:
    report = _build(session)
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    assert book.sheetnames == ["Synthèse", "62-A1", "62-A2", "62-A3", "62-A4", "62-A5",
                               "62-A6", "Cohortes", "Finances", "Qualité"]
    for action in report["actions"]:
        sheet = book[action["code"]]
        assert sheet["A2"].value == "effectifs exacts — usage interne"
        assert sheet.freeze_panes == "B7"
        rows = {row[0]: row for row in sheet.iter_rows(min_row=7, values_only=True)
                if row[0]}
        for item in [*action["indicators"], *action["followups"]]:
            cells = rows[item["label_fr"]]
            assert cells[1] == item["value"]
            assert isinstance(cells[1], int | float)
            for col, part in ((2, "rsa"), (3, "under_26")):
                assert cells[col] == item["breakdowns"].get(part)
    finance = {row[0]: row for row in book["Finances"].iter_rows(min_row=6, values_only=True)
               if row[0]}
    assert finance["62-A3"][1:4] == (82000, 41000, 41820)
    assert finance["62-A3"][7] == pytest.approx(0.51)
    assert finance["Total"][2] == 500_000
    assert isinstance(book["Synthèse"]["B3"].value, dt.datetime)  # a real date


def test_a_published_xlsx_shows_no_small_count_anywhere(report_world: Any,
                                                        session: Session) -> None:
    report = _build(session, mode="published")
    assert report["header"]["notice"].startswith("effectifs publiés")
    book = load_workbook(io.BytesIO(to_xlsx(report)))
    volumes = {"Heures d'insertion prévisionnelles", "Heures d'insertion réalisées"}
    for sheet in book.worksheets:
        assert sheet.sheet_state == "visible"
        for row in sheet.iter_rows():
            for cell in row:
                assert not (isinstance(cell.value, str) and cell.value.startswith("="))
                assert not sheet.row_dimensions[cell.row].hidden
                assert not sheet.column_dimensions[cell.column_letter].hidden
                value = cell.value
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                if cell.number_format.endswith("%") or sheet.title == "Finances":
                    continue  # shares and euros
                label = " ".join(str(c.value) for c in row if isinstance(c.value, str))
                if any(volume in label for volume in volumes):
                    continue  # hours are volumes, not people
                assert not 1 <= value < 5, (sheet.title, cell.coordinate, label)


def test_json_and_csv_are_byte_identical_on_a_rerun(report_world: Any,
                                                    session: Session) -> None:
    first, second = _build(session), _build(session)
    assert to_json(first) == to_json(second)
    assert to_csv_zip(first) == to_csv_zip(second)
    assert to_csv_long(first) == to_csv_long(second)
    names = zipfile.ZipFile(io.BytesIO(to_csv_zip(first))).namelist()
    assert names == ["rapport.csv", "indicateurs.csv", "suivis.csv",
                     "accompagnes_par_mois.csv", "cohortes.csv", "qualite.csv",
                     "finances.csv", "controles.csv"]
    # Every table in the French spreadsheet format (exports.to_csv_fr), the same cells in
    # the machine's tidy file.
    archive = zipfile.ZipFile(io.BytesIO(to_csv_zip(first)))
    for name in names:
        assert archive.read(name).startswith(b"\xef\xbb\xbf"), name
    months = archive.read("accompagnes_par_mois.csv").decode("utf-8-sig").splitlines()
    assert months[months.index("") + 1] == "Action;Mois;Personnes accompagnées"
    summary = archive.read("rapport.csv").decode("utf-8-sig")
    assert "Données arrêtées au;31/01/2024" in summary
    tidy = to_csv_long(first).decode().splitlines()
    monthly = [line for line in tidy if ",accompanied_by_month," in line]
    assert len(monthly) == len(months) - months.index("") - 2
    record_actual(session, SYSTEM, "erbm-2023", "62-A1", 2023, {"total": Decimal("84000")},
                  now=NOW)
    assert _build(session)["header"]["fingerprint"] != first["header"]["fingerprint"]


def test_the_html_renders_in_chromium_with_its_charts(report_world: Any, session: Session,
                                                      browser: Any, tmp_path: Any) -> None:
    report = _build(session, mode="published")
    page_file = tmp_path / "rapport.html"
    page_file.write_bytes(to_html(report))
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.as_uri())
    assert page.locator("svg.chart").count() == 1 + 4  # per month, and one per cohort
    assert page.locator("h1").inner_text() == "Rapport d'exécution 2023 — Pas-de-Calais"
    assert page.get_by_text("NON CONFORME").count() == 1
    page.pdf(path=str(tmp_path / "rapport.pdf"), format="A4")
    page.screenshot(path=str(tmp_path / "rapport.png"), full_page=True)
    page.close()
    assert errors == []
    assert (tmp_path / "rapport.pdf").read_bytes().startswith(b"%PDF")


def test_report_rules(report_world: Any, session: Session, people: dict[str, Any]) -> None:
    from cohort.auth import actor_for

    def actor(login: str) -> Any:
        user = people["users"][login][0]
        return actor_for(user, user.structure)

    with pytest.raises(Rejected) as outside:
        _build(session, year=2025)
    assert outside.value.errors == {"year": ["outside the programme (2023–2023)"]}
    with pytest.raises(Forbidden):
        model.build(session, actor("evaluator"), {**PARAMS}, SETTINGS,
                    today=D(2024, 6, 15))  # internal mode: not for evaluators
    published = model.build(session, actor("evaluator"), {**PARAMS, "mode": "published",
                                                          "as_of": None}, SETTINGS,
                            today=D(2024, 6, 15))
    assert published["header"]["as_of"] == "2024-05-31"
    with pytest.raises(Forbidden):
        record_actual(session, actor("evaluator"), "erbm-2023", "62-A1", 2023, {}, now=NOW)
    with pytest.raises(Forbidden):
        record_actual(session, actor("pilot62"), "erbm-2023", "59-A1", 2023, {}, now=NOW)
    done = record_actual(session, actor("pilot62"), "erbm-2023", "62-A1", 2023,
                         {"total": Decimal("84000")}, now=NOW)
    again = record_actual(session, actor("pilot62"), "erbm-2023", "62-A1", 2023,
                          {"total": Decimal("84000.00")}, now=NOW)
    assert (done.changed, again.changed, again.actual.version) == (True, False, 1)
