"""The event refusals of domain.md §5 on the pages: in French next to the field, nothing
written; an identical start links to the event already recorded."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import sqlalchemy as sa

from cohort import clock
from cohort.actors import SYSTEM
from cohort.models import Enrolment, Event, EventVoid
from cohort.services import enrolments
from tests.web.conftest import post_form
from tests.web.test_coordination import _event_form, count, days_ago, field_error, text, youth


def test_a_support_break_after_the_enrolment_is_refused_in_french(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    record = youth(session, keyring, people)
    enrolment = session.execute(sa.select(Enrolment).where(
        Enrolment.participant_id == record.id)).scalar_one()
    enrolments.end(session, SYSTEM, enrolment, {"end_date": days_ago(30),
                                                "exit_reason": "end_of_support"},
                   today=clock.today(), now=clock.now())
    session.commit()
    client = web("coord_ml")
    path = f"/personnes/{record.uuid}/evenements/nouveau?type=support_break"
    before = count(session, Event)
    late = post_form(client, path, _event_form(client, record.uuid, "support_break") | {
        "date": days_ago(29).isoformat(), "enrolment_id": str(enrolment.uuid),
        "reason": "absent"})
    assert late.status_code == 422
    assert field_error(text(late), "date") == (
        "Cette date est postérieure à la fin de l'accompagnement choisi.")
    assert count(session, Event) == before
    last_day = post_form(client, path, _event_form(client, record.uuid, "support_break") | {
        "date": days_ago(30).isoformat(), "enrolment_id": str(enrolment.uuid),
        "reason": "absent"})
    assert last_day.status_code == 302
    assert count(session, Event) == before + 1


def test_an_identical_start_is_refused_with_a_link_to_the_recorded_one(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_ml")
    path = f"/personnes/{record.uuid}/evenements/nouveau?type=housing_entry"
    values = {"date": days_ago(3).isoformat(), "housing_type": "social_rental"}
    first = _event_form(client, record.uuid, "housing_entry") | values
    assert post_form(client, path, first).status_code == 302
    assert post_form(client, path, first).status_code == 302  # a double submit: harmless
    before = count(session, Event)
    again = post_form(client, path, _event_form(client, record.uuid, "housing_entry") | values)
    assert again.status_code == 422
    html = text(again)
    assert "Cet événement est déjà enregistré pour cette personne" in html
    link = f'href="/personnes/{record.uuid}#evenement-{first["id"]}"'
    assert link in html
    assert count(session, Event) == before
    assert f'id="evenement-{first["id"]}"' in text(client.get(f"/personnes/{record.uuid}"))


def test_correct_an_event_from_the_participant_page(web: Any, session: Any, keyring: Any,
                                                    people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_ml")
    path = f"/personnes/{record.uuid}/evenements/nouveau?type=housing_entry"
    first = _event_form(client, record.uuid, "housing_entry") | {
        "date": days_ago(10).isoformat(), "housing_type": "family", "via_programme": "on"}
    assert post_form(client, path, first).status_code == 302
    page = text(client.get(f"/personnes/{record.uuid}"))
    correction = f"/personnes/{record.uuid}/evenements/{first['id']}/correction"
    assert f'href="{correction}"' in page
    assert "Corriger" in page

    form = client.get(correction)
    assert form.status_code == 200
    html = text(form)
    assert "Corriger un événement : " in html
    assert f'value="{days_ago(10).isoformat()}"' in html
    assert re.search(r'<option value="family" selected>', html)
    assert re.search(r'name="via_programme" type="checkbox" checked', html)
    new_id = re.search(r'name="id" value="([^"]+)"', html)
    assert new_id
    assert new_id.group(1) != first["id"]

    before = count(session, Event)
    no_reason = post_form(client, correction, {"id": new_id.group(1),
                                               "date": days_ago(8).isoformat(),
                                               "housing_type": "social_rental"})
    assert no_reason.status_code == 422
    assert field_error(text(no_reason), "reason") == "Ce champ est obligatoire."
    future = post_form(client, correction, {"id": new_id.group(1), "reason": "erreur",
                                            "date": (clock.today() + dt.timedelta(days=3))
                                            .isoformat(), "housing_type": "social_rental"})
    assert future.status_code == 422
    assert field_error(text(future), "date") == "Cette date est dans le futur."
    assert count(session, Event) == before
    assert count(session, EventVoid) == 0

    done = post_form(client, correction, {"id": new_id.group(1), "reason": "mauvais logement",
                                          "date": days_ago(8).isoformat(),
                                          "housing_type": "social_rental"})
    assert done.status_code == 302
    timeline = text(client.get(done.headers["Location"]))
    assert "L'événement est corrigé" in timeline
    assert f"corrigé le {clock.today():%d/%m/%Y} (mauvais logement)" in timeline
    assert f'<tr id="evenement-{first["id"]}" class="evenement-annule">' in timeline
    assert f'<tr id="evenement-{new_id.group(1)}">' in timeline
    assert count(session, Event) == before + 1
    assert count(session, EventVoid) == 1


def test_correcting_an_end_that_named_its_start_keeps_it(web: Any, session: Any,
                                                         keyring: Any, people: Any) -> None:
    record = youth(session, keyring, people)
    client = web("coord_ml")
    start = _event_form(client, record.uuid, "training_start") | {
        "date": days_ago(20).isoformat()}
    assert post_form(client, f"/personnes/{record.uuid}/evenements/nouveau?type=training_start",
                     start).status_code == 302
    end = _event_form(client, record.uuid, "training_end") | {
        "date": days_ago(10).isoformat(), "closes": start["id"]}
    assert post_form(client, f"/personnes/{record.uuid}/evenements/nouveau?type=training_end",
                     end).status_code == 302
    correction = f"/personnes/{record.uuid}/evenements/{end['id']}/correction"
    html = text(client.get(correction))
    assert f'<input type="hidden" name="closes" value="{start["id"]}">' in html
    new_id = re.search(r'name="id" value="([^"]+)"', html)
    assert new_id
    moved = post_form(client, correction, {"id": new_id.group(1), "reason": "date erronée",
                                           "date": days_ago(5).isoformat(),
                                           "closes": start["id"]})
    assert moved.status_code == 302
    stored = session.execute(sa.select(Event.closes_id).where(
        Event.uuid == uuid.UUID(new_id.group(1)))).scalar_one()
    assert stored is not None
