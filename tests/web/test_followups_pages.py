"""The follow-up worklist and the check form (test client, both databases).

Checks are built with past dates so that, on the real today (the pages read the clock),
one is due, one overdue, one upcoming, one done and one cancelled; counts are by hand.
"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy.orm import Session

from cohort import clock
from cohort.actors import SYSTEM, Actor
from cohort.auth import actor_for
from cohort.domain.calendar import add_months
from cohort.errors import NotFound
from cohort.models import Enrolment, FollowUpCheck, Participant
from cohort.services import enrolments, followups
from tests.builders import enrol, register
from tests.web.conftest import post_form

START = dt.date(2024, 1, 2)  # the builders' "today" is 2024-06-15: starts are before it


def actor_of(people: dict[str, Any], login: str) -> Actor:
    user = people["users"][login][0]
    return actor_for(user, user.structure)


def ended(session: Session, keyring: Any, where: Any, *, end: dt.date, code: str = "62-A6",
          **identity: Any) -> tuple[Participant, Enrolment, FollowUpCheck]:
    """A youth (ASE, Pas-de-Calais by default) enrolled in 2024 and ended on `end`."""
    identity.setdefault("home_departement", "62")
    youth = register(session, keyring, **identity)
    enrolment = enrol(session, keyring, youth, code, where, START)
    enrolments.end(session, SYSTEM, enrolment,
                   {"end_date": end, "exit_reason": "end_of_support"},
                   today=clock.today(), now=clock.now())
    check = followups.live_check(session, enrolment.id)
    assert check is not None
    return youth, enrolment, check


def end_for(state: str, today: dt.date | None = None) -> dt.date:
    """An enrolment end whose check is in `state` today (window −15/+45 days around the
    due date, six months after the end)."""
    today = today or clock.today()
    six_months_ago = add_months(today, -6)
    return {"due": six_months_ago,
            "overdue": six_months_ago - dt.timedelta(days=60),
            "upcoming": add_months(today, -5)}[state]


def worklist_data(session: Session, keyring: Any, people: dict[str, Any]) -> dict[str, Any]:
    """Mission Locale: due, overdue, upcoming, done, cancelled, plus two open enrolments;
    the PLIE: one due check. Committed, so the app's sessions see it."""
    ml, plie = people["structures"]["ml"], people["structures"]["plie"]
    made: dict[str, Any] = {}
    for state in ("due", "overdue", "upcoming"):
        made[state] = ended(session, keyring, ml, end=end_for(state))
    youth, enrolment, check = ended(session, keyring, ml, end=end_for("due"))
    followups.record_result(session, keyring, actor_of(people, "coord_ml"), check.uuid,
                            {"expected_version": check.version, "date": clock.today(),
                             "outcome": "refused", "attempts": None, "situation": None},
                            today=clock.today(), now=clock.now())
    made["done"] = (youth, enrolment, check)
    youth, enrolment, check = ended(session, keyring, ml, end=end_for("due"))
    enrolments.correct_end(session, SYSTEM, enrolment, {"end_date": None},
                           today=clock.today(), now=clock.now())  # reopened: cancelled
    made["cancelled"] = (youth, enrolment, check)
    made["open"] = [enrol(session, keyring, register(session, keyring), "62-A6", ml, START)
                    for _ in range(2)]
    # 62-A1: the PLIE's action (domain.md §2 "Operators").
    made["plie_due"] = ended(session, keyring, plie, end=end_for("due"), code="62-A1")
    session.commit()
    return made


def tab_counts(html: str) -> dict[str, int]:
    """The worklist's filter tabs: label → count."""
    nav = html.split('aria-label="Filtrer les suivis par état"', 1)[1].split("</nav>", 1)[0]
    return {label: int(count) for label, count in
            re.findall(r">([^<>]+?) \((\d+)\)</a>", nav)}


def rows(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [r for r in body.split("<tr>")[1:] if "Aucun suivi" not in r]


@pytest.fixture
def data(session: Session, keyring: Any, people: dict[str, Any]) -> dict[str, Any]:
    return worklist_data(session, keyring, people)


# --- the worklist ----------------------------------------------------------------------------

def test_the_worklist_counts_every_state_and_lists_all_but_cancelled(
        web: Any, data: dict[str, Any]) -> None:
    response = web("coord_ml").get("/suivis")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Suivis à 6 mois</h1>" in html
    assert tab_counts(html) == {"Tous (hors annulés)": 4, "À venir": 1, "À réaliser": 1,
                                "En retard": 1, "Réalisé": 1, "Annulé": 1}
    listed = rows(html)
    assert len(listed) == 4
    assert sum("Saisir le suivi" in r for r in listed) == 2  # due and overdue
    assert sum("Voir le résultat" in r for r in listed) == 1
    assert all("Voir le parcours" in r for r in listed)
    youth = data["due"][0]
    assert f'href="/personnes/{youth.uuid}"' in html


@pytest.mark.parametrize(("state", "label", "action"), [
    ("due", "À réaliser", "Saisir le suivi"),
    ("overdue", "En retard", "Saisir le suivi"),
    ("upcoming", "À venir", "Voir le suivi"),
    ("done", "Réalisé", "Voir le résultat"),
    ("cancelled", "Annulé", None),
])
def test_a_state_filter_lists_only_that_state(web: Any, data: dict[str, Any], state: str,
                                              label: str, action: str | None) -> None:
    html = web("coord_ml").get(f"/suivis?etat={state}").get_data(as_text=True)
    listed = rows(html)
    assert len(listed) == 1
    assert f">{label}</span>" in listed[0]
    assert str(data[state][0].uuid) in listed[0]  # the youth's pathway link
    if action:
        assert action in listed[0]
    else:
        assert "/suivis/" not in listed[0]
    assert f'aria-current="page">{label} (1)</a>' in html


def test_states_can_be_combined_and_unknown_ones_are_ignored_with_a_message(
        web: Any, data: dict[str, Any]) -> None:
    client = web("coord_ml")
    html = client.get("/suivis?etat=due&etat=overdue").get_data(as_text=True)
    assert len(rows(html)) == 2
    assert "à réaliser, en retard" in html
    response = client.get("/suivis?etat=perdu&page=zero")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Un filtre demandé n'existe pas : il a été ignoré." in html
    assert len(rows(html)) == 4


def test_each_structure_sees_its_own_checks(web: Any, data: dict[str, Any]) -> None:
    html = web("coord_plie").get("/suivis").get_data(as_text=True)
    assert tab_counts(html)["À réaliser"] == 1
    assert tab_counts(html)["Tous (hors annulés)"] == 1
    assert str(data["plie_due"][0].uuid) in html
    assert str(data["due"][0].uuid) not in html
    assert '<th scope="col">Structure</th>' not in html


def test_the_administrator_sees_every_structure_with_its_name(web: Any,
                                                              data: dict[str, Any]) -> None:
    html = unescape(web("admin").get("/suivis").get_data(as_text=True))
    assert '<th scope="col">Structure</th>' in html
    assert "<td>PLIE de Lens-Hénin-Carvin</td>" in html
    assert "<td>Mission Locale de Lens-Liévin</td>" in html


@pytest.mark.parametrize("login", ["referent62", "evaluator", "pilot62"])
def test_other_roles_do_not_reach_the_worklist(web: Any, people: dict[str, Any],
                                               login: str) -> None:
    response = web(login).get("/suivis")
    assert response.status_code == 403
    assert "Vous n'avez pas accès à cette page." in unescape(response.get_data(as_text=True))


# --- the check form --------------------------------------------------------------------------

def test_the_form_defaults_to_today_and_carries_the_version(web: Any,
                                                            data: dict[str, Any]) -> None:
    check = data["due"][2]
    html = web("coord_ml").get(f"/suivis/{check.uuid}").get_data(as_text=True)
    assert "<h2>Saisir le résultat</h2>" in html
    assert f'value="{clock.today().isoformat()}"' in html
    assert f'name="expected_version" value="{check.version}"' in html
    assert 'for="champ-outcome-reached">Jeune joint</label>' in html
    assert "Enregistrer le suivi" in html


def test_a_reached_check_is_recorded_and_its_situation_shown(
        web: Any, data: dict[str, Any], session: Session) -> None:
    check = data["due"][2]
    client = web("coord_ml")
    response = post_form(client, f"/suivis/{check.uuid}", {
        "expected_version": check.version, "date": clock.today().isoformat(),
        "outcome": "reached", "employment_contract": "cdi", "housing_type": "social_rental",
        "resources": ["wage"], "training": "", "school": "", "scheme": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/suivis")
    page = client.get("/suivis").get_data(as_text=True)
    assert "Suivi à 6 mois enregistré : Jeune joint." in page
    assert tab_counts(page)["Réalisé"] == 2

    html = client.get(f"/suivis/{check.uuid}").get_data(as_text=True)
    assert "<h2>Résultat enregistré</h2>" in html
    assert "Saisir le résultat" not in html
    assert "<dt>En emploi durable</dt><dd>oui</dd>" in html
    assert "<dt>Logé(e) durablement</dt><dd>oui</dd>" in html
    assert "<dt>Événements ajoutés au parcours</dt><dd>3</dd>" in html


def test_a_not_reached_check_needs_its_attempts(web: Any, data: dict[str, Any]) -> None:
    check = data["overdue"][2]
    client = web("coord_ml")
    response = post_form(client, f"/suivis/{check.uuid}", {
        "expected_version": check.version, "date": clock.today().isoformat(),
        "outcome": "not_reached"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="erreur-attempts">Obligatoire quand le jeune n&#39;a pas été joint.' in html
    assert 'value="not_reached" checked' in html  # what was typed stays
    response = post_form(client, f"/suivis/{check.uuid}", {
        "expected_version": check.version, "date": clock.today().isoformat(),
        "outcome": "not_reached", "attempts": "3"})
    assert response.status_code == 302


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"outcome": "reached"}, "situation",
     "Le jeune a été joint : renseignez au moins un élément de sa situation."),
    ({"outcome": "refused", "housing_type": "family"}, "situation",
     "Seulement quand le jeune a été joint"),
    ({"outcome": "reached", "employment_contract": "cdd"}, "employment_planned_months",
     "Obligatoire pour un contrat à durée déterminée."),
    ({"outcome": "reached", "resources": ["rsa", "none"]}, "resources",
     "Cochez « Aucune ressource » seule"),
    ({"outcome": "perhaps"}, "outcome", "Choisissez une valeur de la liste."),
    ({"outcome": "refused", "date": ""}, "date", "Ce champ est obligatoire."),
    ({"outcome": "refused", "date": "hier"}, "date", "Date invalide"),
])
def test_form_refusals_are_french_and_next_to_the_field(
        web: Any, data: dict[str, Any], fields: dict[str, Any], field: str,
        message: str) -> None:
    check = data["due"][2]
    body = {"expected_version": check.version, "date": clock.today().isoformat(), **fields}
    response = post_form(web("coord_ml"), f"/suivis/{check.uuid}", body)
    html = response.get_data(as_text=True).replace("&#39;", "'").replace("&#34;", '"')
    assert response.status_code == 422
    assert "Le formulaire contient des erreurs : voir les champs signalés." in html
    assert re.search(rf'id="erreur-{field}">[^<]*{re.escape(message)}', html), html


@pytest.mark.parametrize(("when", "message"), [
    ("before", "Le suivi ne peut être saisi qu'à partir du"),
    ("future", "Cette date est dans le futur."),
])
def test_the_service_refuses_a_date_outside_the_window(web: Any, data: dict[str, Any],
                                                       when: str, message: str) -> None:
    check = data["due"][2]
    day = (check.window_start - dt.timedelta(days=1) if when == "before"
           else clock.today() + dt.timedelta(days=1))
    response = post_form(web("coord_ml"), f"/suivis/{check.uuid}", {
        "expected_version": check.version, "date": day.isoformat(), "outcome": "refused"})
    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 422
    assert re.search(rf'id="erreur-date">{re.escape(message)}', html)
    if when == "before":
        assert f"{check.window_start:%d/%m/%Y}" in html


def test_a_second_writer_is_told_someone_else_recorded_it(app: Any, web: Any,
                                                          data: dict[str, Any]) -> None:
    check = data["due"][2]
    first, second = web("coord_ml"), web("coord_ml")
    for client in (first, second):  # both read the form at version N
        assert f'value="{check.version}"' in client.get(f"/suivis/{check.uuid}").get_data(
            as_text=True)
    today = clock.today().isoformat()
    ok = post_form(first, f"/suivis/{check.uuid}", {
        "expected_version": check.version, "date": today, "outcome": "refused"})
    assert ok.status_code == 302
    late = post_form(second, f"/suivis/{check.uuid}", {
        "expected_version": check.version, "date": today, "outcome": "not_reached",
        "attempts": "2"})
    html = late.get_data(as_text=True).replace("&#39;", "'")
    assert late.status_code == 409
    assert "Quelqu'un d'autre a enregistré ce suivi entre-temps" in html
    assert "<dt>Résultat du suivi</dt><dd>Refus de répondre</dd>" in html


def test_an_upcoming_or_cancelled_check_has_no_form(web: Any, data: dict[str, Any]) -> None:
    client = web("coord_ml")
    upcoming = client.get(f"/suivis/{data['upcoming'][2].uuid}").get_data(as_text=True)
    assert "La fenêtre de saisie s'ouvre le" in upcoming.replace("&#39;", "'")
    assert "Enregistrer le suivi" not in upcoming
    cancelled = client.get(f"/suivis/{data['cancelled'][2].uuid}").get_data(as_text=True)
    assert "Ce suivi a été annulé" in cancelled
    assert "Enregistrer le suivi" not in cancelled


def test_another_structures_check_is_not_found(web: Any, data: dict[str, Any]) -> None:
    check = data["due"][2]
    client = web("coord_plie")
    response = client.get(f"/suivis/{check.uuid}")
    assert response.status_code == 404
    assert "Cette page n'existe pas ou ne vous est pas accessible." in response.get_data(
        as_text=True).replace("&#39;", "'")
    posted = post_form(client, f"/suivis/{check.uuid}", {
        "expected_version": check.version, "date": clock.today().isoformat(),
        "outcome": "refused"})
    assert posted.status_code == 404


def test_readable_check_scopes_like_the_worklist(session: Session, people: dict[str, Any],
                                                 data: dict[str, Any]) -> None:
    check = data["due"][2]
    assert followups.readable_check(session, actor_of(people, "coord_ml"), check.uuid) is check
    assert followups.readable_check(session, actor_of(people, "admin"), check.uuid) is check
    with pytest.raises(NotFound):
        followups.readable_check(session, actor_of(people, "coord_plie"), check.uuid)
