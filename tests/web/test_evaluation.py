"""Evaluation pages (indicators, cohorts, reports) as evaluators, pilots and others meet them.

62-A6 (leaving ASE care) accompanies 23 youths in 2023; 22 of them turn 18 in the year, so
"22 turned 18" would name the one who did not: published figures hide it (domain.md §7).
62-A4 has 3 youths: an evaluator cannot query that action alone.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import clock
from cohort.models import AuditEntry
from cohort.reference import all_programmes
from tests.builders import enrol, register, runs, token_client

URL = "/indicateurs?programme=erbm-2023"
A6 = f"{URL}&action=62-A6"


@pytest.fixture
def world(session: Session, keyring: Any, people: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "today", lambda: dt.date(2024, 2, 20))
    for i in range(23):
        born = dt.date(2005, 1 + i % 12, 1) if i < 22 else dt.date(2003, 6, 1)
        youth = register(session, keyring, birth_date=born, ase_past=True)
        enrol(session, keyring, youth, "62-A6", runs(session, "62-A6"),
              dt.date(2023, 1 + i % 12, 10))
    for i in range(3):
        youth = register(session, keyring, birth_date=dt.date(2004, 1 + i, 1), ase_past=True)
        enrol(session, keyring, youth, "62-A4", runs(session, "62-A4"), dt.date(2023, 3, 1),
              intensity="simple")
    session.commit()


def main_of(response: Any) -> str:
    """The page's <main> (the CSRF token in the head is random and could hold any digits)."""
    html = response.get_data(as_text=True)
    return html[html.index("<main"):html.index("</main>")]


def row_of(main: str, label: str) -> str:
    start = main.index(label)
    return main[start:main.index("</tr>", start)]


def test_the_evaluator_sees_values_and_marked_cells_never_the_hidden_value(
        world: None, web: Any, session: Session) -> None:
    response = web("evaluator").get(A6)
    assert response.status_code == 200
    main = main_of(response)
    assert "<h1>Indicateurs</h1>" in main
    assert "62-A6 — Prévenir les sorties sèches" in main
    taken = row_of(main, "Jeunes pris en charge dans le cadre du référentiel")
    assert '<td class="nombre">25</td>' in taken  # 23, rounded to base 5
    turned = row_of(main, "Jeunes devenus majeurs sur la période")
    # the value, the rate and the rate's numerator; its denominator (25) is shown
    assert turned.count('<span class="masque">secret statistique</span>') == 3
    assert "sur 25</p>" in turned
    assert "Jeunes accompagnés dans la période dont le mois des 18 ans" in turned  # definition
    assert "rapporté à : Jeunes pris en charge" in turned
    assert not re.search(r"\b22\b", main)  # the hidden count is nowhere in the page
    assert main.count('id="regle-secret"') == 1
    assert "Secret statistique." in main
    assert "effectifs exacts — usage interne" not in main
    audited = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "indicators.query")).scalars().all()
    assert [(d["action"], d["mode"]) for d in audited] == [("62-A6", "published")]


def test_the_page_shows_the_apis_numbers(world: None, web: Any, app: Any,
                                         people: dict[str, Any]) -> None:
    api = token_client(app, people["users"]["evaluator"][1])
    body = api.get("/api/v1/indicators?programme=erbm-2023&action=62-A6").get_json()
    main = main_of(web("evaluator").get(A6))
    for item in body["actions"][0]["indicators"]:
        cell = row_of(main, item["label_fr"]).split("</th>", 1)[1]
        first = re.search(r'<td class="nombre">(.*?)</td>', cell, re.S)
        assert first is not None
        expected = ('<span class="masque">secret statistique</span>' if item["value"] is None
                    else str(item["value"]))
        assert first.group(1).strip() == expected, item["code"]


def test_the_pilot_reads_exact_figures_labelled_internal(world: None, web: Any) -> None:
    response = web("pilot62").get(f"{A6}&mode=internal")
    assert response.status_code == 200
    main = main_of(response)
    assert "effectifs exacts — usage interne" in main
    assert '<td class="nombre">22</td>' in row_of(main, "Jeunes devenus majeurs sur la période")
    assert "masque" not in main


@pytest.mark.parametrize(("query", "status", "french"), [
    ("&mode=internal", 403, "les effectifs exacts sont réservés aux pilotes et aux "
                            "administrateurs"),
    ("&period_from=2023-01-15&period_to=2023-12-31", 422,
     "Choisissez le premier jour d&#39;un mois."),
    ("&period_from=2023-01-01&period_to=2023-06-15", 422,
     "Choisissez le dernier jour d&#39;un mois."),
    ("&as_of=2024-02-10", 422, "Au plus tard le 31/01/2024 (fin du dernier mois complet)."),
    ("&period_from=hier", 422, "Date invalide (jj/mm/aaaa)."),
    ("&couleur=rouge", 422, "Champ inattendu."),
])
def test_the_evaluator_is_refused_in_french_next_to_the_picker(
        world: None, web: Any, query: str, status: int, french: str) -> None:
    response = web("evaluator").get(A6 + query)
    assert response.status_code == status
    main = main_of(response)
    assert 'class="erreur-formulaire" role="alert"' in main
    assert french in main
    assert "<h1>Indicateurs</h1>" in main
    assert "<table" not in main


def test_a_small_population_is_refused_at_the_action_picker(world: None, web: Any) -> None:
    response = web("evaluator").get(f"{URL}&action=62-A4")
    assert response.status_code == 422
    main = main_of(response)
    assert 'id="erreur-action"' in main
    assert "Population trop petite pour être publiée" in main
    assert not re.search(r"\b3\b", main.split("</form>")[1])


def test_the_evaluator_is_offered_published_mode_only(world: None, web: Any) -> None:
    main = main_of(web("evaluator").get("/indicateurs"))
    assert '<option value="published"' in main
    assert 'value="internal"' not in main
    assert 'max="2024-01-31"' in main
    assert "1er trimestre 2023" in main
    assert "Année 2023" in main
    assert 'value="internal"' in main_of(web("pilot62").get("/indicateurs"))


@pytest.mark.parametrize("path", ["/indicateurs", "/cohortes", "/rapports",
                                  "/rapports/telecharger?programme=erbm-2023"])
def test_a_coordinator_gets_the_french_403_page(world: None, web: Any, path: str) -> None:
    response = web("coord_ml").get(path)
    assert response.status_code == 403
    assert "Vous n&#39;avez pas accès à cette page." in response.get_data(as_text=True)


def test_cohort_table_and_chart(world: None, web: Any) -> None:
    response = web("evaluator").get("/cohortes?programme=erbm-2023&actions=62-A6&grain=year")
    assert response.status_code == 200
    main = main_of(response)
    assert "<h1>Cohortes</h1>" in main
    assert "<caption>Cohortes par année d'entrée : situation à chaque horizon</caption>" in main
    entry = row_of(main, "2023, entrée")
    assert '<td class="nombre">25</td>' in entry
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in main
    # a line chart per horizon across cohorts, and one per cohort across horizons
    assert '<title id="t-horizon-0">Horizon entrée : parts par cohorte d&#39;entrée</title>' in main
    assert '<title id="t-cohorte-0">Cohorte 2023 : parts par horizon</title>' in main
    assert main.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 7 + 1
    assert "interruption : valeur masquée (secret statistique)" in main  # the legend
    assert "<summary>Valeurs du graphique : Cohorte 2023 : parts par horizon</summary>" in main
    assert "style=" not in main
    assert 'id="champ-actions-62-A6" name="actions" value="62-A6" checked' in main
    bad = web("evaluator").get("/cohortes?programme=erbm-2023&actions=62-Z9&grain=semaine")
    assert bad.status_code == 422
    assert "Choisissez une valeur de la liste." in main_of(bad)


REPORT = "programme=erbm-2023&departement=62&year=2023"


def test_report_links_and_downloads(world: None, web: Any, app: Any,
                                    people: dict[str, Any], session: Session) -> None:
    evaluator = web("evaluator")
    page = evaluator.get(f"/rapports?{REPORT}")
    assert page.status_code == 200
    main = main_of(page)
    for text in ("Télécharger le rapport (HTML, à lire ou imprimer)",
                 "Télécharger le rapport (XLSX, tableur)",
                 "Télécharger les tableaux (CSV, archive zip)",
                 "Télécharger les données (JSON)"):
        assert text in main
    links = re.findall(r'<a href="(/rapports/telecharger\?[^"]+)" download>', main)
    assert len(links) == 4
    expected = {"html": "text/html", "xlsx": "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet", "csv": "application/zip", "json": "application/json"}
    extension = {"html": "html", "xlsx": "xlsx", "csv": "zip", "json": "json"}
    for link in links:
        fmt = re.search(r"format=(\w+)", link.replace("&amp;", "&"))[1]  # type: ignore[index]
        response = evaluator.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, fmt
        assert response.mimetype == expected[fmt]
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="rapport-execution-erbm-2023-62-2023-publie.'
            f'{extension[fmt]}"')
    api = token_client(app, people["users"]["evaluator"][1])
    from_api = api.get("/api/v1/reports/erbm-2023/62/2023?format=json")
    from_page = evaluator.get(f"/rapports/telecharger?{REPORT}&format=json")
    assert from_page.data == from_api.data
    formats = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "report.generate")).scalars().all()
    assert sorted(d["format"] for d in formats) == ["csv", "html", "json", "json", "json", "xlsx"]


def test_report_refusals_are_french(world: None, web: Any) -> None:
    refused = web("evaluator").get(f"/rapports/telecharger?{REPORT}&mode=internal&format=json")
    assert refused.status_code == 403
    assert "les effectifs exacts sont réservés" in main_of(refused)
    late = web("pilot62").get("/rapports/telecharger?programme=erbm-2023&departement=62"
                              "&year=2031&format=json")
    assert late.status_code == 422
    assert "En dehors du programme (2023–2023)." in main_of(late)
    missing = web("pilot62").get("/rapports?programme=erbm-2023&year=deux")
    assert missing.status_code == 422
    assert "Nombre entier attendu." in main_of(missing)
    assert "Ce champ est obligatoire." in main_of(missing)
    exact = web("pilot62").get(f"/rapports/telecharger?{REPORT}&mode=internal&format=html")
    assert exact.status_code == 200
    assert "rapport-execution-erbm-2023-62-2023-interne.html" in exact.headers[
        "Content-Disposition"]


def test_all_programmes_lists_them_with_their_actions(session: Session) -> None:
    programmes = all_programmes(session)
    assert [p.code for p in programmes] == ["erbm-2023"]
    assert "62-A6" in [a.code for a in programmes[0].actions]


def test_a_pilot_gets_exact_figures_of_their_departement_only(
        world: None, web: Any, session: Session) -> None:
    refused = web("pilot62").get(f"{URL}&departement=59&mode=internal")
    assert refused.status_code == 403
    main = main_of(refused)
    assert 'id="erreur-mode"' in main
    assert "Effectifs exacts réservés aux actions de votre département." in main
    reasons = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "access.refused")).scalars().all()
    assert [r["path"] for r in reasons] == ["/indicateurs"]  # audited as the API does
    nord = web("pilot62").get(f"{URL}&departement=59")
    assert nord.status_code == 200
    assert '<h3 id="action-59-A1">59-A1 — ' in main_of(nord)  # published: open to all
    unknown = web("pilot62").get("/indicateurs?programme=erbm-2099")
    assert unknown.status_code == 422
    assert "Introuvable." in main_of(unknown)
