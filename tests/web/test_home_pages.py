"""The home page of each role (test client, both databases): counts computed by the services,
each a link to the list it counts, and the in-app messages.

The data set, by hand (the pages read the real clock; dates are built around it):
- Mission Locale: checks due 1, overdue 1, upcoming 1, done 1, cancelled 1 (its enrolment
  reopened); two more open enrolments; four ASE youths with a support break, enrolment
  open. Participants with an open enrolment there: 1 reopened + 2 + 4 = 7.
- PLIE: one due check, no open enrolment.
- Alerts: Pas-de-Calais open 1, acknowledged 1, closed 1; Nord open 1. Each raised one
  message to each referent of its département (referent62: 3, referent59: 1).
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.models import Notification
from cohort.services import dashboard
from tests.web.conftest import post_form
from tests.web.test_alerts_pages import alert_data
from tests.web.test_followups_pages import actor_of, worklist_data


@pytest.fixture
def data(session: Session, keyring: Any, people: dict[str, Any]) -> dict[str, Any]:
    return {**worklist_data(session, keyring, people),
            "alerts": alert_data(session, keyring, people)}


def counts(html: str) -> dict[str, tuple[int, str | None]]:
    """The home counters: label → (value, link)."""
    found = re.findall(r'<strong>([\d\u202f]+)</strong>\s*(?:<a href="([^"]+)">|<span>)'
                       r'([^<]+)</', html)
    return {label: (int(value.replace("\u202f", "")), unescape(href) or None)
            for value, href, label in found}


def home(web: Any, login: str) -> str:
    response = web(login).get("/")
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


HAND_COUNTED = {
    "coord_ml": {
        "Personnes suivies (accompagnement en cours)": 7,
        "Suivis à 6 mois à réaliser": (1, "/suivis?etat=due"),
        "Suivis à 6 mois en retard": (1, "/suivis?etat=overdue"),
    },
    "coord_plie": {
        "Personnes suivies (accompagnement en cours)": 0,
        "Suivis à 6 mois à réaliser": (1, "/suivis?etat=due"),
        "Suivis à 6 mois en retard": (0, "/suivis?etat=overdue"),
    },
    "referent62": {
        "Alertes ouvertes": (1, "/alertes?statut=open"),
        "Alertes prises en compte": (1, "/alertes?statut=acknowledged"),
    },
    "referent59": {
        "Alertes ouvertes": (1, "/alertes?statut=open"),
        "Alertes prises en compte": (0, "/alertes?statut=acknowledged"),
    },
    "admin": {
        "Suivis à 6 mois à réaliser": (2, "/suivis?etat=due"),
        "Suivis à 6 mois en retard": (1, "/suivis?etat=overdue"),
        "Alertes ouvertes": (2, "/alertes?statut=open"),
        "Alertes prises en compte": (1, "/alertes?statut=acknowledged"),
    },
    "evaluator": {},
    "pilot62": {},
}


@pytest.mark.parametrize("login", list(HAND_COUNTED))
def test_each_role_sees_its_own_counts_each_linking_to_its_list(
        app: Any, web: Any, data: dict[str, Any], login: str) -> None:
    html = home(web, login)
    assert "<h1>Accueil</h1>" in html
    shown = counts(html)
    expected = HAND_COUNTED[login]
    assert set(shown) == set(expected)
    for label, want in expected.items():
        if isinstance(want, tuple):
            assert shown[label] == want, label
        else:  # the participant list belongs to another module: linked once it exists
            value, href = shown[label]
            assert value == want
            assert (href is not None) == ("web.caseload_list" in app.view_functions)


def test_the_counted_lists_agree_with_the_counts(web: Any, data: dict[str, Any]) -> None:
    client = web("coord_ml")
    for label, (value, href) in counts(home(web, "coord_ml")).items():
        if href is None or not href.startswith("/suivis"):
            continue
        listed = client.get(href).get_data(as_text=True).split("<tbody>")[1]
        assert listed.count("<tr>") == value, label
    client = web("referent62")
    for _, (value, href) in counts(home(web, "referent62")).items():
        listed = client.get(href).get_data(as_text=True)
        assert listed.count('<li class="alerte ') == value


@pytest.mark.parametrize(("login", "endpoints"), [
    ("evaluator", ["web.indicators", "web.cohorts", "web.reports"]),
    ("pilot62", ["web.indicators", "web.cohorts", "web.reports"]),
    ("admin", ["web.admin_home"]),
])
def test_shortcuts_link_only_to_pages_that_exist(app: Any, web: Any, people: dict[str, Any],
                                                 login: str, endpoints: list[str]) -> None:
    html = home(web, login)
    with app.test_request_context():
        from flask import url_for
        for endpoint in endpoints:
            if endpoint in app.view_functions:
                assert f'<a href="{url_for(endpoint)}">' in html, endpoint
    if not any(e in app.view_functions for e in endpoints):
        assert "Accès rapides" not in html


def test_a_referent_reads_the_alert_messages_and_marks_them_read(
        web: Any, data: dict[str, Any], session: Session, people: dict[str, Any]) -> None:
    html = home(web, "referent62")
    assert '<h2 id="messages">Messages (3 non lus)</h2>' in html
    assert html.count("Alerte ASE : rupture d'accompagnement (action 62-A6)") == 3
    assert "Voir les alertes" in html
    assert html.count("Marquer comme lu</button>") == 3
    first = re.search(r'action="/messages/([0-9a-f-]{36})/lu"', html)
    assert first
    client = web("referent62")
    response = post_form(client, f"/messages/{first[1]}/lu", {})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/#messages")
    html = unescape(client.get("/").get_data(as_text=True))
    assert "Message marqué comme lu." in html
    assert '<h2 id="messages">Messages (2 non lus)</h2>' in html
    # Someone else's message is not found.
    assert post_form(web("referent59"), f"/messages/{first[1]}/lu", {}).status_code == 404
    read = session.execute(sa.select(sa.func.count()).select_from(Notification).where(
        Notification.read_at.is_not(None))).scalar_one()
    assert read == 1


def test_no_message_says_so(web: Any, people: dict[str, Any]) -> None:
    html = home(web, "evaluator")
    assert '<h2 id="messages">Messages</h2>' in html
    assert "Aucun message." in html


def test_the_dashboard_counts_by_hand(session: Session, people: dict[str, Any],
                                      data: dict[str, Any]) -> None:
    ml, plie = people["structures"]["ml"], people["structures"]["plie"]
    assert dashboard.followed_count(session, ml.id) == 7
    assert dashboard.followed_count(session, plie.id) == 0
    assert dashboard.alert_counts(session, actor_of(people, "referent62")) == {
        "open": 1, "acknowledged": 1, "closed": 1}
    assert dashboard.alert_counts(session, actor_of(people, "admin")) == {
        "open": 2, "acknowledged": 1, "closed": 1}
    assert dashboard.unread_count(session, actor_of(people, "referent62")) == 3
    assert dashboard.unread_count(session, actor_of(people, "coord_ml")) == 0
