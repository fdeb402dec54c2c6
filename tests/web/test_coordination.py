"""Coordinator pages through the test client: refusals in French next to the field (422,
nothing written), idempotent double submit, scoping (404 in French), audited identity reveal."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from html import unescape as html_unescape
from typing import Any

import pytest
import sqlalchemy as sa

from cohort import clock
from cohort.actors import SYSTEM
from cohort.auth import actor_for
from cohort.models import AuditEntry, Enrolment, Event, EventVoid, Participant
from cohort.services import enrolments, participants
from tests.builders import action, person
from tests.web.conftest import post_form

TODAY = clock.today()


@pytest.fixture(autouse=True)
def _today_when_the_test_runs() -> None:
    """Today in France when each test starts, not when the module was imported: a run that
    crosses midnight in Paris would otherwise compare yesterday with the pages' today."""
    global TODAY
    TODAY = clock.today()


def days_ago(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def youth(session: Any, keyring: Any, people: dict[str, Any], *, where: str = "ml",
          enrol_in: str | None = "62-A6", **overrides: Any) -> Participant:
    """An ASE youth of 18 registered (and enrolled) by a structure of the cast."""
    overrides.setdefault("birth_date", dt.date(TODAY.year - 18, 1, 15))
    identity = person(**overrides)
    structure = people["structures"][where]
    who = SYSTEM
    record = participants.register(session, keyring, who, identity, today=TODAY).participant
    record.registered_by_structure_id = structure.id
    if enrol_in:
        enrolments.enrol(session, keyring, SYSTEM, {
            "participant_id": record.uuid, "action_id": action(session, enrol_in).uuid,
            "structure_id": structure.uuid, "start_date": days_ago(60),
            "rsa_at_entry": False}, today=TODAY, now=clock.now())
    session.commit()
    return record


def text(response: Any) -> str:
    """The page as a user reads it (entities decoded)."""
    return html_unescape(response.get_data(as_text=True))


def count(session: Any, model: Any) -> int:
    session.expire_all()
    return session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def field_error(html: str, name: str) -> str:
    """The French error printed next to a field (its aria-describedby target)."""
    match = re.search(rf'<p class="erreur-champ" id="erreur-{name}">(.*?)</p>', html, re.S)
    assert match, f"no error next to {name}"
    return html_unescape(match.group(1)).strip()


# --- participant page and scope ----------------------------------------------------------

def test_participant_page_shows_attributes_enrolments_and_no_identity(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    record = youth(session, keyring, people)
    page = web("coord_ml").get(f"/personnes/{record.uuid}")
    assert page.status_code == 200
    html = text(page)
    assert "<h1>Fiche de la personne</h1>" in html
    assert 'class="attributs"' in html
    assert "62-A6" in html
    assert "Mission Locale de Lens-Liévin" in html
    assert "Afficher l'identité" in html
    assert "Testnom" not in html


def test_a_due_check_is_reachable_from_the_enrolment_and_admins_can_ask_erasure(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    record = youth(session, keyring, people, enrol_in=None)
    enrolment = enrolments.enrol(session, keyring, SYSTEM, {
        "participant_id": record.uuid, "action_id": action(session, "62-A6").uuid,
        "structure_id": people["structures"]["ml"].uuid, "start_date": days_ago(400),
        "rsa_at_entry": False}, today=TODAY, now=clock.now())
    enrolments.end(session, SYSTEM, enrolment, {
        "end_date": TODAY - dt.timedelta(days=190), "exit_reason": "training"},
        today=TODAY, now=clock.now())
    session.commit()
    html = text(web("coord_ml").get(f"/personnes/{record.uuid}"))
    assert "À réaliser" in html
    check_link = re.search(r'href="(/suivis/[0-9a-f-]+)">Saisir le suivi à 6 mois', html)
    assert check_link, "no link to the check form"
    assert web("coord_ml").get(check_link.group(1)).status_code == 200
    assert "Effacer l'identité" not in html
    admin = actor_for(people["users"]["admin"][0], people["structures"]["cd62"])
    participants.grant_exceptional_access(session, admin, record, now=clock.now(),
                                          reason="Demande d'effacement reçue par courrier")
    session.commit()
    admin_page = text(web("admin").get(f"/personnes/{record.uuid}"))
    assert f'href="/admin/effacements?participant_id={record.uuid}"' in admin_page


def test_another_structure_gets_a_french_404(web: Any, session: Any, keyring: Any,
                                              people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_plie")
    for path in (f"/personnes/{record.uuid}", f"/personnes/{record.uuid}/inscription",
                 f"/personnes/{record.uuid}/evenements/nouveau"):
        page = client.get(path)
        assert page.status_code == 404, path
        html = text(page)
        assert "<h1>Erreur 404</h1>" in html
        assert "Retour à l'accueil" in html
        assert "62-A6" not in html


def test_referent_reads_but_cannot_write(web: Any, session: Any, keyring: Any,
                                         people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("referent62")
    html = text(client.get(f"/personnes/{record.uuid}"))
    assert "Fiche de la personne" in html
    assert "Saisir un événement" not in html
    assert client.get(f"/personnes/{record.uuid}/evenements/nouveau").status_code == 403
    assert web("evaluator").get(f"/personnes/{record.uuid}").status_code == 403


# --- search and registration -------------------------------------------------------------

def test_search_by_identity_redirects_to_the_page_and_not_found_is_french(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    identity = person(birth_date=dt.date(TODAY.year - 18, 1, 15))
    record = participants.register(session, keyring, SYSTEM, identity, today=TODAY).participant
    record.registered_by_structure_id = people["structures"]["ml"].id
    session.commit()
    form = {"last_name": identity["last_name"], "first_names": identity["first_names"],
            "birth_date": identity["birth_date"].isoformat()}
    found = post_form(web("coord_ml"), "/personnes", form)
    assert found.status_code == 302
    assert found.headers["Location"].endswith(f"/personnes/{record.uuid}")
    assert identity["last_name"] not in found.headers["Location"]
    missing = post_form(web("coord_plie"), "/personnes", form)
    assert missing.status_code == 404
    assert "Aucune personne suivie par votre structure" in text(missing)
    refused = post_form(web("coord_ml"), "/personnes", {"last_name": "X"})
    assert refused.status_code == 422
    assert field_error(text(refused), "recherche-birth_date") == (
        "Ce champ est obligatoire.")


def test_register_then_register_again_finds_the_same_person(web: Any, people: Any,
                                                           session: Any) -> None:
    identity = person(birth_date=dt.date(TODAY.year - 18, 1, 15))
    form = {"last_name": identity["last_name"], "first_names": identity["first_names"],
            "birth_date": identity["birth_date"].isoformat(), "sex": "F", "ase_past": "on"}
    client = web("coord_ml")
    before = count(session, Participant)
    first = post_form(client, "/personnes/inscription", form)
    assert first.status_code == 302
    page = text(client.get(first.headers["Location"]))
    assert "La personne est enregistrée" in page
    again = post_form(client, "/personnes/inscription", form)
    assert again.headers["Location"] == first.headers["Location"]
    assert "déjà suivie par votre structure" in client.get(again.headers["Location"]).get_data(
        as_text=True)
    assert count(session, Participant) == before + 1


def test_registration_refusals_are_french_and_write_nothing(web: Any, people: Any,
                                                            session: Any) -> None:
    before = count(session, Participant)
    future = (TODAY + dt.timedelta(days=3)).isoformat()
    page = post_form(web("coord_ml"), "/personnes/inscription",
                     {"last_name": "Testnomfutur", "first_names": "Prenomfutur",
                      "birth_date": future, "email": "pas-une-adresse"})
    assert page.status_code == 422
    html = text(page)
    assert field_error(html, "email") == "Adresse e-mail invalide."
    page = post_form(web("coord_ml"), "/personnes/inscription",
                     {"last_name": "Testnomfutur", "first_names": "Prenomfutur",
                      "birth_date": future})
    assert page.status_code == 422
    assert field_error(text(page), "birth_date") == (
        "Cette date est dans le futur.")
    assert count(session, Participant) == before


def test_already_known_elsewhere_explains_and_lets_you_enrol(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    identity = person(birth_date=dt.date(TODAY.year - 18, 1, 15))
    record = participants.register(session, keyring, SYSTEM, identity, today=TODAY).participant
    record.registered_by_structure_id = people["structures"]["ml"].id
    session.commit()
    client = web("coord_plie")
    page = post_form(client, "/personnes/inscription", {
        "last_name": identity["last_name"], "first_names": identity["first_names"],
        "birth_date": identity["birth_date"].isoformat(), "ase_past": "on"})
    assert page.status_code == 200
    html = text(page)
    assert "<h1>Personne déjà connue du programme</h1>" in html
    assert "Inscrire cette personne dans une action" in html
    assert "Mission Locale" not in html
    enrol_page = client.get(f"/personnes/{record.uuid}/inscription")
    assert enrol_page.status_code == 200
    assert client.get(f"/personnes/{record.uuid}").status_code == 404


# --- identity reveal ---------------------------------------------------------------------

def test_identity_reveal_is_audited_and_kept_out_of_the_session(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_ml")
    short = post_form(client, f"/personnes/{record.uuid}/identite", {"purpose": "rdv"})
    assert short.status_code == 422
    assert field_error(text(short), "purpose") == "Entre 5 et 500 caractères."
    assert count(session, AuditEntry.__table__) is not None
    shown = post_form(client, f"/personnes/{record.uuid}/identite",
                      {"purpose": "prise de rendez-vous"})
    assert shown.status_code == 200
    html = text(shown)
    last_name = participants.read_identity(keyring, record)["last_name"]
    assert last_name in html
    with client.session_transaction() as stored:
        assert last_name not in repr(dict(stored))
    later = text(client.get(f"/personnes/{record.uuid}"))
    assert last_name not in later
    session.expire_all()
    entry = session.execute(sa.select(AuditEntry).where(
        AuditEntry.action == "participant.identity_read",
        AuditEntry.target_id == str(record.uuid))).scalar_one()
    assert entry.purpose == "prise de rendez-vous"
    assert entry.outcome == "ok"


# --- enrolment ---------------------------------------------------------------------------

def _action_id(session: Any, code: str) -> str:
    return str(action(session, code).uuid)


def test_ineligible_enrolment_lists_the_failed_rules_in_french(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    record = youth(session, keyring, people, enrol_in=None, ase_past=False,
                   birth_date=dt.date(TODAY.year - 30, 1, 15))
    before = count(session, Enrolment)
    page = post_form(web("coord_ml"), f"/personnes/{record.uuid}/inscription", {
        "action_id": _action_id(session, "62-A6"), "start_date": TODAY.isoformat()})
    assert page.status_code == 422
    html = text(page)
    assert "La personne ne correspond pas au public de l'action" in html
    assert "Condition non remplie : avoir été confié(e) à l'ASE." in html
    assert "Condition non remplie : avoir entre 16 et 21 ans à l'entrée." in html
    assert "Seul·e un·e administrateur·rice peut forcer" in html
    assert count(session, Enrolment) == before


def test_enrolment_refusals_next_to_the_field(web: Any, session: Any, keyring: Any,
                                              people: Any) -> None:
    record = youth(session, keyring, people, enrol_in=None)
    client = web("coord_ml")
    before = count(session, Enrolment)
    future = post_form(client, f"/personnes/{record.uuid}/inscription", {
        "action_id": _action_id(session, "62-A6"),
        "start_date": (TODAY + dt.timedelta(days=1)).isoformat()})
    assert future.status_code == 422
    assert field_error(text(future), "start_date") == (
        "Cette date est dans le futur.")
    no_action = post_form(client, f"/personnes/{record.uuid}/inscription",
                          {"start_date": TODAY.isoformat()})
    assert no_action.status_code == 422
    assert field_error(text(no_action), "action_id") == (
        "Ce champ est obligatoire.")
    intensity = post_form(client, f"/personnes/{record.uuid}/inscription", {
        "action_id": _action_id(session, "62-A4"), "start_date": TODAY.isoformat()})
    assert intensity.status_code == 422
    assert field_error(text(intensity), "intensity") == (
        "Précisez l'intensité de la mesure (simple ou renforcée).")
    assert count(session, Enrolment) == before
    ok = post_form(client, f"/personnes/{record.uuid}/inscription", {
        "action_id": _action_id(session, "62-A6"), "start_date": TODAY.isoformat()})
    assert ok.status_code == 302
    assert count(session, Enrolment) == before + 1


def test_admin_forces_with_a_justification(web: Any, session: Any, keyring: Any,
                                           people: Any) -> None:
    record = youth(session, keyring, people, where="cd62", enrol_in=None, ase_past=False)
    client = web("admin")
    form = {"action_id": _action_id(session, "62-A6"), "start_date": TODAY.isoformat(),
            "force": "on"}
    missing = post_form(client, f"/personnes/{record.uuid}/inscription", form)
    assert missing.status_code == 422
    assert field_error(text(missing), "force_justification") == (
        "Une justification écrite est nécessaire pour forcer l'entrée.")
    forced = post_form(client, f"/personnes/{record.uuid}/inscription",
                       form | {"force_justification": "Décision de la commission du 12"})
    assert forced.status_code == 302
    assert "entrée forcée" in text(client.get(forced.headers["Location"]))


# --- events ------------------------------------------------------------------------------

def _event_form(client: Any, participant_id: Any, event_type: str) -> dict[str, str]:
    html = text(client.get(f"/personnes/{participant_id}/evenements/nouveau?type={event_type}"))
    event_id = re.search(r'name="id" value="([^"]+)"', html)
    assert event_id
    return {"id": event_id.group(1)}


def test_event_types_are_grouped_and_each_form_has_only_its_fields(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_ml")
    listing = text(client.get(f"/personnes/{record.uuid}/evenements/nouveau"))
    assert "<h2 id=\"famille-1\">Logement</h2>" in listing
    assert "Événements ponctuels" in listing
    form = client.get(f"/personnes/{record.uuid}/evenements/nouveau?type=housing_entry")
    html = text(form)
    assert "Saisir un événement : " in html
    assert 'name="housing_type"' in html
    assert 'name="via_programme"' in html
    assert 'name="contract"' not in html
    assert 'name="enrolment_id"' not in html
    assert f'value="{TODAY.isoformat()}"' in html
    assert 'type="date"' in html
    assert "Logement social" in html or "Logement locatif social" in html
    support = client.get(f"/personnes/{record.uuid}/evenements/nouveau?type=support_break")
    assert 'name="enrolment_id"' in text(support)


def test_event_refusals_are_french_and_write_nothing(web: Any, session: Any, keyring: Any,
                                                     people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_ml")
    before = count(session, Event)
    path = f"/personnes/{record.uuid}/evenements/nouveau?type=housing_entry"
    missing = post_form(client, path, _event_form(client, record.uuid, "housing_entry")
                        | {"date": TODAY.isoformat()})
    assert missing.status_code == 422
    assert field_error(text(missing), "housing_type") == (
        "Ce champ est obligatoire.")
    future = post_form(client, path, _event_form(client, record.uuid, "housing_entry") | {
        "date": (TODAY + dt.timedelta(days=2)).isoformat(), "housing_type": "social_rental"})
    assert future.status_code == 422
    assert field_error(text(future), "date") == "Cette date est dans le futur."
    end = f"/personnes/{record.uuid}/evenements/nouveau?type=housing_exit"
    nothing_open = post_form(client, end, _event_form(client, record.uuid, "housing_exit") | {
        "date": TODAY.isoformat(), "reason": "moved_by_choice"})
    assert nothing_open.status_code == 422
    assert "Aucune période en cours de ce type" in text(nothing_open)
    fixed_term = post_form(
        client, f"/personnes/{record.uuid}/evenements/nouveau?type=employment_start",
        _event_form(client, record.uuid, "employment_start")
        | {"date": TODAY.isoformat(), "contract": "cdd"})
    assert fixed_term.status_code == 422
    assert "erreur-planned_months" in text(fixed_term)
    assert count(session, Event) == before


def test_double_submit_records_one_event(web: Any, session: Any, keyring: Any,
                                         people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_ml")
    form = _event_form(client, record.uuid, "housing_entry") | {
        "date": days_ago(3).isoformat(), "housing_type": "social_rental", "via_programme": "on"}
    path = f"/personnes/{record.uuid}/evenements/nouveau?type=housing_entry"
    before = count(session, Event)
    first = post_form(client, path, form)
    second = post_form(client, path, form)
    assert first.status_code == second.status_code == 302
    assert count(session, Event) == before + 1
    page = text(client.get(second.headers["Location"]))
    assert "déjà enregistré" in page
    assert "en cours" in page
    assert "Logement" in page
    changed = post_form(client, path, form | {"housing_type": "family"})
    assert changed.status_code == 422
    assert "déjà servi à enregistrer un événement" in text(changed)
    assert f'value="{form["id"]}"' not in text(changed)
    assert count(session, Event) == before + 1
    event_id = uuid.UUID(form["id"])
    assert session.execute(sa.select(Event).where(Event.uuid == event_id)).scalar_one()


def test_void_needs_a_reason_and_marks_the_event(web: Any, session: Any, keyring: Any,
                                                 people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_ml")
    form = _event_form(client, record.uuid, "contact") | {"date": TODAY.isoformat(),
                                                         "mode": "phone"}
    assert post_form(client, f"/personnes/{record.uuid}/evenements/nouveau?type=contact",
                     form).status_code == 302
    path = f"/personnes/{record.uuid}/evenements/{form['id']}/annulation"
    assert client.get(path).status_code == 200
    empty = post_form(client, path, {"reason": ""})
    assert empty.status_code == 422
    assert field_error(text(empty), "reason") == "Ce champ est obligatoire."
    assert count(session, EventVoid) == 0
    done = post_form(client, path, {"reason": "Saisi sur la mauvaise personne"})
    assert done.status_code == 302
    html = text(client.get(done.headers["Location"]))
    assert 'class="evenement-annule"' in html
    assert 'class="annule"' in html
    assert "Saisi sur la mauvaise personne" in html
    assert client.get(f"/personnes/{uuid.uuid4()}/evenements/{form['id']}/annulation"
                      ).status_code == 404


def test_end_enrolment_refusals_and_stale_version(web: Any, session: Any, keyring: Any,
                                                   people: Any) -> None:
    record = youth(session, keyring, people)
    enrolment = session.execute(sa.select(Enrolment).where(
        Enrolment.participant_id == record.id)).scalar_one()
    client = web("coord_ml")
    path = f"/personnes/{record.uuid}/accompagnements/{enrolment.uuid}/fin"
    form_html = text(client.get(path))
    version = re.search(r'name="expected_version" value="(\d+)"', form_html)
    assert version
    assert f'value="{TODAY.isoformat()}"' in form_html
    before = days_ago(90).isoformat()
    early = post_form(client, path, {"end_date": before, "exit_reason": "employment",
                                     "expected_version": version.group(1)})
    assert early.status_code == 422
    assert field_error(text(early), "end_date") == (
        "La date de fin précède le début de l'accompagnement.")
    stale = post_form(client, path, {"end_date": TODAY.isoformat(), "exit_reason": "employment",
                                     "expected_version": str(int(version.group(1)) + 5)})
    assert stale.status_code == 422
    assert "rechargez la page" in text(stale)
    session.expire_all()
    assert session.get(Enrolment, enrolment.id).end_date is None
    ok = post_form(client, path, {"end_date": TODAY.isoformat(), "exit_reason": "employment",
                                  "expected_version": version.group(1)})
    assert ok.status_code == 302
    html = text(client.get(ok.headers["Location"]))
    assert "L'accompagnement est clos" in html
    assert "Emploi" in html


@pytest.mark.parametrize("login", ["coord_ml", "admin"])
def test_search_page_forms(web: Any, people: Any, login: str) -> None:
    html = text(web(login).get("/personnes"))
    assert "<h1>Personnes suivies</h1>" in html
    assert "Rechercher une personne" in html
    assert "Enregistrer une nouvelle personne" in html


def test_correcting_an_exit_moves_the_check_and_reopening_cancels_it(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    from cohort.domain.calendar import add_months
    from cohort.models import FollowUpCheck

    record = youth(session, keyring, people)
    enrolment = session.execute(sa.select(Enrolment).where(
        Enrolment.participant_id == record.id)).scalar_one()
    enrolments.end(session, SYSTEM, enrolment, {
        "end_date": days_ago(30), "exit_reason": "training"}, today=TODAY, now=clock.now())
    session.commit()
    client = web("coord_ml")
    page = text(client.get(f"/personnes/{record.uuid}"))
    link = re.search(r'href="([^"]+/correction)">Corriger la sortie', page)
    assert link, "no correction link on an ended enrolment"
    path = link.group(1)
    form_html = text(client.get(path))
    version = re.search(r'name="expected_version" value="(\d+)"', form_html)
    assert version
    assert f'value="{days_ago(30).isoformat()}"' in form_html

    future = post_form(client, path, {"end_date": (TODAY + dt.timedelta(days=3)).isoformat(),
                                      "exit_reason": "training",
                                      "expected_version": version.group(1)})
    assert future.status_code == 422
    assert field_error(text(future), "end_date") == "Cette date est dans le futur."

    moved = post_form(client, path, {"end_date": days_ago(20).isoformat(),
                                     "exit_reason": "employment",
                                     "expected_version": version.group(1)})
    assert moved.status_code == 302
    assert "le suivi à 6 mois suit la nouvelle date" in text(client.get(moved.headers["Location"]))
    session.expire_all()
    check = session.execute(sa.select(FollowUpCheck).where(
        FollowUpCheck.enrolment_id == enrolment.id)).scalar_one()
    assert check.due_date == add_months(days_ago(20), 6)
    assert session.get(Enrolment, enrolment.id).exit_reason == "employment"

    version = re.search(r'name="expected_version" value="(\d+)"', text(client.get(path)))
    assert version
    reopened = post_form(client, path, {"reopen": "on", "expected_version": version.group(1)})
    assert reopened.status_code == 302
    session.expire_all()
    assert session.get(Enrolment, enrolment.id).end_date is None
    assert session.get(FollowUpCheck, check.id).status == "cancelled"
    assert "Clore l'accompagnement" in text(client.get(f"/personnes/{record.uuid}"))
