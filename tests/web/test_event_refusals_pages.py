"""The event refusals of domain.md §5 on the pages: in French next to the field, nothing
written; an identical start links to the event already recorded."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from cohort import clock
from cohort.actors import SYSTEM
from cohort.models import Enrolment, Event
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
