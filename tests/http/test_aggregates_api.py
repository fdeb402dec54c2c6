"""Indicators and cohorts over HTTP, as evaluators and pilots meet them (domain.md §7).

A Pas-de-Calais insertion action (62-A2) accompanies 23 people in 2023, 21 of them RSA
recipients: "dont RSA 21" would name the 2 others, so published figures hide it. The
youth housing action (62-A4) has 3 youths: an evaluator cannot query it at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import clock
from cohort.models import AuditEntry
from tests.builders import enrol, register, runs

URL = "/api/v1/indicators?programme=erbm-2023"
COHORTS = "/api/v1/cohorts?programme=erbm-2023"


@pytest.fixture
def world(session: Session, keyring: Any, people: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: dt.date(2024, 2, 20))
    for i in range(23):
        born = dt.date(2000 if i < 2 else 1970 + i, 1, 1)  # the 2 non-RSA are under 26
        who = register(session, keyring, birth_date=born, ase_past=False)
        enrol(session, keyring, who, "62-A2", runs(session, "62-A2"), dt.date(2023, 1 + i % 12, 1),
              rsa_at_entry=i >= 2)
    for i in range(3):
        youth = register(session, keyring, birth_date=dt.date(2004, 1 + i, 1), ase_past=True)
        enrol(session, keyring, youth, "62-A4", runs(session, "62-A4"), dt.date(2023, 3, 1),
              intensity="simple")
    session.commit()


def _indicator(body: dict[str, Any], action: str, code: str) -> dict[str, Any]:
    block = next(a for a in body["actions"] if a["code"] == action)
    return next(i for i in block["indicators"] if i["code"] == code)


def test_an_evaluator_gets_rounded_figures_with_small_cells_hidden(
        world: None, clients: dict[str, Any], session: Session) -> None:
    response = clients["evaluator"].get(f"{URL}&action=62-A2")
    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["mode"], body["k"]) == ("published", 5)
    assert "secret statistique" in body["notice"]
    assert body["as_of"] == "2024-01-31"  # the end of the last complete month
    accompanied = _indicator(body, "62-A2", "accompanied")
    assert accompanied["value"] == 25  # 23, rounded to base 5
    assert accompanied["breakdowns"]["rsa"] is None  # 21 of 23: the 2 others would show
    # 2 are under 26 (primary), and their complement hides "dont RSA"; no reason word given.
    assert accompanied["breakdowns"]["under_26"] is None
    assert accompanied["suppressed"] == {"rsa": "suppressed", "under_26": "suppressed"}
    assert accompanied["target"]["value"] == 180
    assert accompanied["label_fr"]
    assert accompanied["definition"]
    assert "21" not in response.get_data(as_text=True)
    audited = session.execute(sa.select(AuditEntry.action, AuditEntry.details).where(
        AuditEntry.action == "indicators.query")).all()
    assert [(a, d["action"], d["mode"]) for a, d in audited] == [
        ("indicators.query", "62-A2", "published")]


def test_an_evaluator_cannot_query_a_small_population(world: None,
                                                      clients: dict[str, Any]) -> None:
    response = clients["evaluator"].get(f"{URL}&action=62-A4")
    body = response.get_json()
    assert response.status_code == 422, body
    assert "population" in body["errors"]["json"]
    assert "3" not in str(body)


@pytest.mark.parametrize(("query", "status", "field"), [
    ("&period_from=2023-01-15&period_to=2023-12-31", 422, "period_from"),
    ("&period_from=2023-01-01&period_to=2023-06-30&as_of=2024-02-10", 422, "as_of"),
    ("&period_from=2023-01-01&period_to=2023-06-30&as_of=2023-09-14", 422, "as_of"),
    ("&recorded_before=2024-01-31T00:00:00%2B00:00", 403, "recorded_before"),
    ("&mode=internal", 403, "mode"),
    ("&colour=red", 422, "colour"),
    ("&departement=75", 422, "departement"),
])
def test_an_evaluator_is_held_to_whole_months_and_settled_dates(
        world: None, clients: dict[str, Any], query: str, status: int, field: str) -> None:
    response = clients["evaluator"].get(f"{URL}&departement=62{query}"
                                        if "departement" not in query else URL + query)
    body = response.get_json()
    assert response.status_code == status, body
    errors = body["errors"]
    assert field in errors.get("query", errors.get("json", {})), body


def test_a_pilot_gets_exact_figures_of_their_departement_only(
        world: None, clients: dict[str, Any], session: Session) -> None:
    response = clients["pilot62"].get(f"{URL}&departement=62&mode=internal&as_of=2024-02-19")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["notice"] == "effectifs exacts — usage interne"
    assert body["k"] is None
    accompanied = _indicator(body, "62-A2", "accompanied")
    assert (accompanied["value"], accompanied["breakdowns"]["rsa"]) == (23, 21)
    assert accompanied["rate_vs_target"] == round(23 / 180, 4)
    assert _indicator(body, "62-A4", "accompanied")["value"] == 3
    assert {a["code"] for a in body["actions"]} == {f"62-A{i}" for i in range(1, 7)}
    assert session.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "indicators.query")).scalar_one() == 1  # exact figures: audited
    refused = clients["pilot62"].get(f"{URL}&departement=59&mode=internal")
    assert refused.status_code == 403
    assert "mode" in refused.get_json()["errors"]["json"]


def test_indicators_as_csv_carry_the_cut_and_leave_hidden_cells_empty(
        world: None, clients: dict[str, Any], session: Session) -> None:
    """The machine CSV: tidy, one row per cell, the cut on every row, hidden cells empty."""
    response = clients["evaluator"].get(f"{URL}&action=62-A2&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="indicateurs_erbm-2023_62-A2_2023-01-01_2023-12-31'
        '_au-2024-01-31_publie.long.csv"')
    text = response.get_data(as_text=True)
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    accompanied = {r["cut"]: r for r in rows if r["indicator"] == "accompanied"}
    assert (accompanied["value"]["value"], accompanied["value"]["status"]) == ("25", "rounded")
    assert accompanied["target"]["value"] == "180"
    assert (accompanied["rsa"]["value"], accompanied["rsa"]["status"]) == ("", "suppressed")
    assert {(r["programme"], r["as_of"], r["mode"]) for r in rows} == {
        ("erbm-2023", "2024-01-31", "published")}
    formats = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "indicators.query")).scalars().all()
    assert [d["format"] for d in formats] == ["csv"]  # audited like the query


def test_cohorts_published_and_exact(world: None, clients: dict[str, Any]) -> None:
    published = clients["evaluator"].get(f"{COHORTS}&actions=62-A2&grain=year")
    body = published.get_json()
    assert published.status_code == 200, body
    entry = next(r for r in body["rows"] if r["cohort"] == "2023" and r["horizon"] == "entry")
    assert entry["members"] == 25
    assert body["actions"] == ["62-A2"]
    exact = clients["admin"].get(f"{COHORTS}&actions=62-A2&grain=year&mode=internal"
                                 "&as_of=2024-01-31")
    body = exact.get_json()
    assert exact.status_code == 200, body
    entry = next(r for r in body["rows"] if r["cohort"] == "2023" and r["horizon"] == "entry")
    assert (entry["members"], entry["observable"], entry["known"]) == (23, 23, 23)
    assert entry["shares"]["unknown"] == 0.0
    text = clients["evaluator"].get(f"{COHORTS}&actions=62-A2&grain=year&format=csv-fr")
    assert text.status_code == 200
    lines = text.data.decode("utf-8-sig").splitlines()
    header = next(line for line in lines if line.startswith("Cohorte;"))
    assert header.startswith("Cohorte;Horizon;Membres;Censurés;Observables;Situation connue")
    assert any(line.startswith("2023;entrée;25;0;25;25;") for line in lines)
    unknown = clients["evaluator"].get(f"{COHORTS}&actions=62-Z9")
    assert unknown.status_code == 422
    assert "actions" in unknown.get_json()["errors"]["json"]


def test_an_evaluators_refusals_are_audited(world: None, clients: dict[str, Any],
                                            people: dict[str, Any], session: Session,
                                            app: Any) -> None:
    """Issue 18, point 8: each refusal of an evaluator (exact figures, a recorded-before
    cut) leaves an `access.refused` entry, through the API and the pages alike."""
    from tests.web.conftest import sign_in

    evaluator = people["users"]["evaluator"][0]
    assert clients["evaluator"].get(f"{URL}&departement=62&mode=internal").status_code == 403
    assert clients["evaluator"].get(
        f"{URL}&departement=62&recorded_before=2024-01-31T00:00:00%2B00:00").status_code == 403
    page = sign_in(app.test_client(), evaluator)
    assert page.get("/indicateurs?programme=erbm-2023&mode=internal").status_code == 403
    refused = session.execute(sa.select(AuditEntry.actor_user_id, AuditEntry.details).where(
        AuditEntry.action == "access.refused").order_by(AuditEntry.id)).all()
    assert [(who, details["path"]) for who, details in refused] == [
        (evaluator.id, "/api/v1/indicators"), (evaluator.id, "/api/v1/indicators"),
        (evaluator.id, "/indicateurs")]
