"""The ASE referents' alerts inbox (test client, both databases): tabs and counts by status,
acknowledge then close with a note, the version read, and the département's scope."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import clock
from cohort.models import Alert, AuditEntry
from cohort.services import alerts
from tests.builders import enrol, record, register
from tests.web.conftest import post_form
from tests.web.test_followups_pages import START, actor_of


def youth_with_break(session: Session, keyring: Any, people: dict[str, Any],
                     departement: str = "62") -> Alert:
    """An ASE youth living in `departement`, followed by the Mission Locale, whose support
    break raised an alert to that département's referents."""
    youth = register(session, keyring, home_departement=departement)
    enrolment = enrol(session, keyring, youth, "62-A6", people["structures"]["ml"], START)
    record(session, keyring, youth, "support_break", dt.date(2024, 3, 1),
           enrolment_id=enrolment.uuid, reason="absences répétées")
    return session.execute(sa.select(Alert).where(Alert.participant_id == youth.id)
                           ).scalar_one()


def alert_data(session: Session, keyring: Any, people: dict[str, Any]) -> dict[str, Alert]:
    """Pas-de-Calais: one open, one acknowledged, one closed; Nord: one open."""
    referent = actor_of(people, "referent62")
    made = {name: youth_with_break(session, keyring, people)
            for name in ("open", "acknowledged", "closed")}
    made["nord"] = youth_with_break(session, keyring, people, "59")
    alerts.acknowledge(session, referent, made["acknowledged"].uuid, {}, now=clock.now())
    alerts.close(session, referent, made["closed"].uuid, {"note": "Rendez-vous repris à la MDS"},
                 now=clock.now())
    session.commit()
    return made


@pytest.fixture
def data(session: Session, keyring: Any, people: dict[str, Any]) -> dict[str, Alert]:
    return alert_data(session, keyring, people)


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def tab_counts(html: str) -> dict[str, int]:
    nav = html.split('aria-label="Filtrer les alertes par statut"', 1)[1].split("</nav>", 1)[0]
    return {label: int(n) for label, n in re.findall(r">([^<>]+?) \((\d+)\)</a>", nav)}


def cards(html: str) -> list[str]:
    if '<ul class="alertes">' not in html:
        return []
    return html.split('<ul class="alertes">', 1)[1].split("</ul>", 1)[0].split("<li ")[1:]


def test_the_inbox_shows_the_open_alerts_of_the_departement_with_counts(
        web: Any, data: dict[str, Alert]) -> None:
    response = web("referent62").get("/alertes")
    html = text(response)
    assert response.status_code == 200
    assert "<h1>Alertes ASE</h1>" in html
    assert tab_counts(html) == {"Ouvertes": 1, "Prises en compte": 1, "Clôturées": 1,
                                "Toutes": 3}
    assert 'aria-current="page">Ouvertes (1)</a>' in html
    [card] = cards(html)
    assert "Rupture d'accompagnement — action 62-A6" in card
    assert "<dt>Date de la rupture</dt><dd>01/03/2024</dd>" in card
    assert "Prendre en compte" in card
    assert "Clôturer l'alerte" in card
    assert re.search(r'href="/personnes/[0-9a-f-]{36}">Voir le parcours du jeune</a>', card)


@pytest.mark.parametrize(("tab", "count", "shown", "hidden"), [
    ("acknowledged", 1, "Prise en compte le", "Prendre en compte</button>"),
    ("closed", 1, "Rendez-vous repris à la MDS", "Clôturer l'alerte"),
    ("all", 3, "Clôturée le", None),
])
def test_each_tab_lists_its_status(web: Any, data: dict[str, Alert], tab: str, count: int,
                                   shown: str, hidden: str | None) -> None:
    html = text(web("referent62").get(f"/alertes?statut={tab}"))
    assert len(cards(html)) == count
    assert shown in html
    if hidden:
        assert hidden not in html


def test_an_unknown_tab_falls_back_to_the_open_alerts(web: Any, data: dict[str, Alert]) -> None:
    response = web("referent62").get("/alertes?statut=perdue")
    assert response.status_code == 200
    html = text(response)
    assert "Le filtre demandé n'existe pas : les alertes ouvertes sont affichées." in html
    assert len(cards(html)) == 1


def test_acknowledge_then_close_with_a_note(web: Any, data: dict[str, Alert]) -> None:
    client, alert = web("referent62"), data["open"]
    response = post_form(client, f"/alertes/{alert.uuid}/prise-en-compte",
                         {"expected_version": alert.version, "retour": "open"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/alertes?statut=open")
    html = text(client.get("/alertes?statut=acknowledged"))
    assert "Alerte prise en compte." in html
    assert tab_counts(html)["Prises en compte"] == 2
    version = re.search(rf'/alertes/{alert.uuid}/cloture".*?name="expected_version" '
                        r'value="(\d+)"', html, re.S)
    assert version

    refused = post_form(client, f"/alertes/{alert.uuid}/cloture",
                        {"expected_version": version[1], "retour": "acknowledged"})
    html = text(refused)
    assert refused.status_code == 422
    assert f'id="erreur-note-{alert.uuid}">Ce champ est obligatoire.' in html
    assert f'aria-describedby="aide-note-{alert.uuid} erreur-note-{alert.uuid}"' in html

    closed = post_form(client, f"/alertes/{alert.uuid}/cloture",
                       {"expected_version": version[1], "retour": "acknowledged",
                        "note": "Contact repris avec l'éducateur"})
    assert closed.status_code == 302
    html = text(client.get("/alertes?statut=closed"))
    assert "Alerte clôturée." in html
    assert "Contact repris avec l'éducateur" in html
    assert tab_counts(html) == {"Ouvertes": 0, "Prises en compte": 1, "Clôturées": 2,
                                "Toutes": 3}


def test_a_blank_note_is_refused_by_the_service(web: Any, data: dict[str, Alert]) -> None:
    alert = data["open"]
    response = post_form(web("referent62"), f"/alertes/{alert.uuid}/cloture",
                         {"expected_version": alert.version, "note": "   "})
    # Blank once stripped: left out by the form, so the schema says it is missing.
    assert response.status_code == 422
    assert "Ce champ est obligatoire." in text(response)


def test_a_stale_version_is_a_409_asking_to_reload(web: Any, data: dict[str, Alert]) -> None:
    first, second = web("referent62"), web("referent62")
    alert = data["open"]
    assert post_form(first, f"/alertes/{alert.uuid}/prise-en-compte",
                     {"expected_version": alert.version}).status_code == 302
    late = post_form(second, f"/alertes/{alert.uuid}/prise-en-compte",
                     {"expected_version": alert.version})
    assert late.status_code == 409
    assert "Quelqu'un d'autre a traité cette alerte entre-temps" in text(late)
    late_close = post_form(second, f"/alertes/{alert.uuid}/cloture",
                           {"expected_version": alert.version, "note": "vu"})
    assert late_close.status_code == 409


def test_another_departements_alerts_are_invisible_and_not_found(
        web: Any, data: dict[str, Alert]) -> None:
    client = web("referent59")
    html = text(client.get("/alertes?statut=all"))
    assert tab_counts(html)["Toutes"] == 1
    assert len(cards(html)) == 1
    assert str(data["open"].uuid) not in html
    for path, body in ((f"/alertes/{data['open'].uuid}/prise-en-compte", {}),
                       (f"/alertes/{data['open'].uuid}/cloture", {"note": "pas à moi"})):
        response = post_form(client, path, body)
        assert response.status_code == 404
        assert "Cette page n'existe pas ou ne vous est pas accessible." in text(response)
    assert "Cette page n'existe pas" in text(
        post_form(client, "/alertes/00000000-0000-0000-0000-000000000000/prise-en-compte", {}))


def test_an_administrator_sees_every_departement_and_the_listing_is_audited(
        web: Any, data: dict[str, Alert], session: Session) -> None:
    html = text(web("admin").get("/alertes?statut=all"))
    assert tab_counts(html)["Toutes"] == 4
    listed = session.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "alert.list")).scalar_one()
    assert listed >= 1


@pytest.mark.parametrize("login", ["coord_ml", "evaluator", "pilot62"])
def test_other_roles_do_not_reach_the_alerts(web: Any, data: dict[str, Alert],
                                             login: str) -> None:
    client = web(login)
    assert client.get("/alertes").status_code == 403
    assert post_form(client, f"/alertes/{data['open'].uuid}/prise-en-compte",
                     {}).status_code == 403
