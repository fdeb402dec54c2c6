""""Annuler l'inscription" on the participant page: a confirmation form that needs a reason
(422 in French next to the field, nothing written), then the enrolment struck through with
"annulée le JJ/MM/AAAA (motif)", and no link to end, correct or cancel it again."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from cohort.models import Enrolment
from cohort.web.labels import datetime_fr
from tests.web.conftest import post_form
from tests.web.test_coordination import field_error, text, youth


def test_cancel_an_enrolment_from_the_participant_page(web: Any, session: Any, keyring: Any,
                                                       people: Any) -> None:
    record = youth(session, keyring, people)
    enrolment = session.execute(sa.select(Enrolment).where(
        Enrolment.participant_id == record.id)).scalar_one()
    client = web("coord_ml")
    page = f"/personnes/{record.uuid}"
    path = f"{page}/accompagnements/{enrolment.uuid}/annulation"
    assert path in text(client.get(page))  # the "Annuler l'inscription" link
    form = client.get(path)
    assert form.status_code == 200
    assert "Annuler l'inscription" in text(form)
    assert "Motif de l'annulation" in text(form)

    empty = post_form(client, path, {"reason": ""})
    assert empty.status_code == 422
    assert field_error(text(empty), "reason") == "Ce champ est obligatoire."
    session.expire_all()
    assert session.get(Enrolment, enrolment.id).cancelled_at is None

    done = post_form(client, path, {"reason": "Saisie sur la mauvaise personne"})
    assert done.status_code == 302
    html = text(client.get(done.headers["Location"]))
    assert 'class="inscription-annulee"' in html
    assert 'class="annule"' in html
    session.expire_all()
    cancelled = session.get(Enrolment, enrolment.id)
    day = datetime_fr(cancelled.cancelled_at)[:10]  # the day in Paris
    assert f"annulée le {day} (Saisie sur la mauvaise personne)" in html
    assert path not in html
    assert f"{page}/accompagnements/{enrolment.uuid}/fin" not in html
    # Another structure's coordinator, or a wrong person in the path: 404.
    assert web("coord_plie").get(path).status_code == 404
    assert client.get(f"/personnes/{uuid.uuid4()}/accompagnements/{enrolment.uuid}"
                      "/annulation").status_code == 404
