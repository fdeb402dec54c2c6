"""The end-of-support form's refusals (issue 17, item 3): a housing exit without its reason,
then a closing dated before its period, are shown on the period's own line and nothing is
written; once corrected, the enrolment and both periods close together."""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa

from cohort import clock
from cohort.actors import Actor, Role
from cohort.models import Enrolment, Event, EventInterval
from cohort.services import events
from tests.web.conftest import post_form
from tests.web.test_coordination import days_ago, text, youth


def _period_error(html: str, start: Any) -> str:
    match = re.search(rf'id="erreur-periode-{start}">(.*?)</p>', html, re.S)
    assert match, f"no error on the line of {start}"
    return match.group(1).strip()


def test_refusals_land_on_the_period_and_write_nothing(web: Any, session: Any, keyring: Any,
                                                       people: Any) -> None:
    record = youth(session, keyring, people)
    ml = people["structures"]["ml"]
    me = Actor(Role.COORDINATOR, structure_id=ml.id, departement="62")
    starts = {}
    for type_, ago, attributes in (("housing_entry", 50, {"housing_type": "social_rental"}),
                                   ("training_start", 40, {"qualifying": True})):
        starts[type_] = events.record(session, keyring, me, {
            "id": uuid.uuid4(), "participant_id": record.uuid, "type": type_,
            "date": days_ago(ago), "enrolment_id": None, "operation_id": None,
            "closes": None, "attributes": attributes},
            today=clock.today(), now=clock.now()).event.uuid
    session.commit()
    enrolment = session.execute(sa.select(Enrolment).where(
        Enrolment.participant_id == record.id)).scalar_one()
    client = web("coord_ml")
    path = f"/personnes/{record.uuid}/accompagnements/{enrolment.uuid}/fin"
    form = text(client.get(path))
    assert "Raison du départ du logement" in form
    ids = dict(re.findall(r'name="close_id\.([0-9a-f-]+)" value="([0-9a-f-]+)"', form))
    assert set(ids) == {str(s) for s in starts.values()}
    housing, training = str(starts["housing_entry"]), str(starts["training_start"])
    base = {"end_date": clock.today().isoformat(), "exit_reason": "housing_obtained",
            "expected_version": str(enrolment.version), "close": [housing, training],
            **{f"close_id.{k}": v for k, v in ids.items()}}

    def events_count() -> int:
        session.expire_all()
        return session.execute(sa.select(sa.func.count(Event.id))).scalar_one()

    before = events_count()
    no_reason = post_form(client, path, base)
    assert no_reason.status_code == 422
    assert _period_error(text(no_reason), housing) == "Ce champ est obligatoire."
    too_early = post_form(client, path, {**base, f"close_reason.{housing}": "moved_by_choice",
                                         f"close_date.{training}": days_ago(45).isoformat()})
    assert too_early.status_code == 422
    page = text(too_early)
    assert "rien n'a été enregistré" in page
    assert _period_error(page, training)
    assert f'name="close_id.{training}" value="{ids[training]}"' in page  # kept for a retry
    assert events_count() == before
    assert session.get(Enrolment, enrolment.id).end_date is None

    done = post_form(client, path, {**base, f"close_reason.{housing}": "moved_by_choice"})
    assert done.status_code == 302
    assert "Périodes closes : 2" in text(client.get(done.headers["Location"]))
    session.expire_all()
    assert session.get(Enrolment, enrolment.id).end_date == clock.today()
    ends = session.execute(sa.select(EventInterval.family, EventInterval.end_date).where(
        EventInterval.participant_id == record.id, EventInterval.valid_to.is_(None))).all()
    assert sorted(ends) == [("housing", clock.today()), ("training", clock.today())]
