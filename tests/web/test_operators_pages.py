"""The enrolment page offers only the actions the user's structure may enrol into
(domain.md §2 "Operators"), refuses the others in French next to the action, and lets an
administrator force one with a justification."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import post_form
from tests.web.test_coordination import TODAY, _action_id, count, field_error, text, youth


def test_a_lens_mission_locale_is_not_offered_59_a6_and_is_refused_it(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    from cohort.models import Enrolment

    record = youth(session, keyring, people, enrol_in=None)
    client = web("coord_ml")
    form = client.get(f"/personnes/{record.uuid}/inscription")
    assert form.status_code == 200
    html = text(form)
    assert _action_id(session, "62-A6") in html
    assert _action_id(session, "59-A6") not in html
    assert _action_id(session, "62-A1") not in html  # the PLIE's
    assert "Seules les actions que votre structure mène" in html

    before = count(session, Enrolment)
    refused = post_form(client, f"/personnes/{record.uuid}/inscription", {
        "action_id": _action_id(session, "59-A6"), "start_date": TODAY.isoformat()})
    assert refused.status_code == 422
    message = field_error(text(refused), "action_id")
    assert "Cette action relève d'un autre département que celui de votre structure." in message
    assert ("Cette action n'est pas menée par une structure de type « Mission Locale » "
            "(elle est menée par : Maison du Département Solidarité).") in message
    assert count(session, Enrolment) == before


def test_an_administrator_sees_every_action_and_forces_one_with_a_justification(
        web: Any, session: Any, keyring: Any, people: Any) -> None:
    from cohort.models import Enrolment

    record = youth(session, keyring, people, where="cd62", enrol_in=None)
    client = web("admin")
    assert _action_id(session, "59-A6") in text(client.get(
        f"/personnes/{record.uuid}/inscription"))
    form = {"action_id": _action_id(session, "59-A6"), "start_date": TODAY.isoformat()}
    refused = post_form(client, f"/personnes/{record.uuid}/inscription", form)
    assert refused.status_code == 422
    assert "Votre structure ne mène pas cette action" in text(refused)
    missing = post_form(client, f"/personnes/{record.uuid}/inscription", form | {"force": "on"})
    assert field_error(text(missing), "force_justification") == (
        "Une justification écrite est nécessaire pour forcer l'entrée.")
    before = count(session, Enrolment)
    forced = post_form(client, f"/personnes/{record.uuid}/inscription", form | {
        "force": "on", "force_justification": "Relais de l'équipe mobile, décision du 12"})
    assert forced.status_code == 302
    assert count(session, Enrolment) == before + 1
    assert "entrée forcée" in text(client.get(forced.headers["Location"]))
