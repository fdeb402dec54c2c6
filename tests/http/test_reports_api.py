"""The execution report and budget actuals over HTTP: formats, refusals, audit."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from cohort import clock
from cohort.models import AuditEntry
from tests.builders import enrol, register, structure

URL = "/api/v1/reports/erbm-2023/62/2023"


@pytest.fixture
def world(session: Session, keyring: Any, people: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: dt.date(2024, 3, 10))
    ml = structure(session, kind="plie")  # 62-A1 is the PLIE's
    for i in range(12):
        who = register(session, keyring, birth_date=dt.date(1975 + i, 1, 1), ase_past=False)
        enrol(session, keyring, who, "62-A1", ml, dt.date(2023, 1 + i, 1), rsa_at_entry=True)
    session.commit()


@pytest.mark.parametrize(("fmt", "mimetype", "start"), [
    ("html", "text/html", b"<!doctype html>"),
    ("json", "application/json", b"{"),
    ("csv", "application/zip", b"PK"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", b"PK"),
])
def test_every_format_for_an_evaluator(world: None, clients: dict[str, Any], session: Session,
                                       fmt: str, mimetype: str, start: bytes) -> None:
    response = clients["evaluator"].get(f"{URL}?format={fmt}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == mimetype
    assert response.data.startswith(start)
    assert "rapport-execution-erbm-2023-62-2023-published" in response.headers[
        "Content-Disposition"]
    if fmt == "json":
        body = response.get_json()
        assert body["header"]["as_of"] == "2024-02-29"  # end of the last complete month
        a1 = next(a for a in body["actions"] if a["code"] == "62-A1")
        accompanied = next(i for i in a1["indicators"] if i["code"] == "accompanied")
        assert accompanied["value"] == 10  # 12, rounded to base 5
    if fmt == "csv":
        names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
        assert "indicateurs.csv" in names
    if fmt == "xlsx":
        book = load_workbook(io.BytesIO(response.data))
        assert book["62-A1"]["A2"].value.startswith("effectifs publiés")
    audited = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "report.generate")).scalars().all()
    assert [(d["departement"], d["year"], d["mode"], d["format"]) for d in audited] == [
        ("62", 2023, "published", fmt)]


def test_refusals(world: None, clients: dict[str, Any]) -> None:
    assert clients["evaluator"].get(f"{URL}?format=pdf").status_code == 422
    assert clients["evaluator"].get("/api/v1/reports/erbm-2023/75/2023").status_code == 404
    wrong_year = clients["evaluator"].get("/api/v1/reports/erbm-2023/62/2031?format=json")
    assert wrong_year.status_code == 422
    assert "year" in wrong_year.get_json()["errors"]["json"]
    late = clients["evaluator"].get(f"{URL}?format=json&as_of=2024-03-05")
    assert late.status_code == 422
    assert "as_of" in late.get_json()["errors"]["json"]


def test_budget_actuals_are_idempotent_and_guarded(world: None,
                                                   clients: dict[str, Any]) -> None:
    url = "/api/v1/budgets/erbm-2023/62-A3/2023"
    body = {"total": "82000.00", "state_effective": "41820.00", "departement": "41820.00"}
    first = clients["pilot62"].put(url, json=body)
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["version"] == 1
    again = clients["pilot62"].put(url, json=body)
    assert again.get_json()["version"] == 1  # a retry changes nothing
    stale = clients["pilot62"].put(url, json={**body, "other": "5.00", "expected_version": 0})
    assert stale.status_code == 409
    negative = clients["pilot62"].put(url, json={"total": "-1"})
    assert negative.status_code == 422
    assert "total" in negative.get_json()["errors"]["json"]
    over = clients["pilot62"].put(url, json={"departement": "10", "departement_valuation": "20"})
    assert over.status_code == 422
    assert "departement_valuation" in over.get_json()["errors"]["json"]
    report = clients["pilot62"].get(f"{URL}?format=json&mode=internal").get_json()
    check = next(c for c in report["finance"]["checks"]
                 if c["code"] == "state_share_max_50" and c["action"] == "62-A3")
    assert check["ok"] is False
    assert "51,0 %" in check["detail"]
