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
                 "Télécharger les tableaux (CSV pour tableur français, archive zip)",
                 "Télécharger les données (CSV format long, pour logiciels)",
                 "Télécharger les données (JSON)"):
        assert text in main
    links = re.findall(r'<a href="(/rapports/telecharger\?[^"]+)" download>', main)
    assert len(links) == 5
    expected = {"html": "text/html", "xlsx": "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet", "csv": "application/zip", "csv-long": "text/csv",
                "json": "application/json"}
    extension = {"html": "html", "xlsx": "xlsx", "csv": "zip", "csv-long": "long.csv",
                 "json": "json"}
    files = {}
    for link in links:
        fmt = re.search(r"format=([\w-]+)", link.replace("&amp;", "&"))[1]  # type: ignore[index]
        response = evaluator.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, fmt
        assert response.mimetype == expected[fmt]
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="rapport-execution-erbm-2023-62-2023-publie.'
            f'{extension[fmt]}"')
        files[fmt] = response.data
    api = token_client(app, people["users"]["evaluator"][1])
    from_api = api.get("/api/v1/reports/erbm-2023/62/2023?format=json")
    from_page = evaluator.get(f"/rapports/telecharger?{REPORT}&format=json")
    assert from_page.data == from_api.data
    formats = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "report.generate")).scalars().all()
    assert sorted(d["format"] for d in formats) == [
        "csv", "csv-long", "html", "json", "json", "json", "xlsx"]

    # The report's tables as a French spreadsheet reads them, and as machines do.
    import csv
    import io
    import zipfile
    archive = zipfile.ZipFile(io.BytesIO(files["csv"]))
    indicators = archive.read("indicateurs.csv")
    assert indicators.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(indicators.decode("utf-8-sig")), delimiter=";"))
    assert lines[0] == ["Indicateurs des fiches actions"]
    assert ["Période", "du 01/01/2023 au 31/12/2023"] in lines
    header = lines[lines.index([]) + 1]
    assert header[:4] == ["Action", "Code", "Indicateur", "Valeur"]
    rows = {row[1]: dict(zip(header, row, strict=True))
            for row in lines[lines.index([]) + 2:] if row[0] == "62-A6"}
    assert rows["accompanied"]["Valeur"] == "25"
    assert rows["turned_18"]["Valeur"] == "secret"
    assert rows["turned_18"]["Taux (%)"] == "secret"
    followups = archive.read("suivis.csv").decode("utf-8-sig")
    assert "Suivis à six mois échus sur la période" in followups
    cohorts = archive.read("cohortes.csv").decode("utf-8-sig").splitlines()
    assert cohorts[cohorts.index("") + 1].startswith("Cohorte;Horizon;Membres;Censurés")
    finances = archive.read("finances.csv").decode("utf-8-sig")
    assert "Part de l'État (%)" in finances
    assert ";50,0;" in finances  # the State share in percent, decimal comma
    assert b"\r\n" in indicators
    machine = files["csv-long"].decode()
    assert not machine.startswith("\ufeff")
    tidy = list(csv.DictReader(io.StringIO(machine)))
    assert list(tidy[0]) == ["programme", "scope", "period_from", "period_to", "as_of",
                             "mode", "table", "action", "indicator", "cut", "value", "unit",
                             "status"]
    assert {r["table"] for r in tidy} == {"indicators", "followups", "accompanied_by_month",
                                          "cohorts", "data_quality", "finance"}
    turned = next(r for r in tidy if (r["action"], r["indicator"], r["cut"])
                  == ("62-A6", "turned_18", "value"))
    assert (turned["value"], turned["status"]) == ("", "suppressed")
    assert tidy[0]["as_of"] == "2024-01-31"
    tables = [n for n in archive.namelist() if n != "rapport.csv"]  # (its fingerprint is hex)
    for text in (machine, *(archive.read(n).decode("utf-8-sig") for n in tables)):
        assert not re.search(r"(?<![\d,.])22(?![\d,])", text)  # the hidden count, nowhere


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


EXPORT_NAME = "indicateurs_erbm-2023_62-A6_2023-01-01_2023-12-31_au-2024-01-31_publie"


def _export_links(main: str) -> dict[str, str]:
    links = re.findall(r'<a class="bouton secondaire" href="([^"]+)" download>', main)
    return {re.search(r"format=([\w-]+)", link)[1]: link.replace("&amp;", "&")  # type: ignore[index]
            for link in links}


def test_every_indicator_export_opens_with_its_format(
        world: None, web: Any, app: Any, people: dict[str, Any], session: Session) -> None:
    """Issue 19: the page offers four files; each opens as its reader expects, with the
    page's figures and the same hidden cells, and is audited like the query."""
    import csv
    import io
    import json

    from openpyxl import load_workbook

    evaluator = web("evaluator")
    links = _export_links(main_of(evaluator.get(A6)))
    assert sorted(links) == ["csv", "csv-fr", "json", "xlsx"]
    files = {fmt: evaluator.get(link) for fmt, link in links.items()}
    for fmt, suffix in (("csv-fr", "tableur.csv"), ("csv", "long.csv"), ("xlsx", "xlsx"),
                        ("json", "json")):
        assert files[fmt].status_code == 200, fmt
        assert files[fmt].headers["Content-Disposition"] == (
            f'attachment; filename="{EXPORT_NAME}.{suffix}"')

    french = files["csv-fr"].data
    assert french.startswith(b"\xef\xbb\xbf")  # BOM: a French spreadsheet reads UTF-8
    text = french.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert ["Période", "du 01/01/2023 au 31/12/2023"] in lines
    assert ["Données arrêtées au", "31/01/2024"] in lines
    header = next(line for line in lines if line[:2] == ["Action", "Code"])
    assert header[3:4] + header[9:12] == ["Valeur", "Numérateur", "Dénominateur", "Taux (%)"]
    rows = {line[1]: dict(zip(header, line, strict=True))
            for line in lines[lines.index(header) + 1:]}
    assert rows["accompanied"]["Valeur"] == "25"
    assert rows["accompanied"]["Cible"] == "pas de cible dans la fiche action"
    assert (rows["turned_18"]["Valeur"], rows["turned_18"]["Taux (%)"],
            rows["turned_18"]["Dénominateur"]) == ("secret", "secret", "25")
    assert not re.search(r"\b22\b", text)  # the hidden count is nowhere in the file

    machine = files["csv"].data.decode("utf-8")
    assert not machine.startswith("\ufeff")
    tidy = list(csv.DictReader(io.StringIO(machine)))
    assert list(tidy[0]) == ["programme", "scope", "period_from", "period_to", "as_of",
                             "mode", "table", "action", "indicator", "cut", "value", "unit",
                             "status"]
    cells = {(r["indicator"], r["cut"]): r for r in tidy}
    assert (cells[("accompanied", "value")]["value"],
            cells[("accompanied", "value")]["status"]) == ("25", "rounded")
    assert (cells[("turned_18", "value")]["value"],
            cells[("turned_18", "value")]["status"]) == ("", "suppressed")
    assert {r["period_from"] for r in tidy} == {"2023-01-01"}
    assert not re.search(r"\b22\b", machine)

    book = load_workbook(io.BytesIO(files["xlsx"].data))
    assert book.sheetnames == ["Indicateurs", "Notes", "Dictionnaire"]
    sheet = book["Indicateurs"]
    assert sheet.freeze_panes == "A5"
    assert sheet.column_dimensions["C"].width == 48
    values = {row[1]: row for row in sheet.iter_rows(min_row=5, values_only=True)}
    assert values["accompanied"][3] == 25
    assert isinstance(values["accompanied"][3], int)
    assert values["turned_18"][3] == "secret"
    notes = {row[0]: row[1] for row in book["Notes"].iter_rows(values_only=True) if row[0]}
    assert notes["Données arrêtées au"].date() == dt.date(2024, 1, 31)  # a real date
    assert book["Dictionnaire"]["C1"].value == "Libellé"
    assert any(row[1] == "turned_18" for row in book["Dictionnaire"].iter_rows(
        values_only=True))
    due = [row[0] for row in book["Dictionnaire"].iter_rows(values_only=True)
           if row[1] == "checks_due"]
    assert due == ["toutes (indicateur commun)"]  # once, marked common
    assert not any(22 in row for row in sheet.iter_rows(values_only=True))

    api = token_client(app, people["users"]["evaluator"][1])
    from_api = api.get("/api/v1/indicators?programme=erbm-2023&action=62-A6").get_json()
    assert json.loads(files["json"].data)["actions"] == from_api["actions"]

    formats = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "indicators.query").order_by(AuditEntry.id)).scalars().all()
    assert sorted(str(d["format"]) for d in formats) == sorted(
        ["None", "csv", "csv-fr", "json", "xlsx", "None"])


def test_numbers_beside_rates_capacity_as_the_sheet_says_and_absent_targets(
        world: None, web: Any) -> None:
    main = main_of(web("pilot62").get(f"{URL}&departement=62&mode=internal"))
    # 3 simple measures = 1.5 reinforced-measure equivalents, against 20
    assert "1,5 mesures renforcées équivalentes sur 20" in main
    assert "soit 7,5\u00a0% de la cible (1,5 sur 20)" in main
    turned = row_of(main, "Jeunes devenus majeurs sur la période")
    assert "22 sur 23</p>" in turned  # numerator and denominator beside the rate
    assert "pas de cible dans la fiche action" in turned


def test_cohort_grains_preview_and_xlsx(world: None, web: Any) -> None:
    evaluator = web("evaluator")
    main = main_of(evaluator.get("/cohortes?programme=erbm-2023&actions=62-A6&grain=quarter"))
    preview = main[main.index('<caption>Cases masquées par regroupement des entrées'):]
    preview = preview[:preview.index("</table>")]
    for label in ("Par mois", "Par trimestre", "Par semestre", "Par année",
                  "Toutes les entrées de la période réunies"):
        assert label in preview
    counts = [(int(h.replace("\u202f", "")), int(c.replace("\u202f", ""))) for h, c in re.findall(
        r'<td class="nombre">([\d\u202f]+)</td><td class="nombre">([\d\u202f]+)</td>', preview)]
    assert len(counts) == 5
    hidden = [h for h, _ in counts]
    assert hidden[0] >= hidden[1] >= hidden[3]  # coarser grains hide no more here
    assert [c for _, c in counts] == [12 * 7 * 13, 4 * 7 * 13, 2 * 7 * 13, 7 * 13, 7 * 13]
    pooled = evaluator.get("/cohortes?programme=erbm-2023&actions=62-A6&grain=all")
    assert pooled.status_code == 200
    assert "2023-01 à 2023-12, entrée" in main_of(pooled)
    semester = main_of(evaluator.get("/cohortes?programme=erbm-2023&actions=62-A6"
                                     "&grain=semester"))
    assert "2023-S2, entrée" in semester
    links = _export_links(main)
    xlsx = evaluator.get(links["xlsx"])
    assert xlsx.headers["Content-Disposition"] == (
        'attachment; filename="cohortes_erbm-2023_62-A6_2023-01-01_2023-12-31'
        '_au-2024-01-31_publie.xlsx"')
    import io

    from openpyxl import load_workbook
    sheet = load_workbook(io.BytesIO(xlsx.data))["Cohortes"]
    header = [c.value for c in sheet[4]]
    assert header[:4] == ["Cohorte", "Horizon", "Membres", "Censurés"]
    shares = [row[10] for row in sheet.iter_rows(min_row=5, values_only=True)]
    assert all(v == "secret" or v is None or 0 <= v <= 1 for v in shares)


def test_codebook_api_and_page(world: None, web: Any, app: Any,
                               people: dict[str, Any]) -> None:
    api = token_client(app, people["users"]["evaluator"][1])
    response = api.get("/api/v1/codebook?programme=erbm-2023")
    assert response.status_code == 200
    book = response.get_json()
    measures = next(i for i in book["indicators"]
                    if (i["action"], i["code"]) == ("62-A4", "measures_in_use"))
    assert measures["unit_fr"] == "mesures renforcées équivalentes"
    assert measures["target"]["value"] == 20
    assert measures["disclosure"] == "capacity"
    turned = next(i for i in book["indicators"]
                  if (i["action"], i["code"]) == ("62-A6", "turned_18"))
    assert turned["target_fr"] == "pas de cible dans la fiche action"
    assert turned["denominator"] == "Jeunes pris en charge"
    assert "de 1 à 4" in turned["disclosure_fr"]
    assert {c["code"] for c in book["cohort_cells"]} >= {"members", "share_unknown"}
    # The follow-up indicators are common: listed once, with the actions reporting them,
    # never under an action as if its sheet declared them (59-A1's sheet declares none).
    common = {i["code"]: i for i in book["common_indicators"]}
    assert set(common) >= {"checks_due", "checks_reached", "six_months_in_pathway"}
    assert {"59-A1", "62-A6", "J-CLAUSES"} <= set(common["checks_due"]["reported_by"])
    assert not any(i["code"] in common for i in book["indicators"])
    assert not any(i["action"] == "59-A1" for i in book["indicators"])
    assert api.get("/api/v1/codebook?programme=erbm-2099").status_code == 404
    page = web("evaluator").get("/dictionnaire")
    assert page.status_code == 200
    main = main_of(page)
    assert "<h1>Dictionnaire des indicateurs</h1>" in main
    assert "Jeunes devenus majeurs sur la période" in main
    assert "pas de cible dans la fiche action" in main
    assert '<h2 id="dico-communs">Indicateurs communs à toutes les actions</h2>' in main
    assert main.count("Suivis à six mois échus sur la période") == 1
    nord = main[main.index('<h2 id="dico-59-A1">'):main.index('<h2 id="dico-59-A2">')]
    assert "Aucun indicateur propre" in nord
    assert "indicateurs communs" in nord
    assert web("coord_ml").get("/dictionnaire").status_code == 403


def test_the_report_reads_in_the_page(world: None, web: Any, session: Session) -> None:
    page = web("pilot62").get(f"/rapports/lire?{REPORT}")
    assert page.status_code == 200
    main = main_of(page)
    assert main.count("<h1>") == 1
    assert "<h1>Rapport d'exécution 2023 — Pas-de-Calais</h1>" in main
    for code in ("62-A1", "62-A6"):
        assert f'<a href="#action-{code}">' in main
        assert f'<section class="action" id="action-{code}"' in main
    downloads = re.findall(r'href="(/rapports/telecharger\?[^"]+)" download', main)
    # beside the report: HTML, XLSX, French spreadsheet CSV zip, machine CSV, JSON
    assert [re.search(r"format=([\w-]+)", d)[1] for d in downloads] == [  # type: ignore[index]
        "html", "xlsx", "csv", "csv-long", "json"]
    assert "<style" not in main
    assert "<main" not in main[5:]
    offered = main_of(web("pilot62").get(f"/rapports?{REPORT}"))
    assert "Lire le rapport dans le navigateur" in offered
    formats = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "report.generate")).scalars().all()
    assert [d["format"] for d in formats] == ["page"]


@pytest.fixture
def twins(session: Session, keyring: Any) -> None:
    """The clause twins: 8 entries in 62-A2 and 4 in 59-A4 in 2023 (a Nord count below k
    on its own), with the clock of the `world` fixture."""
    from tests.builders import structure
    nord = structure(session, "PLIE du Nord", "plie", departement="59")
    for i in range(8):
        person = register(session, keyring, birth_date=dt.date(2001, 1 + i, 1))
        enrol(session, keyring, person, "62-A2", runs(session, "62-A2"),
              dt.date(2023, 2 + i, 1), rsa_at_entry=True)
    for i in range(4):
        person = register(session, keyring, birth_date=dt.date(1990, 1 + i, 1))
        enrol(session, keyring, person, "59-A4", nord, dt.date(2023, 3 + i, 1))
    session.commit()


def _pooling_rows(main: str) -> str:
    table = main[main.index("<caption>Cases masquées si les deux départements sont réunis"):]
    return table[:table.index("</table>")]


def test_the_two_departements_pooled_with_their_preview(
        world: None, twins: None, web: Any, session: Session) -> None:
    evaluator = web("evaluator")
    main = main_of(evaluator.get("/cohortes?programme=erbm-2023&actions=62-A2&grain=year"))
    rows = _pooling_rows(main)
    assert "Clauses d&#39;insertion : 62-A2 (Pas-de-Calais), 59-A4 (Nord)" in rows
    assert "Actions réunies : 59-A4, 62-A2, J-CLAUSES." in rows
    hidden, cells = re.findall(
        r'<td class="nombre">([\d\u202f]+)</td><td class="nombre">([\d\u202f]+)</td>', rows)[0]
    link = re.search(r'<a href="([^"]+)">Afficher les deux départements réunis', rows)[1]  # type: ignore[index]
    pooled = evaluator.get(link.replace("&amp;", "&"))
    assert pooled.status_code == 200
    pooled_main = main_of(pooled)
    assert "Actions : 59-A4, 62-A2, J-CLAUSES." in pooled_main
    # what the preview announced is what the pooled table hides (same grain: its own
    # grain preview, "affiché", gives the count of the table shown)
    grains = pooled_main[pooled_main.index("<caption>Cases masquées par regroupement"):]
    shown = re.search(r'Par année <span class="badge badge-info">affiché</span></th>\s*'
                      r'<td class="nombre">([\d\u202f]+)</td><td class="nombre">([\d\u202f]+)',
                      grains)
    assert shown is not None
    assert (shown[1], shown[2]) == (hidden, cells)
    # 12 entries pooled: the entry cohort's members are published (rounded), which the
    # Nord action alone (4 entries) never is
    assert '<td class="nombre">10</td>' in row_of(pooled_main, "2023, entrée")
    nord_alone = main_of(evaluator.get("/cohortes?programme=erbm-2023&actions=59-A4&grain=year"))
    assert "secret statistique" in row_of(nord_alone, "2023, entrée")
    assert "Réunir les deux départements" in nord_alone  # offered from the Nord side too
    # nothing to offer when the pooling is already whole, or for an action without a twin
    whole = main_of(evaluator.get(link.replace("&amp;", "&")))
    assert "Réunir les deux départements" not in whole
    alone = main_of(evaluator.get("/cohortes?programme=erbm-2023&actions=62-A6&grain=year"))
    assert "Réunir les deux départements" not in alone
    audited = session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action == "cohorts.query")).scalars().all()
    assert ["59-A4", "62-A2", "J-CLAUSES"] in [d["actions"] for d in audited]


def test_a_pilot_pools_the_other_departement_in_published_mode_only(
        world: None, twins: None, web: Any) -> None:
    pilot = web("pilot62")
    main = main_of(pilot.get("/cohortes?programme=erbm-2023&actions=62-A2&grain=year"
                             "&mode=internal&as_of=2024-02-20"))
    assert "effectifs exacts — usage interne" in main
    rows = _pooling_rows(main)
    assert ("en mode publié (secret statistique) : les effectifs exacts sont réservés aux "
            "actions de votre département") in rows
    link = re.search(r'<a href="([^"]+)">Afficher les deux départements réunis', rows)[1]  # type: ignore[index]
    link = link.replace("&amp;", "&")
    assert "mode=published" in link
    assert "as_of" not in link  # the exact figures' day: published takes its month's end
    pooled = pilot.get(link)
    assert pooled.status_code == 200
    pooled_main = main_of(pooled)
    assert "effectifs exacts — usage interne" not in pooled_main
    assert 'id="regle-secret"' in pooled_main
    # the exact pooled table stays refused (the Nord's and the joint action's figures)
    refused = pilot.get(link.replace("mode=published", "mode=internal"))
    assert refused.status_code == 403
    # an administrator keeps exact figures when pooling
    admin = main_of(web("admin").get("/cohortes?programme=erbm-2023&actions=62-A2"
                                     "&grain=year&mode=internal"))
    assert "mode=internal" in re.search(
        r'<a href="([^"]+)">Afficher les deux départements réunis', admin)[1]  # type: ignore[index]
